package stages

import (
	"context"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"

	"github.com/sieve-data/sieve/pipeline"
)

// ExactDedupConfig configures exact deduplication.
type ExactDedupConfig struct {
	Normalize string `yaml:"normalize" doc:"none | whitespace | whitespace_case: what is ignored when comparing texts"`
	Scope     string `yaml:"scope" doc:"global | per_language: whether identical texts in different languages are duplicates"`
	Mode      string `yaml:"mode" doc:"auto | streaming | sharded: auto keeps the hashes in memory in a single-process run and runs the sharded phases (hashes, groups, then a filter pass) when the run is split into tasks"`
}

// Validate implements pipeline.Validator.
func (c *ExactDedupConfig) Validate() []pipeline.FieldError {
	var errs []pipeline.FieldError
	switch c.Normalize {
	case "none", "whitespace", "whitespace_case":
	default:
		errs = append(errs, pipeline.FieldError{Field: "normalize", Msg: fmt.Sprintf("must be one of none, whitespace, whitespace_case; got %q", c.Normalize)})
	}
	switch c.Scope {
	case "global", "per_language":
	default:
		errs = append(errs, pipeline.FieldError{Field: "scope", Msg: fmt.Sprintf("must be one of global, per_language; got %q", c.Scope)})
	}
	switch c.Mode {
	case "", pipeline.ModeAuto, pipeline.ModeStreaming, pipeline.ModeSharded:
	default:
		errs = append(errs, pipeline.FieldError{Field: "mode", Msg: fmt.Sprintf("must be one of auto, streaming, sharded; got %q", c.Mode)})
	}
	return errs
}

// ExactDedup rejects a document whose normalised text equals that of an earlier document
// (in read order), keeping the first. It remembers a 128-bit hash and the id of the first
// document of each distinct text, so memory grows with the number of distinct texts.
type ExactDedup struct {
	cfg   ExactDedupConfig
	seen  map[digest]string // digest -> id of the first document
	dups  int64
	bytes int64
}

type digest [2]uint64

var (
	_ pipeline.Stage    = (*ExactDedup)(nil)
	_ pipeline.Preparer = (*ExactDedup)(nil)
	_ pipeline.Reporter = (*ExactDedup)(nil)
)

func init() {
	pipeline.MustRegister("exact_dedup", pipeline.Spec{
		Summary:       "Rejects documents whose text repeats an earlier one (after whitespace/case normalisation); keeps the first in read order.",
		Example:       "{normalize: whitespace_case, scope: global}",
		Mode:          pipeline.Ordered,
		ReportPerTask: true, // figures of one index
		Config: func() any {
			return &ExactDedupConfig{Normalize: "whitespace_case", Scope: "global", Mode: pipeline.ModeAuto}
		},
		New: func(cfg any, _ *pipeline.Env) (pipeline.Stage, error) {
			return &ExactDedup{cfg: *cfg.(*ExactDedupConfig), seen: make(map[digest]string, 1<<16)}, nil
		},
	})
}

// Prepare hashes the normalised text; it runs in parallel before Process.
func (s *ExactDedup) Prepare(_ context.Context, d *pipeline.Document) error {
	h := hashNormalized(d.Text, s.cfg.Normalize)
	if s.cfg.Scope == "per_language" {
		h[0] ^= xxhash.Sum64String(d.Lang)
	}
	d.Scratch = h
	return nil
}

// Process implements pipeline.Stage; documents arrive in read order.
func (s *ExactDedup) Process(ctx context.Context, d *pipeline.Document) (pipeline.Verdict, error) {
	h, ok := d.Scratch.(digest)
	d.Scratch = nil
	if !ok {
		if err := s.Prepare(ctx, d); err != nil {
			return pipeline.Keep, err
		}
		h = d.Scratch.(digest)
		d.Scratch = nil
	}
	if first, dup := s.seen[h]; dup {
		s.dups++
		return pipeline.Rejectf("exact_dedup.duplicate", "same text as %s", first), nil
	}
	s.seen[h] = d.ID
	s.bytes += int64(len(d.ID)) + 16 + 16 + 8 // key, string header, map overhead estimate
	return pipeline.Keep, nil
}

// Report implements pipeline.Reporter.
func (s *ExactDedup) Report() map[string]any {
	return map[string]any{"distinct": len(s.seen), "duplicates": s.dups, "index_bytes_estimate": s.bytes}
}

// Close implements pipeline.Stage.
func (s *ExactDedup) Close(context.Context) error { return nil }

// hashNormalized hashes text after folding runs of white space to one space and trimming
// (whitespace), and lowercasing (whitespace_case), without allocating.
func hashNormalized(text, mode string) digest {
	var a, b xxhash.Digest
	a.Reset()
	b.Reset()
	_, _ = b.WriteString("sieve-exact-dedup\x00")
	if mode == "none" {
		_, _ = a.WriteString(text)
		_, _ = b.WriteString(text)
		return digest{a.Sum64(), b.Sum64()}
	}
	lower := mode == "whitespace_case"
	var buf [256]byte
	n := 0
	pendingSpace := false
	started := false
	flush := func() {
		_, _ = a.Write(buf[:n])
		_, _ = b.Write(buf[:n])
		n = 0
	}
	for i := 0; i < len(text); {
		c := text[i]
		var r rune
		size := 1
		if c < utf8.RuneSelf {
			r = rune(c)
		} else {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		i += size
		if unicode.IsSpace(r) {
			pendingSpace = started
			continue
		}
		if n+utf8.UTFMax+1 > len(buf) {
			flush()
		}
		if pendingSpace {
			buf[n] = ' '
			n++
			pendingSpace = false
		}
		started = true
		if lower {
			if r < utf8.RuneSelf {
				if 'A' <= r && r <= 'Z' {
					r += 'a' - 'A'
				}
			} else {
				r = unicode.ToLower(r)
			}
		}
		n += utf8.EncodeRune(buf[n:], r)
	}
	flush()
	return digest{a.Sum64(), b.Sum64()}
}
