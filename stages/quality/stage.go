package quality

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sieve-data/sieve/pipeline"
)

// Stage is one quality stage (any of the four kinds). It is safe for concurrent use: each
// call takes a worker (analysis buffers) from a pool.
type Stage struct {
	def   *filterDef
	base  *settings
	byKey map[string]*settings
	pool  sync.Pool

	// c4_quality line accounting, by line rule
	linesDropped  []atomic.Int64
	docsRewritten atomic.Int64
	charsRemoved  atomic.Int64
	// instruction records whose failing lines were left in (see c4After)
	instructionsUnchanged atomic.Int64
}

var (
	_ pipeline.Stage    = (*Stage)(nil)
	_ pipeline.Reporter = (*Stage)(nil)
)

// worker is the per-call scratch space.
type worker struct {
	a    *Analysis
	vals []float64
	c4   c4State
}

// New builds a stage of the given kind from its validated config (a *GopherQualityConfig,
// ...). It reads the config's thresholds file, resolving a relative path against baseDir, and
// fails when the file is missing, malformed or has no section for this kind.
func New(kind string, cfg any, baseDir string) (*Stage, error) {
	f, ok := defs[kind]
	if !ok {
		return nil, fmt.Errorf("quality: unknown kind %q", kind)
	}
	if errs := f.validateConfig(cfg, true); len(errs) > 0 {
		return nil, fmt.Errorf("%s", fieldErrs(errs))
	}
	var tf *ThresholdsFile
	if p := thresholdsPath(f, cfg); p != "" {
		env := pipeline.Env{BaseDir: baseDir}
		var err error
		if tf, err = ReadThresholdsFile(env.Resolve(p)); err != nil {
			return nil, err
		}
	}
	base, byKey, err := f.resolveAll(cfg, tf)
	if err != nil {
		return nil, err
	}
	s := &Stage{def: f, base: base, byKey: byKey, linesDropped: make([]atomic.Int64, len(f.rules))}
	s.pool.New = func() any { return &worker{vals: make([]float64, len(f.rules))} }
	return s, nil
}

func thresholdsPath(f *filterDef, cfg any) string {
	return fieldValue(cfg, f.fields["thresholds_file"]).(string)
}

// Kind returns the stage kind.
func (s *Stage) Kind() string { return s.def.kind }

// settingsFor returns the settings of a document's language: those of its label, else of
// its language code, else of its script, else the top-level ones. Documents without a
// language use "und".
func (s *Stage) settingsFor(lang string) *settings {
	if len(s.byKey) == 0 {
		return s.base
	}
	if lang == "" {
		lang = "und"
	}
	if st, ok := s.byKey[lang]; ok {
		return st
	}
	if i := strings.IndexByte(lang, '_'); i > 0 {
		if st, ok := s.byKey[lang[:i]]; ok {
			return st
		}
		if st, ok := s.byKey[lang[i+1:]]; ok && isScriptKey(lang[i+1:]) {
			return st
		}
	}
	return s.base
}

// Process implements pipeline.Stage.
func (s *Stage) Process(_ context.Context, d *pipeline.Document) (pipeline.Verdict, error) {
	st := s.settingsFor(d.Lang)
	st.docs.Add(1)
	w := s.pool.Get().(*worker)
	w.a = acquireAnalysis(d.Text)
	v := s.check(w, st)
	if v.Kept() && s.def.after != nil {
		s.def.after(s, w, st, d)
	}
	releaseAnalysis(w.a)
	w.a = nil
	s.pool.Put(w)
	return v, nil
}

// check measures the document in w and returns the verdict of the first broken threshold.
func (s *Stage) check(w *worker, st *settings) pipeline.Verdict {
	f := s.def
	vals := w.vals
	f.measure(w, st, vals)
	for i := range f.bounds {
		b := &f.bounds[i]
		if st.off[b.rule] {
			continue
		}
		v, t := vals[b.rule], st.thr[i]
		if !b.Violates(v, t) {
			continue
		}
		var detail string
		if f.detail != nil {
			detail = f.detail(w, st, b, v, t)
		}
		if detail == "" {
			op := " < "
			if b.Max {
				op = " > "
			}
			detail = formatNum(v, b.Int) + op + formatNum(t, b.Int)
		}
		return pipeline.Verdict{Reason: f.kind + "." + b.Rule, Detail: detail}
	}
	return pipeline.Keep
}

// Report implements pipeline.Reporter: how many documents each language's thresholds
// checked, and for c4_quality the lines dropped by rule.
func (s *Stage) Report() map[string]any {
	by := map[string]int64{"default": s.base.docs.Load()}
	for k, st := range s.byKey {
		if n := st.docs.Load(); n > 0 {
			by[k] = n
		}
	}
	out := map[string]any{"docs_by_thresholds": by}
	if s.def.kind == KindC4Quality {
		lines := map[string]int64{}
		for i, r := range s.def.rules {
			if n := s.linesDropped[i].Load(); n > 0 {
				lines[r] = n
			}
		}
		out["lines_dropped"] = lines
		out["docs_rewritten"] = s.docsRewritten.Load()
		out["chars_removed"] = s.charsRemoved.Load()
		out["instructions_not_rewritten"] = s.instructionsUnchanged.Load()
	}
	return out
}

// Close implements pipeline.Stage.
func (s *Stage) Close(context.Context) error { return nil }

// Languages returns the language keys that have their own settings, sorted.
func (s *Stage) Languages() []string { return sortedKeys(s.byKey) }
