// Command gen writes a reproducible synthetic multilingual corpus for benchmarking sieve.
//
//	go run ./bench/gen -size 1GB -seed 1 -out /tmp/corpus.jsonl.zst [-truth truth.jsonl]
//
// Documents are assembled from the word lists in words/ (about 300 frequent words in each of
// 14 languages, 10 of them underrepresented), one language per document, with Zipf-distributed
// word frequencies, 5-16 word sentences and a paragraph break every 3-6 sentences. Each output
// line is {"id":"g0000000001","text":"..."}. A share of the records are planted exact
// duplicates (some differing only in white space or case), near duplicates and junk; -truth
// writes what each record is: {"id","kind":"original|exact_dup|near_dup|junk","dup_of","lang",
// "variant","edits"}.
//
// Record i depends only on -seed and i, so the output is byte-identical on every run and the
// generator runs in constant memory whatever the size. The output goes through zstd when its
// name ends in .zst or .zstd, gzip for .gz; it is written under a temporary name and renamed
// when complete.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ error }

func run(args []string, stdout, stderr io.Writer) error {
	def := DefaultConfig()
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	size := fs.String("size", "100MB", "output size: bytes of uncompressed JSONL (`N`, NKB, NMB, NGB; KiB, MiB, GiB for powers of 2) or a number of documents (Ndocs)")
	seed := fs.Uint64("seed", def.Seed, "random seed; the same seed gives the same bytes")
	out := fs.String("out", "-", "output `file` (.jsonl, .jsonl.zst, .jsonl.gz), or - for stdout")
	truth := fs.String("truth", "", "write the ground truth, one JSON line per record, to this `file`")
	stats := fs.String("stats", "", "write a JSON summary (docs, bytes, kinds) to this `file`")
	docBytes := fs.Int("doc-bytes", def.DocBytes, "mean text size of a document in bytes")
	dup := fs.Float64("dup", def.DupShare, "share of exact duplicates")
	near := fs.Float64("near", def.NearShare, "share of near duplicates")
	junk := fs.Float64("junk", def.JunkShare, "share of junk records")
	nearEdits := fs.Float64("near-edits", def.NearEdits, "share of a near duplicate's words that are edited (at least 2)")
	langs := fs.String("langs", "", "comma-separated ISO 639-3 codes of the word lists to use (default all)")
	quiet := fs.Bool("quiet", false, "do not print the summary on stderr")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	cfg := Config{Seed: *seed, DocBytes: *docBytes, DupShare: *dup, NearShare: *near, JunkShare: *junk, NearEdits: *nearEdits}
	var err error
	if cfg.Bytes, cfg.Docs, err = parseSize(*size); err != nil {
		return usageError{fmt.Errorf("-size: %w", err)}
	}
	if *truth != "" && *truth == *out {
		return usageError{fmt.Errorf("-truth and -out are both %q", *out)}
	}
	if *langs != "" {
		cfg.Langs = strings.Split(*langs, ",")
	}
	g, err := New(cfg)
	if err != nil {
		return usageError{err}
	}

	start := time.Now()
	o, err := create(*out, stdout)
	if err != nil {
		return err
	}
	defer o.abort()
	var t *output
	var tw io.Writer
	if *truth != "" {
		if t, err = create(*truth, stdout); err != nil {
			return err
		}
		defer t.abort()
		tw = t.w
	}
	sum, err := g.Write(o.w, tw)
	if err != nil {
		return fmt.Errorf("%s: %w", o.name, err)
	}
	if err := o.commit(); err != nil {
		return err
	}
	if t != nil {
		if err := t.commit(); err != nil {
			return err
		}
	}
	elapsed := time.Since(start)
	if *stats != "" {
		b, _ := json.MarshalIndent(map[string]any{
			"seed": cfg.Seed, "docs": sum.Docs, "bytes": sum.Bytes, "doc_bytes": cfg.DocBytes,
			"original": sum.Kinds[Original], "exact_dup": sum.Kinds[ExactDup],
			"near_dup": sum.Kinds[NearDup], "junk": sum.Kinds[Junk],
		}, "", "  ")
		if err := os.WriteFile(*stats, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if !*quiet {
		fmt.Fprintf(stderr, "gen: %d docs (%d original, %d exact_dup, %d near_dup, %d junk), %.1f MB uncompressed to %s in %.2fs (%.0f MB/s)\n",
			sum.Docs, sum.Kinds[Original], sum.Kinds[ExactDup], sum.Kinds[NearDup], sum.Kinds[Junk],
			float64(sum.Bytes)/1e6, o.name, elapsed.Seconds(), float64(sum.Bytes)/1e6/elapsed.Seconds())
	}
	return nil
}

// parseSize reads "1GB", "500MiB", "123456" (bytes) or "20000docs".
func parseSize(s string) (bytes, docs int64, err error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "docs"); ok {
		docs, err = strconv.ParseInt(n, 10, 64)
		if err != nil || docs <= 0 {
			return 0, 0, fmt.Errorf("want a positive number of docs, got %q", s)
		}
		return 0, docs, nil
	}
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := 1.0
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = n, u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f > 0) || f*mult > 1<<50 {
		return 0, 0, fmt.Errorf("want a size such as 1GB, 500MiB, 1000000 or 20000docs")
	}
	return int64(f * mult), 0, nil
}

// output is a file written under a temporary name, optionally compressed, renamed on commit;
// or stdout, a device or a pipe, written in place.
type output struct {
	name string
	w    *bufio.Writer
	comp io.WriteCloser // nil when not compressed
	f    *os.File       // the temporary file; nil for stdout, a device or after commit
	tmp  string
	dev  *os.File // a device or pipe written in place
}

func create(name string, stdout io.Writer) (*output, error) {
	o := &output{name: name}
	var dst io.Writer = stdout
	switch st, err := os.Stat(name); {
	case name == "-":
	case err == nil && !st.Mode().IsRegular():
		// A device or pipe such as /dev/null: write to it in place, never rename over it.
		f, err := os.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		o.dev, dst = f, f
	default:
		f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
		if err != nil {
			return nil, err
		}
		o.f, o.tmp, dst = f, f.Name(), f
		if err := f.Chmod(0o644); err != nil {
			o.abort()
			return nil, err
		}
	}
	switch {
	case strings.HasSuffix(name, ".zst") || strings.HasSuffix(name, ".zstd"):
		// One encoder goroutine keeps the compressed bytes independent of the machine; the
		// fastest level costs half the CPU of the default for a 9% larger file.
		zw, err := zstd.NewWriter(dst, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		if err != nil {
			o.abort()
			return nil, err
		}
		o.comp, dst = zw, zw
	case strings.HasSuffix(name, ".gz"):
		zw := gzip.NewWriter(dst)
		o.comp, dst = zw, zw
	}
	o.w = bufio.NewWriterSize(dst, 1<<20)
	return o, nil
}

func (o *output) commit() error {
	err := o.w.Flush()
	if o.comp != nil && err == nil {
		err = o.comp.Close()
	}
	if o.dev != nil {
		if cerr := o.dev.Close(); err == nil {
			err = cerr
		}
		o.dev = nil
	}
	if o.f != nil {
		if err == nil {
			err = o.f.Close()
		}
		if err == nil {
			err = os.Rename(o.tmp, o.name)
		}
		if err == nil {
			o.f = nil
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", o.name, err)
	}
	return nil
}

// abort removes the temporary file unless commit succeeded.
func (o *output) abort() {
	if o.dev != nil {
		o.dev.Close()
		o.dev = nil
	}
	if o.f != nil {
		o.f.Close()
		os.Remove(o.tmp)
		o.f = nil
	}
}
