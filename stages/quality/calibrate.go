package quality

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"

	"golang.org/x/text/unicode/norm"

	"github.com/sieve-data/sieve/lang"
)

// Calibration derives per-language thresholds from a sample of a corpus: each rule's
// threshold is set at a quantile of the language's own values, so that every rule removes
// at most about that share of the language's documents. Junk in the sample must not drag a
// threshold along, so documents that are outliers on several thresholds at once (beyond
// Q1 - k*IQR or Q3 + k*IQR of the language's values, on the side the threshold rejects) are
// left out when thresholds are derived; one odd value is a trait of the language (Hausa news
// that ends without a full stop), several are junk (a menu: short lines, no punctuation, no
// stop words). In mode "widen" a threshold is never tighter than the stage's own. Stop words
// are the words found in the most documents of the language.

// CalibrationStage is one quality stage to calibrate: its kind and its decoded top-level
// config (*GopherQualityConfig, ...). Its per_language entries and thresholds file are
// ignored: calibration starts from the top-level thresholds.
type CalibrationStage struct {
	Name   string // stage name, for messages
	Kind   string
	Config any
}

// CalibrateOptions tune the derivation.
type CalibrateOptions struct {
	Quantile   float64 // share of a language's documents each rule may remove, e.g. 0.01
	Fence      float64 // k of the Q1 - k*IQR / Q3 + k*IQR outlier fence; 0 = no outliers
	Outliers   int     // a document beyond the fence on this many thresholds is an outlier
	Mode       string  // widen: never tighter than the stage's thresholds; fit: the quantiles as they are
	StopWords  int     // stop words per language (most documents first)
	MinStopDF  float64 // a stop word appears in at least this share of the language's documents
	MinDocs    int     // languages with fewer sampled documents get no overrides
	SampleDocs int     // documents kept per language (first ones in read order); 0 = all
}

// DefaultCalibrateOptions returns the defaults.
func DefaultCalibrateOptions() CalibrateOptions {
	return CalibrateOptions{Quantile: 0.01, Fence: 3, Outliers: 2, Mode: "widen", StopWords: 16, MinStopDF: 0.1, MinDocs: 20, SampleDocs: 2000}
}

// Validate checks the options.
func (o *CalibrateOptions) Validate() error {
	switch {
	case !(o.Quantile > 0 && o.Quantile < 0.5):
		return fmt.Errorf("quantile must be in (0, 0.5), got %v", o.Quantile)
	case o.Fence < 0:
		return fmt.Errorf("fence must be >= 0, got %v", o.Fence)
	case o.Outliers < 1:
		return fmt.Errorf("outliers must be >= 1, got %d", o.Outliers)
	case o.Mode != "widen" && o.Mode != "fit":
		return fmt.Errorf("mode must be widen or fit, got %q", o.Mode)
	case o.StopWords < 0 || o.StopWords > 1000:
		return fmt.Errorf("stop words must be in 0..1000, got %d", o.StopWords)
	case o.MinDocs < 1:
		return fmt.Errorf("min docs must be >= 1, got %d", o.MinDocs)
	case o.SampleDocs < 0:
		return fmt.Errorf("sample must be >= 0, got %d", o.SampleDocs)
	}
	return nil
}

// Calibrator measures documents (Measure, safe for concurrent use) and collects the
// measurements by language (Add, one goroutine, in read order).
type Calibrator struct {
	opts   CalibrateOptions
	stages []*calStage
	langs  map[string]*langSample
	pool   sync.Pool
}

type calStage struct {
	CalibrationStage
	def   *filterDef
	base  *Stage // the top-level config (with builtin stop words): thresholds before calibration
	c4on  uint8  // c4: line rules switched on at the top level
	mu    sync.Mutex
	meas  map[string]*settings // by language: the base settings with every rule on
	gqIdx int                  // index of the stop_words rule (gopher_quality)
}

type langSample struct {
	docs  []*DocMeasure
	vocab map[uint64]*vocabEntry
	seen  int // documents offered, including those past the sample size
}

type vocabEntry struct {
	form string
	df   int
}

// DocMeasure is one document's measurements.
type DocMeasure struct {
	vals   [][]float64 // per stage, per rule
	c4     [][32]uint32
	c4drop [][c4LineRules]bool // per c4 stage: line rule alone drops over half the characters
	hashes []uint64            // distinct stop-word candidates: lower-cased words, or pairs of graphemes
	counts []uint16
	forms  []string // substrings of the text, until Add copies the new ones
}

// NewCalibrator prepares the calibration of stages.
func NewCalibrator(stages []CalibrationStage, opts CalibrateOptions) (*Calibrator, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	c := &Calibrator{opts: opts, langs: map[string]*langSample{}}
	for _, s := range stages {
		def, ok := defs[s.Kind]
		if !ok {
			return nil, fmt.Errorf("calibrate: %s is not a quality stage kind", s.Kind)
		}
		cfg := def.copyConfig(s.Config)
		v := reflect.ValueOf(cfg).Elem()
		v.Field(def.fields["thresholds_file"]).SetString("")
		v.Field(def.fields["per_language"]).Set(reflect.Zero(v.Field(def.fields["per_language"]).Type()))
		base, err := New(s.Kind, cfg, "")
		if err != nil {
			return nil, fmt.Errorf("calibrate: stage %s: %w", s.Name, err)
		}
		cs := &calStage{CalibrationStage: s, def: def, base: base, meas: map[string]*settings{}, gqIdx: -1}
		cs.Config = cfg
		if s.Kind == KindC4Quality {
			for r := 0; r < c4LineRules; r++ {
				if base.base.on(r) {
					cs.c4on |= 1 << r
				}
			}
		}
		if s.Kind == KindGopherQuality {
			cs.gqIdx = gqStopWords
		}
		c.stages = append(c.stages, cs)
	}
	c.pool.New = func() any { return &worker{} }
	return c, nil
}

// measureSettings returns the settings used to measure a language: its base thresholds and
// stop words, every rule on.
func (s *calStage) measureSettings(lang string) *settings {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.meas[lang]; ok {
		return st
	}
	b := s.base.settingsFor(lang)
	st := &settings{key: b.key, thr: b.thr, off: make([]bool, len(b.off)), gq: b.gq, c4: b.c4, fw: b.fw}
	if s.def.kind == KindC4Quality {
		copy(st.off, b.off) // line rules keep their top-level switch; masks cover the rest
		for r := c4Citations; r < len(st.off); r++ {
			st.off[r] = false
		}
	}
	s.meas[lang] = st
	return st
}

// Measure measures one document of language lang (a label, or "" for none).
func (c *Calibrator) Measure(lang, text string) *DocMeasure {
	w := c.pool.Get().(*worker)
	defer c.pool.Put(w)
	w.a = acquireAnalysis(text)
	defer func() { releaseAnalysis(w.a); w.a = nil }()
	m := &DocMeasure{vals: make([][]float64, len(c.stages)), c4: make([][32]uint32, len(c.stages)), c4drop: make([][c4LineRules]bool, len(c.stages))}
	for i, s := range c.stages {
		st := s.measureSettings(lang)
		vals := make([]float64, len(s.def.rules))
		if s.def.kind == KindC4Quality {
			m.c4[i], m.c4drop[i] = c4Profile(w, st, s.c4on)
		} else {
			if len(w.vals) < len(vals) {
				w.vals = make([]float64, len(vals))
			}
			s.def.measure(w, st, vals)
		}
		m.vals[i] = vals
	}
	c.stopCandidates(w.a, m)
	return m
}

// c4Profile judges every line against every line rule and returns, for each set E of line
// rules (bit r = rule r on), the sentences of the lines passing E with the lorem ipsum and
// curly bracket flags packed in: sentences<<2 | lorem<<1 | curly. drop says which rules alone
// fail lines holding over half of the non-blank characters.
func c4Profile(w *worker, st *settings, on uint8) (masks [32]uint32, drop [c4LineRules]bool) {
	a := w.a
	a.scanWords()
	var failChars [c4LineRules]int
	total := 0
	for li := range a.Lines {
		l := &a.Lines[li]
		if l.Blank() {
			continue
		}
		total += int(l.Runes)
		fail, lorem, curly := lineFails(w, st, li, true)
		fail &= on
		for r := 0; r < c4LineRules; r++ {
			if fail&(1<<r) != 0 {
				failChars[r] += int(l.Runes)
			}
		}
		sent := uint32(countSentences(a.Text[l.Start:l.End], -1))
		for e := 0; e < 32; e++ {
			if uint8(e)&fail&(failTerminal|failWords|failLength) != 0 {
				continue
			}
			if lorem {
				masks[e] |= 2
			}
			if uint8(e)&fail&failJS == 0 && curly {
				masks[e] |= 1
			}
			if uint8(e)&fail == 0 {
				masks[e] += sent << 2
			}
		}
	}
	for r := range drop {
		drop[r] = total > 0 && 2*failChars[r] > total
	}
	return masks, drop
}

// stopCandidates collects the distinct lower-cased words holding a letter (pairs of
// graphemes in scripts written without spaces) with their counts.
func (c *Calibrator) stopCandidates(a *Analysis, m *DocMeasure) {
	words := a.words()
	t := &a.tab
	t.reset(len(words))
	add := func(h uint64, form string) {
		slot, seen := t.add(h, int32(len(m.hashes)))
		if seen {
			if i := t.pos[slot]; m.counts[i] < math.MaxUint16 {
				m.counts[i]++
			}
			return
		}
		m.hashes = append(m.hashes, h)
		m.counts = append(m.counts, 1)
		m.forms = append(m.forms, form)
	}
	for i := range words {
		wd := &words[i]
		if !wd.Alpha {
			continue
		}
		if !wd.Char {
			add(wd.Hash, a.Text[wd.Start:wd.End])
			continue
		}
		if i+1 < len(words) && words[i+1].Char && words[i+1].Start == wd.End && words[i+1].Alpha {
			form := a.Text[wd.Start:words[i+1].End]
			add(FoldHash(form), form)
		}
	}
}

// Add records the measurements of a document of language lang (in read order). It keeps the
// first SampleDocs documents of each language.
func (c *Calibrator) Add(lang string, m *DocMeasure) {
	if lang == "" {
		lang = "und"
	}
	ls := c.langs[lang]
	if ls == nil {
		ls = &langSample{vocab: map[uint64]*vocabEntry{}}
		c.langs[lang] = ls
	}
	ls.seen++
	if c.opts.SampleDocs > 0 && len(ls.docs) >= c.opts.SampleDocs {
		return
	}
	for i, h := range m.hashes {
		v := ls.vocab[h]
		if v == nil {
			v = &vocabEntry{form: norm.NFC.String(strings.ToLower(m.forms[i]))}
			ls.vocab[h] = v
		}
		v.df++
	}
	m.forms = nil // do not keep the text alive
	ls.docs = append(ls.docs, m)
}

// Calibration is the result: per language, overrides and the documents each rule removes
// before and after.
type Calibration struct {
	Options   CalibrateOptions
	Stages    []CalibrationStage
	Languages []*LangCalibration
}

// LangCalibration is one language's result, or one script's: a script entry (Lang "Thai")
// pools the documents of every language written in it and serves documents whose language
// has no entry (und_Thai, or a language too rare to calibrate).
type LangCalibration struct {
	Lang      string
	Members   []string // for a script: its languages
	Docs      int      // sampled
	Seen      int      // offered (read and kept by the stages before the quality stages)
	Skipped   bool
	Outliers  int // documents left out of the derivation
	StopWords []string
	Overrides []StageOverrides // per stage, in pipeline order
	Rules     []RuleResult
	// documents any rule of any stage removes with the stages' thresholds and calibrated
	RemovedBefore, RemovedAfter int
}

// StageOverrides are the overrides of one stage for one language, in key order.
type StageOverrides struct {
	Kind string
	Keys []string
	Vals []any
}

// RuleResult is one rule's outcome in one language.
type RuleResult struct {
	Stage, Kind, Rule string
	Key               string  // threshold key, "" for a yes/no rule or a c4 line rule
	Before, After     float64 // thresholds
	Int               bool
	Max               bool
	OffBefore         bool
	OffAfter          bool
	RemovedBefore     int
	RemovedAfter      int
}

// Result derives the thresholds of every language.
func (c *Calibrator) Result() *Calibration {
	out := &Calibration{Options: c.opts}
	for _, s := range c.stages {
		out.Stages = append(out.Stages, s.CalibrationStage)
	}
	for _, l := range sortedKeys(c.langs) {
		out.Languages = append(out.Languages, c.calibrateLang(l, c.langs[l]))
	}
	// script entries: every sampled document of the script's languages
	scripts := map[string]*langSample{}
	members := map[string][]string{}
	for _, l := range sortedKeys(c.langs) {
		sc := lang.LabelScript(l)
		if !isScriptKey(sc) {
			continue
		}
		ls := c.langs[l]
		g := scripts[sc]
		if g == nil {
			g = &langSample{vocab: map[uint64]*vocabEntry{}}
			scripts[sc] = g
		}
		g.docs = append(g.docs, ls.docs...)
		g.seen += ls.seen
		for h, ve := range ls.vocab {
			if e := g.vocab[h]; e != nil {
				e.df += ve.df
			} else {
				g.vocab[h] = &vocabEntry{form: ve.form, df: ve.df}
			}
		}
		members[sc] = append(members[sc], l)
	}
	for _, sc := range sortedKeys(scripts) {
		lc := c.calibrateLang(sc, scripts[sc])
		lc.Members = members[sc]
		out.Languages = append(out.Languages, lc)
	}
	return out
}

func (c *Calibrator) calibrateLang(lang string, ls *langSample) *LangCalibration {
	lc := &LangCalibration{Lang: lang, Docs: len(ls.docs), Seen: ls.seen}
	n := len(ls.docs)
	removedBefore := make([]bool, n)
	removedAfter := make([]bool, n)
	lc.Skipped = n < c.opts.MinDocs
	// stop words and each document's count of them
	var stops map[uint64]bool
	if !lc.Skipped && c.opts.StopWords > 0 {
		lc.StopWords, stops = c.deriveStopWords(ls)
	}
	// the values of every rule, per stage
	vals := make([][][]float64, len(c.stages))
	for si, s := range c.stages {
		vals[si] = make([][]float64, len(s.def.rules))
		for r := range s.def.rules {
			v := make([]float64, n)
			for d, m := range ls.docs {
				v[d] = m.vals[si][r]
			}
			vals[si][r] = v
		}
		if s.gqIdx >= 0 && len(lc.StopWords) > 0 {
			v := vals[si][s.gqIdx]
			for d, m := range ls.docs {
				cnt := 0
				for i, h := range m.hashes {
					if stops[h] {
						cnt += int(m.counts[i])
					}
				}
				v[d] = float64(cnt)
			}
		}
		if s.Kind == KindC4Quality {
			// sentences with the line rules switched on, for the outlier count
			v := vals[si][c4Sentences]
			for d, m := range ls.docs {
				v[d] = float64(m.c4[si][s.c4on] >> 2)
			}
		}
	}
	use := c.nonOutliers(vals, n)
	for _, u := range use {
		if !u {
			lc.Outliers++
		}
	}
	for si, s := range c.stages {
		ov := StageOverrides{Kind: s.Kind}
		before := s.base.settingsFor(lang)
		var rules []RuleResult
		if s.Kind == KindC4Quality {
			rules = c.calibrateC4(si, s, before, ls, lc.Skipped, use, &ov, removedBefore, removedAfter)
		} else {
			rules = c.calibrateBounds(si, s, before, ls, lc.Skipped, vals[si], use, lc.StopWords, &ov, removedBefore, removedAfter)
		}
		lc.Rules = append(lc.Rules, rules...)
		lc.Overrides = append(lc.Overrides, ov)
	}
	for i := range removedBefore {
		if removedBefore[i] {
			lc.RemovedBefore++
		}
		if removedAfter[i] {
			lc.RemovedAfter++
		}
	}
	return lc
}

// nonOutliers marks the documents that are beyond the fence on fewer than Outliers
// thresholds. A threshold whose quartiles are equal fences at them.
func (c *Calibrator) nonOutliers(vals [][][]float64, n int) []bool {
	use := make([]bool, n)
	for i := range use {
		use[i] = true
	}
	if c.opts.Fence == 0 || n == 0 {
		return use
	}
	beyond := make([]int, n)
	sorted := make([]float64, 0, n)
	for si, s := range c.stages {
		for bi := range s.def.bounds {
			b := &s.def.bounds[bi]
			if b.Key == "" || (s.Kind == KindC4Quality && bi != c4SentencesBound) {
				continue
			}
			v := vals[si][b.rule]
			sorted = sorted[:0]
			for _, x := range v {
				if !math.IsNaN(x) {
					sorted = append(sorted, x)
				}
			}
			if len(sorted) < 4 {
				continue
			}
			sort.Float64s(sorted)
			q1, q3 := quantile(sorted, 0.25), quantile(sorted, 0.75)
			k := c.opts.Fence * (q3 - q1)
			for d, x := range v {
				if math.IsNaN(x) {
					continue
				}
				if (b.Max && x > q3+k) || (!b.Max && x < q1-k) {
					beyond[d]++
				}
			}
		}
	}
	for d := range use {
		use[d] = beyond[d] < c.opts.Outliers
	}
	return use
}

// deriveStopWords picks the words found in the most documents (at least MinStopDF of them).
func (c *Calibrator) deriveStopWords(ls *langSample) ([]string, map[uint64]bool) {
	type cand struct {
		h  uint64
		ve *vocabEntry
	}
	var cands []cand
	minDF := int(math.Ceil(c.opts.MinStopDF * float64(len(ls.docs))))
	for h, ve := range ls.vocab {
		if ve.df >= max(minDF, 2) {
			cands = append(cands, cand{h, ve})
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].ve.df != cands[j].ve.df {
			return cands[i].ve.df > cands[j].ve.df
		}
		return cands[i].ve.form < cands[j].ve.form
	})
	var words []string
	set := map[uint64]bool{}
	for _, cd := range cands {
		if len(words) == c.opts.StopWords {
			break
		}
		if contains(words, cd.ve.form) {
			set[cd.h] = true // another spelling (case) of a word already taken
			continue
		}
		words = append(words, cd.ve.form)
		set[cd.h] = true
	}
	return words, set
}

// calibrateBounds handles the stages whose rules are document values with thresholds.
func (c *Calibrator) calibrateBounds(si int, s *calStage, before *settings, ls *langSample, skipped bool, vals [][]float64, use []bool, stopWords []string, ov *StageOverrides, remBefore, remAfter []bool) []RuleResult {
	def := s.def
	n := len(ls.docs)
	derived := s.gqIdx >= 0 && len(stopWords) > 0 && before.on(s.gqIdx)
	if derived {
		ov.Keys = append(ov.Keys, "stop_words")
		ov.Vals = append(ov.Vals, stopWords)
	}
	var out []RuleResult
	for bi := range def.bounds {
		b := &def.bounds[bi]
		rr := RuleResult{Stage: s.Name, Kind: s.Kind, Rule: b.Rule, Key: b.Key, Int: b.Int, Max: b.Max, Before: before.thr[bi], OffBefore: !before.on(b.rule)}
		rr.After, rr.OffAfter = rr.Before, rr.OffBefore
		if !skipped && !rr.OffBefore && b.Key != "" {
			rr.After = c.threshold(selectVals(vals[b.rule], use), b, rr.Before)
			if rr.After != rr.Before {
				ov.Keys = append(ov.Keys, b.Key)
				ov.Vals = append(ov.Vals, b.value(rr.After))
			}
		}
		beforeVals := vals[b.rule]
		if b.rule == s.gqIdx {
			// before calibration the stage counted its own list
			beforeVals = make([]float64, n)
			for d, m := range ls.docs {
				beforeVals[d] = m.vals[si][b.rule]
			}
		}
		for d := 0; d < n; d++ {
			if !rr.OffBefore && b.Violates(beforeVals[d], rr.Before) {
				rr.RemovedBefore++
				remBefore[d] = true
			}
			if !rr.OffAfter && b.Violates(vals[b.rule][d], rr.After) {
				rr.RemovedAfter++
				remAfter[d] = true
			}
		}
		out = append(out, rr)
	}
	return out
}

// selectVals returns the values of the documents in use.
func selectVals(v []float64, use []bool) []float64 {
	out := make([]float64, 0, len(v))
	for d, x := range v {
		if use[d] {
			out = append(out, x)
		}
	}
	return out
}

// value returns a threshold as written to YAML.
func (b *Bound) value(t float64) any {
	if b.Int {
		return int64(t)
	}
	return t
}

// threshold computes a calibrated threshold from a language's values (outliers left out).
func (c *Calibrator) threshold(values []float64, b *Bound, base float64) float64 {
	v := make([]float64, 0, len(values))
	for _, x := range values {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return base
	}
	sort.Float64s(v)
	// nearest rank: at most floor(q*n) of these values are beyond the threshold
	k := int(math.Floor(c.opts.Quantile * float64(len(v))))
	var t float64
	if b.Max {
		t = v[len(v)-1-k]
		if c.opts.Mode == "widen" {
			t = max(t, base)
		}
		t = roundOut(t, b.Int, true)
	} else {
		t = v[k]
		if c.opts.Mode == "widen" {
			t = min(t, base)
		}
		t = roundOut(t, b.Int, false)
	}
	return math.Min(math.Max(t, b.Lo), b.Hi)
}

// quantile of sorted values, by linear interpolation.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 1 {
		return sorted[0]
	}
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(i)
	return sorted[i]*(1-f) + sorted[i+1]*f
}

// roundOut rounds a threshold to a whole number or three decimals, outwards (up for a
// maximum, down for a minimum) so that the value it was computed from still passes.
func roundOut(t float64, isInt, up bool) float64 {
	scale := 1000.0
	if isInt {
		scale = 1
	}
	if up {
		return math.Ceil(t*scale-1e-9) / scale
	}
	return math.Floor(t*scale+1e-9) / scale
}

// which c4_quality document rules a removal check looks at
const (
	c4wLorem = 1 << iota
	c4wCurly
	c4wSent
	c4wNoLines
)

// calibrateC4 switches off the line rules that would make the language lose more than the
// quantile of its documents (greedily, the most harmful first, deriving min_sentences for
// each choice), then the document rules that fire on more than the quantile.
func (c *Calibrator) calibrateC4(si int, s *calStage, before *settings, ls *langSample, skipped bool, use []bool, ov *StageOverrides, remBefore, remAfter []bool) []RuleResult {
	n := len(ls.docs)
	minBefore := int(before.thr[c4SentencesBound])
	onBefore := s.c4on
	for r := 0; r < c4LineRules; r++ {
		if !before.on(r) {
			onBefore &^= 1 << r
		}
	}
	whatBefore := 0
	for _, x := range []struct {
		rule, w int
	}{{c4Lorem, c4wLorem}, {c4Curly, c4wCurly}, {c4Sentences, c4wSent}, {c4NoLines, c4wNoLines}} {
		if before.on(x.rule) && (x.rule != c4NoLines || before.c4.drop) {
			whatBefore |= x.w
		}
	}
	// removed reports whether document d goes with line rules e and min_sentences minSent,
	// looking at the document rules in what.
	removed := func(e uint8, minSent, what, d int) bool {
		v := ls.docs[d].c4[si][e]
		return (what&c4wLorem != 0 && v&2 != 0) || (what&c4wCurly != 0 && v&1 != 0) ||
			(what&c4wSent != 0 && int(v>>2) < minSent) || (what&c4wNoLines != 0 && v>>2 == 0)
	}
	// share counts the documents in use that a setting removes
	share := func(e uint8, minSent, what int) int {
		k := 0
		for d := 0; d < n; d++ {
			if use[d] && removed(e, minSent, what, d) {
				k++
			}
		}
		return k
	}
	inUse := 0
	for _, u := range use {
		if u {
			inUse++
		}
	}
	b := &s.def.bounds[c4SentencesBound]
	// minFor is the calibrated min_sentences with line rules e
	minFor := func(e uint8) int {
		if whatBefore&c4wSent == 0 || skipped {
			return minBefore
		}
		var vals []float64
		for d := 0; d < n; d++ {
			if use[d] {
				vals = append(vals, float64(ls.docs[d].c4[si][e]>>2))
			}
		}
		return int(c.threshold(vals, b, float64(minBefore)))
	}
	onAfter, minAfter, whatAfter := onBefore, minBefore, whatBefore
	limit := int(math.Floor(c.opts.Quantile * float64(inUse)))
	if !skipped {
		minAfter = minFor(onAfter)
		cur := share(onAfter, minAfter, whatAfter)
		for cur > limit {
			best, bestK, bestMin := -1, cur, minAfter
			for r := 0; r < c4LineRules; r++ {
				if onAfter&(1<<r) == 0 {
					continue
				}
				e := onAfter &^ (1 << r)
				m := minFor(e)
				if k := share(e, m, whatAfter); k < bestK {
					best, bestK, bestMin = r, k, m
				}
			}
			if best < 0 {
				break
			}
			onAfter &^= 1 << best
			minAfter, cur = bestMin, bestK
		}
		for _, w := range []int{c4wLorem, c4wCurly} {
			if whatAfter&w != 0 && share(onAfter, 0, w) > limit {
				whatAfter &^= w
			}
		}
	}
	var disable []string
	for r := 0; r < c4LineRules; r++ {
		if onBefore&(1<<r) != 0 && onAfter&(1<<r) == 0 {
			disable = append(disable, s.def.rules[r])
		}
	}
	if whatBefore&c4wLorem != 0 && whatAfter&c4wLorem == 0 {
		disable = append(disable, "lorem_ipsum")
	}
	if whatBefore&c4wCurly != 0 && whatAfter&c4wCurly == 0 {
		disable = append(disable, "curly_bracket")
	}
	if len(disable) > 0 {
		ov.Keys = append(ov.Keys, "disable")
		ov.Vals = append(ov.Vals, disable)
	}
	if minAfter != minBefore {
		ov.Keys = append(ov.Keys, "min_sentences")
		ov.Vals = append(ov.Vals, int64(minAfter))
	}

	// removals by rule, before and after, attributed as the stage reports them
	var out []RuleResult
	count := func(rr *RuleResult, before, after func(d int) bool) {
		for d := 0; d < n; d++ {
			if before(d) {
				rr.RemovedBefore++
			}
			if after(d) {
				rr.RemovedAfter++
			}
		}
	}
	for r := 0; r < c4LineRules; r++ {
		rr := RuleResult{Stage: s.Name, Kind: s.Kind, Rule: s.def.rules[r], OffBefore: onBefore&(1<<r) == 0, OffAfter: onAfter&(1<<r) == 0}
		if bi := c4LineBound[r]; bi >= 0 {
			rr.Key, rr.Before = s.def.bounds[bi].Key, before.thr[bi]
			rr.After, rr.Int, rr.Max = rr.Before, true, r == c4WordLength
		}
		// a line rule removes a document that switching it off would save
		bit := uint8(1 << r)
		count(&rr,
			func(d int) bool {
				return onBefore&bit != 0 && removed(onBefore, minBefore, whatBefore, d) && !removed(onBefore&^bit, minBefore, whatBefore, d)
			},
			func(d int) bool {
				return onAfter&bit != 0 && removed(onAfter, minAfter, whatAfter, d) && !removed(onAfter&^bit, minAfter, whatAfter, d)
			})
		out = append(out, rr)
	}
	docRule := func(rule string, w, earlier int, key string) {
		rr := RuleResult{Stage: s.Name, Kind: s.Kind, Rule: rule, Max: true, OffBefore: whatBefore&w == 0, OffAfter: whatAfter&w == 0}
		if key != "" {
			rr.Key, rr.Int, rr.Max, rr.Before, rr.After = key, true, false, float64(minBefore), float64(minAfter)
		}
		count(&rr,
			func(d int) bool {
				return whatBefore&w != 0 && removed(onBefore, minBefore, w, d) && !removed(onBefore, minBefore, whatBefore&earlier, d)
			},
			func(d int) bool {
				return whatAfter&w != 0 && removed(onAfter, minAfter, w, d) && !removed(onAfter, minAfter, whatAfter&earlier, d)
			})
		out = append(out, rr)
	}
	// in the order the stage checks them
	docRule("lorem_ipsum", c4wLorem, 0, "")
	docRule("curly_bracket", c4wCurly, c4wLorem, "")
	docRule("sentences", c4wSent, c4wLorem|c4wCurly, "min_sentences")
	docRule("no_lines_left", c4wNoLines, c4wLorem|c4wCurly|c4wSent, "")
	for d := 0; d < n; d++ {
		if removed(onBefore, minBefore, whatBefore, d) {
			remBefore[d] = true
		}
		if removed(onAfter, minAfter, whatAfter, d) {
			remAfter[d] = true
		}
	}
	return out
}
