// Package lang identifies the language and script of text: the language table (labels such
// as "yor_Latn"), script detection, classifier backends behind one small interface, the
// open-set check that turns confident guesses about unknown languages into "und_<Script>",
// and the evaluation of all of it on labelled data. It knows nothing of pipelines.
package lang

import (
	"math/bits"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Prediction is one candidate language for a text.
type Prediction struct {
	// Label is a language-table label ("yor_Latn") when the backend's label maps to one (see
	// Lookup), otherwise the backend's own label with any "__label__" prefix removed.
	Label string
	// Prob is the backend's probability for Label, in [0, 1]. Probabilities of one text sum
	// to at most 1 over all of a backend's labels.
	Prob float64
}

// Backend is a language classifier: lingua (embedded, the default) or a fastText model.
// Implementations are safe for concurrent use once built.
type Backend interface {
	// Predict appends to dst the k most probable labels for text, most probable first (ties
	// in label order), and returns the extended slice; k <= 0 means every label. It returns
	// dst unchanged when the backend cannot say anything about text (no letters it knows).
	// Predict must not retain text or dst.
	Predict(text string, k int, dst []Prediction) []Prediction
	// Labels lists every label Predict can return, in the form Predict returns them. Callers
	// use it to route by script: a text whose script no label uses is "und_<Script>".
	Labels() []string
}

// DefaultSampleChars is how many characters of a document Identifier classifies by default.
const DefaultSampleChars = 300

// DefaultMinConfidence is the default minimum probability of a label (used by the langid
// stage and the evaluation). Confidences are relative to the candidates the backend weighed;
// on dev.tsv a minimum of 0.2 refuses mostly wrong labels.
const DefaultMinConfidence = 0.2

// IdentifierOptions configure an Identifier.
type IdentifierOptions struct {
	// SampleChars bounds the characters classified per text: whole sentences spread over the
	// document, up to this many (0 means DefaultSampleChars, < 0 the whole text).
	SampleChars int
	// OpenSet, when not nil, checks the backend's label against the label's profile and
	// says und_<Script> when the text does not fit it.
	OpenSet *OpenSet
	// PredictK is how many predictions to ask the backend for before keeping the best one
	// in the text's script (0 means 5).
	PredictK int
	// MinConfidence is the lowest probability a label may have; below it the text is
	// und_<Script> with Result.LowConfidence set. MinConfidenceBy overrides it per label.
	MinConfidence   float64
	MinConfidenceBy map[string]float64
	// Sentences also classifies each sentence of the sample on its own and reports how many
	// agree with the text's label (Result.Sentences, Result.Agreeing): a code-switching
	// signal. It costs one more backend prediction per sentence.
	Sentences bool
}

// MinSentenceChars is the length below which a sample sentence is too short to be
// classified on its own for the code-switching signal (it counts neither way).
const MinSentenceChars = 20

// Identifier labels texts with a Backend: it normalises to NFC, detects the script, says
// und_<Script> for scripts the backend has no language in (and zxx_Zyyy for text without
// letters), classifies a bounded sample of whole sentences, keeps the backend's best label
// in the text's script and applies the open-set check. It is safe for concurrent use.
type Identifier struct {
	backend     Backend
	groups      map[string]bool // script groups of the backend's labels
	anyScript   bool            // some label has no script: route nothing to und by script
	sampleChars int
	k           int
	openSet     *OpenSet
	minConf     float64
	minConfBy   map[string]float64
	sentences   bool
	opts        IdentifierOptions // as given, for EvaluateCodeSwitching
	pool        sync.Pool         // *[]Prediction
}

// Result is the outcome of Identify.
type Result struct {
	Label       string  // table label ("yor_Latn"), "und_<Script>" or "zxx_Zyyy"
	Script      string  // dominant script of the whole text (ISO 15924)
	ScriptShare float64 // share of the text's letters in Script
	Prob        float64 // backend probability of Label; 0 for und_* and zxx_Zyyy
	// Guess is the backend's best label in the text's script and GuessProb its probability,
	// also when Label is und_<Script> because the open-set check refused it ("" when the
	// backend had nothing to say).
	Guess     string
	GuessProb float64
	Checked   bool // the open-set check ran (there is a profile for Guess)
	Fit       Fit  // the open-set measurement when Checked
	// Refused says why Label is und_<Script> although the backend had a guess: the open-set
	// check (RefusedOpenSet) or a probability below the minimum (RefusedLowConfidence).
	Refused   Refusal
	SampleLen int // characters classified
	// With IdentifierOptions.Sentences, when the backend had a Guess: the sample's sentences
	// of at least MinSentenceChars characters, and how many of them the backend, classifying
	// each alone, gives Guess (a sentence in another script never agrees). Agreeing/Sentences
	// well below 1 means mixed-language (code-switched) text; such text often fails the
	// open-set check as a whole, and then this says why.
	Sentences, Agreeing int
}

// Agreement is Agreeing/Sentences, or 1 when no sentence was classified alone.
func (r *Result) Agreement() float64 {
	if r.Sentences == 0 {
		return 1
	}
	return float64(r.Agreeing) / float64(r.Sentences)
}

// Refusal is why an Identifier did not take the backend's guess.
type Refusal uint8

const (
	RefusedNone          Refusal = iota
	RefusedOpenSet               // the text does not fit the guessed language's profile
	RefusedLowConfidence         // the guess's probability is below the minimum
)

func (r Refusal) String() string {
	switch r {
	case RefusedOpenSet:
		return "open_set"
	case RefusedLowConfidence:
		return "low_confidence"
	}
	return "none"
}

// NewIdentifier wraps a backend.
func NewIdentifier(b Backend, opts IdentifierOptions) *Identifier {
	id := &Identifier{backend: b, groups: map[string]bool{}, sampleChars: opts.SampleChars, k: opts.PredictK,
		minConf: opts.MinConfidence, minConfBy: map[string]float64{}, sentences: opts.Sentences, opts: opts}
	for l, v := range opts.MinConfidenceBy {
		id.minConfBy[Canonical(l)] = v
	}
	if id.sampleChars == 0 {
		id.sampleChars = DefaultSampleChars
	}
	if id.k <= 0 {
		id.k = 5
	}
	if opts.OpenSet != nil {
		o := *opts.OpenSet
		id.openSet = &o
	}
	for _, l := range b.Labels() {
		if s := labelScriptOf(l); s != "" {
			id.groups[scriptGroup(s)] = true
		} else {
			id.anyScript = true
		}
	}
	id.pool.New = func() any { p := make([]Prediction, 0, 16); return &p }
	return id
}

// Backend returns the wrapped backend.
func (id *Identifier) Backend() Backend { return id.backend }

// Covers reports whether the backend has a language written in script.
func (id *Identifier) Covers(script string) bool {
	return id.anyScript || id.groups[scriptGroup(script)]
}

// labelScriptOf returns the script of a label when it has a well-formed one.
func labelScriptOf(label string) string {
	s := LabelScript(label)
	if !isScript(s) {
		return ""
	}
	return s
}

// Identify labels one text.
func (id *Identifier) Identify(text string) Result {
	if !norm.NFC.IsNormalString(text) {
		text = norm.NFC.String(text)
	}
	var r Result
	r.Script, r.ScriptShare = DetectScript(text)
	if r.Script == NoScript {
		r.Label = NoLanguage
		return r
	}
	r.Label = Und(r.Script)
	if !id.Covers(r.Script) {
		return r
	}
	sample := Sample(text, id.sampleChars)
	r.SampleLen = utf8.RuneCountInString(sample)
	buf := id.pool.Get().(*[]Prediction)
	defer id.pool.Put(buf)
	group := scriptGroup(r.Script)
	r.Guess, r.GuessProb = id.best(sample, group, buf)
	if r.Guess == "" {
		return r
	}
	if id.sentences {
		r.Sentences, r.Agreeing = id.agreement(sample, r.Guess, group, buf)
	}
	if id.openSet != nil {
		var ok bool
		r.Fit, ok, r.Checked = id.openSet.Check(sample, r.Guess)
		if !ok {
			r.Refused = RefusedOpenSet
			return r
		}
	}
	if r.GuessProb < id.MinConfidence(r.Guess) {
		r.Refused = RefusedLowConfidence
		return r
	}
	r.Label, r.Prob = r.Guess, r.GuessProb
	return r
}

// best returns the backend's most probable label for text among those of a script group
// (or without a script).
func (id *Identifier) best(text, group string, buf *[]Prediction) (string, float64) {
	preds := id.backend.Predict(text, id.k, (*buf)[:0])
	*buf = preds[:0]
	for _, p := range preds {
		if s := labelScriptOf(p.Label); s == "" || scriptGroup(s) == group {
			return p.Label, p.Prob
		}
	}
	return "", 0
}

// agreement classifies each sentence of sample (of at least MinSentenceChars characters)
// alone and counts those labelled label (see agrees).
func (id *Identifier) agreement(sample, label, group string, buf *[]Prediction) (sentences, agreeing int) {
	EachSentence(sample, func(sp Span) bool {
		s := sample[sp.Start:sp.End]
		if len(s) < MinSentenceChars || utf8.RuneCountInString(s) < MinSentenceChars {
			return true
		}
		sentences++
		if id.agrees(s, label, group, buf) {
			agreeing++
		}
		return true
	})
	return sentences, agreeing
}

// agrees reports whether the backend, classifying s alone, gives it label, and (with the
// open-set check) s fits label's profile: the backend alone would give text of a language it
// lacks a confident wrong label. Text in another script group never agrees.
func (id *Identifier) agrees(s, label, group string, buf *[]Prediction) bool {
	script, _ := DetectScript(s)
	if script == NoScript || scriptGroup(script) != group {
		return false
	}
	if guess, _ := id.best(s, group, buf); guess != label {
		return false
	}
	if id.openSet == nil {
		return true
	}
	_, ok, _ := id.openSet.Check(s, label)
	return ok
}

// Agreement is the code-switching signal over parts the caller chooses, such as an
// instruction record's prompt and response: it counts the parts of at least
// MinSentenceChars characters, and those that, classified alone (NFC, sampled like a text),
// get label (see IdentifierOptions.Sentences for the rules). script is the whole text's
// script (Result.Script).
func (id *Identifier) Agreement(label, script string, parts []string) (n, agreeing int) {
	buf := id.pool.Get().(*[]Prediction)
	defer id.pool.Put(buf)
	group := scriptGroup(script)
	for _, p := range parts {
		if !norm.NFC.IsNormalString(p) {
			p = norm.NFC.String(p)
		}
		if len(p) < MinSentenceChars || utf8.RuneCountInString(p) < MinSentenceChars {
			continue
		}
		n++
		if id.agrees(Sample(p, id.sampleChars), label, group, buf) {
			agreeing++
		}
	}
	return n, agreeing
}

// MinConfidence returns the minimum probability for label.
func (id *Identifier) MinConfidence(label string) float64 {
	if v, ok := id.minConfBy[label]; ok {
		return v
	}
	return id.minConf
}

// Sample returns up to maxChars characters of text made of whole sentences taken evenly
// across it (the first, then the middle, then the quarters, ...), in their original order
// and joined by a space. A sentence longer than what is left of the budget is skipped, or cut
// at a word boundary when nothing else would fit. Text of at most maxChars characters, or
// any text when maxChars < 0, is returned as is. Very long texts (over 64 KiB) are sampled
// from 16 evenly spaced windows so the cost stays bounded.
func Sample(text string, maxChars int) string {
	if maxChars < 0 || len(text) <= maxChars || utf8.RuneCountInString(text) <= maxChars {
		return text
	}
	var spans []Span
	collect := func(base int, part string) {
		EachSentence(part, func(s Span) bool {
			spans = append(spans, Span{Start: base + s.Start, End: base + s.End})
			return true
		})
	}
	if len(text) <= sampleWindowed {
		collect(0, text)
	} else {
		const windows, width = 16, 4096
		step := (len(text) - width) / (windows - 1)
		for w := 0; w < windows; w++ {
			start, end := runeStart(text, w*step), runeStart(text, w*step+width)
			// Drop the partial sentences at the cut ends of a window.
			part := text[start:end]
			n := len(spans)
			collect(start, part)
			if w > 0 && len(spans) > n+1 {
				spans = append(spans[:n], spans[n+1:]...)
			}
			if w < windows-1 && len(spans) > n+1 {
				spans = spans[:len(spans)-1]
			}
		}
	}
	if len(spans) == 0 {
		return cutAtWord(text, maxChars)
	}
	taken := make([]bool, len(spans))
	budget := maxChars
	// Visit sentence positions in van der Corput order: 0, 1/2, 1/4, 3/4, 1/8, ...
	limit := 1
	for limit < len(spans) {
		limit <<= 1
	}
	for j := 0; j < limit && budget > 0; j++ {
		i := int(uint64(reverseBits(uint32(j), limit)) * uint64(len(spans)) / uint64(limit))
		if taken[i] {
			continue
		}
		n := utf8.RuneCountInString(text[spans[i].Start:spans[i].End])
		if n+1 > budget {
			continue
		}
		taken[i] = true
		budget -= n + 1
	}
	var b strings.Builder
	b.Grow(maxChars * 2)
	for i, s := range spans {
		if !taken[i] {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(text[s.Start:s.End])
	}
	if b.Len() == 0 {
		// Every sentence is longer than the budget: cut the first one.
		return cutAtWord(text[spans[0].Start:spans[0].End], maxChars)
	}
	return b.String()
}

// sampleWindowed is the text length (bytes) above which Sample reads windows only.
const sampleWindowed = 64 << 10

// reverseBits reverses the low log2(n) bits of j (n a power of two).
func reverseBits(j uint32, n int) uint32 {
	k := bits.Len(uint(n)) - 1
	if k == 0 {
		return 0
	}
	return bits.Reverse32(j) >> (32 - k)
}

// runeStart moves i back to the start of a UTF-8 sequence.
func runeStart(s string, i int) int {
	if i >= len(s) {
		return len(s)
	}
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

// cutAtWord returns the first maxChars characters of s, shortened to the last space when
// there is one in the second half.
func cutAtWord(s string, maxChars int) string {
	n := 0
	for i := range s {
		if n == maxChars {
			cut := s[:i]
			if j := strings.LastIndexByte(cut, ' '); j > len(cut)/2 {
				cut = cut[:j]
			}
			return cut
		}
		n++
	}
	return s
}
