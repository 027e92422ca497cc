package report

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/sieve-data/sieve/lang"
	"github.com/sieve-data/sieve/pipeline"
)

// Status is how a language stands against its coverage target.
type Status string

// Statuses, from best to worst; languages without a target are StatusUntargeted.
const (
	StatusMet        Status = "met"
	StatusUnder      Status = "under target"
	StatusMissing    Status = "missing"
	StatusUntargeted Status = "not targeted"
)

// LangCoverage is one language of the dataset: its kept size, target and removal funnel.
type LangCoverage struct {
	Label    string // as the run filed it: "yor_Latn", "und", "und_Ethi"
	Name     string // English name, or a description for undetermined labels
	Code     string // for the card: ISO 639-1 when one exists, else ISO 639-3; "" for und/zxx
	Targeted bool
	Target   pipeline.CoverageTarget // the minimums that apply (target over default)
	Status   Status

	Docs, Words, Chars, Bytes int64
	// Tokens is exact when the run counted tokens (Coverage.Tokenizer is set), else
	// estimated: Bytes / bytes_per_token, rounded.
	Tokens     int64
	Fertility  float64 // tokens per word, with exact tokens; 0 otherwise or without words
	DocShare   float64 // of the dataset's kept documents
	TokenShare float64 // of the dataset's tokens

	Read     int64 // documents that carried the label: kept + rejected
	Removed  []Removal
	KeptRate float64 // Docs / Read; 0 when Read is 0

	Stats pipeline.LangStats // as recorded, histograms included
	Files []string           // dataset files, relative to the run directory
}

// Removal counts documents one stage removed for one reason.
type Removal struct {
	Stage, Reason string
	Docs          int64
}

// RemovedBy sums the removals of one stage.
func (l *LangCoverage) RemovedBy(stage string) int64 {
	var n int64
	for _, r := range l.Removed {
		if r.Stage == stage {
			n += r.Docs
		}
	}
	return n
}

// Undetermined reports whether the label says "no language": und, und_<Script>, zxx_Zyyy.
func (l *LangCoverage) Undetermined() bool { return undetermined(l.Label) }

func undetermined(label string) bool { return label == "und" || lang.IsUnd(label) }

// Coverage is the dataset's coverage: every targeted language (seen or not) and every
// language seen, in the order the card lists them.
type Coverage struct {
	Langs                     []LangCoverage
	Docs, Words, Chars, Bytes int64
	Tokens                    int64
	Fertility                 float64 // tokens per word over the dataset, with exact tokens
	Targeted, Met             int     // targeted languages, and how many meet their target
	// Tokenizer is the tokenizer the run counted tokens with (stats.json); nil when the
	// token figures are estimates.
	Tokenizer *pipeline.TokenizerInfo
}

// ComputeCoverage compares the per-language counts of st with the targets of cov. stages
// gives the order in which removals are listed (stats.json's stage names). Target labels are
// resolved through the language table, so "yo", "yor" and "yor_Latn" name one language.
// It fails when two targets name the same language.
func ComputeCoverage(st *pipeline.Stats, cov pipeline.Coverage, stages []string) (*Coverage, error) {
	targets := map[string]pipeline.CoverageTarget{}
	keys := make([]string, 0, len(cov.Targets))
	for k := range cov.Targets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	from := map[string]string{}
	for _, k := range keys {
		label := lang.Canonical(k)
		if prev, dup := from[label]; dup {
			return nil, fmt.Errorf("coverage.targets: %s and %s both name %s", prev, k, label)
		}
		from[label] = k
		t := cov.Targets[k]
		if t.MinDocs == 0 {
			t.MinDocs = cov.Default.MinDocs
		}
		if t.MinWords == 0 {
			t.MinWords = cov.Default.MinWords
		}
		if t.MinTokens == 0 {
			t.MinTokens = cov.Default.MinTokens
		}
		if t.MinTokens > 0 && st.Tokenizer == nil {
			return nil, fmt.Errorf("coverage.targets.%s.min_tokens: this run counted no tokens (it ran without coverage.tokenizer), so a token target cannot be checked", k)
		}
		targets[label] = t
	}
	// Data labels are canonicalised too, so that a target "swa_Latn" finds "swh_Latn".
	seen := map[string]string{} // canonical -> label as filed
	for label := range st.Langs {
		seen[lang.Canonical(label)] = label
	}
	c := &Coverage{Tokenizer: st.Tokenizer}
	var labels []string
	for label := range st.Langs {
		labels = append(labels, label)
	}
	for label := range targets {
		if _, ok := seen[label]; !ok {
			labels = append(labels, label)
		}
	}
	bpt := cov.BytesPerToken
	if bpt <= 0 {
		bpt = 4
	}
	for _, label := range labels {
		ls := st.Langs[label]
		canon := lang.Canonical(label)
		t, targeted := targets[canon]
		lc := LangCoverage{
			Label: label, Name: langName(label), Code: cardCode(label),
			Targeted: targeted, Target: t, Stats: ls,
			Docs: ls.Docs, Words: ls.Words, Chars: ls.Chars, Bytes: ls.Bytes,
			Tokens: int64(math.Round(float64(ls.Bytes) / bpt)),
		}
		if c.Tokenizer != nil {
			lc.Tokens = ls.Tokens
			if ls.Words > 0 {
				lc.Fertility = float64(ls.Tokens) / float64(ls.Words)
			}
		}
		switch {
		case !targeted:
			lc.Status = StatusUntargeted
		case ls.Docs == 0:
			lc.Status = StatusMissing
		case ls.Docs < t.MinDocs || ls.Words < t.MinWords || lc.Tokens < t.MinTokens:
			lc.Status = StatusUnder
		default:
			lc.Status = StatusMet
		}
		lc.Read = ls.Docs + ls.RejectedDocs()
		for _, s := range stages {
			reasons := ls.Rejected[s]
			rs := make([]string, 0, len(reasons))
			for r := range reasons {
				rs = append(rs, r)
			}
			sort.Strings(rs)
			for _, r := range rs {
				lc.Removed = append(lc.Removed, Removal{Stage: s, Reason: r, Docs: reasons[r]})
			}
		}
		if lc.Read > 0 {
			lc.KeptRate = float64(lc.Docs) / float64(lc.Read)
		}
		c.Docs += lc.Docs
		c.Words += lc.Words
		c.Chars += lc.Chars
		c.Bytes += lc.Bytes
		c.Tokens += lc.Tokens
		if targeted {
			c.Targeted++
			if lc.Status == StatusMet {
				c.Met++
			}
		}
		c.Langs = append(c.Langs, lc)
	}
	if c.Tokenizer != nil && c.Words > 0 {
		c.Fertility = float64(c.Tokens) / float64(c.Words)
	}
	for i := range c.Langs {
		l := &c.Langs[i]
		if c.Docs > 0 {
			l.DocShare = float64(l.Docs) / float64(c.Docs)
		}
		if c.Tokens > 0 {
			l.TokenShare = float64(l.Tokens) / float64(c.Tokens)
		}
	}
	sort.Slice(c.Langs, func(i, j int) bool {
		a, b := &c.Langs[i], &c.Langs[j]
		if ga, gb := langGroup(a), langGroup(b); ga != gb {
			return ga < gb
		}
		return a.Label < b.Label
	})
	return c, nil
}

// langGroup orders the languages: targeted, then other languages, then undetermined labels.
func langGroup(l *LangCoverage) int {
	switch {
	case l.Targeted:
		return 0
	case l.Undetermined():
		return 2
	}
	return 1
}

// langName returns the English name of a label, or a description of an undetermined one.
func langName(label string) string {
	switch {
	case label == "und":
		return "no language assigned"
	case label == lang.NoLanguage:
		return "no linguistic content"
	case strings.HasPrefix(label, "und_"):
		return "undetermined language, " + label[4:] + " script"
	}
	if l, ok := lang.Lookup(label); ok {
		if lang.LabelScript(label) != "" && !l.Default {
			return l.Name + " (" + l.Script + ")"
		}
		return l.Name
	}
	return label
}

// cardCode returns the code a dataset card lists for a label: ISO 639-1 where one exists,
// else ISO 639-3; "" for labels that name no language.
func cardCode(label string) string {
	if undetermined(label) {
		return ""
	}
	if l, ok := lang.Lookup(label); ok {
		if l.ISO1 != "" {
			return l.ISO1
		}
		return l.Code
	}
	code, _, _ := strings.Cut(label, "_")
	if len(code) == 2 || len(code) == 3 {
		return strings.ToLower(code)
	}
	return ""
}
