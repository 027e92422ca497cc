package stages

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sieve-data/sieve/lang"
	"github.com/sieve-data/sieve/pipeline"
)

// LangIDConfig configures language and script identification.
type LangIDConfig struct {
	Backend string `yaml:"backend" doc:"lingua (embedded, no download) | fasttext (a fastText model file: GlotLID, OpenLID, lid.176, your own)"`
	Model   string `yaml:"model" doc:"fasttext: the model file (.bin or .ftz), relative to the config file"`
	// Candidates restricts the lingua backend's languages; it is not a filter on the output.
	Candidates []string `yaml:"candidates" doc:"lingua: the languages it chooses among (labels, codes or names); empty = all 75 lingua-go languages"`
	Preload    bool     `yaml:"preload" doc:"lingua: load every model at start-up (about 15 s and 2 GB of memory for all languages) instead of as texts need them"`
	Accuracy   string   `yaml:"accuracy" doc:"lingua: high | low (trigram models only: on short texts such as instruction prompts about 225 MB instead of 1.9 GB and 4x faster, macro-F1 0.946 instead of 0.979 on dev.tsv sentences; texts of 120+ letters are classified the same)"`
	Languages  []string `yaml:"languages" doc:"allow-list: labels (yor_Latn, yo, Yoruba), und_<Script>, or scripts (Ethi = every label in that script); other documents are rejected (langid.not_allowed); empty = keep every language"`
	// MinConfidence maps labels to the minimum probability of that label; key "default"
	// applies to the others.
	MinConfidence map[string]float64  `yaml:"min_confidence" doc:"minimum probability of the label: {default: P, <label>: P, ...}"`
	Below         string              `yaml:"below" doc:"reject | und: a label below its minimum confidence rejects the document (langid.low_confidence) or keeps it labelled und_<Script>"`
	SampleChars   int                 `yaml:"sample_chars" doc:"characters classified per document: whole sentences spread over it; -1 = the whole text"`
	OpenSet       OpenSetConfig       `yaml:"open_set" doc:"absolute check that the text looks like the predicted language; failing texts become und_<Script>"`
	Profiles      []string            `yaml:"profiles" doc:"extra open-set profile files (made with sieve langid profile), relative to the config file; they add or replace languages"`
	Fields        []string            `yaml:"fields" doc:"input fields whose text is identified, joined by a newline (e.g. [prompt, response] for instruction records); empty = the document text"`
	CodeSwitching CodeSwitchingConfig `yaml:"code_switching" doc:"classify each sentence of the sample alone too, to find mixed-language text"`
}

// CodeSwitchingConfig configures the code-switching signal: the share of a document's
// sample sentences that the backend, classifying each alone, gives the document's label.
type CodeSwitchingConfig struct {
	Enabled      bool    `yaml:"enabled" doc:"classify each sample sentence (or field) of 20+ characters alone (one more prediction each) and write lang_sentences (or lang_fields), the number classified, and lang_agreement, the share agreeing with the label, to the metadata"`
	MinAgreement float64 `yaml:"min_agreement" doc:"reject (langid.code_switched) documents with 2+ such sentences (or fields) whose agreement is below this; 0 = annotate only"`
	Unit         string  `yaml:"unit" doc:"sentences (of the sample) | fields (each of the fields given in fields, e.g. an instruction's prompt and response, classified alone)"`
}

// OpenSetConfig configures the open-set check.
type OpenSetConfig struct {
	Enabled      bool               `yaml:"enabled" doc:"run the check"`
	MinFit       float64            `yaml:"min_fit" doc:"minimum fit of the text to the predicted language's profile (about 0 for text of the language; lower keeps more, see sieve eval langid)"`
	ScriptMinFit map[string]float64 `yaml:"script_min_fit" doc:"min_fit per script of the predicted label (ISO 15924 code); others use min_fit"`
	MaxUnknown   float64            `yaml:"max_unknown" doc:"maximum share of the text's letters that the language does not use"`
}

// DefaultLangIDConfig returns the defaults: lingua with every language, a 300-character
// sample, the open-set check on, minimum confidence 0.2, low-confidence documents rejected.
func DefaultLangIDConfig() LangIDConfig {
	return LangIDConfig{
		Backend:       "lingua",
		Accuracy:      "high",
		MinConfidence: map[string]float64{"default": lang.DefaultMinConfidence},
		Below:         "reject",
		SampleChars:   lang.DefaultSampleChars,
		CodeSwitching: CodeSwitchingConfig{Unit: "sentences"},
		OpenSet: OpenSetConfig{
			Enabled:      true,
			MinFit:       lang.DefaultMinFit,
			ScriptMinFit: lang.DefaultScriptMinFit(),
			MaxUnknown:   lang.DefaultMaxUnknown,
		},
	}
}

// Validate implements pipeline.Validator.
func (c *LangIDConfig) Validate() []pipeline.FieldError {
	var errs []pipeline.FieldError
	add := func(f, format string, args ...any) {
		errs = append(errs, pipeline.FieldError{Field: f, Msg: fmt.Sprintf(format, args...)})
	}
	switch c.Backend {
	case "lingua":
		if c.Model != "" {
			add("model", "only for backend fasttext")
		}
		for i, s := range c.Candidates {
			if err := lang.CheckLinguaLanguage(s); err != nil {
				add("candidates", "[%d]: %v", i, err)
			}
		}
	case "fasttext":
		if c.Model == "" {
			add("model", "required for backend fasttext")
		}
		if c.Accuracy == "low" {
			add("accuracy", "only for backend lingua")
		}
		if len(c.Candidates) > 0 {
			add("candidates", "only for backend lingua (a fastText model has its own labels)")
		}
		if c.Preload {
			add("preload", "only for backend lingua")
		}
	default:
		add("backend", "must be one of lingua, fasttext; got %q", c.Backend)
	}
	switch c.Accuracy {
	case "", "high", "low": // "" from Go literals; YAML gets the default
	default:
		add("accuracy", "must be one of high, low; got %q", c.Accuracy)
	}
	for i, s := range c.Languages {
		if _, _, ok := allowEntry(s); !ok {
			add("languages", "[%d]: %q is neither a known language label, und_<Script> nor an ISO 15924 script", i, s)
		}
	}
	keys := make([]string, 0, len(c.MinConfidence))
	for k := range c.MinConfidence {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := c.MinConfidence[k]
		if k != "default" {
			if _, ok := lang.Lookup(k); !ok {
				add("min_confidence."+k, "unknown language (keys are labels such as yor_Latn, or default)")
				continue
			}
		}
		if !(v >= 0 && v <= 1) {
			add("min_confidence."+k, "must be in 0..1, got %v", v)
		}
	}
	switch c.Below {
	case "reject", "und":
	default:
		add("below", "must be one of reject, und; got %q", c.Below)
	}
	if c.SampleChars == 0 || c.SampleChars < -1 {
		add("sample_chars", "must be >= 1 or -1 (whole text), got %d", c.SampleChars)
	}
	if o := c.OpenSet; o.Enabled {
		if !(o.MaxUnknown >= 0 && o.MaxUnknown <= 1) {
			add("open_set.max_unknown", "must be in 0..1, got %v", o.MaxUnknown)
		}
		if o.MinFit < -20 || o.MinFit > 5 {
			add("open_set.min_fit", "must be in -20..5, got %v", o.MinFit)
		}
		for s, v := range o.ScriptMinFit {
			if !knownScript(s) {
				add("open_set.script_min_fit."+s, "not an ISO 15924 script code")
			} else if v < -20 || v > 5 {
				add("open_set.script_min_fit."+s, "must be in -20..5, got %v", v)
			}
		}
	}
	switch c.CodeSwitching.Unit {
	case "", "sentences": // "" from Go literals; YAML gets the default
	case "fields":
		if len(c.Fields) < 2 {
			add("code_switching.unit", "fields needs two or more fields in fields (e.g. [prompt, response])")
		}
	default:
		add("code_switching.unit", "must be one of sentences, fields; got %q", c.CodeSwitching.Unit)
	}
	if cs := c.CodeSwitching; !(cs.MinAgreement >= 0 && cs.MinAgreement <= 1) {
		add("code_switching.min_agreement", "must be in 0..1, got %v", cs.MinAgreement)
	} else if cs.MinAgreement > 0 && !cs.Enabled {
		add("code_switching.min_agreement", "needs code_switching.enabled: true")
	}
	for i, f := range c.Fields {
		if strings.TrimSpace(f) == "" {
			add("fields", "[%d]: empty field name", i)
		}
	}
	return errs
}

// allowEntry parses a languages entry: a label (canonical) or a script.
func allowEntry(s string) (label, script string, ok bool) {
	s = strings.TrimSpace(s)
	if knownScript(s) {
		return "", s, true
	}
	if s == lang.NoLanguage {
		return s, "", true
	}
	if rest, found := strings.CutPrefix(s, "und_"); found && knownScript(rest) {
		return s, "", true
	}
	if l, found := lang.Lookup(s); found {
		return l.Label, "", true
	}
	return "", "", false
}

// knownScript reports whether s is an ISO 15924 code sieve can emit.
func knownScript(s string) bool {
	if len(s) != 4 {
		return false
	}
	return lang.IsScriptCode(s)
}

// LangID labels each document with its language (doc.Lang), script (doc.Script) and the
// label's probability (doc.LangScore; 0 for und_<Script> and zxx_Zyyy), and rejects
// documents below their minimum confidence (labelled with the refused guess and its
// probability, so per-language statistics count them) or outside the allow-list. It is safe
// for concurrent use; the backend is built once.
type LangID struct {
	cfg       LangIDConfig
	id        *lang.Identifier
	allow     map[string]bool // labels
	allowScr  map[string]bool // scripts
	below     string
	backend   string
	loadTime  time.Duration
	unit      string // code_switching.unit: "sentences" or "fields"
	unitKey   string // its metadata key: lang_sentences or lang_fields
	counts    [nCounts]atomic.Int64
	refusedBy [3]atomic.Int64 // by lang.Refusal
}

const (
	cntIdentified = iota // a language label
	cntUndScript         // und_<Script>: no backend language in the script
	cntNoLetters         // zxx_Zyyy
	cntNotAllowed
	cntLowConfidence // rejected below min_confidence
	cntMissingField
	cntCodeSwitched // rejected below code_switching.min_agreement
	cntSentences    // sample sentences (or fields) classified alone
	cntAgreeing     // ... that agreed with their document's guess
	nCounts
)

var (
	_ pipeline.Stage    = (*LangID)(nil)
	_ pipeline.Reporter = (*LangID)(nil)
)

func init() {
	pipeline.MustRegister("langid", pipeline.Spec{
		Summary:      "Labels language (ISO 639-3 + script, e.g. yor_Latn) and script; says und_<Script> instead of guessing; rejects low-confidence or unwanted languages.",
		Example:      "{backend: lingua, languages: [yor_Latn, swh_Latn, zul_Latn, Ethi], min_confidence: {default: 0.3, zul_Latn: 0.5}, below: reject, sample_chars: 300}",
		Mode:         pipeline.Parallel,
		ReportStatic: []string{"backend"},
		Config: func() any {
			c := DefaultLangIDConfig()
			return &c
		},
		New: func(cfg any, env *pipeline.Env) (pipeline.Stage, error) {
			return NewLangID(*cfg.(*LangIDConfig), env)
		},
	})
}

// NewLangID builds the stage: it loads the backend (and, with preload, every lingua model)
// and the extra profiles, so a bad path fails before any work.
func NewLangID(cfg LangIDConfig, env *pipeline.Env) (*LangID, error) {
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("stage %s: %s: %s", env.Name, errs[0].Field, errs[0].Msg)
	}
	start := time.Now()
	id, err := NewLangIdentifier(cfg, env)
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", env.Name, err)
	}
	s := &LangID{cfg: cfg, id: id, allow: map[string]bool{}, allowScr: map[string]bool{}, below: cfg.Below, backend: cfg.Backend, loadTime: time.Since(start)}
	s.unit = "sentences"
	if cfg.CodeSwitching.Unit == "fields" {
		s.unit = "fields"
	}
	s.unitKey = "lang_" + s.unit
	for _, e := range cfg.Languages {
		label, script, _ := allowEntry(e)
		if script != "" {
			s.allowScr[script] = true
		} else {
			s.allow[label] = true
		}
	}
	if env.Logger != nil && cfg.Preload {
		env.Logger.Info("langid backend ready", "stage", env.Name, "backend", cfg.Backend, "seconds", s.loadTime.Seconds())
	}
	return s, nil
}

// NewLangIdentifier builds the lang.Identifier a langid config describes (also used by the
// `sieve langid` and `sieve eval langid` commands). Paths are resolved with env.
func NewLangIdentifier(cfg LangIDConfig, env *pipeline.Env) (*lang.Identifier, error) {
	profiles := lang.DefaultProfiles()
	if len(cfg.Profiles) > 0 {
		var extra []*lang.Profile
		for _, p := range cfg.Profiles {
			ps, err := lang.ReadProfileFile(env.Resolve(p))
			if err != nil {
				return nil, err
			}
			extra = append(extra, ps...)
		}
		profiles = profiles.With(extra...)
	}
	var backend lang.Backend
	switch cfg.Backend {
	case "lingua":
		b, err := lang.NewLingua(lang.LinguaOptions{Languages: cfg.Candidates, Preload: cfg.Preload, Profiles: profiles, LowAccuracy: cfg.Accuracy == "low"})
		if err != nil {
			return nil, err
		}
		backend = b
	case "fasttext":
		b, err := lang.NewFastText(env.Resolve(cfg.Model))
		if err != nil {
			return nil, fmt.Errorf("fasttext model: %w", err)
		}
		backend = b
	default:
		return nil, fmt.Errorf("unknown backend %q", cfg.Backend)
	}
	opts := lang.IdentifierOptions{SampleChars: cfg.SampleChars, MinConfidenceBy: map[string]float64{}, Sentences: cfg.CodeSwitching.Enabled && cfg.CodeSwitching.Unit != "fields"}
	for k, v := range cfg.MinConfidence {
		if k == "default" {
			opts.MinConfidence = v
		} else {
			opts.MinConfidenceBy[k] = v
		}
	}
	if cfg.OpenSet.Enabled {
		opts.OpenSet = &lang.OpenSet{
			Profiles:     profiles,
			MinFit:       cfg.OpenSet.MinFit,
			ScriptMinFit: cfg.OpenSet.ScriptMinFit,
			MaxUnknown:   cfg.OpenSet.MaxUnknown,
		}
	}
	return lang.NewIdentifier(backend, opts), nil
}

// Identifier returns the stage's identifier.
func (s *LangID) Identifier() *lang.Identifier { return s.id }

// Process implements pipeline.Stage.
func (s *LangID) Process(_ context.Context, d *pipeline.Document) (pipeline.Verdict, error) {
	text, ok := s.text(d)
	if !ok {
		s.counts[cntMissingField].Add(1)
		return pipeline.Rejectf("langid.missing_field", "no text in fields %s", strings.Join(s.cfg.Fields, ", ")), nil
	}
	r := s.id.Identify(text)
	d.Lang, d.Script, d.LangScore = r.Label, r.Script, r.Prob
	if cs := s.cfg.CodeSwitching; cs.Enabled && cs.Unit == "fields" && r.Guess != "" {
		r.Sentences, r.Agreeing = s.id.Agreement(r.Guess, r.Script, s.fieldTexts(d))
	}
	if r.Sentences > 0 {
		s.counts[cntSentences].Add(int64(r.Sentences))
		s.counts[cntAgreeing].Add(int64(r.Agreeing))
		d.SetMeta(s.unitKey, int64(r.Sentences))
		d.SetMeta("lang_agreement", r.Agreement())
	}
	switch {
	case r.Label == lang.NoLanguage:
		s.counts[cntNoLetters].Add(1)
	case r.Refused != lang.RefusedNone:
		s.refusedBy[r.Refused].Add(1)
		if r.Refused == lang.RefusedLowConfidence && s.below == "reject" {
			// The reject carries the guess, so per-language statistics count it there.
			d.Lang, d.LangScore = r.Guess, r.GuessProb
			s.counts[cntLowConfidence].Add(1)
			return pipeline.Rejectf("langid.low_confidence", "%s %.2f < %.2f", r.Guess, r.GuessProb, s.id.MinConfidence(r.Guess)), nil
		}
	case lang.IsUnd(r.Label):
		s.counts[cntUndScript].Add(1)
	default:
		s.counts[cntIdentified].Add(1)
	}
	if minAgree := s.cfg.CodeSwitching.MinAgreement; r.Sentences >= 2 && r.Agreement() < minAgree {
		// Like low_confidence, the reject carries the guess for per-language statistics.
		d.Lang, d.LangScore = r.Guess, r.GuessProb
		s.counts[cntCodeSwitched].Add(1)
		return pipeline.Rejectf("langid.code_switched", "%d of %d %s read as %s (agreement %.2f < %.2f)", r.Agreeing, r.Sentences, s.unit, r.Guess, r.Agreement(), minAgree), nil
	}
	if (len(s.allow) > 0 || len(s.allowScr) > 0) && !s.allow[r.Label] && !s.allowScr[r.Script] && !s.allowScr[lang.LabelScript(r.Label)] {
		s.counts[cntNotAllowed].Add(1)
		return pipeline.Rejectf("langid.not_allowed", "%s", notAllowedDetail(r)), nil
	}
	return pipeline.Keep, nil
}

func notAllowedDetail(r lang.Result) string {
	switch r.Refused {
	case lang.RefusedOpenSet:
		return fmt.Sprintf("%s not in languages (best guess %s %.2f does not fit its profile: fit %.2f)", r.Label, r.Guess, r.GuessProb, r.Fit.Value)
	case lang.RefusedLowConfidence:
		return fmt.Sprintf("%s not in languages (best guess %s %.2f below its minimum confidence)", r.Label, r.Guess, r.GuessProb)
	}
	return r.Label + " not in languages"
}

// text returns the text to identify: the document text, or the configured fields joined
// by a newline ("text" names the document text). ok is false when no field has text.
func (s *LangID) text(d *pipeline.Document) (string, bool) {
	if len(s.cfg.Fields) == 0 {
		return d.Text, true
	}
	parts := s.fieldTexts(d)
	if len(parts) == 0 {
		return "", false
	}
	if len(parts) == 1 {
		return parts[0], true
	}
	return strings.Join(parts, "\n"), true
}

// fieldTexts returns the texts of the configured fields that the document has.
func (s *LangID) fieldTexts(d *pipeline.Document) []string {
	var parts []string
	for _, f := range s.cfg.Fields {
		if f == "text" {
			parts = append(parts, d.Text)
			continue
		}
		if v, ok := d.Meta[f].(string); ok {
			parts = append(parts, v)
		}
	}
	return parts
}

// Report implements pipeline.Reporter.
func (s *LangID) Report() map[string]any {
	m := map[string]any{
		"backend":                 s.backend,
		"load_seconds":            s.loadTime.Seconds(),
		"identified":              s.counts[cntIdentified].Load(),
		"und_unsupported":         s.counts[cntUndScript].Load(),
		"und_open_set":            s.refusedBy[lang.RefusedOpenSet].Load(),
		"und_low_confidence":      s.refusedBy[lang.RefusedLowConfidence].Load(),
		"no_letters":              s.counts[cntNoLetters].Load(),
		"rejected_not_allowed":    s.counts[cntNotAllowed].Load(),
		"rejected_low_confidence": s.counts[cntLowConfidence].Load(),
		"rejected_missing_field":  s.counts[cntMissingField].Load(),
	}
	if s.cfg.CodeSwitching.Enabled {
		m["rejected_code_switched"] = s.counts[cntCodeSwitched].Load()
		m[s.unit+"_classified"] = s.counts[cntSentences].Load() // sentences_ or fields_
		m[s.unit+"_agreeing"] = s.counts[cntAgreeing].Load()
	}
	return m
}

// Close implements pipeline.Stage.
func (s *LangID) Close(context.Context) error { return nil }

// UsedFiles implements pipeline.FileUser: the fastText model and the extra profiles.
func (c *LangIDConfig) UsedFiles() []string {
	var out []string
	if c.Backend == "fasttext" && c.Model != "" {
		out = append(out, c.Model)
	}
	return append(out, c.Profiles...)
}
