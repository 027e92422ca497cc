package stages

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
	"go.yaml.in/yaml/v3"

	"github.com/sieve-data/sieve/pipeline"
)

// Template kinds: how a text record becomes an instruction record.
const (
	KindContinuation   = "continuation"     // the first part of the text is the prompt, the rest the answer
	KindTitleToArticle = "title_to_article" // the title field is the prompt, the text the answer
	KindQA             = "qa"               // the question field is the prompt, the answer field the answer
	KindTranslation    = "translation"      // the parallel field is the prompt, the text the answer
)

// TemplateKinds lists the kinds in their documented order.
var TemplateKinds = []string{KindContinuation, KindTitleToArticle, KindQA, KindTranslation}

// InstructTemplateConfig configures the instruct_template stage.
type InstructTemplateConfig struct {
	Templates string   `yaml:"templates" doc:"template file (YAML), relative to the config file; see configs/templates/instruct.yaml"`
	Kinds     []string `yaml:"kinds" doc:"kinds tried in this order, the first that applies making the record: continuation | title_to_article | qa | translation"`
	View      string   `yaml:"view" doc:"the text later stages judge: all (prompt and answer) | output (the answer) | prompt"`
	Seed      uint64   `yaml:"seed" doc:"seed of the template choice (the same seed and id give the same template)"`
	Fallback  string   `yaml:"fallback" doc:"language (ISO 639-3) whose templates serve a document whose language has none of a kind; empty: reject it (instruct_template.no_template)"`
	Unsure    string   `yaml:"unsure" doc:"templates marked unsure: use | skip"`
	// Fields name the metadata fields the kinds read (dotted paths reach into objects).
	Fields       TemplateFields     `yaml:"fields" doc:"metadata fields the kinds read"`
	SourceLang   string             `yaml:"source_lang" doc:"translation: language of the parallel text (ISO 639-3 or a label) when fields.source_lang is not set or absent"`
	Continuation ContinuationConfig `yaml:"continuation" doc:"where a text is cut into prompt and answer"`
}

// TemplateFields are the metadata fields the kinds read.
type TemplateFields struct {
	Title      string `yaml:"title" doc:"title_to_article: the title"`
	Question   string `yaml:"question" doc:"qa: the question"`
	Answer     string `yaml:"answer" doc:"qa: the answer"`
	Source     string `yaml:"source" doc:"translation: the parallel text (e.g. translation.eng); required by kind translation"`
	SourceLang string `yaml:"source_lang" doc:"translation: the field holding the parallel text's language, when it varies"`
}

// ContinuationConfig says where a continuation's prompt ends.
type ContinuationConfig struct {
	MinChars     int     `yaml:"min_chars" doc:"shortest text (characters) cut into prompt and answer"`
	PromptShare  float64 `yaml:"prompt_share" doc:"share of the text that goes to the prompt, before moving to the nearest sentence or paragraph end"`
	MinPartChars int     `yaml:"min_part_chars" doc:"fewest characters in either part"`
}

// DefaultInstructTemplateConfig returns the defaults: every kind, the whole conversation as
// the view, English fallback, titles in "title", questions and answers in "question" and
// "answer", continuations of texts of 200 characters or more cut at about a third.
func DefaultInstructTemplateConfig() InstructTemplateConfig {
	return InstructTemplateConfig{
		Kinds:        slices.Clone(TemplateKinds),
		View:         pipeline.ViewAll,
		Fallback:     "eng",
		Unsure:       "use",
		Fields:       TemplateFields{Title: "title", Question: "question", Answer: "answer"},
		SourceLang:   "eng",
		Continuation: ContinuationConfig{MinChars: 200, PromptShare: 0.33, MinPartChars: 40},
	}
}

// Validate implements pipeline.Validator.
func (c *InstructTemplateConfig) Validate() []pipeline.FieldError {
	var errs []pipeline.FieldError
	add := func(f, format string, args ...any) {
		errs = append(errs, pipeline.FieldError{Field: f, Msg: fmt.Sprintf(format, args...)})
	}
	if c.Templates == "" {
		add("templates", "required: a template file such as configs/templates/instruct.yaml")
	}
	if len(c.Kinds) == 0 {
		add("kinds", "give at least one of %s", strings.Join(TemplateKinds, ", "))
	}
	seen := map[string]bool{}
	for i, k := range c.Kinds {
		if !slices.Contains(TemplateKinds, k) {
			add("kinds", "[%d]: unknown kind %q; valid: %s", i, k, strings.Join(TemplateKinds, ", "))
		} else if seen[k] {
			add("kinds", "[%d]: %s given twice", i, k)
		}
		seen[k] = true
	}
	if !slices.Contains(pipeline.Views, c.View) {
		add("view", "must be one of %s; got %q", strings.Join(pipeline.Views, ", "), c.View)
	}
	if c.Fallback != "" && !isLangCode(c.Fallback) {
		add("fallback", "want an ISO 639-3 code such as eng, or empty; got %q", c.Fallback)
	}
	if c.Unsure != "use" && c.Unsure != "skip" {
		add("unsure", "must be use or skip; got %q", c.Unsure)
	}
	if seen[KindTitleToArticle] && c.Fields.Title == "" {
		add("fields.title", "required by kind title_to_article")
	}
	if seen[KindQA] && (c.Fields.Question == "" || c.Fields.Answer == "") {
		add("fields", "kind qa needs fields.question and fields.answer")
	}
	if seen[KindTranslation] && c.Fields.Source == "" {
		add("fields.source", "required by kind translation: the field holding the parallel text")
	}
	if c.SourceLang != "" && !isLangCode(langCode(c.SourceLang)) {
		add("source_lang", "want an ISO 639-3 code or a label such as eng_Latn; got %q", c.SourceLang)
	}
	cc := c.Continuation
	if cc.MinChars < 2 {
		add("continuation.min_chars", "must be >= 2, got %d", cc.MinChars)
	}
	if !(cc.PromptShare > 0 && cc.PromptShare < 1) {
		add("continuation.prompt_share", "must be in (0, 1), got %v", cc.PromptShare)
	}
	if cc.MinPartChars < 1 {
		add("continuation.min_part_chars", "must be >= 1, got %d", cc.MinPartChars)
	}
	return errs
}

func init() {
	pipeline.MustRegister("instruct_template", pipeline.Spec{
		Summary: "Turns text records into instruction records with per-language templates (continuation, title to article, QA, translation).",
		Example: "{templates: templates/instruct.yaml, kinds: [title_to_article, qa, continuation]}",
		Mode:    pipeline.Parallel,
		Config:  func() any { c := DefaultInstructTemplateConfig(); return &c },
		New: func(cfg any, env *pipeline.Env) (pipeline.Stage, error) {
			return NewInstructTemplate(*cfg.(*InstructTemplateConfig), env)
		},
	})
}

// InstructTemplate makes an instruction record of each text record: the first kind in
// Kinds that applies to the document (continuation: a text long enough to cut;
// title_to_article: a non-empty title field; qa: non-empty question and answer fields;
// translation: a non-empty parallel field) fills one of the templates of the document's
// language (ISO 639-3 part of doc.Lang), chosen by a hash of the seed, the kind and the
// document id; with none for that language, one of the fallback language's. The record's
// task is the kind, its template the template's id, its text the configured view; the
// fields a kind used leave the metadata. Instruction records (from an input adapter) pass
// unchanged. A document no kind applies to is rejected (instruct_template.not_applicable),
// as is one whose language and fallback have no template for a kind that applies
// (instruct_template.no_template).
type InstructTemplate struct {
	cfg       InstructTemplateConfig
	set       *TemplateSet
	seed      [8]byte
	counts    []atomic.Int64 // per template, by TemplateSet index
	unsure    bool           // use unsure templates
	fallbacks atomic.Int64   // documents that used the fallback language
}

var (
	_ pipeline.Stage    = (*InstructTemplate)(nil)
	_ pipeline.Reporter = (*InstructTemplate)(nil)
)

// NewInstructTemplate loads the template file named by cfg (relative to env's base
// directory) and checks that every kind configured has a template in the fallback language
// when there is one.
func NewInstructTemplate(cfg InstructTemplateConfig, env *pipeline.Env) (*InstructTemplate, error) {
	path := cfg.Templates
	if env != nil {
		path = env.Resolve(path)
	}
	set, err := LoadTemplates(path)
	if err != nil {
		return nil, err
	}
	s := &InstructTemplate{cfg: cfg, set: set, counts: make([]atomic.Int64, len(set.all)), unsure: cfg.Unsure != "skip"}
	binary.LittleEndian.PutUint64(s.seed[:], cfg.Seed)
	if cfg.Fallback != "" {
		var missing []string
		for _, k := range cfg.Kinds {
			if len(s.usable(cfg.Fallback, k)) == 0 {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("%s: fallback language %s has no usable template of kind %s", path, cfg.Fallback, strings.Join(missing, ", "))
		}
	}
	return s, nil
}

// Close implements pipeline.Stage.
func (s *InstructTemplate) Close(context.Context) error { return nil }

// made is a kind applied to a document: the values of its placeholders, its answer and the
// metadata fields it read.
type made struct {
	vars   map[string]string
	answer string
	used   []string
}

// Process implements pipeline.Stage.
func (s *InstructTemplate) Process(_ context.Context, d *pipeline.Document) (pipeline.Verdict, error) {
	if d.Instruction != nil {
		return pipeline.Keep, nil
	}
	code := langCode(d.Lang)
	var why []string
	noTemplate := ""
	for _, kind := range s.cfg.Kinds {
		m, reason := s.apply(kind, d)
		if reason != "" {
			why = append(why, reason)
			continue
		}
		t, fallback := s.choose(code, kind, d.ID, m)
		if t == nil {
			if noTemplate == "" {
				noTemplate = s.noTemplateDetail(code, kind, m)
			}
			continue
		}
		instruction, input := t.instruction.render(m.vars), t.input.render(m.vars)
		in := &pipeline.Instruction{
			Messages: []pipeline.Message{
				{Role: pipeline.RoleUser, Content: pipeline.JoinPrompt(instruction, input)},
				{Role: pipeline.RoleAssistant, Content: m.answer},
			},
			Input:    input,
			Task:     kind,
			Template: t.ID,
		}
		if w, detail := in.Problem(); w != "" {
			return pipeline.Rejectf("instruct_template."+w, "template %s: %s", t.ID, detail), nil
		}
		for _, f := range m.used {
			delete(d.Meta, f)
		}
		d.Instruction = in
		d.Text = in.View(s.cfg.View)
		s.counts[t.index].Add(1)
		if fallback {
			s.fallbacks.Add(1)
		}
		return pipeline.Keep, nil
	}
	if noTemplate != "" {
		return pipeline.Rejectf("instruct_template.no_template", "%s", noTemplate), nil
	}
	return pipeline.Rejectf("instruct_template.not_applicable", "%s", strings.Join(why, "; ")), nil
}

// apply fills a kind's placeholders from the document, or says why the kind does not apply.
func (s *InstructTemplate) apply(kind string, d *pipeline.Document) (made, string) {
	f := &s.cfg.Fields
	switch kind {
	case KindContinuation:
		head, tail, ok := cutText(d.Text, &s.cfg.Continuation)
		if !ok {
			return made{}, fmt.Sprintf("continuation: text of %d characters has no cut leaving %d in each part (min_chars %d)",
				utf8.RuneCountInString(d.Text), s.cfg.Continuation.MinPartChars, s.cfg.Continuation.MinChars)
		}
		return made{vars: map[string]string{"text": head}, answer: tail}, ""
	case KindTitleToArticle:
		title, ok := metaText(d.Meta, f.Title)
		if !ok {
			return made{}, fmt.Sprintf("title_to_article: no text in field %q", f.Title)
		}
		if blankText(d.Text) {
			return made{}, "title_to_article: empty text"
		}
		return made{vars: map[string]string{"title": strings.TrimSpace(title)}, answer: d.Text, used: topField(f.Title)}, ""
	case KindQA:
		q, okQ := metaText(d.Meta, f.Question)
		a, okA := metaText(d.Meta, f.Answer)
		if !okQ || !okA {
			return made{}, fmt.Sprintf("qa: no text in fields %q and %q", f.Question, f.Answer)
		}
		return made{vars: map[string]string{"question": strings.TrimSpace(q), "context": d.Text}, answer: a,
			used: append(topField(f.Question), topField(f.Answer)...)}, ""
	case KindTranslation:
		src, ok := metaText(d.Meta, f.Source)
		if !ok {
			return made{}, fmt.Sprintf("translation: no text in field %q", f.Source)
		}
		if blankText(d.Text) {
			return made{}, "translation: empty text"
		}
		srcLang := s.cfg.SourceLang
		used := topField(f.Source)
		if f.SourceLang != "" {
			if l, ok := metaText(d.Meta, f.SourceLang); ok {
				srcLang = l
				used = append(used, topField(f.SourceLang)...)
			}
		}
		return made{vars: map[string]string{"source": src, "source_lang": langCode(srcLang), "target_lang": langCode(d.Lang)},
			answer: d.Text, used: used}, ""
	}
	return made{}, kind + ": unknown kind"
}

// choose picks the template for a document: among the usable templates of its language,
// or else of the fallback language, by hash. It reports whether the fallback served.
// Language codes in m.vars (source_lang, target_lang) become names of the chosen
// language.
func (s *InstructTemplate) choose(code, kind, id string, m made) (*Template, bool) {
	for i, lang := range []string{code, s.cfg.Fallback} {
		if lang == "" || i == 1 && lang == code {
			continue
		}
		ts := s.usable(lang, kind)
		// Translation templates need the language names in the template's language.
		if kind == KindTranslation {
			names := s.set.names[lang]
			ts = slices.DeleteFunc(slices.Clone(ts), func(t *Template) bool {
				return t.uses("source_lang") && names[m.vars["source_lang"]] == "" || t.uses("target_lang") && names[m.vars["target_lang"]] == ""
			})
		}
		if len(ts) == 0 {
			continue
		}
		h := xxhash.New()
		h.Write(s.seed[:])
		h.WriteString(kind)
		h.Write([]byte{0})
		h.WriteString(id)
		t := ts[h.Sum64()%uint64(len(ts))]
		if kind == KindTranslation {
			names := s.set.names[lang]
			m.vars["source_lang"], m.vars["target_lang"] = names[m.vars["source_lang"]], names[m.vars["target_lang"]]
		}
		return t, i == 1
	}
	return nil, false
}

// noTemplateDetail says why no template of a kind that applies could serve a document.
func (s *InstructTemplate) noTemplateDetail(code, kind string, m made) string {
	where := fmt.Sprintf("language %q", code)
	if s.cfg.Fallback != "" && s.cfg.Fallback != code {
		where += " or the fallback " + s.cfg.Fallback
	}
	if kind == KindTranslation {
		return fmt.Sprintf("no %s template of %s names the languages %s and %s", kind, where, m.vars["source_lang"], m.vars["target_lang"])
	}
	return fmt.Sprintf("no %s template for %s", kind, where)
}

// usable returns a language's templates of a kind, less the unsure ones when skipped.
func (s *InstructTemplate) usable(lang, kind string) []*Template {
	ts := s.set.byLang[lang][kind]
	if s.unsure {
		return ts
	}
	var out []*Template
	for _, t := range ts {
		if !t.Unsure {
			out = append(out, t)
		}
	}
	return out
}

// Report implements pipeline.Reporter: documents made per template id and per kind, and
// how many used the fallback language.
func (s *InstructTemplate) Report() map[string]any {
	byTemplate := map[string]any{}
	byKind := map[string]int64{}
	for i, t := range s.set.all {
		if n := s.counts[i].Load(); n > 0 {
			byTemplate[t.ID] = n
			byKind[t.Kind] += n
		}
	}
	kinds := map[string]any{}
	for k, n := range byKind {
		kinds[k] = n
	}
	return map[string]any{"templates": byTemplate, "kinds": kinds, "fallback": s.fallbacks.Load()}
}

// cutText cuts text into a prompt and an answer near cfg.PromptShare of its length: at the
// paragraph end nearest that point when one lies within a fifth of the text's length of
// it, else at the sentence end nearest it within that window, else at the nearest space;
// both parts keep cfg.MinPartChars characters (white space at the cut is dropped). It
// reports false for a text shorter than cfg.MinChars or with no such cut.
func cutText(text string, cfg *ContinuationConfig) (head, tail string, ok bool) {
	n := utf8.RuneCountInString(text)
	if n < cfg.MinChars || n < 2*cfg.MinPartChars {
		return "", "", false
	}
	target := int(float64(len(text)) * cfg.PromptShare) // in bytes, like the offsets below
	window := len(text) / 5
	var best [3]int // per rank: the offset nearest the target, -1 when none
	for i := range best {
		best[i] = -1
	}
	dist := func(i int) int {
		if i < target {
			return target - i
		}
		return i - target
	}
	prev := rune(0)
	chars := 0 // characters before offset i
	for i, r := range text {
		if chars >= cfg.MinPartChars && n-chars >= cfg.MinPartChars {
			if rank := cutRank(text[:i], prev, r); rank < len(best) && (best[rank] < 0 || dist(i) < dist(best[rank])) {
				best[rank] = i
			}
		}
		prev = r
		chars++
	}
	cut := -1
	for rank, i := range best {
		if i >= 0 && (dist(i) <= window || rank == len(best)-1) {
			cut = i
			break
		}
	}
	if cut < 0 {
		return "", "", false
	}
	head = strings.TrimRightFunc(text[:cut], unicode.IsSpace)
	tail = strings.TrimLeftFunc(text[cut:], unicode.IsSpace)
	if utf8.RuneCountInString(head) < cfg.MinPartChars || utf8.RuneCountInString(tail) < cfg.MinPartChars {
		return "", "", false
	}
	return head, tail, true
}

// cutRank ranks a cut before r, where before ends with prev: 0 after a blank line, 1 after
// the end of a sentence, 2 after other white space, 3 (not a cut) otherwise. A cut falls
// where white space ends, before the next word, or right after a CJK full stop.
func cutRank(before string, prev, r rune) int {
	if unicode.IsSpace(r) {
		return 3
	}
	if strings.ContainsRune(cjkSentenceEnds, prev) {
		return 1
	}
	if !unicode.IsSpace(prev) {
		return 3
	}
	body := strings.TrimRightFunc(before, unicode.IsSpace)
	if strings.Count(before[len(body):], "\n") >= 2 {
		return 0
	}
	if last, _ := utf8.DecodeLastRuneInString(body); strings.ContainsRune(sentenceEnds, last) {
		return 1
	}
	return 2
}

// sentenceEnds are the characters that end a sentence (or close one) in the scripts sieve
// targets: Latin, Cyrillic, Greek (. ! ?), Ethiopic (። ፧ ፨), Devanagari and Bengali (। ॥),
// Arabic (؟ ۔), Armenian (։), Myanmar (။), closing quotes and brackets after them.
const sentenceEnds = ".!?።፧፨।॥؟۔։။\"'”’»)" + cjkSentenceEnds

// cjkSentenceEnds end a sentence with no space after it.
const cjkSentenceEnds = "。！？"

// metaText returns the non-blank string at a metadata path.
func metaText(meta map[string]any, path string) (string, bool) {
	if path == "" {
		return "", false
	}
	v, ok := pipeline.LookupField(meta, path)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	if !ok || blankText(s) || !utf8.ValidString(s) {
		return "", false
	}
	return s, true
}

func blankText(s string) bool { return strings.TrimFunc(s, unicode.IsSpace) == "" }

// topField returns the metadata key a path consumes: the path when it is a top-level name,
// nothing for a dotted path (its object stays whole in the metadata).
func topField(path string) []string {
	if strings.Contains(path, ".") {
		return nil
	}
	return []string{path}
}

// langCode returns the ISO 639 part of a label ("yor" of "yor_Latn").
func langCode(label string) string {
	code, _, _ := strings.Cut(label, "_")
	return code
}

func isLangCode(s string) bool {
	if len(s) < 2 || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// TemplateSet is a loaded template file.
type TemplateSet struct {
	byLang map[string]map[string][]*Template // language code -> kind -> templates
	names  map[string]map[string]string      // language code -> code -> name in that language
	all    []*Template                       // in file order; Template.index is the position
}

// Template is one instruction template.
type Template struct {
	ID          string
	Lang, Kind  string
	Unsure      bool
	instruction tmpl
	input       tmpl
	index       int
}

func (t *Template) uses(name string) bool {
	return t.instruction.uses(name) || t.input.uses(name)
}

// tmpl is a parsed template string: literal text and placeholders.
type tmpl []tmplPart

type tmplPart struct {
	lit string
	v   string // placeholder name; "" for literal text
}

func (t tmpl) render(vars map[string]string) string {
	var b strings.Builder
	for _, p := range t {
		if p.v == "" {
			b.WriteString(p.lit)
		} else {
			b.WriteString(vars[p.v])
		}
	}
	return b.String()
}

func (t tmpl) uses(name string) bool {
	for _, p := range t {
		if p.v == name {
			return true
		}
	}
	return false
}

// kindVars lists the placeholders each kind offers; the first must appear in every
// template of the kind.
var kindVars = map[string][]string{
	KindContinuation:   {"text"},
	KindTitleToArticle: {"title"},
	KindQA:             {"question", "context"},
	KindTranslation:    {"source", "source_lang", "target_lang"},
}

// parseTmpl parses "{name}" placeholders and "{{", "}}" escapes.
func parseTmpl(s string, allowed []string) (tmpl, error) {
	var t tmpl
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unclosed { at byte %d (write {{ for a literal brace)", i)
			}
			name := s[i+1 : i+end]
			if !slices.Contains(allowed, name) {
				return nil, fmt.Errorf("unknown placeholder {%s}; this kind has %s", name, "{"+strings.Join(allowed, "}, {")+"}")
			}
			if lit.Len() > 0 {
				t = append(t, tmplPart{lit: lit.String()})
				lit.Reset()
			}
			t = append(t, tmplPart{v: name})
			i += end
		case c == '}':
			return nil, fmt.Errorf("lone } at byte %d (write }} for a literal brace)", i)
		default:
			lit.WriteByte(c)
		}
	}
	if lit.Len() > 0 {
		t = append(t, tmplPart{lit: lit.String()})
	}
	return t, nil
}

// LoadTemplates reads and checks a template file (see configs/templates/instruct.yaml).
// Errors name the file and the line of the problem.
func LoadTemplates(path string) (*TemplateSet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	return ParseTemplates(path, data)
}

// ParseTemplates parses a template file held in data; name is used in messages.
func ParseTemplates(name string, data []byte) (*TemplateSet, error) {
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: want a mapping with key languages", name)
	}
	set := &TemplateSet{byLang: map[string]map[string][]*Template{}, names: map[string]map[string]string{}}
	var errs []error
	fail := func(n *yaml.Node, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d:%d: %s", name, n.Line, n.Column, fmt.Sprintf(format, args...)))
	}
	top := root.Content[0]
	var langs *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != "languages" {
			fail(top.Content[i], "unknown key %q; the file has one key, languages", top.Content[i].Value)
			continue
		}
		langs = top.Content[i+1]
	}
	if langs == nil || langs.Kind != yaml.MappingNode {
		if len(errs) == 0 {
			fail(top, "no languages mapping")
		}
		return nil, errors.Join(errs...)
	}
	for i := 0; i+1 < len(langs.Content); i += 2 {
		code, body := langs.Content[i].Value, langs.Content[i+1]
		if !isLangCode(code) {
			fail(langs.Content[i], "%q is not an ISO 639 code (key languages by the code of the label: yor for yor_Latn)", code)
			continue
		}
		if _, dup := set.byLang[code]; dup {
			fail(langs.Content[i], "language %s given twice", code)
			continue
		}
		set.byLang[code] = map[string][]*Template{}
		set.names[code] = map[string]string{}
		if body.Kind != yaml.MappingNode {
			fail(body, "%s: want a mapping of names and kinds", code)
			continue
		}
		for j := 0; j+1 < len(body.Content); j += 2 {
			key, val := body.Content[j], body.Content[j+1]
			if key.Value == "names" {
				var names map[string]string
				if err := val.Decode(&names); err != nil {
					fail(val, "%s.names: want a mapping of ISO 639 codes to names", code)
					continue
				}
				for k := range names {
					if !isLangCode(k) {
						fail(val, "%s.names: %q is not an ISO 639 code", code, k)
					}
				}
				set.names[code] = names
				continue
			}
			allowed, ok := kindVars[key.Value]
			if !ok {
				fail(key, "%s: unknown key %q; valid: names, %s", code, key.Value, strings.Join(TemplateKinds, ", "))
				continue
			}
			if val.Kind != yaml.SequenceNode {
				fail(val, "%s.%s: want a list of templates", code, key.Value)
				continue
			}
			for n, item := range val.Content {
				var raw struct {
					ID          string `yaml:"id"`
					Instruction string `yaml:"instruction"`
					Input       string `yaml:"input"`
					Unsure      bool   `yaml:"unsure"`
				}
				if item.Kind != yaml.MappingNode {
					fail(item, "%s.%s[%d]: want a mapping {instruction: ..., input: ...}", code, key.Value, n)
					continue
				}
				for k := 0; k+1 < len(item.Content); k += 2 {
					if f := item.Content[k].Value; f != "id" && f != "instruction" && f != "input" && f != "unsure" {
						fail(item.Content[k], "%s.%s[%d]: unknown key %q; valid: id, instruction, input, unsure", code, key.Value, n, f)
					}
				}
				if err := item.Decode(&raw); err != nil {
					fail(item, "%s.%s[%d]: %v", code, key.Value, n, err)
					continue
				}
				t := &Template{ID: raw.ID, Lang: code, Kind: key.Value, Unsure: raw.Unsure}
				if t.ID == "" {
					t.ID = fmt.Sprintf("%s.%s.%d", code, key.Value, n+1)
				}
				var err error
				if t.instruction, err = parseTmpl(raw.Instruction, allowed); err != nil {
					fail(item, "%s: instruction: %v", t.ID, err)
					continue
				}
				if t.input, err = parseTmpl(raw.Input, allowed); err != nil {
					fail(item, "%s: input: %v", t.ID, err)
					continue
				}
				switch {
				case blankText(raw.Instruction):
					fail(item, "%s: instruction is empty", t.ID)
					continue
				case !t.uses(allowed[0]):
					fail(item, "%s: a %s template must use {%s}", t.ID, key.Value, allowed[0])
					continue
				}
				t.index = len(set.all)
				set.all = append(set.all, t)
				set.byLang[code][key.Value] = append(set.byLang[code][key.Value], t)
			}
		}
	}
	ids := map[string]bool{}
	for _, t := range set.all {
		if ids[t.ID] {
			errs = append(errs, fmt.Errorf("%s: template id %s given twice", name, t.ID))
		}
		ids[t.ID] = true
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return set, nil
}

// Languages returns the languages of the set, sorted.
func (ts *TemplateSet) Languages() []string {
	out := make([]string, 0, len(ts.byLang))
	for l := range ts.byLang {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// Templates returns every template in file order.
func (ts *TemplateSet) Templates() []*Template { return slices.Clone(ts.all) }

// UsedFiles implements pipeline.FileUser: the template file.
func (c *InstructTemplateConfig) UsedFiles() []string {
	if c.Templates == "" {
		return nil
	}
	return []string{c.Templates}
}
