package stages

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	_ "github.com/sieve-data/sieve/formats" // output formats, for loading whole pipelines
	"github.com/sieve-data/sieve/lang"
	"github.com/sieve-data/sieve/pipeline"
)

// langidTestCandidates keeps the tests light: lingua-go loads a language's models only when
// a text needs them.
var langidTestCandidates = []string{"eng_Latn", "fra_Latn", "deu_Latn", "spa_Latn", "swh_Latn", "yor_Latn", "cym_Latn", "zul_Latn", "rus_Cyrl"}

func langidTestConfig() LangIDConfig {
	c := DefaultLangIDConfig()
	c.Candidates = langidTestCandidates
	return c
}

func newTestLangID(t testing.TB, mod func(*LangIDConfig)) *LangID {
	t.Helper()
	c := langidTestConfig()
	if mod != nil {
		mod(&c)
	}
	s, err := NewLangID(c, &pipeline.Env{Name: "langid", BaseDir: "."})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Texts written for these tests.
const (
	enText   = "The council opened a new library in the town centre on Monday, and hundreds of people queued in the rain to see it."
	yoText   = "Ìjọba ìbílẹ̀ ṣí ilé-ìkàwé tuntun ní àárín ìlú ní ọjọ́ Ajé, ọgọ́rọ̀ọ̀rún ènìyàn sì dúró nínú òjò láti wò ó."
	swText   = "Halmashauri ilifungua maktaba mpya katikati ya mji siku ya Jumatatu, na mamia ya watu walisubiri kwenye mvua."
	amText   = "አዲሱ ቤተ መጻሕፍት ሰኞ ጠዋት በከተማው መሃል ተከፈተ። በመቶዎች የሚቆጠሩ ሰዎች በዝናብ ውስጥ ይጠብቁ ነበር።"
	igboText = "Ndị ọrụ ugbo na-atụ anya mmiri ozuzo mbụ nke afọ a. Ha akwadoola ala ubi ha, ma zụta mkpụrụ ọhụrụ n'ahịa."
)

func TestLangIDVerdicts(t *testing.T) {
	tests := []struct {
		name       string
		mod        func(*LangIDConfig)
		text       string
		meta       map[string]any
		wantLang   string
		wantScript string
		wantReason string
		wantDetail string // regular expression
	}{
		{name: "english", text: enText, wantLang: "eng_Latn", wantScript: "Latn"},
		{name: "low accuracy, short text", mod: func(c *LangIDConfig) { c.Accuracy = "low" }, text: "Ìjọba ìbílẹ̀ ṣí ilé-ìkàwé tuntun.", wantLang: "yor_Latn", wantScript: "Latn"},
		{name: "yoruba", text: yoText, wantLang: "yor_Latn", wantScript: "Latn"},
		{name: "swahili", text: swText, wantLang: "swh_Latn", wantScript: "Latn"},
		{name: "amharic has no backend language", text: amText, wantLang: "und_Ethi", wantScript: "Ethi"},
		{name: "no letters", text: "12345 --- 😀", wantLang: "zxx_Zyyy", wantScript: "Zyyy"},
		{name: "igbo is not guessed", text: igboText, wantLang: "und_Latn", wantScript: "Latn"},
		{name: "igbo is guessed without the open-set check", mod: func(c *LangIDConfig) { c.OpenSet.Enabled = false },
			text: igboText, wantScript: "Latn", wantLang: "(yor|swh|zul)_Latn"},
		{name: "allow-list by label", mod: func(c *LangIDConfig) { c.Languages = []string{"yo", "Ethi"} },
			text: enText, wantLang: "eng_Latn", wantScript: "Latn", wantReason: "langid.not_allowed", wantDetail: `^eng_Latn not in languages$`},
		{name: "allow-list by script", mod: func(c *LangIDConfig) { c.Languages = []string{"yo", "Ethi"} },
			text: amText, wantLang: "und_Ethi", wantScript: "Ethi"},
		{name: "allow-list keeps listed language", mod: func(c *LangIDConfig) { c.Languages = []string{"yo", "Ethi"} },
			text: yoText, wantLang: "yor_Latn", wantScript: "Latn"},
		{name: "allow-list says why und", mod: func(c *LangIDConfig) { c.Languages = []string{"yor_Latn"} },
			text: igboText, wantLang: "und_Latn", wantScript: "Latn", wantReason: "langid.not_allowed",
			wantDetail: `^und_Latn not in languages \(best guess [a-z]{3}_Latn [01]\.\d\d does not fit its profile: fit -?\d+\.\d\d\)$`},
		{name: "below minimum confidence rejects", mod: func(c *LangIDConfig) { c.MinConfidence = map[string]float64{"default": 0.2, "eng_Latn": 0.9} },
			text: "The rain in town", wantLang: "eng_Latn", wantScript: "Latn", wantReason: "langid.low_confidence", wantDetail: `^eng_Latn 0\.\d\d < 0\.90$`},
		{name: "per-language minimum applies to its language only", mod: func(c *LangIDConfig) { c.MinConfidence = map[string]float64{"default": 0.2, "fra_Latn": 0.9} },
			text: "The rain in town", wantLang: "eng_Latn", wantScript: "Latn"},
		{name: "below minimum confidence keeps as und", mod: func(c *LangIDConfig) {
			c.MinConfidence = map[string]float64{"default": 0.9}
			c.Below = "und"
		}, text: "The rain in town", wantLang: "und_Latn", wantScript: "Latn"},
		{name: "instruction fields", mod: func(c *LangIDConfig) { c.Fields = []string{"prompt", "response"} },
			text: enText, meta: map[string]any{"prompt": yoText, "response": "Bẹ́ẹ̀ ni, ó dára gan-an."}, wantLang: "yor_Latn", wantScript: "Latn"},
		{name: "code-switched text is rejected", mod: func(c *LangIDConfig) {
			c.CodeSwitching = CodeSwitchingConfig{Enabled: true, MinAgreement: 0.8}
			c.SampleChars = -1
		}, text: enText + " " + swText + " " + enText, wantLang: "(eng|swh)_Latn", wantScript: "Latn",
			wantReason: "langid.code_switched", wantDetail: `^[12] of 3 sentences read as (eng|swh)_Latn \(agreement 0\.\d\d < 0\.80\)$`},
		{name: "one-language text passes the code-switching check", mod: func(c *LangIDConfig) {
			c.CodeSwitching = CodeSwitchingConfig{Enabled: true, MinAgreement: 0.8}
			c.SampleChars = -1
		}, text: yoText + " " + yoText, wantLang: "yor_Latn", wantScript: "Latn"},
		{name: "fields in two languages are code-switched", mod: func(c *LangIDConfig) {
			c.Fields = []string{"prompt", "response"}
			c.CodeSwitching = CodeSwitchingConfig{Enabled: true, MinAgreement: 0.75, Unit: "fields"}
		}, text: "", meta: map[string]any{"prompt": yoText, "response": enText}, wantLang: "(yor|eng)_Latn", wantScript: "Latn",
			wantReason: "langid.code_switched", wantDetail: `^1 of 2 fields read as (yor|eng)_Latn \(agreement 0\.50 < 0\.75\)$`},
		{name: "fields in one language agree", mod: func(c *LangIDConfig) {
			c.Fields = []string{"prompt", "response"}
			c.CodeSwitching = CodeSwitchingConfig{Enabled: true, MinAgreement: 0.75, Unit: "fields"}
		}, text: "", meta: map[string]any{"prompt": yoText, "response": "Bẹ́ẹ̀ ni, ilé-ìkàwé tuntun náà dára gan-an fún gbogbo ènìyàn ìlú."}, wantLang: "yor_Latn", wantScript: "Latn"},
		{name: "missing fields", mod: func(c *LangIDConfig) { c.Fields = []string{"prompt", "response"} },
			text: enText, meta: map[string]any{"prompt": 3}, wantReason: "langid.missing_field", wantDetail: `^no text in fields prompt, response$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestLangID(t, tt.mod)
			d := &pipeline.Document{Text: tt.text, Meta: tt.meta}
			v, err := s.Process(context.Background(), d)
			if err != nil {
				t.Fatal(err)
			}
			if v.Reason != tt.wantReason || !regexp.MustCompile(tt.wantDetail).MatchString(v.Detail) {
				t.Errorf("verdict %+v, want reason %q detail ~ %s", v, tt.wantReason, tt.wantDetail)
			}
			if !regexp.MustCompile("^"+tt.wantLang+"$").MatchString(d.Lang) || d.Script != tt.wantScript {
				t.Errorf("lang %s script %s, want %s %s", d.Lang, d.Script, tt.wantLang, tt.wantScript)
			}
			if c := s.cfg.CodeSwitching; c.Enabled && tt.wantReason != "langid.missing_field" {
				if n, ok := d.Meta[s.unitKey].(int64); !ok || n < 1 {
					t.Errorf("%s = %v, want a count", s.unitKey, d.Meta[s.unitKey])
				}
				if a, ok := d.Meta["lang_agreement"].(float64); !ok || a < 0 || a > 1 || (v.Reason == "" && a < c.MinAgreement) {
					t.Errorf("lang_agreement = %v with verdict %+v", d.Meta["lang_agreement"], v)
				}
				// stats.json counts the same unit as the metadata: sentences or fields.
				r := s.Report()
				if r[s.unit+"_classified"] != d.Meta[s.unitKey] || r[s.unit+"_agreeing"] == nil {
					t.Errorf("report %v, want %s_classified = %v and %s_agreeing", r, s.unit, d.Meta[s.unitKey], s.unit)
				}
			} else if _, ok := d.Meta["lang_agreement"]; ok {
				t.Errorf("lang_agreement written with code_switching off")
			}
			if lang.IsUnd(d.Lang) && d.LangScore != 0 || !lang.IsUnd(d.Lang) && d.Lang != "" && (d.LangScore < 0.2 || d.LangScore > 1) {
				t.Errorf("score %v for %s", d.LangScore, d.Lang)
			}
		})
	}
}

func TestLangIDConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(*LangIDConfig)
		field string
		msg   string
	}{
		{"defaults", func(*LangIDConfig) {}, "", ""},
		{"bad backend", func(c *LangIDConfig) { c.Backend = "cld3" }, "backend", `must be one of lingua, fasttext; got "cld3"`},
		{"fasttext without model", func(c *LangIDConfig) { c.Backend, c.Candidates = "fasttext", nil }, "model", "required for backend fasttext"},
		{"model with lingua", func(c *LangIDConfig) { c.Model = "lid.176.bin" }, "model", "only for backend lingua"[:0] + "only for backend fasttext"},
		{"unsupported candidate", func(c *LangIDConfig) { c.Candidates = []string{"yor_Latn", "ibo_Latn"} }, "candidates", `[1]: language "ibo_Latn" is not supported by lingua-go`},
		{"bad allow entry", func(c *LangIDConfig) { c.Languages = []string{"yor_Latn", "Klingon"} }, "languages", `[1]: "Klingon" is neither a known language label, und_<Script> nor an ISO 15924 script`},
		{"bad confidence", func(c *LangIDConfig) { c.MinConfidence = map[string]float64{"default": 1.5} }, "min_confidence.default", "must be in 0..1, got 1.5"},
		{"unknown confidence key", func(c *LangIDConfig) { c.MinConfidence = map[string]float64{"xx_Latn": 0.5} }, "min_confidence.xx_Latn", "unknown language (keys are labels such as yor_Latn, or default)"},
		{"bad below", func(c *LangIDConfig) { c.Below = "drop" }, "below", `must be one of reject, und; got "drop"`},
		{"bad sample", func(c *LangIDConfig) { c.SampleChars = 0 }, "sample_chars", "must be >= 1 or -1 (whole text), got 0"},
		{"bad max unknown", func(c *LangIDConfig) { c.OpenSet.MaxUnknown = 2 }, "open_set.max_unknown", "must be in 0..1, got 2"},
		{"bad script", func(c *LangIDConfig) { c.OpenSet.ScriptMinFit = map[string]float64{"Latin": -1} }, "open_set.script_min_fit.Latin", "not an ISO 15924 script code"},
		{"empty field", func(c *LangIDConfig) { c.Fields = []string{" "} }, "fields", "[0]: empty field name"},
		{"bad agreement", func(c *LangIDConfig) { c.CodeSwitching = CodeSwitchingConfig{Enabled: true, MinAgreement: 1.5} }, "code_switching.min_agreement", "must be in 0..1, got 1.5"},
		{"agreement without the signal", func(c *LangIDConfig) { c.CodeSwitching.MinAgreement = 0.5 }, "code_switching.min_agreement", "needs code_switching.enabled: true"},
		{"bad accuracy", func(c *LangIDConfig) { c.Accuracy = "medium" }, "accuracy", `must be one of high, low; got "medium"`},
		{"low accuracy with fasttext", func(c *LangIDConfig) { c.Backend, c.Candidates, c.Model, c.Accuracy = "fasttext", nil, "m.bin", "low" }, "accuracy", "only for backend lingua"},
		{"bad unit", func(c *LangIDConfig) { c.CodeSwitching.Unit = "words" }, "code_switching.unit", `must be one of sentences, fields; got "words"`},
		{"fields unit without fields", func(c *LangIDConfig) { c.CodeSwitching.Unit = "fields" }, "code_switching.unit", "fields needs two or more fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := langidTestConfig()
			tt.mod(&c)
			errs := c.Validate()
			if tt.field == "" {
				if len(errs) > 0 {
					t.Errorf("errors %v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Field != tt.field || !strings.HasPrefix(errs[0].Msg, tt.msg) {
				t.Errorf("errors %+v, want one on %s: %s", errs, tt.field, tt.msg)
			}
		})
	}
	if _, err := NewLangID(DefaultLangIDConfig(), &pipeline.Env{Name: "langid"}); err != nil {
		t.Errorf("defaults: %v", err)
	}
	c := langidTestConfig()
	c.Backend, c.Candidates, c.Model = "fasttext", nil, "missing.bin"
	if _, err := NewLangID(c, &pipeline.Env{Name: "langid", BaseDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "missing.bin") {
		t.Errorf("missing model: err = %v", err)
	}
	c = langidTestConfig()
	c.Profiles = []string{"nope.prof"}
	if _, err := NewLangID(c, &pipeline.Env{Name: "langid", BaseDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "nope.prof") {
		t.Errorf("missing profile: err = %v", err)
	}
}

// The YAML loader reports bad langid parameters with their line and column.
func TestLangIDConfigYAML(t *testing.T) {
	yml := `inputs: [{path: in.jsonl}]
stages:
  - langid:
      backend: lingua
      candidates: [yor_Latn, eng_Latn]
      min_confidence: {default: 0.3, yor_Latn: 1.5}
      open_set: {enabled: true, min_fit: -0.5, max_unknwn: 0.1}
output: {dir: out}
`
	_, err := pipeline.Load("p.yaml", []byte(yml), pipeline.DefaultRegistry())
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"p.yaml:6:48: stages[0].langid.min_confidence.yor_Latn: must be in 0..1, got 1.5",
		"p.yaml:7:48: stages[0].langid.open_set.max_unknwn: unknown field (did you mean max_unknown?); valid: enabled, min_fit, script_min_fit, max_unknown",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors:\n%v\nwant a line %s", err, want)
		}
	}
	good := strings.Replace(strings.Replace(yml, "1.5", "0.5", 1), "max_unknwn", "max_unknown", 1)
	cfg, err := pipeline.Load("p.yaml", []byte(good), pipeline.DefaultRegistry())
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Stages[0].Config.(*LangIDConfig)
	if c.OpenSet.MinFit != -0.5 || c.OpenSet.MaxUnknown != 0.1 || c.MinConfidence["yor_Latn"] != 0.5 || c.Below != "reject" {
		t.Errorf("decoded %+v", c)
	}
	// Defaults of fields not written stay.
	if c.SampleChars != lang.DefaultSampleChars || c.OpenSet.ScriptMinFit["Cyrl"] != lang.DefaultScriptMinFit()["Cyrl"] {
		t.Errorf("defaults lost: %+v", c)
	}
}

type langidSource struct {
	docs []pipeline.Document
	i    int
}

func (s *langidSource) Next(_ context.Context, d *pipeline.Document) error {
	if s.i == len(s.docs) {
		return io.EOF
	}
	*d = s.docs[s.i]
	s.i++
	return nil
}
func (s *langidSource) Close() error { return nil }

type langidSink struct {
	mu    sync.Mutex
	lines []string
}

func (c *langidSink) Write(_ context.Context, d *pipeline.Document) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, fmt.Sprintf("%s %s %s %v %s %s", d.ID, d.Lang, d.Script, d.LangScore, d.Rejected.Reason, d.Rejected.Detail))
	return nil
}
func (c *langidSink) Commit(context.Context) error { return nil }
func (c *langidSink) Abort() error                 { return nil }

// Labels, scores and rejects are the same with 1 and 4 workers.
func TestLangIDDeterministicAcrossWorkers(t *testing.T) {
	texts := []string{enText, yoText, swText, amText, igboText, "12 34", "Bonjour à tous, la bibliothèque ouvre lundi.",
		"Guten Morgen, die Bibliothek ist heute geöffnet.", "The rain in town", "Hello world", "a la casa de mi madre", "Roma capitale"}
	var docs []pipeline.Document
	for i := 0; i < 120; i++ {
		text := texts[i%len(texts)]
		docs = append(docs, pipeline.Document{ID: fmt.Sprintf("d%03d", i), Text: text})
	}
	var outs [][]string
	for _, workers := range []int{1, 4} {
		s := newTestLangID(t, func(c *LangIDConfig) { c.MinConfidence = map[string]float64{"default": 0.6} })
		kept, rej := &langidSink{}, &langidSink{}
		st, err := pipeline.Run(context.Background(), &pipeline.Plan{
			Source:  &langidSource{docs: docs},
			Stages:  []pipeline.StageInstance{{Name: "langid", Kind: "langid", Mode: pipeline.Parallel, Stage: s}},
			Output:  kept,
			Rejects: rej,
			Workers: workers, BatchSize: 8,
		})
		if err != nil {
			t.Fatal(err)
		}
		if st.Read != int64(len(docs)) || len(kept.lines)+len(rej.lines) != len(docs) {
			t.Fatalf("read %d, kept %d, rejected %d of %d", st.Read, len(kept.lines), len(rej.lines), len(docs))
		}
		if len(rej.lines) == 0 {
			t.Fatal("no document rejected: the corpus does not exercise min_confidence")
		}
		outs = append(outs, append(kept.lines, rej.lines...))
	}
	if !slices.Equal(outs[0], outs[1]) {
		t.Fatalf("1 and 4 workers differ:\n%s\n---\n%s", strings.Join(outs[0], "\n"), strings.Join(outs[1], "\n"))
	}
}

// benchLangIDDocs returns documents of about 1.4 KB (see lang's benchmarks): from the shared
// dev set when present, else lang/testdata/docs.tsv.
func benchLangIDDocs(b *testing.B) []string {
	path := filepath.Join("..", "lang", "testdata", "docs.tsv")
	size := 1 << 20
	for _, dir := range []string{os.Getenv("SIEVE_SHARED_DATA"), filepath.Join("..", "..", "shared", "data")} {
		if dir == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "langid", "dev.tsv")); err == nil {
			path, size = filepath.Join(dir, "langid", "dev.tsv"), 1400
			break
		}
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	ex, err := lang.ReadLabelled(f, path)
	if err != nil {
		b.Fatal(err)
	}
	var docs []string
	var sb strings.Builder
	cur, n := "", 0
	flush := func() {
		if sb.Len() > size*3/4 || size == 1<<20 {
			docs = append(docs, sb.String())
			n++
		}
		sb.Reset()
	}
	for _, e := range ex {
		if e.Gold != cur {
			flush()
			cur, n = e.Gold, 0
		}
		if n >= 4 {
			continue
		}
		if sb.Len() > 0 && sb.Len()+1+len(e.Text) > size {
			flush()
		}
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(e.Text)
	}
	flush()
	return docs
}

// BenchmarkLangIDProcess measures the stage with every lingua-go language on 1.4 KB
// documents; run with -cpu 1,2 to see worker scaling (each parallel goroutine is a worker).
func BenchmarkLangIDProcess(b *testing.B) {
	b.Run("default", func(b *testing.B) { benchLangID(b, DefaultLangIDConfig()) })
	// code_switching: one more prediction per sentence of the sample.
	b.Run("code_switching", func(b *testing.B) {
		c := DefaultLangIDConfig()
		c.CodeSwitching = CodeSwitchingConfig{Enabled: true, MinAgreement: 0.7}
		benchLangID(b, c)
	})
}

func benchLangID(b *testing.B, cfg LangIDConfig) {
	docs := benchLangIDDocs(b)
	s, err := NewLangID(cfg, &pipeline.Env{Name: "langid"})
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range docs { // load the models the documents need
		s.Process(context.Background(), &pipeline.Document{Text: d})
	}
	var bytes int64
	for _, d := range docs {
		bytes += int64(len(d))
	}
	b.SetBytes(bytes / int64(len(docs)))
	b.ReportAllocs()
	b.ResetTimer()
	var next atomicCounter
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d := pipeline.Document{Text: docs[next.inc()%len(docs)]}
			if _, err := s.Process(context.Background(), &d); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

type atomicCounter struct {
	mu sync.Mutex
	n  int
}

func (c *atomicCounter) inc() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return c.n
}

// The stage with a fastText model trained by the fasttext command on sentences written for
// lang/fasttext's tests: model labels map to the table (__label__yor -> yor_Latn), Ethiopic
// text is und_Ethi by script, and the open-set check refuses Igbo. Skipped without fasttext.
func TestLangIDFastText(t *testing.T) {
	bin, err := exec.LookPath("fasttext")
	if err != nil {
		t.Skip("fasttext command not installed")
	}
	dir := t.TempDir()
	var train strings.Builder
	for _, code := range []string{"deu", "eng", "fra", "rus", "swh", "yor"} {
		data, err := os.ReadFile(filepath.Join("..", "lang", "fasttext", "testdata", "train_"+code+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			train.WriteString("__label__" + code + " " + line + "\n")
		}
	}
	trainPath := filepath.Join(dir, "train.txt")
	if err := os.WriteFile(trainPath, []byte(train.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "supervised", "-input", trainPath, "-output", filepath.Join(dir, "m"),
		"-minn", "2", "-maxn", "4", "-epoch", "50", "-lr", "0.5", "-dim", "16", "-thread", "1", "-seed", "1", "-verbose", "0").CombinedOutput()
	if err != nil {
		t.Fatalf("fasttext supervised: %v\n%s", err, out)
	}
	cfg := DefaultLangIDConfig()
	cfg.Backend, cfg.Model = "fasttext", "m.bin" // relative to the config's directory
	s, err := NewLangID(cfg, &pipeline.Env{Name: "langid", BaseDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ text, want string }{
		{enText, "eng_Latn"},
		{yoText, "yor_Latn"},
		{swText, "swh_Latn"},
		{amText, "und_Ethi"},
		{igboText, "und_Latn"},
	} {
		d := &pipeline.Document{Text: tt.text}
		if _, err := s.Process(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		if d.Lang != tt.want {
			t.Errorf("%.30q: %s, want %s", tt.text, d.Lang, tt.want)
		}
	}
}
