package pipeline

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// SplitNames are the dataset splits a document can go to, in the order their shares are
// laid out on [0, 1) (see Output.SplitOf).
var SplitNames = []string{"train", "validation", "test"}

// Shapes are the record layouts of dataset files (Output.Shape).
var Shapes = []string{"text", "instruction"}

// splitTolerance is how far from 1 the shares may sum (they are written in YAML as decimals).
const splitTolerance = 1e-6

// SplitOf returns the split a document with this id goes to: the point
// (xxhash64(id) >> 11) / 2^53 in [0, 1) falls in one split's share, the shares laid out
// in the order of SplitNames. With no splits configured it is "train". The choice depends
// on the id alone, so a document keeps its split from run to run and whatever the worker
// count; documents with the same id share a split.
func (o *Output) SplitOf(id string) string {
	if len(o.Splits) == 0 {
		return SplitNames[0]
	}
	u := float64(xxhash.Sum64String(id)>>11) / (1 << 53)
	acc := 0.0
	last := ""
	for _, name := range SplitNames {
		share := o.Splits[name]
		if share <= 0 {
			continue
		}
		acc += share
		last = name
		if u < acc {
			return name
		}
	}
	return last // shares summing to a hair under 1
}

// validateDataset checks the keys that shape the dataset files.
func (o *Output) validateDataset() []FieldError {
	var errs []FieldError
	if o.MaxShardBytes < 0 {
		errs = append(errs, FieldError{"max_shard_bytes", fmt.Sprintf("must be >= 0, got %d", o.MaxShardBytes)})
	}
	if !oneOf(o.Shape, Shapes...) {
		errs = append(errs, FieldError{"shape", fmt.Sprintf("must be one of %s; got %q", strings.Join(Shapes, ", "), o.Shape)})
	}
	codecs := map[string][]string{
		"parquet": {"zstd", "snappy", "gzip", "none"},
		"jsonl":   {"zstd", "none"},
		"arrow":   {"zstd", "lz4", "none"},
	}
	if valid, ok := codecs[o.Format]; ok && !oneOf(o.Compression, valid...) {
		errs = append(errs, FieldError{"compression", fmt.Sprintf("format %s takes %s; got %q", o.Format, strings.Join(valid, ", "), o.Compression)})
	}
	if len(o.Splits) > 0 {
		sum := 0.0
		bad := false
		names := make([]string, 0, len(o.Splits))
		for name := range o.Splits {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			share := o.Splits[name]
			if !oneOf(name, SplitNames...) {
				errs = append(errs, FieldError{"splits." + name, fmt.Sprintf("unknown split; valid: %s", strings.Join(SplitNames, ", "))})
				bad = true
				continue
			}
			if math.IsNaN(share) || share < 0 || share > 1 {
				errs = append(errs, FieldError{"splits." + name, fmt.Sprintf("must be in 0..1, got %v", share)})
				bad = true
				continue
			}
			sum += share
		}
		if !bad && math.Abs(sum-1) > splitTolerance {
			errs = append(errs, FieldError{"splits", fmt.Sprintf("shares must sum to 1, got %v", sum)})
		}
	}
	return errs
}
