package lang

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pemistahl/lingua-go"
	"golang.org/x/sync/errgroup"
	"golang.org/x/text/unicode/norm"
)

// Example is one labelled text for evaluation.
type Example struct {
	Gold string // the label as written in the data
	Text string
	Line int // 1-based line in the data file
}

// ReadLabelled reads "label<TAB>text" lines (blank lines are skipped). name is used in
// errors, which give the line.
func ReadLabelled(r io.Reader, name string) ([]Example, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	var out []Example
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(s) == "" {
			continue
		}
		label, text, ok := strings.Cut(s, "\t")
		if !ok || strings.TrimSpace(label) == "" {
			return nil, fmt.Errorf("%s:%d: want \"label<TAB>text\"", name, line)
		}
		if !utf8.ValidString(text) {
			return nil, fmt.Errorf("%s:%d: text is not valid UTF-8", name, line)
		}
		out = append(out, Example{Gold: strings.TrimSpace(label), Text: text, Line: line})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no labelled lines", name)
	}
	return out, nil
}

// EvalOptions configure Evaluate.
type EvalOptions struct {
	Workers int // parallel workers; 0 = GOMAXPROCS
	// CurveFits are the open-set MinFit values of the trade-off curve; nil means a default
	// grid from -2 to 0.4.
	CurveFits []float64
	// Baseline, when not nil, builds a second labeller to compare with (for example
	// PlainLingua: lingua-go's DetectLanguageOf on the whole text). It is built after the
	// main run and its peak memory is measured, so its loading cost counts against neither.
	Baseline     func() (func(text string) string, error)
	BaselineName string
	Confusions   int // how many confusions to list; 0 = 15
}

// EvalReport is what Evaluate measures. Labels are compared through Canonical.
type EvalReport struct {
	Examples  int `json:"examples"`
	Supported int `json:"supported"` // examples whose language the backend has
	// Per supported language present in the data, sorted by label.
	Languages   []LangMetrics `json:"languages"`
	MacroF1     float64       `json:"macro_f1"`
	Accuracy    float64       `json:"accuracy"`
	Confusions  []Confusion   `json:"confusions"` // most frequent (gold, predicted) pairs that differ
	Unsupported Unsupported   `json:"unsupported"`
	// Curve: the open-set check at other MinFit values, on the same predictions.
	Curve []CurvePoint `json:"open_set_curve"`
	// OpenSet says which check produced the labels above (nil: none).
	OpenSet    *OpenSetSettings `json:"open_set,omitempty"`
	SampleChar int              `json:"sample_chars"`
	// MinConfidence is the default minimum probability of the run (below it: und).
	MinConfidence float64 `json:"min_confidence"`
	Workers       int     `json:"workers"`
	Seconds       float64 `json:"seconds"`
	DocsPerSec    float64 `json:"docs_per_sec"`
	// CPUSeconds is the process's CPU time (user + system) during the run and DocsPerCPUSec
	// the documents per CPU-second: throughput per core that other load on the machine
	// does not distort (Linux; 0 elsewhere).
	CPUSeconds    float64 `json:"cpu_seconds,omitempty"`
	DocsPerCPUSec float64 `json:"docs_per_cpu_sec,omitempty"`
	// PeakRSS is the process's peak resident memory in bytes after the run, before any
	// baseline (Linux; the Go runtime's total elsewhere).
	PeakRSS  int64     `json:"peak_rss_bytes"`
	Baseline *Baseline `json:"baseline,omitempty"`
	// CodeSwitching, when asked for, measures the code-switching signal.
	CodeSwitching *CodeSwitchEval `json:"code_switching,omitempty"`
}

// LangMetrics are the scores of one language.
type LangMetrics struct {
	Label     string  `json:"label"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

// Confusion counts examples of Gold labelled Predicted.
type Confusion struct {
	Gold      string `json:"gold"`
	Predicted string `json:"predicted"`
	Count     int    `json:"count"`
}

// Unsupported reports the examples whose language the backend does not have.
type Unsupported struct {
	Examples int `json:"examples"`
	// Latin-script ones: how many got a supported (wrong) label; the open-set check aims
	// to keep this share low.
	Latin          int     `json:"latin"`
	LatinWrong     int     `json:"latin_wrong"`
	LatinWrongRate float64 `json:"latin_wrong_share"`
	// Other scripts: how many were labelled und_<their script>, which script routing makes
	// exact when the backend has no language in that script.
	Other       int               `json:"other_scripts"`
	OtherUnd    int               `json:"other_scripts_und"`
	PerLanguage []UnsupportedLang `json:"per_language"`
}

// UnsupportedLang is the outcome for one unsupported language.
type UnsupportedLang struct {
	Gold     string `json:"gold"`
	Examples int    `json:"examples"`
	Und      int    `json:"und"`
	Wrong    int    `json:"wrong"` // given a supported label
	// TopWrong is the most frequent wrong label ("" when none).
	TopWrong string `json:"top_wrong,omitempty"`
}

// CurvePoint is the open-set check at one MinFit.
type CurvePoint struct {
	MinFit *float64 `json:"min_fit"` // nil: check off
	// Recall on supported examples (= accuracy over them) and macro-F1.
	SupportedRecall  float64 `json:"supported_recall"`
	MacroF1          float64 `json:"macro_f1"`
	UnsupportedWrong float64 `json:"unsupported_latin_wrong_share"`
}

// OpenSetSettings records the open-set thresholds of a run.
type OpenSetSettings struct {
	MinFit       float64            `json:"min_fit"`
	ScriptMinFit map[string]float64 `json:"script_min_fit,omitempty"`
	MaxUnknown   float64            `json:"max_unknown"`
}

// Baseline is the comparison labelling.
type Baseline struct {
	Name          string  `json:"name"`
	MacroF1       float64 `json:"macro_f1"`
	Accuracy      float64 `json:"accuracy"`
	Seconds       float64 `json:"seconds"`
	DocsPerSec    float64 `json:"docs_per_sec"`
	CPUSeconds    float64 `json:"cpu_seconds,omitempty"`
	DocsPerCPUSec float64 `json:"docs_per_cpu_sec,omitempty"`
	// Unsupported Latin-script examples given a supported label.
	UnsupportedWrong float64 `json:"unsupported_latin_wrong_share"`
}

// Evaluate labels every example with id and measures the result.
func Evaluate(ctx context.Context, id *Identifier, examples []Example, opts EvalOptions) (*EvalReport, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	results := make([]Result, len(examples))
	cpu0 := cpuSeconds()
	start := time.Now()
	if err := parallel(ctx, len(examples), workers, func(i int) { results[i] = id.Identify(examples[i].Text) }); err != nil {
		return nil, err
	}
	elapsed := time.Since(start).Seconds()
	cpu := cpuSeconds() - cpu0

	supported := map[string]bool{}
	for _, l := range id.Backend().Labels() {
		supported[Canonical(l)] = true
	}
	rep := &EvalReport{Examples: len(examples), Workers: workers, Seconds: elapsed, SampleChar: id.sampleChars, MinConfidence: id.minConf}
	if elapsed > 0 {
		rep.DocsPerSec = float64(len(examples)) / elapsed
	}
	if cpu > 0 {
		rep.CPUSeconds, rep.DocsPerCPUSec = cpu, float64(len(examples))/cpu
	}
	if id.openSet != nil {
		rep.OpenSet = &OpenSetSettings{MinFit: id.openSet.MinFit, ScriptMinFit: id.openSet.ScriptMinFit, MaxUnknown: id.openSet.MaxUnknown}
	}
	gold := make([]string, len(examples))
	pred := make([]string, len(examples))
	for i, ex := range examples {
		gold[i] = Canonical(ex.Gold)
		pred[i] = results[i].Label
	}
	m := score(gold, pred, supported)
	rep.Languages, rep.MacroF1, rep.Accuracy, rep.Supported = m.langs, m.macroF1, m.accuracy, m.supported
	rep.Unsupported = unsupportedReport(examples, gold, pred, supported)
	rep.Confusions = confusions(gold, pred, opts.Confusions)

	// The trade-off curve re-applies the check to the backend's guesses.
	curveSet := DefaultOpenSet()
	if id.openSet != nil {
		curveSet = *id.openSet
	}
	fits := make([]Fit, len(examples))
	checked := make([]bool, len(examples))
	if err := parallel(ctx, len(examples), workers, func(i int) {
		r := results[i]
		if r.Guess == "" {
			return
		}
		if id.openSet != nil {
			fits[i], checked[i] = r.Fit, r.Checked
			return
		}
		text := examples[i].Text
		if !norm.NFC.IsNormalString(text) {
			text = norm.NFC.String(text)
		}
		fits[i], checked[i] = curveSet.Profiles.Fit(Sample(text, id.sampleChars), r.Guess)
	}); err != nil {
		return nil, err
	}
	grid := opts.CurveFits
	if grid == nil {
		grid = []float64{math.Inf(-1), -2, -1.5, -1.2, -1, -0.8, -0.6, -0.5, -0.4, -0.3, -0.2, -0.1, 0, 0.2, 0.4}
	}
	for _, minFit := range grid {
		o := curveSet
		o.MinFit = minFit
		p := make([]string, len(examples))
		for i, r := range results {
			p[i] = r.Label
			if r.Guess == "" {
				continue
			}
			p[i] = r.Guess
			if !math.IsInf(minFit, -1) && checked[i] && !o.Accepts(fits[i], r.Guess) {
				p[i] = Und(r.Script)
			}
			if r.GuessProb < id.MinConfidence(r.Guess) {
				p[i] = Und(r.Script)
			}
		}
		cm := score(gold, p, supported)
		u := unsupportedReport(examples, gold, p, supported)
		var mf *float64
		if !math.IsInf(minFit, -1) {
			mf = &minFit
		}
		rep.Curve = append(rep.Curve, CurvePoint{MinFit: mf, SupportedRecall: cm.accuracy, MacroF1: cm.macroF1, UnsupportedWrong: u.LatinWrongRate})
	}

	rep.PeakRSS = peakRSS() // before the baseline, which preloads every lingua-go model

	if opts.Baseline != nil {
		labeller, err := opts.Baseline()
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		base := make([]string, len(examples))
		c0 := cpuSeconds()
		t0 := time.Now()
		if err := parallel(ctx, len(examples), workers, func(i int) { base[i] = Canonical(labeller(examples[i].Text)) }); err != nil {
			return nil, err
		}
		secs := time.Since(t0).Seconds()
		bcpu := cpuSeconds() - c0
		bm := score(gold, base, supported)
		bu := unsupportedReport(examples, gold, base, supported)
		rep.Baseline = &Baseline{Name: opts.BaselineName, MacroF1: bm.macroF1, Accuracy: bm.accuracy, Seconds: secs, UnsupportedWrong: bu.LatinWrongRate}
		if secs > 0 {
			rep.Baseline.DocsPerSec = float64(len(examples)) / secs
		}
		if bcpu > 0 {
			rep.Baseline.CPUSeconds, rep.Baseline.DocsPerCPUSec = bcpu, float64(len(examples))/bcpu
		}
	}
	return rep, nil
}

// parallel runs fn(i) for i in [0, n) on workers goroutines.
func parallel(ctx context.Context, n, workers int, fn func(i int)) error {
	g, ctx := errgroup.WithContext(ctx)
	var next int
	var mu sync.Mutex
	const chunk = 16
	for w := 0; w < workers; w++ {
		g.Go(func() error {
			for {
				if err := ctx.Err(); err != nil {
					return err
				}
				mu.Lock()
				lo := next
				next += chunk
				mu.Unlock()
				if lo >= n {
					return nil
				}
				for i := lo; i < min(lo+chunk, n); i++ {
					fn(i)
				}
			}
		})
	}
	return g.Wait()
}

type metrics struct {
	langs     []LangMetrics
	macroF1   float64
	accuracy  float64
	supported int
}

// score computes per-language metrics over the examples whose gold language is supported:
// a prediction of L for an example of another supported language is a false positive of L;
// und labels are misses only.
func score(gold, pred []string, supported map[string]bool) metrics {
	tp, fp, n := map[string]int{}, map[string]int{}, map[string]int{}
	var m metrics
	correct := 0
	for i, g := range gold {
		if !supported[g] {
			continue
		}
		m.supported++
		n[g]++
		if pred[i] == g {
			tp[g]++
			correct++
		} else if supported[pred[i]] {
			fp[pred[i]]++
		}
	}
	labels := make([]string, 0, len(n))
	for l := range n {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, l := range labels {
		lm := LangMetrics{Label: l, Support: n[l]}
		if tp[l]+fp[l] > 0 {
			lm.Precision = float64(tp[l]) / float64(tp[l]+fp[l])
		}
		lm.Recall = float64(tp[l]) / float64(n[l])
		if lm.Precision+lm.Recall > 0 {
			lm.F1 = 2 * lm.Precision * lm.Recall / (lm.Precision + lm.Recall)
		}
		m.langs = append(m.langs, lm)
		m.macroF1 += lm.F1
	}
	if len(labels) > 0 {
		m.macroF1 /= float64(len(labels))
	}
	if m.supported > 0 {
		m.accuracy = float64(correct) / float64(m.supported)
	}
	return m
}

func unsupportedReport(examples []Example, gold, pred []string, supported map[string]bool) Unsupported {
	var u Unsupported
	per := map[string]*UnsupportedLang{}
	wrongBy := map[string]map[string]int{}
	for i, g := range gold {
		if supported[g] {
			continue
		}
		u.Examples++
		ul := per[g]
		if ul == nil {
			ul = &UnsupportedLang{Gold: g}
			per[g] = ul
			wrongBy[g] = map[string]int{}
		}
		ul.Examples++
		p := pred[i]
		isUnd := IsUnd(p)
		if isUnd {
			ul.Und++
		} else {
			ul.Wrong++
			wrongBy[g][p]++
		}
		script := LabelScript(g)
		if script == "" {
			script, _ = DetectScript(examples[i].Text)
		}
		if script == "Latn" {
			u.Latin++
			if !isUnd {
				u.LatinWrong++
			}
		} else {
			u.Other++
			if p == Und(script) {
				u.OtherUnd++
			}
		}
	}
	if u.Latin > 0 {
		u.LatinWrongRate = float64(u.LatinWrong) / float64(u.Latin)
	}
	for g, ul := range per {
		best, bestN := "", 0
		for l, c := range wrongBy[g] {
			if c > bestN || (c == bestN && l < best) {
				best, bestN = l, c
			}
		}
		ul.TopWrong = best
		u.PerLanguage = append(u.PerLanguage, *ul)
	}
	sort.Slice(u.PerLanguage, func(i, j int) bool { return u.PerLanguage[i].Gold < u.PerLanguage[j].Gold })
	return u
}

func confusions(gold, pred []string, n int) []Confusion {
	if n <= 0 {
		n = 15
	}
	c := map[[2]string]int{}
	for i, g := range gold {
		if pred[i] != g {
			c[[2]string{g, pred[i]}]++
		}
	}
	out := make([]Confusion, 0, len(c))
	for k, v := range c {
		out = append(out, Confusion{Gold: k[0], Predicted: k[1], Count: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		if out[i].Gold != out[j].Gold {
			return out[i].Gold < out[j].Gold
		}
		return out[i].Predicted < out[j].Predicted
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// cpuSeconds returns the CPU time (user + system) the process has used, from
// /proc/self/stat (Linux, in clock ticks of 1/100 s); 0 where that is not available.
func cpuSeconds() float64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) is in parentheses and may hold spaces: count from after it.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0
	}
	return float64(utime+stime) / 100
}

// peakRSS returns the peak resident set size of the process in bytes: VmHWM on Linux, the
// Go runtime's obtained memory elsewhere.
func peakRSS() int64 {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				f := strings.Fields(rest)
				if len(f) == 2 && f[1] == "kB" {
					if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
						return kb << 10
					}
				}
			}
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.Sys)
}

// PlainLingua returns lingua-go as it is used without sieve: one detector for the given
// languages (all when empty) with every model preloaded, DetectLanguageOf on the whole text,
// the label from the language table ("und" when lingua-go declines). It is the baseline of
// `sieve eval langid --baseline`.
func PlainLingua(languages []string) (func(text string) string, error) {
	b, err := NewLingua(LinguaOptions{Languages: languages})
	if err != nil {
		return nil, err
	}
	langs := make([]lingua.Language, len(b.langs))
	for i, l := range b.langs {
		langs[i] = l.lang
	}
	if len(langs) == 1 {
		langs = append(langs, otherLanguage(langs[0]))
	}
	det := lingua.NewLanguageDetectorBuilder().FromLanguages(langs...).WithPreloadedLanguageModels().Build()
	return func(text string) string {
		l, ok := det.DetectLanguageOf(text)
		if !ok {
			return "und"
		}
		return linguaLabel(l)
	}, nil
}

// WriteText prints the report for people.
func (r *EvalReport) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "examples %d, supported %d, unsupported %d\n\n", r.Examples, r.Supported, r.Unsupported.Examples)
	fmt.Fprintf(bw, "%-10s %9s %9s %9s %8s\n", "language", "precision", "recall", "f1", "support")
	for _, l := range r.Languages {
		fmt.Fprintf(bw, "%-10s %9.4f %9.4f %9.4f %8d\n", l.Label, l.Precision, l.Recall, l.F1, l.Support)
	}
	fmt.Fprintf(bw, "\nmacro-F1 %.4f  accuracy %.4f  (supported languages)\n", r.MacroF1, r.Accuracy)
	if r.OpenSet != nil {
		fmt.Fprintf(bw, "open-set check: min_fit %.2f", r.OpenSet.MinFit)
		scripts := make([]string, 0, len(r.OpenSet.ScriptMinFit))
		for s := range r.OpenSet.ScriptMinFit {
			scripts = append(scripts, s)
		}
		sort.Strings(scripts)
		for _, s := range scripts {
			fmt.Fprintf(bw, " (%s %.2f)", s, r.OpenSet.ScriptMinFit[s])
		}
		fmt.Fprintf(bw, ", max_unknown %.3f; min_confidence %.2f\n", r.OpenSet.MaxUnknown, r.MinConfidence)
	} else {
		fmt.Fprintf(bw, "open-set check: off; min_confidence %.2f\n", r.MinConfidence)
	}
	if len(r.Confusions) > 0 {
		fmt.Fprintf(bw, "\ntop confusions (gold -> predicted):\n")
		for _, c := range r.Confusions {
			fmt.Fprintf(bw, "  %-10s -> %-10s %5d\n", c.Gold, c.Predicted, c.Count)
		}
	}
	u := r.Unsupported
	if u.Examples > 0 {
		fmt.Fprintf(bw, "\nunsupported languages: %d examples\n", u.Examples)
		if u.Latin > 0 {
			fmt.Fprintf(bw, "  Latin script: %d of %d given a supported label (%.1f%%)\n", u.LatinWrong, u.Latin, 100*u.LatinWrongRate)
		}
		if u.Other > 0 {
			fmt.Fprintf(bw, "  other scripts: %d of %d labelled und_<Script>\n", u.OtherUnd, u.Other)
		}
		fmt.Fprintf(bw, "  %-10s %8s %6s %6s  %s\n", "language", "examples", "und", "wrong", "most frequent wrong label")
		for _, l := range u.PerLanguage {
			fmt.Fprintf(bw, "  %-10s %8d %6d %6d  %s\n", l.Gold, l.Examples, l.Und, l.Wrong, l.TopWrong)
		}
	}
	if len(r.Curve) > 0 {
		fmt.Fprintf(bw, "\nopen-set trade-off, min_fit for Latin script (other scripts and min_confidence as above):\n")
		for _, p := range r.Curve {
			name := "off"
			if p.MinFit != nil {
				name = strconv.FormatFloat(*p.MinFit, 'f', 2, 64)
			}
			fmt.Fprintf(bw, "  %6s  recall %.4f  macro-F1 %.4f  wrong %.1f%%\n", name, p.SupportedRecall, p.MacroF1, 100*p.UnsupportedWrong)
		}
	}
	fmt.Fprintf(bw, "\nthroughput: %.0f docs/s with %d workers (%.0f docs/s per worker), %.1f s; sample %d chars\n",
		r.DocsPerSec, r.Workers, r.DocsPerSec/float64(max(r.Workers, 1)), r.Seconds, r.SampleChar)
	if r.CPUSeconds > 0 {
		fmt.Fprintf(bw, "cpu: %.1f s, %.0f docs per CPU-second\n", r.CPUSeconds, r.DocsPerCPUSec)
	}
	fmt.Fprintf(bw, "peak memory: %.0f MiB\n", float64(r.PeakRSS)/(1<<20))
	if b := r.Baseline; b != nil {
		fmt.Fprintf(bw, "\nbaseline %s: macro-F1 %.4f  accuracy %.4f  unsupported Latin wrong %.1f%%  %.0f docs/s (%.1f s), %.0f docs per CPU-second\n",
			b.Name, b.MacroF1, b.Accuracy, 100*b.UnsupportedWrong, b.DocsPerSec, b.Seconds, b.DocsPerCPUSec)
		fmt.Fprintf(bw, "difference: macro-F1 %+.4f, speed %.1fx (wall clock)", r.MacroF1-b.MacroF1, r.DocsPerSec/math.Max(b.DocsPerSec, 1e-9))
		if r.DocsPerCPUSec > 0 && b.DocsPerCPUSec > 0 {
			fmt.Fprintf(bw, ", %.1fx (per CPU-second)", r.DocsPerCPUSec/b.DocsPerCPUSec)
		}
		fmt.Fprintln(bw)
	}
	if r.CodeSwitching != nil {
		if err := r.CodeSwitching.WriteText(bw); err != nil {
			return err
		}
	}
	return bw.Flush()
}
