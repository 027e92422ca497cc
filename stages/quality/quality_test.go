package quality

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sieve-data/sieve/pipeline"
)

// englishDoc is ordinary prose (about 125 words) that passes every rule with the defaults.
const englishDoc = "The village council met on Tuesday evening to discuss the new water project. " +
	"Members of the council said that the old pipes have been leaking for years, and that many families " +
	"have to walk to the river with buckets. The engineer who designed the project explained that the work " +
	"will take about six months and that the cost will be shared between the district and a regional " +
	"development fund. Several residents asked whether the new pipes would reach the houses on the hill. " +
	"The engineer replied that a second phase of the project is planned for next year. At the end of the " +
	"meeting the chairwoman thanked everyone for coming and promised to publish the minutes on the notice board."

// englishLines is englishDoc with one sentence per line.
var englishLines = strings.ReplaceAll(englishDoc, ". ", ".\n")

func newStage(t *testing.T, kind string, mod func(cfg any)) *Stage {
	t.Helper()
	cfg := DefaultConfig(kind)
	if mod != nil {
		mod(cfg)
	}
	s, err := New(kind, cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func run(t *testing.T, s *Stage, lang, text string) (pipeline.Verdict, *pipeline.Document) {
	t.Helper()
	d := &pipeline.Document{ID: "d", Text: text, Lang: lang}
	v, err := s.Process(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	return v, d
}

type ruleCase struct {
	name       string
	mod        func(cfg any)
	lang       string
	give       string
	wantReason string // "" = kept
	wantDetail string // regexp the detail must match (anchored)
}

func runCases(t *testing.T, kind string, tests []ruleCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStage(t, kind, tt.mod)
			v, _ := run(t, s, tt.lang, tt.give)
			if v.Reason != tt.wantReason {
				t.Fatalf("reason = %q (%s), want %q", v.Reason, v.Detail, tt.wantReason)
			}
			if tt.wantDetail != "" && !regexp.MustCompile("^(?:"+tt.wantDetail+")$").MatchString(v.Detail) {
				t.Errorf("detail = %q, want /%s/", v.Detail, tt.wantDetail)
			}
		})
	}
}

func repeatWords(words string, n int) string {
	f := strings.Fields(words)
	out := make([]string, n)
	for i := range out {
		out[i] = f[i%len(f)]
	}
	return strings.Join(out, " ")
}

func TestGopherQualityRules(t *testing.T) {
	bullets := strings.Repeat("• the council and the engineer met with residents about water\n", 10)
	ellipses := strings.Repeat("The council said that the work will be shared with the district...\n", 4) + englishLines
	numbers := englishDoc + " " + repeatWords("12 345 6789 2024 17 88 1000 42 7 365", 60)
	tests := []ruleCase{
		{name: "prose kept", give: englishDoc},
		{name: "lines kept", give: englishLines},
		{name: "too few words", give: "The cat sat on the mat with the dog.", wantReason: "gopher_quality.word_count", wantDetail: "9 < 50"},
		{name: "too many words", mod: func(c any) { c.(*GopherQualityConfig).MaxWords = 100 }, give: englishDoc, wantReason: "gopher_quality.word_count", wantDetail: `1\d\d > 100`},
		{name: "long words", give: repeatWords("the and internationalisation counterrevolutionary telecommunications", 60), wantReason: "gopher_quality.mean_word_length", wantDetail: `1[0-9.]+ > 10`},
		// 60 words of 2 letters: mean exactly 2
		{name: "short words", give: repeatWords("to be of an it is", 60), wantReason: "gopher_quality.mean_word_length", wantDetail: `2 < 3`},
		// 20 '#' for 135 words
		{name: "hashes", give: englishDoc + " " + strings.Repeat("#news ", 20), wantReason: "gopher_quality.symbol_word_ratio", wantDetail: `0.14\d* > 0.1`},
		{name: "ellipses", give: englishDoc + " " + strings.Repeat("and so on... ", 30), wantReason: "gopher_quality.symbol_word_ratio"},
		{name: "bullets", give: bullets, wantReason: "gopher_quality.bullet_line_ratio", wantDetail: `1 > 0.9`},
		{name: "bullets allowed", mod: func(c any) { c.(*GopherQualityConfig).Disable = []string{"bullet_line_ratio"} }, give: bullets},
		// 4 of 10 lines end with "..." (the 6 sentence lines end with ".")
		{name: "ellipsis lines", give: ellipses, wantReason: "gopher_quality.ellipsis_line_ratio", wantDetail: `0.4 > 0.3`},
		{name: "numbers", give: numbers, wantReason: "gopher_quality.alpha_word_ratio", wantDetail: `0.6\d+ < 0.8`},
		{name: "symbol soup", give: englishDoc + " " + strings.Repeat("$$$ >>> *** ||| ", 15), wantReason: "gopher_quality.alpha_word_ratio"},
		{name: "no stop words", give: repeatWords("council engineer residents pipes village project meeting district river houses", 80), wantReason: "gopher_quality.stop_words", wantDetail: "0 < 2"},
		{name: "stop words case-insensitive", give: "THE " + strings.ToUpper(englishDoc)},
		{name: "own stop words", mod: func(c any) { c.(*GopherQualityConfig).StopWords = []string{"council", "pipes"} }, give: repeatWords("council engineer residents pipes village project meeting district river houses", 80)},
	}
	runCases(t, KindGopherQuality, tests)
}

func TestGopherRepetitionRules(t *testing.T) {
	para := func(s string) string { return s + "\n\n" }
	p1 := "The council met on Tuesday to discuss the new water project for the village."
	p2 := "Members said that the old pipes have been leaking for many years now."
	p3 := "The engineer explained that the work will take about six months."
	varied := strings.Fields(englishDoc)
	tests := []ruleCase{
		{name: "prose kept", give: englishDoc},
		{name: "paragraphs kept", give: para(p1) + para(p2) + p3},
		// 3 paragraphs, 1 repeated: 1/3 > 0.3
		{name: "repeated paragraph", give: para(p1) + para(p2) + p1, wantReason: "gopher_repetition.dup_para_ratio", wantDetail: `0.3333 > 0.3`},
		// 4 paragraphs, 1 repeated (1/4 <= 0.3) but it holds more than 20% of the characters
		{name: "repeated long paragraph", give: para(englishDoc) + para(p2) + para(p3) + englishDoc, wantReason: "gopher_repetition.dup_para_char_ratio"},
		// one paragraph of 4 lines, 2 repeats: lines 2/4 > 0.3
		{name: "repeated lines", give: p1 + "\n" + p2 + "\n" + p1 + "\n" + p1, wantReason: "gopher_repetition.dup_line_ratio", wantDetail: `0.5 > 0.3`},
		{name: "repeated lines allowed", mod: func(c any) {
			c.(*GopherRepetitionConfig).Disable = []string{"dup_line_ratio", "dup_line_char_ratio", "dup_para_ratio", "dup_para_char_ratio", "top_2gram_char_ratio", "top_3gram_char_ratio", "top_4gram_char_ratio", "dup_5gram_char_ratio", "dup_6gram_char_ratio", "dup_7gram_char_ratio", "dup_8gram_char_ratio", "dup_9gram_char_ratio", "dup_10gram_char_ratio"}
		}, give: p1 + "\n" + p2 + "\n" + p1 + "\n" + p1},
		// "click here" between distinct words: top 2-gram holds 25 x 10 chars of about 500
		{name: "top 2-gram", give: interleave(varied[:25], "click here"), wantReason: "gopher_repetition.top_2gram_char_ratio"},
		// two sentences three times inside varied text: dup 5-grams but no top n-gram over the limit
		{name: "duplicated 5-grams", give: strings.Join(varied[:40], " ") + " " + p1 + " " + p2 + " " + strings.Join(varied[40:80], " ") + " " + p1 + " " + p2 + " " + strings.Join(varied[80:], " ") + " " + p1 + " " + p2, wantReason: "gopher_repetition.dup_5gram_char_ratio"},
	}
	runCases(t, KindGopherRepetition, tests)
}

// interleave puts sep after each word.
func interleave(words []string, sep string) string {
	var b strings.Builder
	for _, w := range words {
		b.WriteString(w + " " + sep + " ")
	}
	return b.String()
}

func TestRepetitionValues(t *testing.T) {
	// Text "a b c d e a b c d e" (19 code points): the 5-gram at 5 repeats the one at 0,
	// so words 5..9 (5 chars) are duplicated; top 2-gram "a b" (3 chars) occurs twice.
	s := newStage(t, KindGopherRepetition, nil)
	w := s.pool.Get().(*worker)
	w.a = new(Analysis)
	w.a.Reset("a b c d e a b c d e")
	measureRepetition(w, s.base, w.vals)
	want := map[int]float64{grDup5: 5.0 / 19, grTop2: 2 * 3.0 / 19, grTop2 + 1: 2 * 5.0 / 19, grDup5 + 1: 0}
	for i, v := range want {
		if math.Abs(w.vals[i]-v) > 1e-9 {
			t.Errorf("%s = %v, want %v", defs[KindGopherRepetition].rules[i], w.vals[i], v)
		}
	}
}

func TestC4QualityRules(t *testing.T) {
	page := "Home | News | Sport\n" + englishLines + "\nPrivacy Policy and Terms of Use apply to this page.\nShare this"
	tests := []ruleCase{
		{name: "prose lines kept", give: englishLines},
		{name: "one line", give: englishDoc},
		{name: "lorem ipsum", give: englishLines + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit.", wantReason: "c4_quality.lorem_ipsum", wantDetail: `line 7 contains "lorem ipsum"`},
		{name: "lorem in a failing line", give: englishLines + "\nlorem ipsum", wantReason: ""},
		{name: "curly bracket", give: "function f() { return 1; }.\n" + englishLines, wantReason: "c4_quality.curly_bracket", wantDetail: `line 1 contains "\{"`},
		{name: "menu", give: "Home\nNews\nSport\nWeather\nContact us", wantReason: "c4_quality.sentences", wantDetail: `0 < 5 \(failing lines: 5 terminal_punct\)`},
		{name: "menu without terminal rule", mod: func(c any) { c.(*C4QualityConfig).Disable = []string{"terminal_punct"} }, give: "Home\nNews\nSport\nWeather\nContact us", wantReason: "c4_quality.sentences", wantDetail: `0 < 5 \(failing lines: 5 words_per_line\)`},
		{name: "few sentences", give: "The council met on Tuesday.\nThe engineer spoke about the pipes.", wantReason: "c4_quality.sentences", wantDetail: `2 < 5`},
		{name: "boilerplate page kept", give: page},
		{name: "no sentences rule", mod: func(c any) { c.(*C4QualityConfig).Disable = []string{"sentences", "no_lines_left"} }, give: "Home\nNews"},
		{name: "nothing left", mod: func(c any) { c.(*C4QualityConfig).MinSentences = 0 }, give: "Home\nNews\nSport", wantReason: "c4_quality.no_lines_left", wantDetail: "every line failed: 3 terminal_punct"},
		{name: "nothing left is fine when lines are kept", mod: func(c any) { c.(*C4QualityConfig).MinSentences = 0; c.(*C4QualityConfig).LineAction = "keep" }, give: "Home\nNews\nSport"},
	}
	runCases(t, KindC4Quality, tests)
}

func TestC4Rewrite(t *testing.T) {
	s := newStage(t, KindC4Quality, nil)
	give := "Home | News | Sport\n" +
		"The council met on Tuesday evening to discuss the project.[1]\n" +
		"Members said the pipes leak.\n\n\n" +
		"Please enable JavaScript to view the comments.\n" +
		"This site uses cookies to improve your experience.\n" +
		"The engineer said the work will take six months.[citation needed]\n" +
		"Residents asked about the hill. The engineer replied that a second phase is planned!\n" +
		"Share this"
	want := "The council met on Tuesday evening to discuss the project.\n" +
		"Members said the pipes leak.\n\n" +
		"The engineer said the work will take six months.\n" +
		"Residents asked about the hill. The engineer replied that a second phase is planned!"
	v, d := run(t, s, "eng_Latn", give)
	if !v.Kept() {
		t.Fatalf("rejected: %s %s", v.Reason, v.Detail)
	}
	if d.Text != want {
		t.Errorf("text =\n%s\nwant\n%s", d.Text, want)
	}
	rep := s.Report()
	lines := rep["lines_dropped"].(map[string]int64)
	if lines["terminal_punct"] != 2 || lines["javascript"] != 1 || lines["policy"] != 1 {
		t.Errorf("lines dropped = %v", lines)
	}
	if rep["docs_rewritten"].(int64) != 1 {
		t.Errorf("docs rewritten = %v", rep["docs_rewritten"])
	}

	// keep: same verdict, text untouched
	s = newStage(t, KindC4Quality, func(c any) { c.(*C4QualityConfig).LineAction = "keep" })
	v, d = run(t, s, "eng_Latn", give)
	if !v.Kept() || d.Text != give {
		t.Errorf("line_action keep: verdict %v, text changed: %v", v, d.Text != give)
	}
	// untouched when every line passes
	s = newStage(t, KindC4Quality, nil)
	_, d = run(t, s, "eng_Latn", englishLines)
	if d.Text != englishLines {
		t.Error("text of a clean document changed")
	}
	// an instruction record is written from its turns: judged, not rewritten
	s = newStage(t, KindC4Quality, nil)
	in := &pipeline.Instruction{Messages: []pipeline.Message{{Role: pipeline.RoleUser, Content: "Summarise the meeting."}, {Role: pipeline.RoleAssistant, Content: give}}}
	d = &pipeline.Document{ID: "r", Lang: "eng_Latn", Instruction: in, Text: in.View(pipeline.ViewOutput)}
	before := d.Text
	if v, err := s.Process(context.Background(), d); err != nil || !v.Kept() {
		t.Fatalf("instruction record: %v %+v", err, v)
	}
	rep = s.Report()
	if d.Text != before || in.Messages[1].Content != give || rep["instructions_not_rewritten"] != int64(1) ||
		rep["docs_rewritten"] != int64(0) || len(rep["lines_dropped"].(map[string]int64)) != 0 {
		t.Errorf("instruction record rewritten or miscounted: %v", rep)
	}
}

func TestEndsTerminal(t *testing.T) {
	tests := []struct {
		give     string
		c4, fweb bool
	}{
		{"It rained.", true, true},
		{"Did it rain?", true, true},
		{`He said "stop."`, true, true},
		{"(See the note.)", true, true},
		{"It rained...", false, true},
		{"It rained…", false, true},
		{"ዝናብ ዘነበ።", true, true},
		{"वर्षा हुई।", true, true},
		{"下雨了。", true, true},
		{"Heading", false, false},
		{"The end.[1]", true, false},
		{"Akụkọ ga-amasị gị:", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		if got := endsTerminal(tt.give, true, true); got != tt.c4 {
			t.Errorf("c4 endsTerminal(%q) = %v", tt.give, got)
		}
		if got := endsTerminal(tt.give, false, false); got != tt.fweb {
			t.Errorf("fineweb endsTerminal(%q) = %v", tt.give, got)
		}
	}
}

func TestFineWebQualityRules(t *testing.T) {
	menu := "Home\nNews\nSport\nWeather\nContact us\n" + englishDoc
	var distinct []string
	for _, w := range strings.Fields(englishDoc) {
		if !contains(distinct, w) {
			distinct = append(distinct, w)
		}
	}
	list := strings.Join(distinct, "\n")
	tests := []ruleCase{
		{name: "prose kept", give: englishDoc},
		{name: "lines kept", give: englishLines},
		// 1 of 10 lines ends with punctuation
		{name: "no punctuation", give: strings.Repeat("the council and the engineer met the residents today\n", 9) + "The end.", wantReason: "fineweb_quality.terminal_punct_line_ratio", wantDetail: `0.1 < 0.12`},
		{name: "short lines", give: menu, wantReason: "fineweb_quality.short_line_ratio", wantDetail: `0.8333 > 0.67`},
		{name: "duplicated line", give: englishLines + "\nThe village council met on Tuesday evening to discuss the new water project.", wantReason: "fineweb_quality.dup_line_char_ratio"},
		{name: "list", mod: func(c any) {
			c.(*FineWebQualityConfig).Disable = []string{"short_line_ratio", "terminal_punct_line_ratio"}
		}, give: list, wantReason: "fineweb_quality.newline_word_ratio"},
	}
	runCases(t, KindFineWebQuality, tests)
}

// TestPerLanguage checks that per-language overrides apply by label and by code, that
// disable and enable merge, that the thresholds file is read and that per_language wins.
func TestPerLanguage(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "cal.yaml")
	os.WriteFile(file, []byte("gopher_quality:\n  yor_Latn: {min_mean_word_length: 2.5, max_words: 10}\n  hau: {min_words: 5}\n"), 0o644)
	cfg := DefaultGopherQualityConfig()
	cfg.ThresholdsFile = "cal.yaml"
	cfg.Disable = []string{"stop_words"}
	cfg.PerLanguage = nodes(t, "yor_Latn: {max_words: 1000}\nfra_Latn: {enable: [stop_words], min_words: 3}\n")
	s, err := New(KindGopherQuality, &cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	short := "ni ti wa lo se fun un ko si je " // 10 two-letter words
	tests := []struct {
		lang, give, want string
	}{
		{"eng_Latn", short + short, "gopher_quality.word_count"}, // default: 20 < 50
		// min_mean_word_length 2.5 from the file; max_words 1000 from per_language wins over
		// the file's 10
		{"yor_Latn", repeatWords(short, 60), "gopher_quality.mean_word_length"},
		{"hau_Latn", "Gwamnatin tarayya ta ce za ta gina sababbin makarantu", ""}, // code-level file entry: min_words 5
		{"fra_Latn", "le chat est sur la table", ""},                              // inline: min 3 words, builtin French stop words
		{"fra_Latn", "chat chien table maison", "gopher_quality.stop_words"},      // stop_words enabled again for fra
	}
	for _, tt := range tests {
		v, _ := run(t, s, tt.lang, tt.give)
		if v.Reason != tt.want {
			t.Errorf("%s %q: reason %q (%s), want %q", tt.lang, tt.give, v.Reason, v.Detail, tt.want)
		}
	}
	// a script key serves labels of that script without an entry of their own
	cfg2 := DefaultGopherQualityConfig()
	cfg2.PerLanguage = nodes(t, "Thai: {min_mean_word_length: 1, stop_words: [ที่, และ]}\ntha_Thai: {min_mean_word_length: 2}\n")
	s2, err := New(KindGopherQuality, &cfg2, dir)
	if err != nil {
		t.Fatal(err)
	}
	thai := strings.Repeat("ภาษาไทยเป็นภาษาที่เขียนโดยไม่เว้นวรรคระหว่างคำ และมีการใช้กันในประเทศไทยมานานแล้ว ", 3)
	if v, _ := run(t, s2, "und_Thai", thai); !v.Kept() {
		t.Errorf("und_Thai with the Thai script entry: %s %s", v.Reason, v.Detail)
	}
	if v, _ := run(t, s2, "tha_Thai", thai); v.Reason != "gopher_quality.mean_word_length" {
		t.Errorf("tha_Thai has its own entry (min 2) over the script's: %q", v.Reason)
	}
	// French has a builtin stop-word list but no entry: it takes the Latn entry's
	// thresholds and keeps its own stop words
	cfg3 := DefaultGopherQualityConfig()
	cfg3.PerLanguage = nodes(t, "Latn: {min_words: 5, stop_words: [zzz]}\n")
	s3, err := New(KindGopherQuality, &cfg3, dir)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := run(t, s3, "fra_Latn", "Le chat est sur la table de la cuisine."); !v.Kept() {
		t.Errorf("fra_Latn with the Latn entry and its builtin stop words: %s %s", v.Reason, v.Detail)
	}
	if v, _ := run(t, s3, "eng_Latn", "The cat is on the kitchen table today."); v.Reason != "gopher_quality.stop_words" {
		t.Errorf("eng_Latn (no builtin list) takes the Latn stop words: %q %s", v.Reason, v.Detail)
	}
	v, _ := run(t, s, "yor_Latn", repeatWords("ọmọ ilé wọn", 60))
	if !v.Kept() {
		t.Errorf("yor_Latn 3-letter words: %s %s", v.Reason, v.Detail)
	}
	if got := s.Languages(); !contains(got, "yor_Latn") || !contains(got, "hau") || !contains(got, "fra_Latn") {
		t.Errorf("languages = %v", got)
	}
}

func nodes(t *testing.T, src string) map[string]yaml.Node {
	t.Helper()
	var m map[string]yaml.Node
	if err := yaml.Unmarshal([]byte(src), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o644)
		return name
	}
	tests := []struct {
		name string
		mod  func(c *GopherQualityConfig)
		want string
	}{
		{"range", func(c *GopherQualityConfig) { c.MinAlphaWordRatio = 1.5 }, "min_alpha_word_ratio: must be in 0..1, got 1.5"},
		{"min above max", func(c *GopherQualityConfig) { c.MinWords = 500; c.MaxWords = 100 }, "max_words: must be >= min_words (500), got 100"},
		{"unknown rule", func(c *GopherQualityConfig) { c.Disable = []string{"stop_word"} }, `disable[0]: unknown rule "stop_word" (did you mean stop_words?)`},
		{"top-level enable", func(c *GopherQualityConfig) { c.Enable = []string{"stop_words"} }, "enable: only per-language entries"},
		{"bad language key", func(c *GopherQualityConfig) { c.PerLanguage = nodes(t, "Yoruba: {min_words: 3}") }, `per_language.Yoruba: "Yoruba" is not a language label`},
		{"bad script key", func(c *GopherQualityConfig) { c.PerLanguage = nodes(t, "THAI: {min_words: 3}") }, `per_language.THAI: "THAI" is not a language label`},
		{"unknown per-language key", func(c *GopherQualityConfig) { c.PerLanguage = nodes(t, "yor_Latn: {min_wrods: 3}") }, "per_language.yor_Latn.min_wrods: unknown field (did you mean min_words?)"},
		{"nested per_language", func(c *GopherQualityConfig) { c.PerLanguage = nodes(t, "yor_Latn: {per_language: {}}") }, "per_language.yor_Latn.per_language: not allowed in a per-language entry"},
		{"per-language range", func(c *GopherQualityConfig) { c.PerLanguage = nodes(t, "yor_Latn: {max_bullet_line_ratio: 2}") }, "per_language.yor_Latn.max_bullet_line_ratio: must be in 0..1, got 2"},
		{"per-language type", func(c *GopherQualityConfig) { c.PerLanguage = nodes(t, "yor_Latn: {min_words: many}") }, "per_language.yor_Latn.min_words: cannot use"},
		{"missing file", func(c *GopherQualityConfig) { c.ThresholdsFile = "nope.yaml" }, "thresholds file: open"},
		{"no section", func(c *GopherQualityConfig) { c.ThresholdsFile = write("a.yaml", "c4_quality: {}\n") }, "has no gopher_quality section"},
		{"unknown kind in file", func(c *GopherQualityConfig) { c.ThresholdsFile = write("b.yaml", "gopher_qualty: {}\n") }, `b.yaml:1:1: unknown stage kind "gopher_qualty" (did you mean gopher_quality?)`},
		{"bad key in file", func(c *GopherQualityConfig) {
			c.ThresholdsFile = write("c.yaml", "gopher_quality:\n  yor_Latn:\n    max_wrds: 3\n")
		}, "c.yaml:3:5: gopher_quality.yor_Latn: max_wrds: unknown field (did you mean max_words?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultGopherQualityConfig()
			tt.mod(&cfg)
			_, err := New(KindGopherQuality, &cfg, dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestLoaderLines checks that per-language problems reach the pipeline loader with their
// line and column.
func TestLoaderLines(t *testing.T) {
	var reg pipeline.Registry
	reg.Register(KindGopherQuality, pipeline.Spec{
		Config: func() any { c := DefaultGopherQualityConfig(); return &c },
		New: func(cfg any, env *pipeline.Env) (pipeline.Stage, error) {
			return New(KindGopherQuality, cfg, env.BaseDir)
		},
	})
	src := "inputs: [a.jsonl]\nstages:\n  - gopher_quality:\n      per_language:\n        yor_Latn:\n          min_wrds: 3\n        hau_Latn: {max_bullet_line_ratio: 2}\noutput: {dir: o}\n"
	_, err := pipeline.Load("p.yaml", []byte(src), &reg)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"p.yaml:6:21: stages[0].gopher_quality.per_language.yor_Latn.min_wrds: unknown field (did you mean min_words?)",
		"p.yaml:7:43: stages[0].gopher_quality.per_language.hau_Latn.max_bullet_line_ratio: must be in 0..1, got 2",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors:\n%v\nwant a line %q", err, want)
		}
	}
}

func TestThaiTokens(t *testing.T) {
	thai := "ภาษาไทยเป็นภาษาที่เขียนโดยไม่เว้นวรรคระหว่างคำ และมีการใช้กันในประเทศไทยมานานแล้ว "
	s := newStage(t, KindGopherQuality, nil)
	v, _ := run(t, s, "tha_Thai", strings.Repeat(thai, 3))
	if v.Reason != "gopher_quality.mean_word_length" {
		t.Errorf("English defaults on Thai: %q %s, want mean_word_length (graphemes are short)", v.Reason, v.Detail)
	}
	s = newStage(t, KindGopherQuality, func(c any) {
		c.(*GopherQualityConfig).PerLanguage = nodes(t, "tha_Thai: {min_mean_word_length: 1}")
	})
	v, _ = run(t, s, "tha_Thai", strings.Repeat(thai, 3))
	if !v.Kept() {
		t.Errorf("Thai with its own mean length: %s %s (builtin Thai stop words are substrings)", v.Reason, v.Detail)
	}
}

func TestEmptyAndOddInput(t *testing.T) {
	for _, kind := range Kinds() {
		s := newStage(t, kind, nil)
		for _, give := range []string{"", "\n\n\n", "   ", "###", "\xff\xfe", strings.Repeat("a", 5000), "…\n…", "[1]\n[edit]"} {
			v, d := run(t, s, "", give)
			if kind != KindC4Quality && d.Text != give {
				t.Errorf("%s changed the text of %q", kind, give)
			}
			_ = v
		}
	}
}
