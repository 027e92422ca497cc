package stages

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/sieve-data/sieve/pipeline"
)

const toxWords = "../testdata/toxicity/words"

// toxFiller is ordinary English prose (63 words) to dilute flagged words.
const toxFiller = "The village council met on Tuesday evening to discuss the new water project. Members of the " +
	"council said that the old pipes have been leaking for years, and that many families have to walk to the " +
	"river with buckets. The engineer explained that the work will take about six months and that the cost " +
	"will be shared between the district and a fund."

func newToxicity(t *testing.T, mod func(*ToxicityConfig)) *Toxicity {
	t.Helper()
	cfg := DefaultToxicityConfig()
	cfg.WordsDir = toxWords
	cfg.URLBlocklist = "../testdata/toxicity/domains.txt"
	cfg.BannedURLWords = []string{"casino", "porn"}
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewToxicity(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestToxicityVerdicts(t *testing.T) {
	s := newToxicity(t, nil)
	thai := "ภาษาไทยเป็นภาษาที่เขียนโดยไม่เว้นวรรคระหว่างคำ"
	tests := []struct {
		name, lang, text, url  string
		wantReason, wantDetail string
	}{
		{name: "clean", lang: "eng_Latn", text: toxFiller},
		// 63 + 5 words, 1 flagged: 1/68
		{name: "one word in sixty-eight", lang: "eng_Latn", text: toxFiller + " What a load of shit.",
			wantReason: "toxicity.flagged_ratio", wantDetail: "0.01471 > 0.01 (1 of 68 words flagged: shit)"},
		{name: "upper case", lang: "eng_Latn", text: "FUCK this " + toxFiller, wantReason: "toxicity.flagged_ratio"},
		{name: "inside other words", lang: "eng_Latn", text: "Scunthorpe shitake cocktails assessment passes " + toxFiller},
		{name: "phrase across spaces", lang: "eng_Latn", text: "blow\n  job " + toxFiller, wantReason: "toxicity.flagged_ratio", wantDetail: `0.03077 > 0.01 \(2 of 65 words flagged: blow job\)`},
		{name: "symbol term", lang: "eng_Latn", text: "kiss my a$$ " + toxFiller, wantReason: "toxicity.flagged_ratio"},
		{name: "symbol term needs a boundary", lang: "eng_Latn", text: "the ba$$ " + toxFiller},
		{name: "code of the label", lang: "eng_Latn", text: toxFiller + " f*ck", wantReason: "toxicity.flagged_ratio"},
		{name: "other language's list not used", lang: "fra_Latn", text: "shit " + toxFiller},
		{name: "french", lang: "fra_Latn", text: "Quelle merde, ce putain de projet.", wantReason: "toxicity.flagged_ratio"},
		{name: "swahili", lang: "swh_Latn", text: "Huyu ni malaya tu", wantReason: "toxicity.flagged_ratio"},
		{name: "hausa kuma is not swahili kuma", lang: "hau_Latn", text: "Gwamnati kuma ta ce"},
		{name: "yoruba tones", lang: "yor_Latn", text: "Ó lọ sí oko ní àárọ̀."},
		{name: "yoruba flagged", lang: "yor_Latn", text: "ọmọ àlè ni", wantReason: "toxicity.flagged_ratio"},
		{name: "yoruba decomposed", lang: "yor_Latn", text: norm.NFD.String("ọmọ àlè ni"), wantReason: "toxicity.flagged_ratio"},
		{name: "thai substring", lang: "tha_Thai", text: thai + "ไอ้เหี้ย" + thai, wantReason: "toxicity.flagged_ratio"},
		{name: "thai clean", lang: "tha_Thai", text: thai},
		{name: "language without a list", lang: "deu_Latn", text: "shit " + toxFiller},
		{name: "blocked domain", lang: "eng_Latn", text: toxFiller, url: "https://www.Casino-Jackpot.example/win", wantReason: "toxicity.url_domain", wantDetail: "casino-jackpot.example (blocked: casino-jackpot.example)"},
		{name: "blocked subdomain", lang: "eng_Latn", text: toxFiller, url: "http://user@eu.ads.tracker.test:8080/x?y", wantReason: "toxicity.url_domain", wantDetail: "eu.ads.tracker.test (blocked: ads.tracker.test)"},
		{name: "similar domain", lang: "eng_Latn", text: toxFiller, url: "https://notcasino-jackpot.example.org/"},
		{name: "banned url word", lang: "eng_Latn", text: toxFiller, url: "https://example.org/best-CASINO-games", wantReason: "toxicity.url_word", wantDetail: `"casino" in https://example.org/best-CASINO-games`},
		{name: "banned word inside a url word", lang: "eng_Latn", text: toxFiller, url: "https://example.org/casinos-history"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &pipeline.Document{Text: tt.text, Lang: tt.lang}
			if tt.url != "" {
				d.SetMeta("url", tt.url)
			}
			v, err := s.Process(context.Background(), d)
			if err != nil {
				t.Fatal(err)
			}
			if v.Reason != tt.wantReason {
				t.Fatalf("reason %q (%s), want %q", v.Reason, v.Detail, tt.wantReason)
			}
			if tt.wantDetail != "" && !matches(tt.wantDetail, v.Detail) {
				t.Errorf("detail %q, want %q", v.Detail, tt.wantDetail)
			}
		})
	}
	rep := s.Report()
	if n := rep["unlisted_kept"].(map[string]int64)["deu_Latn"]; n != 1 {
		t.Errorf("unlisted deu_Latn = %d, want 1", n)
	}
}

// matches reports whether s equals want, or matches it as an anchored regular expression
// when want escapes a parenthesis.
func matches(want, s string) bool {
	if want == s {
		return true
	}
	return strings.Contains(want, `\(`) && regexp.MustCompile("^(?:"+want+")$").MatchString(s)
}

func TestToxicityThresholds(t *testing.T) {
	text := toxFiller + " shit" // 1 of 64 words
	tests := []struct {
		name string
		mod  func(*ToxicityConfig)
		kept bool
	}{
		{"default 1%", nil, false},
		{"higher threshold", func(c *ToxicityConfig) { c.MaxFlaggedRatio = 0.05 }, true},
		{"per language by label", func(c *ToxicityConfig) {
			r := 0.05
			c.PerLanguage = map[string]ToxicityOverride{"eng_Latn": {MaxFlaggedRatio: &r}}
		}, true},
		{"per language by code", func(c *ToxicityConfig) {
			r := 0.05
			c.PerLanguage = map[string]ToxicityOverride{"eng": {MaxFlaggedRatio: &r}}
		}, true},
		{"other language", func(c *ToxicityConfig) {
			r := 0.05
			c.PerLanguage = map[string]ToxicityOverride{"fra": {MaxFlaggedRatio: &r}}
		}, false},
		{"min flagged", func(c *ToxicityConfig) { c.MinFlagged = 2 }, true},
		{"any flagged word", func(c *ToxicityConfig) { c.MaxFlaggedRatio = 0 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newToxicity(t, tt.mod)
			v, _ := s.Process(context.Background(), &pipeline.Document{Text: text, Lang: "eng_Latn"})
			if v.Kept() != tt.kept {
				t.Errorf("kept = %v (%s %s), want %v", v.Kept(), v.Reason, v.Detail, tt.kept)
			}
		})
	}
}

func TestToxicityStartupErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "en"), []byte("# nothing but a comment\n\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes"), []byte("x\n"), 0o644)
	tests := []struct {
		name string
		cfg  ToxicityConfig
		want string
	}{
		{"missing list", ToxicityConfig{WordsDir: toxWords, Languages: []string{"eng_Latn", "hau_Latn"}, MaxFlaggedRatio: 0.01, MinFlagged: 1},
			"no flagged-word list for hau_Latn in ../testdata/toxicity/words (looked for hau_Latn, hau_Latn.txt, hau, hau.txt, ha, ha.txt)"},
		{"missing dir", ToxicityConfig{WordsDir: filepath.Join(dir, "nope"), MaxFlaggedRatio: 0.01, MinFlagged: 1}, "words_dir: stat"},
		{"empty list", ToxicityConfig{WordsDir: dir, Languages: []string{"en"}, MaxFlaggedRatio: 0.01, MinFlagged: 1}, "the list for eng_Latn is empty"},
		{"stray file", ToxicityConfig{WordsDir: dir, MaxFlaggedRatio: 0.01, MinFlagged: 1}, "notes: file name is not a language label or code"},
		{"bad blocklist", ToxicityConfig{URLBlocklist: filepath.Join(dir, "nope.txt"), MaxFlaggedRatio: 0.01, MinFlagged: 1}, "url_blocklist: open"},
		{"nothing to do", ToxicityConfig{MaxFlaggedRatio: 0.01, MinFlagged: 1}, "words_dir: required"},
		{"unknown language", ToxicityConfig{WordsDir: toxWords, Languages: []string{"klingon"}, MaxFlaggedRatio: 0.01, MinFlagged: 1}, `unknown language "klingon"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewToxicity(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
	// LDNOOBW-style names (ISO 639-1, no extension) are found
	os.WriteFile(filepath.Join(dir, "en"), []byte("darn\n"), 0o644)
	os.Remove(filepath.Join(dir, "notes"))
	s, err := NewToxicity(ToxicityConfig{WordsDir: dir, Languages: []string{"eng_Latn"}, MaxFlaggedRatio: 0, MinFlagged: 1})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Process(context.Background(), &pipeline.Document{Text: "Darn it", Lang: "eng_Latn"}); v.Kept() {
		t.Error("list named en not used")
	}
}

// genTerms returns n distinct made-up flagged terms, a tenth of them two-word phrases.
func genTerms(n int) []string {
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	var out []string
	word := func() string {
		b := make([]byte, 4+rng.IntN(6))
		for i := range b {
			b[i] = byte('a' + rng.IntN(26))
		}
		return string(b)
	}
	for len(out) < n {
		t := word()
		if len(out)%10 == 0 {
			t += " " + word()
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// BenchmarkToxicity checks a 3 KB English document against a 1,000-term list.
func BenchmarkToxicity(b *testing.B) {
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "eng.txt"), []byte(strings.Join(genTerms(1000), "\n")), 0o644)
	s, err := NewToxicity(ToxicityConfig{WordsDir: dir, MaxFlaggedRatio: 0.01, MinFlagged: 1})
	if err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	for sb.Len() < 3000 {
		sb.WriteString(toxFiller + " ")
	}
	text := sb.String()
	d := &pipeline.Document{Text: text, Lang: "eng_Latn"}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		s.Process(ctx, d)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}

// FuzzToxicity matches arbitrary text against the test lists and an arbitrary extra list:
// no panic, flagged words never more than the words.
func FuzzToxicity(f *testing.F) {
	f.Add("kiss my a$$ blow job", "a$$\nblow job\nเหี้ย", "eng_Latn")
	f.Add("ไอ้เหี้ย", "สัส", "tha_Thai")
	f.Add("", "\n\n#", "yor_Latn")
	f.Fuzz(func(t *testing.T, text, list, lang string) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "eng.txt"), []byte(list), 0o644)
		s, err := NewToxicity(ToxicityConfig{WordsDir: dir, MaxFlaggedRatio: 0, MinFlagged: 1})
		if err != nil {
			return // an empty or invalid list is an error, which is right
		}
		sc := &toxScratch{}
		m := s.lists["eng"].match(text, sc)
		if m.flagged > m.words || m.flagged < 0 {
			t.Fatalf("flagged %d of %d", m.flagged, m.words)
		}
		if _, err := s.Process(context.Background(), &pipeline.Document{Text: text, Lang: lang}); err != nil {
			t.Fatal(err)
		}
	})
}

// The files the stage reads, for the manifest and task-mode replanning: the word lists and
// the URL blocklist.
func TestToxicityUsedFiles(t *testing.T) {
	tests := []struct {
		cfg  ToxicityConfig
		want []string
	}{
		{ToxicityConfig{WordsDir: "words"}, []string{"words"}},
		{ToxicityConfig{URLBlocklist: "blocked.txt"}, []string{"blocked.txt"}},
		{ToxicityConfig{WordsDir: "words", URLBlocklist: "blocked.txt"}, []string{"words", "blocked.txt"}},
		{ToxicityConfig{BannedURLWords: []string{"casino"}}, nil},
	}
	for _, tt := range tests {
		if got := tt.cfg.UsedFiles(); !slices.Equal(got, tt.want) {
			t.Errorf("%+v: UsedFiles %q, want %q", tt.cfg, got, tt.want)
		}
	}
}
