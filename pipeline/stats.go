package pipeline

import (
	"math"
	"math/bits"
	"slices"
	"sort"
)

// StatsVersion is the version of the stats.json schema.
const StatsVersion = 1

// Stats is what a run counted. It is written as stats.json in the run directory.
type Stats struct {
	Version  int                  `json:"version"`
	Read     int64                `json:"read"`
	Kept     int64                `json:"kept"`
	Rejected int64                `json:"rejected"`
	Balanced bool                 `json:"balanced"` // read == kept + rejected, checked at the end of the run
	Stages   []StageStats         `json:"stages"`   // "read" first, then the configured stages in order
	Langs    map[string]LangStats `json:"languages"`
	Seconds  float64              `json:"seconds"`
	BytesIn  int64                `json:"bytes_in"` // input bytes as stored (compressed)
	// Tokenizer is the coverage.tokenizer the run counted tokens with; nil without one.
	Tokenizer *TokenizerInfo `json:"tokenizer,omitempty"`
}

// StageStats counts one stage's documents.
type StageStats struct {
	Name     string           `json:"name"`
	Kind     string           `json:"kind"`
	In       int64            `json:"in"`
	Kept     int64            `json:"kept"`
	Rejected map[string]int64 `json:"rejected"` // by reason
	Extra    map[string]any   `json:"extra,omitempty"`
}

// LangStats counts the documents of one language: the kept ones, with their size and two
// distributions, and the rejected ones that carried the language when they were rejected.
// Documents without a language (no langid stage, or rejected before it) count under "und".
type LangStats struct {
	Docs  int64 `json:"docs"`  // kept documents
	Chars int64 `json:"chars"` // Unicode code points
	Words int64 `json:"words"`
	Bytes int64 `json:"bytes"` // UTF-8 bytes of text
	// Tokens counts the tokens of the kept documents under Stats.Tokenizer (absent without
	// a tokenizer).
	Tokens int64 `json:"tokens,omitempty"`
	// LengthHist counts kept documents by length in code points: bucket 0 holds lengths
	// below 16, bucket i (1..LengthBuckets-2) lengths in [2^(i+3), 2^(i+4)), the last one
	// lengths of 2^20 and more. Nil when no document was kept.
	LengthHist []int64 `json:"length_hist,omitempty"`
	// ScoreHist counts kept documents by language-ID confidence: bucket i holds scores in
	// [i/10, (i+1)/10), the last one also 1.0. Nil when no document was kept.
	ScoreHist []int64 `json:"score_hist,omitempty"`
	// Rejected counts rejected documents by stage name, then reason.
	Rejected map[string]map[string]int64 `json:"rejected,omitempty"`
}

// Bucket counts of LangStats.LengthHist and LangStats.ScoreHist.
const (
	LengthBuckets = 18
	ScoreBuckets  = 10
)

// LengthBucket returns the LengthHist bucket of a document of n code points.
func LengthBucket(n int) int {
	if n < 16 {
		return 0
	}
	return min(bits.Len(uint(n))-4, LengthBuckets-1)
}

// LengthBucketRange returns the lengths bucket i holds: [lo, hi), hi < 0 when unbounded.
func LengthBucketRange(i int) (lo, hi int) {
	switch {
	case i <= 0:
		return 0, 16
	case i >= LengthBuckets-1:
		return 1 << 20, -1
	}
	return 1 << (i + 3), 1 << (i + 4)
}

// ScoreBucket returns the ScoreHist bucket of a confidence in [0,1] (NaN counts as 0).
func ScoreBucket(score float64) int {
	if !(score > 0) {
		return 0
	}
	return min(int(score*ScoreBuckets), ScoreBuckets-1)
}

// RejectedDocs sums the language's rejected documents.
func (l *LangStats) RejectedDocs() int64 {
	var n int64
	for _, m := range l.Rejected {
		for _, c := range m {
			n += c
		}
	}
	return n
}

// RejectedTotal sums the rejections of every stage.
func (s *Stats) RejectedTotal() int64 {
	var n int64
	for _, st := range s.Stages {
		for _, c := range st.Rejected {
			n += c
		}
	}
	return n
}

// LangKeys returns the language labels sorted.
func (s *Stats) LangKeys() []string {
	out := make([]string, 0, len(s.Langs))
	for k := range s.Langs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Merge adds o's counts into s (for stats of several shards or tasks of one pipeline).
// Stage lists must match by name and order.
func (s *Stats) Merge(o *Stats) {
	s.Read += o.Read
	s.Kept += o.Kept
	s.Rejected += o.Rejected
	s.BytesIn += o.BytesIn
	if o.Seconds > s.Seconds {
		s.Seconds = o.Seconds
	}
	if len(s.Stages) == 0 {
		for _, st := range o.Stages {
			s.Stages = append(s.Stages, StageStats{Name: st.Name, Kind: st.Kind, Rejected: map[string]int64{}})
		}
	}
	for i, st := range o.Stages {
		if i >= len(s.Stages) {
			break
		}
		d := &s.Stages[i]
		d.In += st.In
		d.Kept += st.Kept
		for r, c := range st.Rejected {
			d.Rejected[r] += c
		}
	}
	if s.Tokenizer == nil && o.Tokenizer != nil {
		t := *o.Tokenizer
		s.Tokenizer = &t
	}
	if s.Langs == nil {
		s.Langs = map[string]LangStats{}
	}
	for k, v := range o.Langs {
		a := s.Langs[k]
		a.Docs += v.Docs
		a.Chars += v.Chars
		a.Words += v.Words
		a.Bytes += v.Bytes
		a.Tokens += v.Tokens
		a.LengthHist = addHist(a.LengthHist, v.LengthHist)
		a.ScoreHist = addHist(a.ScoreHist, v.ScoreHist)
		for stage, reasons := range v.Rejected {
			if a.Rejected == nil {
				a.Rejected = map[string]map[string]int64{}
			}
			m := a.Rejected[stage]
			if m == nil {
				m = map[string]int64{}
				a.Rejected[stage] = m
			}
			for r, c := range reasons {
				m[r] += c
			}
		}
		s.Langs[k] = a
	}
	s.Balanced = s.Read == s.Kept+s.RejectedTotal()
}

// addHist adds histogram b into a (which may be shorter, or nil) and returns it.
func addHist(a, b []int64) []int64 {
	if len(b) == 0 {
		return a
	}
	if len(a) < len(b) {
		a = append(make([]int64, 0, len(b)), a...)
		a = a[:len(b)]
	}
	for i, c := range b {
		a[i] += c
	}
	return a
}

// MergeExtras adds o's stage figures (StageStats.Extra) into s's, after Merge: for each
// stage whose spec in reg allows it (not ReportPerTask), the ReportStatic keys are kept from
// the first task that has them and every other number is summed (see Spec.ReportStatic).
// Non-numeric values that are not static are kept from the first task.
func (s *Stats) MergeExtras(o *Stats, reg *Registry) {
	if reg == nil {
		return
	}
	for i, st := range o.Stages {
		if i >= len(s.Stages) || len(st.Extra) == 0 {
			continue
		}
		spec, ok := reg.Lookup(st.Kind)
		if !ok || spec.ReportPerTask {
			continue
		}
		d := &s.Stages[i]
		if d.Extra == nil {
			d.Extra = map[string]any{}
		}
		for k, v := range st.Extra {
			if slices.Contains(spec.ReportStatic, k) {
				if _, has := d.Extra[k]; !has {
					d.Extra[k] = v
				}
				continue
			}
			d.Extra[k] = addFigures(d.Extra[k], v)
		}
	}
}

// addFigures sums two report values: numbers add (integers stay integers), maps add key by
// key, anything else keeps a (or b when a is absent).
func addFigures(a, b any) any {
	if b == nil { // JSON null: nothing to add (and nothing to start from when a is absent)
		return a
	}
	if a == nil {
		return addFigures(zeroLike(b), b)
	}
	switch bv := b.(type) {
	case map[string]any:
		am, ok := a.(map[string]any)
		if !ok {
			return a
		}
		out := make(map[string]any, len(am)+len(bv))
		for k, v := range am {
			out[k] = v
		}
		for k, v := range bv {
			out[k] = addFigures(out[k], v)
		}
		return out
	}
	af, aok := numberOf(a)
	bf, bok := numberOf(b)
	if !aok || !bok {
		return a
	}
	if whole(af) && whole(bf) {
		return int64(af) + int64(bf)
	}
	return af + bf
}

// zeroLike returns the empty value a report value adds onto.
func zeroLike(v any) any {
	switch v.(type) {
	case map[string]any:
		return map[string]any{}
	}
	if _, ok := numberOf(v); ok {
		return int64(0)
	}
	return v
}

// numberOf returns v as a float64 when it is a number (numbers read back from JSON are
// float64; counters in memory are integers).
func numberOf(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// whole reports whether f is an integer that a float64 holds exactly.
func whole(f float64) bool { return f == math.Trunc(f) && math.Abs(f) < 1<<53 }
