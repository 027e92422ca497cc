package stages

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"

	"github.com/sieve-data/sieve/pipeline"
)

// ParagraphDedupConfig configures removal of repeated lines or paragraphs across documents.
type ParagraphDedupConfig struct {
	Unit         string `yaml:"unit" doc:"line | paragraph (blank-line separated): what is compared"`
	MinChars     int    `yaml:"min_chars" doc:"lines/paragraphs shorter than this (after normalisation) are never removed nor remembered"`
	MinCharsLeft int    `yaml:"min_chars_left" doc:"a document with fewer characters left after removal is rejected"`
	Scope        string `yaml:"scope" doc:"global | per_language"`
}

// Validate implements pipeline.Validator.
func (c *ParagraphDedupConfig) Validate() []pipeline.FieldError {
	var errs []pipeline.FieldError
	if c.Unit != "line" && c.Unit != "paragraph" {
		errs = append(errs, pipeline.FieldError{Field: "unit", Msg: fmt.Sprintf("must be one of line, paragraph; got %q", c.Unit)})
	}
	if c.Scope != "global" && c.Scope != "per_language" {
		errs = append(errs, pipeline.FieldError{Field: "scope", Msg: fmt.Sprintf("must be one of global, per_language; got %q", c.Scope)})
	}
	if c.MinChars < 0 {
		errs = append(errs, pipeline.FieldError{Field: "min_chars", Msg: fmt.Sprintf("must be >= 0, got %d", c.MinChars)})
	}
	if c.MinCharsLeft < 0 {
		errs = append(errs, pipeline.FieldError{Field: "min_chars_left", Msg: fmt.Sprintf("must be >= 0, got %d", c.MinCharsLeft)})
	}
	return errs
}

// ParagraphDedup removes from each document the lines (or paragraphs) that already appeared
// in an earlier document in read order, as CCNet does for web boilerplate (menus, cookie
// notices, footers). Comparison is on a normalised form: lowercased, digits folded to 0,
// punctuation and white space dropped. It remembers a 64-bit hash per distinct unit.
// Repeats inside one document are left alone (that is gopher_repetition's job).
type ParagraphDedup struct {
	cfg     ParagraphDedupConfig
	seen    map[uint64]struct{}
	removed int64
	changed int64
	// instruction records with some paragraphs seen before, left whole (see Process)
	instructionsUnchanged int64
}

var (
	_ pipeline.Stage    = (*ParagraphDedup)(nil)
	_ pipeline.Reporter = (*ParagraphDedup)(nil)
)

func init() {
	pipeline.MustRegister("paragraph_dedup", pipeline.Spec{
		Summary:       "Removes lines or paragraphs already seen in earlier documents (boilerplate, as CCNet); rejects documents left (nearly) empty.",
		Example:       "{unit: line, min_chars: 20, min_chars_left: 50}",
		Mode:          pipeline.Ordered,
		ReportPerTask: true, // figures of one index
		Config: func() any {
			return &ParagraphDedupConfig{Unit: "line", MinChars: 20, MinCharsLeft: 1, Scope: "global"}
		},
		New: func(cfg any, _ *pipeline.Env) (pipeline.Stage, error) {
			return &ParagraphDedup{cfg: *cfg.(*ParagraphDedupConfig), seen: make(map[uint64]struct{}, 1<<16)}, nil
		},
	})
}

// Process implements pipeline.Stage; documents arrive in read order.
func (s *ParagraphDedup) Process(_ context.Context, d *pipeline.Document) (pipeline.Verdict, error) {
	sep := "\n"
	if s.cfg.Unit == "paragraph" {
		sep = "\n\n"
	}
	var langSalt uint64
	if s.cfg.Scope == "per_language" {
		langSalt = xxhash.Sum64String(d.Lang)
	}
	text := d.Text
	var (
		out      strings.Builder
		removed  int
		units    int
		fresh    []uint64 // added to seen after the document, so repeats inside it stay
		keptAny  bool
		firstOut = true
	)
	for rest := text; ; {
		unit, tail, more := strings.Cut(rest, sep)
		units++
		h, n := hashUnit(unit)
		h ^= langSalt
		dup := false
		if n >= s.cfg.MinChars && n > 0 {
			if _, ok := s.seen[h]; ok {
				dup = true
			} else {
				fresh = append(fresh, h)
			}
		}
		if dup {
			removed++
		} else {
			if !firstOut {
				out.WriteString(sep)
			}
			out.WriteString(unit)
			firstOut = false
			keptAny = keptAny || strings.TrimSpace(unit) != ""
		}
		if !more {
			break
		}
		rest = tail
	}
	for _, h := range fresh {
		s.seen[h] = struct{}{}
	}
	if removed == 0 {
		return pipeline.Keep, nil
	}
	newText := strings.TrimSpace(out.String())
	if n := utf8.RuneCountInString(newText); !keptAny || n < s.cfg.MinCharsLeft {
		s.removed += int64(removed)
		return pipeline.Rejectf("paragraph_dedup.all_duplicate", "%d of %d %ss seen in earlier documents; %d chars left < %d", removed, units, s.cfg.Unit, n, s.cfg.MinCharsLeft), nil
	}
	if d.Instruction != nil {
		// Written from its turns, which a paragraph of the text view does not map back to:
		// the record is judged (all_duplicate above) but not rewritten.
		s.instructionsUnchanged++
		return pipeline.Keep, nil
	}
	s.removed += int64(removed)
	s.changed++
	d.Text = newText
	d.SetMeta("paragraph_dedup_removed", removed)
	return pipeline.Keep, nil
}

// hashUnit hashes the normalised form of a line or paragraph and returns its length in
// normalised characters.
func hashUnit(s string) (uint64, int) {
	var h xxhash.Digest
	h.Reset()
	var buf [128]byte
	n, count := 0, 0
	for _, r := range s {
		switch {
		case unicode.IsDigit(r):
			r = '0'
		case unicode.IsLetter(r) || unicode.IsMark(r):
			r = unicode.ToLower(r)
		default:
			continue // punctuation, symbols and white space do not count
		}
		if n+utf8.UTFMax > len(buf) {
			_, _ = h.Write(buf[:n])
			n = 0
		}
		n += utf8.EncodeRune(buf[n:], r)
		count++
	}
	_, _ = h.Write(buf[:n])
	return h.Sum64(), count
}

// Report implements pipeline.Reporter.
func (s *ParagraphDedup) Report() map[string]any {
	return map[string]any{"distinct_units": len(s.seen), "units_removed": s.removed, "documents_changed": s.changed, "instructions_not_rewritten": s.instructionsUnchanged}
}

// Close implements pipeline.Stage.
func (s *ParagraphDedup) Close(context.Context) error { return nil }
