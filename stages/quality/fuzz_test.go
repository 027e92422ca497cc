package quality

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sieve-data/sieve/pipeline"
)

// FuzzStages runs every quality stage over arbitrary text: no panic, a verdict naming one
// of the stage's rules, and a c4 rewrite that only removes whole lines (valid UTF-8 stays
// valid, nothing is added).
func FuzzStages(f *testing.F) {
	for _, s := range []string{"", "\n", englishDoc, englishLines, "a\n\n\nb", "• x\n• y", "[1][edit]\n{", "ภาษาไทย\n中文。", "\xff\xfe", "...\n…", strings.Repeat("ab ", 40)} {
		f.Add(s, "eng_Latn")
	}
	f.Add("Ọmọ-ọba náà lọ sí ọjà.", "yor_Latn")
	stages := map[string]*Stage{}
	for _, kind := range Kinds() {
		s, err := New(kind, DefaultConfig(kind), "")
		if err != nil {
			f.Fatal(err)
		}
		stages[kind] = s
	}
	f.Fuzz(func(t *testing.T, text, lang string) {
		for kind, s := range stages {
			d := &pipeline.Document{Text: text, Lang: lang}
			v, err := s.Process(context.Background(), d)
			if err != nil {
				t.Fatal(err)
			}
			if !v.Kept() && !strings.HasPrefix(v.Reason, kind+".") {
				t.Fatalf("%s: reason %q", kind, v.Reason)
			}
			if kind != KindC4Quality && d.Text != text {
				t.Fatalf("%s changed the text", kind)
			}
			if kind == KindC4Quality && d.Text != text {
				if utf8.ValidString(text) && !utf8.ValidString(d.Text) {
					t.Fatalf("c4 rewrite made invalid UTF-8 of %q", text)
				}
				for _, line := range strings.Split(d.Text, "\n") {
					if line != "" && !strings.Contains(text, line) && !strings.Contains(removeCitations(text), line) {
						t.Fatalf("c4 rewrite invented line %q from %q", line, text)
					}
				}
			}
		}
	})
}

// FuzzThresholdsFile reads arbitrary thresholds files: an error or settings, never a panic.
func FuzzThresholdsFile(f *testing.F) {
	f.Add("gopher_quality:\n  yor_Latn: {min_words: 3, stop_words: [a, b], disable: [stop_words]}\n  Thai: {enable: [x]}\n")
	f.Add("c4_quality: {}\nfineweb_quality:\n  hau: {max_short_line_ratio: 2}\n")
	f.Add("gopher_repetition:\n  yor_Latn: [1, 2]\n")
	f.Add("&a [*a, *a]")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src string) {
		p := filepath.Join(dir, "t.yaml")
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		tf, err := ReadThresholdsFile(p)
		if err != nil {
			return
		}
		for _, kind := range Kinds() {
			if tf.Has(kind) {
				_, _, _ = defs[kind].resolveAll(DefaultConfig(kind), tf)
			}
		}
	})
}
