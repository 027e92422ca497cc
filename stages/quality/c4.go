package quality

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/sieve-data/sieve/lang"
	"github.com/sieve-data/sieve/pipeline"
)

// C4QualityConfig configures c4_quality: the line rules of C4 (Raffel et al. 2020, section
// 2.2, and the tensorflow/datasets implementation). Lines are judged one by one; with
// line_action drop the failing ones are removed from the text, as C4 does. A document is
// rejected when it contains "lorem ipsum" or "{" in a line that passed the line rules, or
// when its remaining lines hold fewer than min_sentences sentences.
type C4QualityConfig struct {
	LineAction      string               `yaml:"line_action" doc:"drop: lines failing a line rule are removed from the text (C4); keep: the text is left as is and such lines only do not count as sentences"`
	MinSentences    int                  `yaml:"min_sentences" doc:"fewest sentences in the lines that pass (rule sentences)"`
	MinWordsPerLine int                  `yaml:"min_words_per_line" doc:"lines with fewer words fail (rule words_per_line)"`
	MaxWordLength   int                  `yaml:"max_word_length" doc:"lines with a longer white-space-separated chunk, in characters, fail (rule word_length)"`
	PolicyPhrases   []string             `yaml:"policy_phrases" doc:"lines containing one of these phrases (ASCII case ignored) fail (rule policy)"`
	Disable         []string             `yaml:"disable" doc:"rules switched off: line rules terminal_punct (a line must end with a sentence terminator of any script, not an ellipsis), words_per_line, word_length, javascript (lines mentioning javascript fail), policy, citations ([1], [edit], [citation needed] removed from kept lines); document rules lorem_ipsum, curly_bracket, sentences, no_lines_left (line_action drop: every line failed, nothing would be left)"`
	Enable          []string             `yaml:"enable" doc:"per-language entries only: rules switched back on for that language"`
	PerLanguage     map[string]yaml.Node `yaml:"per_language" doc:"overrides by language label (yor_Latn), code (yor) or script (Thai: languages of that script without an entry): any key above; wins over thresholds_file"`
	ThresholdsFile  string               `yaml:"thresholds_file" doc:"per-language overrides written by sieve calibrate (its c4_quality section); relative to the config file"`
}

// C4PolicyPhrases are C4's policy phrases.
var C4PolicyPhrases = []string{"terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies"}

// DefaultC4QualityConfig returns the published defaults.
func DefaultC4QualityConfig() C4QualityConfig {
	return C4QualityConfig{
		LineAction: "drop", MinSentences: 5, MinWordsPerLine: 3, MaxWordLength: 1000,
		PolicyPhrases: append([]string(nil), C4PolicyPhrases...),
	}
}

// Validate implements pipeline.Validator.
func (c *C4QualityConfig) Validate() []pipeline.FieldError {
	return defs[KindC4Quality].validateConfig(c, true)
}

// rule indices; the first five are line rules (bits of a line's fail mask)
const (
	c4Terminal = iota
	c4WordsPerLine
	c4WordLength
	c4JavaScript
	c4Policy
	c4Citations
	c4Lorem
	c4Curly
	c4Sentences
	c4NoLines
	c4LineRules = 5
)

// c4SentencesBound is the index of the min_sentences bound.
const c4SentencesBound = 2

// c4LineBound is the bound holding each line rule's threshold, or -1.
var c4LineBound = [c4LineRules]int{-1, 3, 4, -1, -1}

const (
	failTerminal = 1 << c4Terminal
	failWords    = 1 << c4WordsPerLine
	failLength   = 1 << c4WordLength
	failJS       = 1 << c4JavaScript
	failPolicy   = 1 << c4Policy
)

type c4Settings struct {
	drop            bool
	minWordsPerLine int
	maxWordLength   int
	policy          []string // lower-cased
}

// c4State is a worker's per-document line accounting.
type c4State struct {
	keep      []bool
	dropped   [c4LineRules]int
	firstHit  int // 1-based line of the lorem ipsum or curly bracket hit
	citations bool
}

func init() {
	register(&filterDef{
		kind:  KindC4Quality,
		rules: []string{"terminal_punct", "words_per_line", "word_length", "javascript", "policy", "citations", "lorem_ipsum", "curly_bracket", "sentences", "no_lines_left"},
		bounds: []Bound{
			{Rule: "lorem_ipsum", Max: true},
			{Rule: "curly_bracket", Max: true},
			{Rule: "sentences", Key: "min_sentences", Int: true, Hi: 1e6},
			{Rule: "words_per_line", Key: "min_words_per_line", Int: true, Hi: 1e6},
			{Rule: "word_length", Key: "max_word_length", Max: true, Int: true, Lo: 1, Hi: 1e9},
			{Rule: "no_lines_left", Max: true},
		},
		defaults: func() any { c := DefaultC4QualityConfig(); return &c },
		validate: func(cfg any) []pipeline.FieldError {
			c := cfg.(*C4QualityConfig)
			var errs []pipeline.FieldError
			if c.LineAction != "drop" && c.LineAction != "keep" {
				errs = append(errs, pipeline.FieldError{Field: "line_action", Msg: fmt.Sprintf("must be one of drop, keep; got %q", c.LineAction)})
			}
			for i, p := range c.PolicyPhrases {
				if strings.TrimSpace(p) == "" {
					errs = append(errs, pipeline.FieldError{Field: fmt.Sprintf("policy_phrases[%d]", i), Msg: "must not be empty"})
				}
			}
			return errs
		},
		prepare: func(cfg any, _ string, _ map[string]bool, st *settings) error {
			c := cfg.(*C4QualityConfig)
			cs := &c4Settings{drop: c.LineAction == "drop", minWordsPerLine: c.MinWordsPerLine, maxWordLength: c.MaxWordLength}
			for _, p := range c.PolicyPhrases {
				cs.policy = append(cs.policy, strings.ToLower(p))
			}
			st.c4 = cs
			return nil
		},
		measure: func(w *worker, st *settings, vals []float64) { measureC4(w, st, vals, false) },
		detail:  c4Detail,
		after:   c4After,
	})
}

// The words_per_line and word_length bounds hold line-rule thresholds: they are never
// compared with a document value (measureC4 leaves NaN there).

// lineFails returns the line rules (switched on in st) that line li breaks, and whether it
// mentions "lorem ipsum" or holds "{". With all false it stops at the first failure, in C4's
// order (word length, terminal punctuation, words per line, javascript, policy), and only
// looks for lorem ipsum and "{" in lines passing the rules before them.
func lineFails(w *worker, st *settings, li int, all bool) (fail uint8, lorem, curly bool) {
	a := w.a
	l := &a.Lines[li]
	text := a.Text[l.Start:l.End]
	cs := st.c4
	if st.on(c4WordLength) && int(l.MaxChunk) > cs.maxWordLength {
		fail |= failLength
		if !all {
			return
		}
	}
	if st.on(c4Terminal) && !endsTerminal(text, st.on(c4Citations), true) {
		fail |= failTerminal
		if !all {
			return
		}
	}
	if st.on(c4WordsPerLine) && int(l.W1-l.W0) < cs.minWordsPerLine {
		fail |= failWords
		if !all {
			return
		}
	}
	lower := asciiLower(&a.lower, text)
	lorem = st.on(c4Lorem) && strings.Contains(lower, "lorem ipsum")
	if lorem && !all {
		return
	}
	if st.on(c4JavaScript) && strings.Contains(lower, "javascript") {
		fail |= failJS
		if !all {
			return
		}
	}
	curly = st.on(c4Curly) && strings.IndexByte(text, '{') >= 0
	if curly && !all {
		return
	}
	if st.on(c4Policy) {
		for _, p := range cs.policy {
			if strings.Contains(lower, p) {
				fail |= failPolicy
				break
			}
		}
	}
	return
}

// measureC4 judges every line and counts the sentences of the lines that pass; with full
// false it stops counting sentences at min_sentences.
func measureC4(w *worker, st *settings, vals []float64, full bool) {
	a := w.a
	a.scanWords()
	for i := range vals {
		vals[i] = nanValue
	}
	c := &w.c4
	if cap(c.keep) < len(a.Lines) {
		c.keep = make([]bool, len(a.Lines))
	}
	c.keep = c.keep[:len(a.Lines)]
	c.dropped = [c4LineRules]int{}
	c.firstHit, c.citations = 0, false
	minSent := int(st.thr[c4SentencesBound])
	sentences := 0
	vals[c4Lorem], vals[c4Curly] = 0, 0
	for li := range a.Lines {
		c.keep[li] = false
		l := &a.Lines[li]
		if l.Blank() {
			continue
		}
		fail, lorem, curly := lineFails(w, st, li, false)
		if lorem || curly {
			c.firstHit = li + 1
			if lorem {
				vals[c4Lorem] = 1
			} else {
				vals[c4Curly] = 1
			}
			return
		}
		if fail != 0 {
			for r := 0; r < c4LineRules; r++ {
				if fail&(1<<r) != 0 {
					c.dropped[r]++
				}
			}
			continue
		}
		c.keep[li] = true
		text := a.Text[l.Start:l.End]
		if st.on(c4Citations) && strings.IndexByte(text, '[') >= 0 && hasCitation(text) {
			c.citations = true
		}
		if full || sentences < minSent {
			limit := -1
			if !full {
				limit = minSent - sentences
			}
			sentences += countSentences(text, limit)
		}
	}
	vals[c4Sentences] = float64(sentences)
	if st.c4.drop && a.NonBlank > 0 {
		vals[c4NoLines] = 0
		if sentences == 0 { // a kept non-blank line holds at least one sentence
			vals[c4NoLines] = 1
		}
	}
}

// countSentences counts the sentences of text, stopping at limit when limit >= 0.
func countSentences(text string, limit int) int {
	n := 0
	lang.EachSentence(text, func(lang.Span) bool {
		n++
		return limit < 0 || n < limit
	})
	return n
}

func c4Detail(w *worker, _ *settings, b *Bound, v, t float64) string {
	switch b.Rule {
	case "lorem_ipsum":
		return fmt.Sprintf("line %d contains \"lorem ipsum\"", w.c4.firstHit)
	case "curly_bracket":
		return fmt.Sprintf("line %d contains \"{\"", w.c4.firstHit)
	case "no_lines_left":
		return "every line failed: " + failingLines(w)
	case "sentences":
		d := formatNum(v, true) + " < " + formatNum(t, true)
		if f := failingLines(w); f != "" {
			d += " (failing lines: " + f + ")"
		}
		return d
	}
	return ""
}

// failingLines lists the lines failed by rule: "3 terminal_punct, 2 words_per_line".
func failingLines(w *worker) string {
	var parts []string
	for r, n := range w.c4.dropped {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, defs[KindC4Quality].rules[r]))
		}
	}
	return strings.Join(parts, ", ")
}

// c4After removes the failing lines (and citations) from a kept document's text when
// line_action is drop, keeping a blank line where paragraphs met.
func c4After(s *Stage, w *worker, st *settings, d *pipeline.Document) {
	c := &w.c4
	dropped := 0
	for _, n := range c.dropped {
		dropped += n
	}
	if !st.c4.drop || (dropped == 0 && !c.citations) {
		return
	}
	if d.Instruction != nil {
		// Written from its turns, which a line of the text view does not map back to: the
		// record is judged but not rewritten.
		s.instructionsUnchanged.Add(1)
		return
	}
	for r, n := range c.dropped {
		if n > 0 {
			s.linesDropped[r].Add(int64(n))
		}
	}
	a := w.a
	var b strings.Builder
	b.Grow(len(a.Text))
	prevKept, gap := false, false
	for li := range a.Lines {
		l := &a.Lines[li]
		if l.Blank() {
			gap = true
			continue
		}
		if !c.keep[li] {
			continue
		}
		if prevKept {
			if gap {
				b.WriteString("\n\n")
			} else {
				b.WriteByte('\n')
			}
		}
		text := a.Text[l.Start:l.End]
		if c.citations && st.on(c4Citations) {
			text = removeCitations(text)
		}
		b.WriteString(text)
		prevKept, gap = true, false
	}
	out := b.String()
	s.docsRewritten.Add(1)
	s.charsRemoved.Add(int64(a.Runes - utf8.RuneCountInString(out)))
	d.Text = out
}

// endsTerminal reports whether line ends with a sentence terminator of any script, possibly
// followed by closing quotes or brackets. Trailing citations are ignored when skipCitations;
// with noEllipsis a line ending in "..." or "…" does not count.
func endsTerminal(line string, skipCitations, noEllipsis bool) bool {
	if skipCitations {
		line = trimTrailingCitations(line)
	}
	for len(line) > 0 {
		r, size := utf8.DecodeLastRuneInString(line)
		if lang.IsClosingPunct(r) {
			line = strings.TrimRight(line[:len(line)-size], " \t")
			continue
		}
		if !lang.IsSentenceTerminator(r) {
			return false
		}
		if noEllipsis && (r == '…' || strings.HasSuffix(line, "...")) {
			return false
		}
		return true
	}
	return false
}

// citationAt returns the length of a citation ("[12]", "[edit]", "[citation needed]") at the
// start of s, or 0.
func citationAt(s string) int {
	if len(s) < 3 || s[0] != '[' {
		return 0
	}
	if strings.HasPrefix(s, "[edit]") {
		return len("[edit]")
	}
	if strings.HasPrefix(s, "[citation needed]") {
		return len("[citation needed]")
	}
	i := 1
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 1 && i < len(s) && s[i] == ']' {
		return i + 1
	}
	return 0
}

func hasCitation(s string) bool {
	for i := strings.IndexByte(s, '['); i >= 0; {
		if citationAt(s[i:]) > 0 {
			return true
		}
		j := strings.IndexByte(s[i+1:], '[')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

func removeCitations(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '[')
		if i < 0 {
			break
		}
		if n := citationAt(s[i:]); n > 0 {
			b.WriteString(s[:i])
			s = s[i+n:]
			continue
		}
		b.WriteString(s[:i+1])
		s = s[i+1:]
	}
	b.WriteString(s)
	return strings.TrimSpace(b.String())
}

func trimTrailingCitations(s string) string {
	for {
		s = strings.TrimRight(s, " \t")
		if !strings.HasSuffix(s, "]") {
			return s
		}
		i := strings.LastIndexByte(s, '[')
		if i < 0 || citationAt(s[i:]) != len(s)-i {
			return s
		}
		s = s[:i]
	}
}

// asciiLower lower-cases the ASCII letters of s into buf (other bytes unchanged) and returns
// the result as a string that is valid until the next call with buf.
func asciiLower(buf *[]byte, s string) string {
	b := (*buf)[:0]
	b = append(b, s...)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	*buf = b
	return unsafeString(b)
}

// UsedFiles implements pipeline.FileUser: the thresholds file written by sieve calibrate.
func (c *C4QualityConfig) UsedFiles() []string {
	if c.ThresholdsFile == "" {
		return nil
	}
	return []string{c.ThresholdsFile}
}
