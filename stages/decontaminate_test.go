package stages

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode"

	"github.com/parquet-go/parquet-go"
	"golang.org/x/text/unicode/norm"

	"github.com/sieve-data/sieve/pipeline"
)

const decontDir = "../testdata/decontaminate"

// decontRefs are the reference files of testdata/decontaminate.
func decontRefs() []DecontReference {
	return []DecontReference{
		{Path: "benchmarks/sentences.txt"},
		{Path: "benchmarks/qa.jsonl", TextFields: []string{"question", "answers"}},
		{Path: "benchmarks/reading.tsv", TextFields: []string{"passage", "question"}},
	}
}

func newDecont(t testing.TB, mod func(*DecontaminateConfig)) *Decontaminate {
	t.Helper()
	cfg := DefaultDecontaminateConfig()
	cfg.References = decontRefs()
	if mod != nil {
		mod(&cfg)
	}
	d, err := NewDecontaminate(cfg, decontDir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// refLine returns line n (1-based) of a reference file.
func refLine(t *testing.T, name string, n int) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(decontDir, "benchmarks", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(data), "\n")[n-1]
}

// words returns words [from, to) of s split at spaces.
func words(s string, from, to int) string { return strings.Join(strings.Fields(s)[from:to], " ") }

func TestDecontaminateVerdicts(t *testing.T) {
	d := newDecont(t, nil)
	yor := refLine(t, "sentences.txt", 1) // 25 words
	swa := refLine(t, "sentences.txt", 2) // 21 words
	amh := refLine(t, "sentences.txt", 4) // 18 words
	rus := refLine(t, "sentences.txt", 5) // 17 words
	hin := refLine(t, "sentences.txt", 6) // 22 words
	tha := refLine(t, "sentences.txt", 7) // 82 graphemes
	zho := refLine(t, "sentences.txt", 8) // 35 letters
	const (
		sentences = `benchmarks/sentences\.txt`
		swaHead   = `"Wanasayansi kutoka Chuo Kikuu cha Dar es Salaam wamegundua aina mpya ya mmea"`
	)
	tests := []struct {
		name, text string
		wantDetail string // regexp; empty: kept
	}{
		{name: "exact copy", text: swa,
			wantDetail: `^9 reference n-grams shared \(min_overlap 1\); first from .*` + sentences + `:2 at ` + swaHead + `$`},
		{name: "copy inside other text", text: "Habari za asubuhi. " + swa + " Asanteni kwa kusikiliza.",
			wantDetail: `^9 reference n-grams shared .*` + sentences + `:2 at ` + swaHead + `$`},
		{name: "case punctuation whitespace hyphen",
			text:       "ÀWỌN ONÍMỌ̀ SÁYẸ́ǸSÌ, ní ilé-ẹ̀kọ́ gíga ti Ìbàdàn\n\n ti ṣàwárí... oògùn   tuntun kan; tí ó lè dín àrùn ibà kù ní\tàwọn ìlú kéékèèké!!!",
			wantDetail: `^13 reference n-grams shared .*` + sentences + `:1 at "ÀWỌN ONÍMỌ̀ SÁYẸ́ǸSÌ, ní ilé-ẹ̀kọ́ gíga`},
		{name: "decomposed yoruba", text: norm.NFD.String(yor), wantDetail: `^13 reference n-grams shared .*` + sentences + `:1 `},
		{name: "apostrophes", text: strings.ReplaceAll(refLine(t, "sentences.txt", 3), "'", "’"), wantDetail: `^11 reference n-grams shared .*` + sentences + `:3 `},
		{name: "short document", text: "Kí ni orúkọ ìlú?"},
		{name: "twelve words of a sentence", text: "Leo: " + words(swa, 0, 12) + "."},
		{name: "thirteen words of a sentence", text: "Leo: " + words(swa, 5, 18) + ".", wantDetail: `^1 reference n-gram shared .*` + sentences + `:2 at "Dar es Salaam`},
		{name: "sentence split by a word", text: words(swa, 0, 11) + " sasa " + words(swa, 11, 21)},
		{name: "no overlap", text: "Manoma a jihar Kano sun ce damina ta bana ta yi kyau, kuma suna sa ran girbi mai yawa na gero da dawa."},
		{name: "amharic", text: "ዜና፡ " + amh, wantDetail: `^6 reference n-grams shared .*` + sentences + `:4 at "የአዲስ አበባ`},
		{name: "russian upper case", text: strings.ToUpper(strings.ReplaceAll(rus, ",", "")), wantDetail: `^5 reference n-grams shared .*` + sentences + `:5 at "УЧЁНЫЕ ИЗ`},
		{name: "hindi", text: hin, wantDetail: `^10 reference n-grams shared .*` + sentences + `:6 at "राज्य सरकार`},
		{name: "devanagari other sentence", text: "गाँव के लोगों ने मिलकर एक नया कुआँ खोदा है जिससे अब गर्मियों में पानी की कमी नहीं होगी।"},
		{name: "thai inside thai text", text: "ข่าววันนี้ " + tha + " ชาวบ้านต่างดีใจมาก", wantDetail: `^58 reference n-grams shared .*` + sentences + `:7 at "นักวิทยาศาสตร์`},
		{name: "thai part of a sentence", text: "ข่าววันนี้ " + string([]rune(tha)[:40]) + " ชาวบ้านต่างดีใจมาก", wantDetail: `^\d+ reference n-grams shared .*` + sentences + `:7 `},
		{name: "thai twenty graphemes", text: "ข่าววันนี้ " + string([]rune(tha)[:20])},
		{name: "thai unrelated", text: "ภาษาไทยเป็นภาษาที่เขียนโดยไม่เว้นวรรคระหว่างคำและมีวรรณยุกต์ห้าเสียง"},
		{name: "chinese", text: "新闻：" + zho, wantDetail: `^11 reference n-grams shared .*` + sentences + `:8 at "北京大学`},
		{name: "chinese unrelated", text: "今天上午，市政府宣布将在城市东部修建一座新的公园，预计明年春天向市民开放。"},
		{name: "whole short question", text: "Swali: mlima mrefu zaidi barani Afrika unaitwa nini na uko nchi gani? Jibu kesho.",
			wantDetail: `^1 reference n-gram shared .*benchmarks/qa\.jsonl:2 \(question\) at "mlima mrefu zaidi barani Afrika unaitwa nini na uko nchi gani"$`},
		{name: "short question cut", text: "Swali: mlima mrefu zaidi barani Afrika unaitwa nini na uko nchi?"},
		{name: "question below min_ngram", text: "Kí ni orúkọ ìlú? Ìbàdàn ni."},
		{name: "tsv passage", text: "Habari za kilimo. " + words(refLine(t, "reading.tsv", 2), 1, 23),
			wantDetail: `^10 reference n-grams shared .*benchmarks/reading\.tsv:2 \(passage\) at "Wakulima wa kahawa`},
		{name: "tsv question", text: "Kí ló mú kí èso kòkó dín kù ní ìpínlẹ̀ Ondo lọ́dún yìí?",
			wantDetail: `^1 reference n-gram shared .*benchmarks/reading\.tsv:3 \(question\) `},
		{name: "empty", text: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := d.Process(context.Background(), &pipeline.Document{Text: tt.text})
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantDetail == "" {
				if !v.Kept() {
					t.Fatalf("rejected: %s: %s", v.Reason, v.Detail)
				}
				return
			}
			if v.Reason != "decontaminate.overlap" {
				t.Fatalf("reason %q (%s), want decontaminate.overlap", v.Reason, v.Detail)
			}
			if !regexp.MustCompile(tt.wantDetail).MatchString(v.Detail) {
				t.Errorf("detail %q\n  want %s", v.Detail, tt.wantDetail)
			}
		})
	}
}

func TestDecontaminateMinOverlap(t *testing.T) {
	swa := refLine(t, "sentences.txt", 2)
	doc := "Leo: " + words(swa, 0, 15) + "." // 3 shared 13-grams
	tests := []struct {
		min      int
		wantKept bool
	}{{1, false}, {3, false}, {4, true}, {10, true}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.min), func(t *testing.T) {
			d := newDecont(t, func(c *DecontaminateConfig) { c.MinOverlap = tt.min })
			v, _ := d.Process(context.Background(), &pipeline.Document{Text: doc + " " + doc}) // repeats count once
			if v.Kept() != tt.wantKept {
				t.Fatalf("min_overlap %d: verdict %+v", tt.min, v)
			}
			if !v.Kept() && !strings.HasPrefix(v.Detail, fmt.Sprintf("3 reference n-grams shared (min_overlap %d)", tt.min)) {
				t.Errorf("detail %q", v.Detail)
			}
			if partial := d.Report()["partial_kept"].(int64); partial != map[bool]int64{true: 1, false: 0}[tt.wantKept] {
				t.Errorf("partial_kept %d", partial)
			}
		})
	}
}

func TestDecontaminateNGramSizes(t *testing.T) {
	swa := refLine(t, "sentences.txt", 2) // 21 words
	tests := []struct {
		name      string
		ngram     int
		min       int
		text      string
		wantShare int // 0: kept
	}{
		{"8-grams catch 9 words", 8, 8, words(swa, 3, 12), 2},
		{"13-grams miss 9 words", 13, 8, words(swa, 3, 12), 0},
		{"whole text of min words", 13, 8, "Mlima mrefu zaidi barani Afrika unaitwa nini na uko nchi gani", 1},
		{"no whole texts with min = ngram", 13, 13, "Mlima mrefu zaidi barani Afrika unaitwa nini na uko nchi gani", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDecont(t, func(c *DecontaminateConfig) { c.NGram, c.MinNGram = tt.ngram, tt.min })
			v, _ := d.Process(context.Background(), &pipeline.Document{Text: tt.text})
			if tt.wantShare == 0 {
				if !v.Kept() {
					t.Fatalf("rejected: %s", v.Detail)
				}
				return
			}
			if !regexp.MustCompile(fmt.Sprintf(`^%d reference n-grams? shared`, tt.wantShare)).MatchString(v.Detail) {
				t.Fatalf("verdict %+v, want %d shared", v, tt.wantShare)
			}
		})
	}
}

// decontOf builds the stage with one reference file holding lines, one text per line.
func decontOf(t *testing.T, mod func(*DecontaminateConfig), lines ...string) *Decontaminate {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bench.txt")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return newDecont(t, func(c *DecontaminateConfig) {
		c.References = []DecontReference{{Path: path}}
		if mod != nil {
			mod(c)
		}
	})
}

// With char_ngram and min_char_ngram equal to ngram and min_ngram, references only in
// scripts without spaces (a Thai or Chinese test set) are still matched in a document that
// also holds words (digits, Latin).
func TestDecontaminateSameWordAndCharSizes(t *testing.T) {
	tha := refLine(t, "sentences.txt", 7)
	zho := refLine(t, "sentences.txt", 8)
	short := string([]rune(zho)[:10]) // matched whole
	d := decontOf(t, func(c *DecontaminateConfig) { c.CharNGram, c.MinCharNGram = c.NGram, c.MinNGram }, tha, zho, short)
	for _, text := range []string{tha, "ข่าว 2024: " + tha, "News: " + zho, "2024 " + short} {
		if v, _ := d.Process(context.Background(), &pipeline.Document{Text: text}); v.Kept() {
			t.Errorf("%q kept", text)
		}
	}
}

// Invisible characters inside a word (soft hyphens of HTML &shy;, a zero width joiner
// written or not in Sinhala conjuncts) change nothing: the copy is still caught.
func TestDecontaminateInvisibleJoiners(t *testing.T) {
	swa := refLine(t, "sentences.txt", 2)
	sin := "ශ්\u200dරී ලංකාවේ ජනාධිපතිවරයා අද කොළඹ නගරයේ පැවති රැස්වීමකදී නව ආර්ථික සැලැස්මක් ඉදිරිපත් කළේය"
	d := decontOf(t, nil, swa, sin)
	for _, text := range []string{
		strings.NewReplacer("Kikuu", "Ki\u00adkuu", "wamegundua", "wame\u00adgundua", "unaostahimili", "unao\u00adsta\u00adhimili", "Tanzania", "Tan\u00adza\u00adnia").Replace(swa),
		strings.ReplaceAll(sin, "\u200d", ""),
	} {
		if v, _ := d.Process(context.Background(), &pipeline.Document{Text: text}); v.Kept() {
			t.Errorf("%+q kept", text)
		}
	}
}

// The modifier letters written for apostrophes (Hausa ʼ U+02BC, Hawaiian and Uzbek ʻ U+02BB)
// count as apostrophes: a copy typed with ' or ’ is caught, and the other way round.
func TestDecontaminateModifierApostrophes(t *testing.T) {
	hau := "Maʼaikatan lafiya sun ce yara da dama sun kamu da zazzabi jihar Kano" // 13 words: one 13-gram
	haw := "Ua ʻike nā kānaka o Hawaiʻi i ka ua nui ma ka mokupuni ʻo Oʻahu i kēia pule"
	d := decontOf(t, nil, hau, haw)
	for _, text := range []string{
		strings.ReplaceAll(hau, "ʼ", "'"),
		strings.ReplaceAll(hau, "ʼ", "’"),
		strings.ReplaceAll(haw, "ʻ", "‘"),
		strings.ReplaceAll(haw, "ʻ", "'"),
	} {
		if v, _ := d.Process(context.Background(), &pipeline.Document{Text: text}); v.Kept() {
			t.Errorf("%q kept", text)
		}
	}
}

// fold_diacritics: a copy written without tone marks or accents (Yoruba, Vietnamese, French,
// Greek) is caught, in NFC or NFD, and the other way round; without it, it is kept. Marks of
// other scripts still count.
func TestDecontaminateFoldDiacritics(t *testing.T) {
	yor := "Ìjọba ìbílẹ̀ ṣí ilé-ìkàwé tuntun ní àárín ìlú ní ọjọ́ Ajé, ọgọ́rọ̀ọ̀rún ènìyàn sì dúró nínú òjò"
	vie := "Hôm nay trời mưa rất to ở Hà Nội và nhiều con đường bị ngập nước sâu đến đầu gối người đi bộ"
	ell := "Η βιβλιοθήκη της πόλης άνοιξε ξανά σήμερα το πρωί μετά από δύο χρόνια εργασιών ανακαίνισης και επέκτασης"
	hin := "नई पुस्तकालय सोमवार सुबह शहर के बीच में खुली और सैकड़ों लोग बारिश में बाहर इंतज़ार करते रहे"
	strip := func(s string) string {
		var b strings.Builder
		for _, r := range norm.NFD.String(s) {
			if !unicode.Is(unicode.Mn, r) {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	tests := []struct {
		name      string
		ref, text string
		fold      bool
		wantKept  bool
	}{
		{"yoruba without tone marks", yor, strip(yor), true, false},
		{"yoruba without tone marks, option off", yor, strip(yor), false, true},
		{"reference without marks, text with them (NFD)", strip(yor), norm.NFD.String(yor), true, false},
		{"vietnamese without accents", vie, strip(vie), true, false},
		{"greek without accents", ell, strings.ToUpper(strip(ell)), true, false},
		{"hindi vowel signs still count", hin, strip(hin), true, true},
		{"hindi unchanged copy", hin, hin, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decontOf(t, func(c *DecontaminateConfig) { c.FoldDiacritics = tt.fold }, tt.ref)
			v, err := d.Process(context.Background(), &pipeline.Document{Text: tt.text})
			if err != nil {
				t.Fatal(err)
			}
			if v.Kept() != tt.wantKept {
				t.Errorf("kept %v, want %v: %+v", v.Kept(), tt.wantKept, v)
			}
		})
	}
}

// An instruction record is checked turn by turn, in the turns `fields` selects; references
// may be instruction records too (an adapter) or prompt and answer fields.
func TestDecontaminateInstruction(t *testing.T) {
	dir := t.TempDir()
	answer := "Kilimanjaro ndio mlima mrefu zaidi barani Afrika na uko kaskazini mashariki mwa Tanzania karibu na mpaka wa Kenya."
	prompt := "Eleza kwa ufupi mlima mrefu zaidi barani Afrika na mahali ulipo katika ramani ya Afrika Mashariki."
	line := fmt.Sprintf(`{"id": "x1", "prompt": %q, "response": %q}`, prompt, answer)
	if err := os.WriteFile(filepath.Join(dir, "test.jsonl"), []byte(line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	record := func(user, assistant string) *pipeline.Document {
		in := &pipeline.Instruction{Messages: []pipeline.Message{
			{Role: pipeline.RoleSystem, Content: "Wewe ni msaidizi."},
			{Role: pipeline.RoleUser, Content: user},
			{Role: pipeline.RoleAssistant, Content: assistant},
		}}
		return &pipeline.Document{Instruction: in, Text: in.View(pipeline.ViewAll)}
	}
	copied := record("Niambie kuhusu milima ya Afrika.", "Jibu: "+answer)
	copiedPrompt := record(prompt, "Ni Kilimanjaro.")
	clean := record("Niambie kuhusu milima ya Afrika.", "Milima mingi iko Afrika Mashariki.")
	refs := map[string][]DecontReference{
		"adapter":     {{Path: "test.jsonl", Adapter: "pairs"}},
		"text_fields": {{Path: "test.jsonl", TextFields: []string{"prompt", "response"}}},
	}
	tests := []struct {
		refs, name string
		fields     []string
		doc        *pipeline.Document
		wantDetail string
	}{
		{"adapter", "answer copied", []string{"messages"}, copied, `test\.jsonl:1 \(assistant turn 2\) at "Kilimanjaro ndio`},
		{"adapter", "answer copied, prompts only", []string{"prompt"}, copied, ""},
		{"adapter", "answer copied, responses", []string{"response"}, copied, `test\.jsonl:1 \(assistant turn 2\)`},
		{"adapter", "prompt copied", []string{"prompt", "response"}, copiedPrompt, `test\.jsonl:1 \(user turn 1\) at "Eleza`},
		{"adapter", "clean", []string{"messages"}, clean, ""},
		{"text_fields", "answer copied", []string{"messages"}, copied, `test\.jsonl:1 \(response\) at "Kilimanjaro ndio`},
		{"text_fields", "prompt copied", []string{"messages"}, copiedPrompt, `test\.jsonl:1 \(prompt\) at "Eleza`},
	}
	for _, tt := range tests {
		t.Run(tt.refs+"/"+tt.name, func(t *testing.T) {
			cfg := DefaultDecontaminateConfig()
			cfg.References, cfg.Fields = refs[tt.refs], tt.fields
			d, err := NewDecontaminate(cfg, dir)
			if err != nil {
				t.Fatal(err)
			}
			v, _ := d.Process(context.Background(), tt.doc)
			if tt.wantDetail == "" {
				if !v.Kept() {
					t.Fatalf("rejected: %s", v.Detail)
				}
				return
			}
			if v.Reason != "decontaminate.overlap" || !regexp.MustCompile(tt.wantDetail).MatchString(v.Detail) {
				t.Fatalf("verdict %+v, want detail ~ %s", v, tt.wantDetail)
			}
		})
	}
}

// An instruction reference whose answer or prompt is empty (a test split published without
// its answers) still has its other turns matched.
func TestDecontaminateInstructionEmptyTurn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.jsonl")
	question := "Eleza kwa ufupi mlima mrefu zaidi barani Afrika na mahali ulipo katika ramani ya Afrika Mashariki."
	answer := "Kilimanjaro ndio mlima mrefu zaidi barani Afrika na uko kaskazini mashariki mwa Tanzania karibu na mpaka wa Kenya."
	lines := fmt.Sprintf(`{"instruction": %q, "input": "", "output": ""}`+"\n"+`{"instruction": "  ", "input": "", "output": %q}`+"\n", question, answer)
	if err := os.WriteFile(path, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	d := newDecont(t, func(c *DecontaminateConfig) { c.References = []DecontReference{{Path: path, Adapter: "alpaca"}} })
	for text, want := range map[string]string{"Swali: " + question: `test\.jsonl:1 \(user turn 1\)`, "Jibu: " + answer: `test\.jsonl:2 \(assistant turn 2\)`} {
		v, _ := d.Process(context.Background(), &pipeline.Document{Text: text})
		if v.Kept() || !regexp.MustCompile(want).MatchString(v.Detail) {
			t.Errorf("%q: verdict %+v, want detail ~ %s", text, v, want)
		}
	}
	if refs := d.Report()["references"].([]refStats); refs[0].Texts != 2 || refs[0].Empty != 2 {
		t.Errorf("report %+v, want 2 texts and 2 empty turns", refs[0])
	}
}

// A chat test set of prompts only (no assistant turn, or a last turn that is the user's: the
// answer is what the benchmark generates) is reference text too.
func TestDecontaminatePromptOnlyConversations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.jsonl")
	q1 := "Eleza kwa ufupi mlima mrefu zaidi barani Afrika na mahali ulipo katika ramani ya Afrika Mashariki."
	a1 := "Kilimanjaro ndio mlima mrefu zaidi barani Afrika na uko kaskazini mashariki mwa Tanzania karibu na mpaka wa Kenya."
	q2 := "Sasa niambie ni nchi gani nyingine za Afrika Mashariki zina milima mirefu inayojulikana na watalii wengi."
	lines := fmt.Sprintf(`{"messages": [{"role": "user", "content": %q}]}`+"\n"+
		`{"messages": [{"role": "user", "content": %q}, {"role": "assistant", "content": %q}, {"role": "user", "content": %q}]}`+"\n", q1, q1, a1, q2)
	if err := os.WriteFile(path, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultDecontaminateConfig()
	cfg.References = []DecontReference{{Path: path, Adapter: "messages"}}
	d, err := NewDecontaminate(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]string{"Swali: " + q1: `test\.jsonl:1 \(user turn 1\)`, "Jibu: " + a1: `test\.jsonl:2 \(assistant turn 2\)`, q2: `test\.jsonl:2 \(user turn 3\)`} {
		v, _ := d.Process(context.Background(), &pipeline.Document{Text: text})
		if v.Kept() || !regexp.MustCompile(want).MatchString(v.Detail) {
			t.Errorf("%q: verdict %+v, want detail ~ %s", text, v, want)
		}
	}
}

// The first of text_fields may hold a list of texts, or be empty in a record: the other
// fields of the record are still reference text.
func TestDecontaminateFieldShapes(t *testing.T) {
	dir := t.TempDir()
	a := "Kilimanjaro ndio mlima mrefu zaidi barani Afrika na uko kaskazini mashariki mwa Tanzania"
	q := "Mlima gani ni mrefu zaidi barani Afrika na uko katika nchi gani ya Afrika Mashariki"
	files := map[string]string{
		"list.jsonl":  fmt.Sprintf(`{"answers": [%q, "1961"], "q": %q}`+"\n", a, q),
		"empty.jsonl": fmt.Sprintf(`{"answers": "", "q": %q}`+"\n"+`{"answers": %q, "q": null}`+"\n", q, a),
		"empty.csv":   fmt.Sprintf("answers,q\n,%s\n%s,\n", q, a),
	}
	for name, content := range files {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := DefaultDecontaminateConfig()
			cfg.References = []DecontReference{{Path: name, TextFields: []string{"answers", "q"}}}
			d, err := NewDecontaminate(cfg, dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, text := range []string{a, q} {
				if v, _ := d.Process(context.Background(), &pipeline.Document{Text: "Swali: " + text + "."}); v.Kept() {
					t.Errorf("%q kept", text)
				}
			}
			if refs := d.Report()["references"].([]refStats); refs[0].Texts != 2 {
				t.Errorf("report %+v, want 2 texts", refs[0])
			}
		})
	}
}

// A Parquet reference (written with parquet-go, not our writer) is read by row; a null cell
// is skipped.
func TestDecontaminateParquetReference(t *testing.T) {
	type row struct {
		ID       string  `parquet:"id"`
		Passage  string  `parquet:"passage"`
		Question *string `parquet:"question,optional"`
	}
	q := "Ni nini kilichosababisha mavuno ya kahawa kupungua katika mkoa wa Kilimanjaro mwaka huu?"
	rows := []row{
		{ID: "p1", Passage: "Mvua za mwaka huu zilichelewa sana katika mkoa wa Kilimanjaro, kwa hiyo wakulima wa kahawa wanatarajia mavuno kidogo."},
		{ID: "p2", Passage: "Serikali ya wilaya imejenga barabara mpya inayounganisha vijiji vitano na soko kuu la mji wa Moshi.", Question: &q},
	}
	dir := t.TempDir()
	if err := parquet.WriteFile(filepath.Join(dir, "bench.parquet"), rows); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultDecontaminateConfig()
	cfg.References = []DecontReference{{Path: "bench.parquet", TextFields: []string{"passage", "question"}}}
	d, err := NewDecontaminate(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ text, want string }{
		{"Habari: " + rows[1].Passage, `bench\.parquet:2 \(passage\)`},
		{"Swali: " + q, `bench\.parquet:2 \(question\)`},
		{"Habari: mvua za mwaka huu zilichelewa sana katika mkoa wa Kilimanjaro, kwa hiyo wakulima wa kahawa.", `bench\.parquet:1 \(passage\)`},
	} {
		v, _ := d.Process(context.Background(), &pipeline.Document{Text: tt.text})
		if !regexp.MustCompile(tt.want).MatchString(v.Detail) {
			t.Errorf("%q: verdict %+v, want detail ~ %s", tt.text, v, tt.want)
		}
	}
	refs := d.Report()["references"].([]refStats)
	if len(refs) != 1 || refs[0].Texts != 3 || refs[0].Empty != 1 || len(refs[0].Files) != 1 || refs[0].Files[0].Records != 2 || len(refs[0].Files[0].SHA256) != 64 {
		t.Errorf("report %+v", refs)
	}
}

// Reference files that are missing, broken or hold nothing to match stop the stage from
// starting, with the file (and line) named.
func TestDecontaminateReferenceErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	long := "moja mbili tatu nne tano sita saba nane tisa kumi kumi na moja kumi na mbili"
	write("ok.jsonl", `{"q": "`+long+`", "a": "`+long+` tena"}`+"\n")
	write("bad.jsonl", `{"q": "`+long+`"}`+"\n"+`{"q": broken}`+"\n")
	write("short.txt", "neno moja\nmaneno mawili tu\n")
	write("list.jsonl", `{"q": "`+long+`", "a": {"text": "x"}}`+"\n")
	write("empty.txt", "\n\n")
	tests := []struct {
		name string
		refs []DecontReference
		want string
	}{
		{"missing file", []DecontReference{{Path: "nope/flores.txt"}}, `references\[0\]: .*nope/flores\.txt: no such file or directory`},
		{"glob matching nothing", []DecontReference{{Path: "ok.jsonl", TextFields: []string{"q"}}, {Path: "*.parquet"}}, `references\[1\]: .*\*\.parquet: no file matches`},
		{"broken json", []DecontReference{{Path: "bad.jsonl", TextFields: []string{"q"}}}, `references\[0\]: .*bad\.jsonl:2: .*read\.invalid_json`},
		{"missing text field", []DecontReference{{Path: "ok.jsonl", TextFields: []string{"question"}}}, `references\[0\]: .*ok\.jsonl:1: no field "question".*read\.missing_text`},
		{"missing second field", []DecontReference{{Path: "ok.jsonl", TextFields: []string{"q", "answer"}}}, `references\[0\]: .*ok\.jsonl:1: no field "answer" \(text_fields\[1\]\)`},
		{"object field", []DecontReference{{Path: "list.jsonl", TextFields: []string{"q", "a"}}}, `list\.jsonl:1: field "a" is map\[string\]interface \{\}, want text`},
		{"nothing long enough", []DecontReference{{Path: "short.txt"}, {Path: "empty.txt"}}, `hold no text of 8 words`},
		{"adapter on text", []DecontReference{{Path: "short.txt", Adapter: "pairs"}}, `short\.txt: adapter pairs needs records with fields`},
		{"fields of a text file", []DecontReference{{Path: "short.txt", TextFields: []string{"q"}}}, `short\.txt: text_fields needs records with fields`},
		{"unknown format", []DecontReference{{Path: "ok.jsonl", Format: "xml"}}, `references\[0\]\.format: unknown format "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultDecontaminateConfig()
			cfg.References = tt.refs
			_, err := NewDecontaminate(cfg, dir)
			if err == nil || !regexp.MustCompile(tt.want).MatchString(err.Error()) {
				t.Fatalf("error %v, want ~ %s", err, tt.want)
			}
		})
	}
}

func TestDecontaminateLint(t *testing.T) {
	yaml := `inputs: [{path: in.jsonl}]
stages:
  - decontaminate:
      references:
        - path: bench/a.txt
        - path: bench/b.jsonl
          text_field: question
          format: xml
      ngram: 1
      fields: [prompt, answer]
      min_overlp: 2
`
	_, err := pipeline.Load("p.yaml", []byte(yaml), pipeline.DefaultRegistry())
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		"p.yaml:7:11: stages[0].decontaminate.references[1].text_field: unknown field (did you mean text_fields?)",
		`p.yaml:8:19: stages[0].decontaminate.references[1].format: unknown format "xml"`,
		"p.yaml:9:14: stages[0].decontaminate.ngram: must be in 2..64, got 1",
		`p.yaml:10:24: stages[0].decontaminate.fields[1]: must be one of prompt, response, system, messages; got "answer"`,
		"p.yaml:11:7: stages[0].decontaminate.min_overlp: unknown field (did you mean min_overlap?)",
	}
	got := err.Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in\n%s", w, got)
		}
	}
}

// Verdicts do not depend on how many workers check documents, nor in which order.
func TestDecontaminateConcurrent(t *testing.T) {
	d := newDecont(t, nil)
	data, err := os.ReadFile(filepath.Join(decontDir, "benchmarks", "sentences.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	rng := rand.New(rand.NewPCG(1, 2))
	docs := make([]string, 400)
	for i := range docs {
		var b strings.Builder
		for j := 0; j < 6; j++ {
			l := []rune(lines[rng.IntN(len(lines))])
			from := rng.IntN(len(l))
			b.WriteString(string(l[from:min(len(l), from+rng.IntN(120))]) + " ")
		}
		docs[i] = b.String()
	}
	verdict := func(i int) pipeline.Verdict {
		v, _ := d.Process(context.Background(), &pipeline.Document{Text: docs[i]})
		return v
	}
	want := make([]pipeline.Verdict, len(docs))
	rejected := 0
	for i := range docs {
		want[i] = verdict(i)
		if !want[i].Kept() {
			rejected++
		}
	}
	if rejected == 0 || rejected == len(docs) {
		t.Fatalf("%d of %d rejected: the test checks nothing", rejected, len(docs))
	}
	got := make([]pipeline.Verdict, len(docs))
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, i := range rand.New(rand.NewPCG(uint64(w), 9)).Perm(len(docs)) {
				if i%4 == w {
					got[i] = verdict(i)
				}
			}
		}()
	}
	wg.Wait()
	for i := range docs {
		if got[i] != want[i] {
			t.Fatalf("doc %d: %+v with 4 workers, %+v with 1", i, got[i], want[i])
		}
	}
}

// Checking a document that is kept allocates nothing once the scratch buffers have grown.
func TestDecontaminateNoAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("allocation counts differ under -cover")
	}
	d := newDecont(t, nil)
	texts := map[string]string{
		"latin":      strings.Repeat("Manoma a jihar Kano sun ce damina ta bana ta yi kyau. ", 40),
		"nfd yoruba": norm.NFD.String(strings.Repeat("Ìjọba ìpínlẹ̀ Èkó ti kéde pé àwọn ọkọ̀ ojú irin tuntun yóò bẹ̀rẹ̀ iṣẹ́. ", 30)),
		"thai":       strings.Repeat("ภาษาไทยเป็นภาษาที่เขียนโดยไม่เว้นวรรคระหว่างคำ ", 30),
	}
	for name, text := range texts {
		doc := &pipeline.Document{Text: text}
		d.Process(context.Background(), doc)
		if n := testing.AllocsPerRun(20, func() { d.Process(context.Background(), doc) }); n != 0 {
			t.Errorf("%s: %v allocations per document", name, n)
		}
	}
}

func TestGramTable(t *testing.T) {
	for _, n := range []int{0, 1, 3, 100, 5000, 100000} {
		for _, chunk := range []int{7, 1000, gramChunk} {
			if chunk < 100 && n > 5000 {
				continue // slow, and no more to learn
			}
			rng := rand.New(rand.NewPCG(uint64(n), 1))
			set := gramSet{chunk: chunk}
			want := map[uint64]uint32{}
			var added []uint64
			note := func(k uint64, item uint32) {
				set.add(k, item)
				added = append(added, k)
				if w, seen := want[k]; !seen || item < w {
					want[k] = item
				}
			}
			for i := 0; i < n; i++ {
				k := rng.Uint64()
				if i%7 == 0 && n <= 5000 {
					k >>= 40 // small keys: a crowded first bucket
				}
				note(k, uint32(i+10))
				if i%3 == 0 { // a key added before, maybe in another chunk, with a smaller item
					note(added[rng.IntN(len(added))], uint32(i))
				}
			}
			tab := set.table()
			if len(tab.keys) != len(want) || !slices.IsSorted(tab.keys) {
				t.Fatalf("n=%d chunk=%d: %d keys, want %d distinct, sorted", n, chunk, len(tab.keys), len(want))
			}
			for k, item := range want {
				if i := tab.find(k); i < 0 || tab.vals[i] != item {
					t.Fatalf("n=%d chunk=%d: key %x: index %d, want item %d", n, chunk, k, i, item)
				}
			}
			for i := 0; i < 1000; i++ {
				k := rng.Uint64()
				if _, in := want[k]; !in && tab.find(k) >= 0 {
					t.Fatalf("n=%d chunk=%d: absent key %x found", n, chunk, k)
				}
			}
		}
	}
}

// benchRefs writes n reference documents of about 100 words from the generator's word
// lists (several languages), one per line, and returns the file and the words.
func benchRefs(tb testing.TB, n int) (string, []string) {
	tb.Helper()
	var vocab []string
	for _, l := range []string{"yor", "swa", "hau", "amh", "zul", "eng"} {
		data, err := os.ReadFile(filepath.Join("../bench/gen/words", l+".txt"))
		if err != nil {
			tb.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.HasPrefix(line, "#") {
				vocab = append(vocab, strings.Fields(line)...)
			}
		}
	}
	rng := rand.New(rand.NewPCG(7, 7))
	var b strings.Builder
	for i := 0; i < n; i++ {
		for w := 0; w < 90+rng.IntN(20); w++ {
			b.WriteString(vocab[rng.IntN(len(vocab))])
			b.WriteByte(' ')
		}
		b.WriteString(".\n")
	}
	path := filepath.Join(tb.TempDir(), "refs.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path, vocab
}

// BenchmarkDecontaminate checks ~3 KB documents (words of the same languages as the
// references, so every word is known but its 13-grams are not) against 10,000 reference
// documents of about 100 words (about 900,000 13-grams).
func BenchmarkDecontaminate(b *testing.B) {
	path, vocab := benchRefs(b, 10000)
	cfg := DefaultDecontaminateConfig()
	cfg.References = []DecontReference{{Path: path}}
	d, err := NewDecontaminate(cfg, "")
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	docs := make([]*pipeline.Document, 64)
	size := 0
	for i := range docs {
		var sb strings.Builder
		for sb.Len() < 3000 {
			sb.WriteString(vocab[rng.IntN(len(vocab))] + " ")
		}
		docs[i] = &pipeline.Document{Text: sb.String()}
		size += sb.Len()
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(size / len(docs)))
	i := 0
	cpu0 := processCPU()
	for b.Loop() {
		if v, _ := d.Process(ctx, docs[i%len(docs)]); !v.Kept() {
			b.Fatal(v.Detail)
		}
		i++
	}
	cpu := processCPU() - cpu0
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	// per second of CPU time (GC included): the per-core figure, steadier on a shared machine
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "docs/cpu-s")
}

// processCPU returns the user and system CPU time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDecontaminateBuild reads 10,000 reference documents and reports the memory the
// table keeps per distinct n-gram (heap after a GC, with the stage alive).
func BenchmarkDecontaminateBuild(b *testing.B) {
	path, _ := benchRefs(b, 10000)
	cfg := DefaultDecontaminateConfig()
	cfg.References = []DecontReference{{Path: path}}
	var d *Decontaminate
	var before, after runtime.MemStats
	for b.Loop() {
		d = nil
		runtime.GC()
		runtime.ReadMemStats(&before)
		var err error
		if d, err = NewDecontaminate(cfg, ""); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
	}
	ngrams := len(d.grams.keys)
	b.ReportMetric(float64(ngrams), "ngrams")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(ngrams), "heap-B/ngram")
	b.ReportMetric(d.Report()["bytes_per_ngram"].(float64), "index-B/ngram")
	runtime.KeepAlive(d)
}

// FuzzDecontaminate checks arbitrary text: no panic, and a text in NFC and in NFD gives the
// same units and the same verdict.
func FuzzDecontaminate(f *testing.F) {
	d := newDecont(f, nil)
	f.Add("ÀWỌN ONÍMỌ̀ SÁYẸ́ǸSÌ ní ilé-ẹ̀kọ́ gíga ti Ìbàdàn ti ṣàwárí oògùn tuntun kan tí ó lè dín àrùn ibà kù")
	f.Add("ข่าววันนี้ นักวิทยาศาสตร์จากมหาวิทยาลัยเชียงใหม่ค้นพบพืชชนิดใหม่ 2024 ok")
	f.Add("が ́a 'x- ςΣ 3.5 \xff")
	f.Fuzz(func(t *testing.T, text string) {
		var a, b unitScratch
		nfc, nfd := norm.NFC.String(text), norm.NFD.String(text)
		a.units(nfc)
		b.units(nfd)
		if !slices.Equal(a.hashes, b.hashes) {
			t.Fatalf("NFC gives %d units, NFD %d", len(a.hashes), len(b.hashes))
		}
		v1, err1 := d.Process(context.Background(), &pipeline.Document{Text: nfc})
		v2, err2 := d.Process(context.Background(), &pipeline.Document{Text: nfd})
		if err1 != nil || err2 != nil || v1.Kept() != v2.Kept() {
			t.Fatalf("NFC %+v %v, NFD %+v %v", v1, err1, v2, err2)
		}
	})
}

// TestDecontaminateExampleConfig runs configs/decontaminate.yaml's stage over its input and
// checks the documents it removes (see testdata/decontaminate/README.md).
func TestDecontaminateExampleConfig(t *testing.T) {
	cfg, err := pipeline.LoadFile("../configs/decontaminate.yaml", pipeline.DefaultRegistry())
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDecontaminate(*cfg.Stages[0].Config.(*DecontaminateConfig), cfg.BaseDir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(decontDir, "train.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var rejected []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var rec struct{ ID, Text string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if v, _ := d.Process(context.Background(), &pipeline.Document{ID: rec.ID, Text: rec.Text}); !v.Kept() {
			rejected = append(rejected, rec.ID)
		}
	}
	if want := []string{"t02", "t03", "t04", "t05", "t09", "t10"}; !slices.Equal(rejected, want) {
		t.Errorf("rejected %v, want %v", rejected, want)
	}
}
