package pipeline

import (
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

// LangStats counts the kept documents of one language.
type LangStats struct {
	Docs  int64 `json:"docs"`
	Chars int64 `json:"chars"` // Unicode code points
	Words int64 `json:"words"`
	Bytes int64 `json:"bytes"` // UTF-8 bytes of text
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
	if s.Langs == nil {
		s.Langs = map[string]LangStats{}
	}
	for k, v := range o.Langs {
		a := s.Langs[k]
		a.Docs += v.Docs
		a.Chars += v.Chars
		a.Words += v.Words
		a.Bytes += v.Bytes
		s.Langs[k] = a
	}
	s.Balanced = s.Read == s.Kept+s.RejectedTotal()
}
