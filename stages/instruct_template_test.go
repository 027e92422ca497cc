package stages

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sieve-data/sieve/formats"
	"github.com/sieve-data/sieve/pipeline"
)

const shippedTemplates = "../configs/templates/instruct.yaml"

func TestShippedTemplatesLoad(t *testing.T) {
	set, err := LoadTemplates(shippedTemplates)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cym", "eng", "hau", "swh", "yor", "zul"}
	if got := set.Languages(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("languages %v, want %v", got, want)
	}
	for _, lang := range want {
		for _, kind := range TemplateKinds {
			if len(set.byLang[lang][kind]) == 0 {
				t.Errorf("%s has no %s template", lang, kind)
			}
		}
		if set.names[lang][lang] == "" && lang != "eng" {
			t.Errorf("%s.names does not name the language itself", lang)
		}
	}
	vars := map[string]string{"text": "T", "title": "TI", "question": "Q", "context": "C", "source": "S", "source_lang": "SL", "target_lang": "TL"}
	for _, tm := range set.Templates() {
		got := pipeline.JoinPrompt(tm.instruction.render(vars), tm.input.render(vars))
		if strings.ContainsAny(got, "{}") {
			t.Errorf("%s renders with a brace: %q", tm.ID, got)
		}
		if tm.Lang == "eng" && tm.Unsure {
			t.Errorf("%s: the English fallback should not be unsure", tm.ID)
		}
	}
}

func TestParseTemplatesErrors(t *testing.T) {
	tests := []struct {
		name, give, want string
	}{
		{"unknown placeholder", "languages:\n  yor:\n    qa:\n      - instruction: \"Dáhùn {questoin}\"\n", "t.yaml:4:9: yor.qa.1: instruction: unknown placeholder {questoin}; this kind has {question}, {context}"},
		{"missing required placeholder", "languages:\n  swh:\n    continuation:\n      - instruction: \"Endeleza.\"\n", "t.yaml:4:9: swh.continuation.1: a continuation template must use {text}"},
		{"unclosed brace", "languages:\n  eng:\n    title_to_article:\n      - instruction: \"Write {title\"\n", "t.yaml:4:9: eng.title_to_article.1: instruction: unclosed { at byte 6 (write {{ for a literal brace)"},
		{"unknown kind", "languages:\n  eng:\n    summary: []\n", `t.yaml:3:5: eng: unknown key "summary"; valid: names, continuation, title_to_article, qa, translation`},
		{"bad language key", "languages:\n  yor_Latn: {}\n", `t.yaml:2:3: "yor_Latn" is not an ISO 639 code (key languages by the code of the label: yor for yor_Latn)`},
		{"unknown template key", "languages:\n  eng:\n    qa:\n      - {instruction: \"{question}\", prompt: x}\n", `t.yaml:4:37: eng.qa[0]: unknown key "prompt"; valid: id, instruction, input, unsure`},
		{"duplicate id", "languages:\n  eng:\n    qa:\n      - {id: q, instruction: \"{question}\"}\n      - {id: q, instruction: \"Q: {question}\"}\n", "t.yaml: template id q given twice"},
		{"empty instruction", "languages:\n  eng:\n    qa:\n      - {instruction: \"\", input: \"{question}\"}\n", "t.yaml:4:9: eng.qa.1: instruction is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTemplates("t.yaml", []byte(tt.give))
			if err == nil || err.Error() != tt.want {
				t.Errorf("error\n got %v\nwant %s", err, tt.want)
			}
		})
	}
	set, err := ParseTemplates("t.yaml", []byte("languages:\n  eng:\n    qa:\n      - instruction: \"{{literal}} {question}\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := set.all[0].instruction.render(map[string]string{"question": "Why?"}); got != "{literal} Why?" {
		t.Errorf("render = %q", got)
	}
}

func TestCutText(t *testing.T) {
	cfg := ContinuationConfig{MinChars: 40, PromptShare: 0.33, MinPartChars: 10}
	tests := []struct {
		name, give, wantHead string
		ok                   bool
	}{
		{"paragraph break near the target", "First paragraph is here.\n\nSecond paragraph follows, and it is the longest one of all, by far.", "First paragraph is here.", true},
		{"sentence end", "One short sentence. Another sentence that goes on for a while. And a third one to finish.", "One short sentence.", true},
		{"space only", "words without any sentence punctuation at all going on and on and on for quite a while", "words without any sentence", true},
		{"cjk full stops", "今天市场里人很多，天气也很好。卖水果的人很早就来了。我们买了很多苹果和香蕉，然后回家做饭。晚上全家人一起吃饭。", "今天市场里人很多，天气也很好。", true},
		{"ethiopic full stop", "ገበያው ዛሬ በሰዎች ተሞልቶ ነበር። ዝናብም ይዘንብ ነበር። ሰዎች ፍራፍሬና ዳቦ ገዙ።", "ገበያው ዛሬ በሰዎች ተሞልቶ ነበር።", true},
		{"too short", "Too short to cut.", "", false},
		{"no cut point", strings.Repeat("x", 100), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head, tail, ok := cutText(tt.give, &cfg)
			if ok != tt.ok || head != tt.wantHead {
				t.Fatalf("cutText = %q, %q, %v; want head %q, %v", head, tail, ok, tt.wantHead, tt.ok)
			}
			if ok && !strings.HasPrefix(tt.give, head) || ok && !strings.HasSuffix(tt.give, tail) {
				t.Errorf("parts %q + %q are not the text", head, tail)
			}
		})
	}
}

// runTemplateStage reads a config's inputs with the formats readers and runs its first
// stage (instruct_template) on every document.
func runTemplateStage(t *testing.T, cfgPath string, mod func(*InstructTemplateConfig)) []pipeline.Document {
	t.Helper()
	cfg, err := pipeline.LoadFile(cfgPath, pipeline.DefaultRegistry())
	if err != nil {
		t.Fatal(err)
	}
	sc := *cfg.Stages[0].Config.(*InstructTemplateConfig)
	if mod != nil {
		mod(&sc)
	}
	st, err := NewInstructTemplate(sc, &pipeline.Env{BaseDir: cfg.BaseDir})
	if err != nil {
		t.Fatal(err)
	}
	files, err := formats.PlanInputs(cfg.Inputs, "")
	if err != nil {
		t.Fatal(err)
	}
	src := formats.OpenInputs(files)
	defer src.Close()
	var docs []pipeline.Document
	for {
		var d pipeline.Document
		err := src.Next(context.Background(), &d)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if lang, ok := d.Meta["lang"].(string); ok {
			d.Lang = lang
			_, d.Script, _ = strings.Cut(lang, "_")
			delete(d.Meta, "lang")
		}
		v, err := st.Process(context.Background(), &d)
		if err != nil {
			t.Fatal(err)
		}
		if !v.Kept() {
			d.Reject("instruct_template", v.Reason, v.Detail)
		}
		docs = append(docs, d)
	}
	return docs
}

// Golden: testdata/golden/templates holds documents in several languages with titles,
// questions, parallel text or nothing but text; want_kept.jsonl is what the JSONL writer
// writes for the instruction records made, want_rejects.tsv the documents no kind applies to.
func TestInstructTemplateGolden(t *testing.T) {
	dir := "../testdata/golden/templates"
	docs := runTemplateStage(t, filepath.Join(dir, "pipeline.yaml"), nil)
	var kept, rejects bytes.Buffer
	w, err := formats.NewJSONLWriter(&kept, formats.InstructionShape(), "none")
	if err != nil {
		t.Fatal(err)
	}
	for i := range docs {
		d := &docs[i]
		d.Origin.File = filepath.Base(d.Origin.File)
		if d.IsRejected() {
			fmt.Fprintf(&rejects, "%s\t%s\t%s\n", d.ID, d.Rejected.Reason, d.Rejected.Detail)
			continue
		}
		if d.Text != d.Instruction.View(pipeline.ViewAll) {
			t.Errorf("%s: text is not the view", d.ID)
		}
		if err := w.Write(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join(dir, "want_kept.jsonl"), kept.Bytes())
	golden(t, filepath.Join(dir, "want_rejects.tsv"), rejects.Bytes())
}

func TestInstructTemplateChoice(t *testing.T) {
	set, err := LoadTemplates(shippedTemplates)
	if err != nil {
		t.Fatal(err)
	}
	newStage := func(mod func(*InstructTemplateConfig)) *InstructTemplate {
		c := DefaultInstructTemplateConfig()
		c.Templates = shippedTemplates
		c.Kinds = []string{KindQA}
		if mod != nil {
			mod(&c)
		}
		if errs := c.Validate(); len(errs) > 0 {
			t.Fatal(errs)
		}
		s, err := NewInstructTemplate(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	doc := func(id, lang string) *pipeline.Document {
		return &pipeline.Document{ID: id, Lang: lang, Text: "Kifungu cha habari.", Meta: map[string]any{"question": "Swali?", "answer": "Jibu.", "other": 1}}
	}
	s := newStage(nil)
	counts := map[string]int{}
	for i := 0; i < 3000; i++ {
		d := doc(fmt.Sprint(i), "swh_Latn")
		if v, _ := s.Process(context.Background(), d); !v.Kept() {
			t.Fatalf("rejected: %+v", v)
		}
		again := doc(fmt.Sprint(i), "swh_Latn")
		s.Process(context.Background(), again)
		if again.Instruction.Template != d.Instruction.Template {
			t.Fatalf("id %d got %s then %s", i, d.Instruction.Template, again.Instruction.Template)
		}
		counts[d.Instruction.Template]++
		if i == 0 && (d.Meta["question"] != nil || d.Meta["answer"] != nil || d.Meta["other"] != 1) {
			t.Errorf("metadata after the stage: %v", d.Meta)
		}
	}
	if len(counts) != len(set.byLang["swh"][KindQA]) {
		t.Errorf("used templates %v, want each of the %d", counts, len(set.byLang["swh"][KindQA]))
	}
	for id, n := range counts {
		if n < 1300 || n > 1700 {
			t.Errorf("%s chosen %d times of 3000; want about half", id, n)
		}
	}
	// Another seed chooses differently for some documents.
	other := newStage(func(c *InstructTemplateConfig) { c.Seed = 7 })
	changed := 0
	for i := 0; i < 200; i++ {
		a, b := doc(fmt.Sprint(i), "swh_Latn"), doc(fmt.Sprint(i), "swh_Latn")
		s.Process(context.Background(), a)
		other.Process(context.Background(), b)
		if a.Instruction.Template != b.Instruction.Template {
			changed++
		}
	}
	if changed < 50 {
		t.Errorf("seed 7 changed the template of %d of 200 documents", changed)
	}
	// A language without templates falls back to English, or is rejected without fallback.
	d := doc("x", "ibo_Latn")
	s.Process(context.Background(), d)
	if !strings.HasPrefix(d.Instruction.Template, "eng.qa.") {
		t.Errorf("Igbo document used %s, want an English fallback", d.Instruction.Template)
	}
	if s.Report()["fallback"].(int64) != 1 {
		t.Errorf("report %v", s.Report())
	}
	strict := newStage(func(c *InstructTemplateConfig) { c.Fallback = "" })
	if v, _ := strict.Process(context.Background(), doc("x", "ibo_Latn")); v.Reason != "instruct_template.no_template" {
		t.Errorf("no fallback: %+v", v)
	}
	// unsure: skip leaves only the checked templates.
	skip := newStage(func(c *InstructTemplateConfig) { c.Unsure = "skip"; c.Kinds = []string{KindContinuation} })
	long := &pipeline.Document{ID: "y", Lang: "yor_Latn", Text: strings.Repeat("Ọjà náà kún fún ènìyàn lónìí. ", 12)}
	skip.Process(context.Background(), long)
	if got := long.Instruction.Template; got != "eng.continuation.1" && got != "eng.continuation.2" {
		t.Errorf("yor continuation with unsure: skip used %s; the only yor one is unsure", got)
	}
	// Instruction records pass unchanged.
	in := &pipeline.Document{ID: "z", Instruction: &pipeline.Instruction{Messages: []pipeline.Message{{Role: "user", Content: "a"}, {Role: "assistant", Content: "b"}}}}
	if v, _ := s.Process(context.Background(), in); !v.Kept() || in.Instruction.Template != "" {
		t.Errorf("instruction record changed: %+v", in.Instruction)
	}
}

func TestInstructTemplateConfigValidate(t *testing.T) {
	c := DefaultInstructTemplateConfig()
	c.Kinds = []string{"qa", "summary", "qa", "translation"}
	c.View = "answers"
	c.Unsure = "maybe"
	c.Fallback = "English"
	c.Continuation.PromptShare = 1
	var got []string
	for _, e := range c.Validate() {
		got = append(got, e.Field+": "+e.Msg)
	}
	want := []string{
		"templates: required: a template file such as configs/templates/instruct.yaml",
		`kinds: [1]: unknown kind "summary"; valid: continuation, title_to_article, qa, translation`,
		"kinds: [2]: qa given twice",
		`view: must be one of all, output, prompt; got "answers"`,
		`fallback: want an ISO 639-3 code such as eng, or empty; got "English"`,
		`unsure: must be use or skip; got "maybe"`,
		"fields.source: required by kind translation: the field holding the parallel text",
		"continuation.prompt_share: must be in (0, 1), got 1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Validate:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func BenchmarkInstructTemplate(b *testing.B) {
	c := DefaultInstructTemplateConfig()
	c.Templates = shippedTemplates
	c.Kinds = []string{KindTitleToArticle, KindContinuation}
	s, err := NewInstructTemplate(c, nil)
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Repeat("Soko lilijaa watu leo, na bei za matunda zilipanda. ", 40)
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	i := 0
	for b.Loop() {
		d := pipeline.Document{ID: fmt.Sprint(i), Lang: "swh_Latn", Text: text}
		if i%2 == 0 {
			d.Meta = map[string]any{"title": "Soko"}
		}
		if v, _ := s.Process(context.Background(), &d); !v.Kept() {
			b.Fatal(v)
		}
		i++
	}
}
