package stopwords

import (
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/sieve-data/sieve/lang"
)

func TestLists(t *testing.T) {
	langs := Languages()
	if len(langs) < 20 {
		t.Fatalf("only %d lists", len(langs))
	}
	for _, l := range langs {
		words, ok := For(l)
		if !ok || len(words) < 10 {
			t.Errorf("%s: %d words", l, len(words))
		}
		if _, ok := lang.Lookup(l); !ok {
			t.Errorf("%s: not a label the language table knows", l)
		}
		seen := map[string]bool{}
		for _, w := range words {
			if !utf8.ValidString(w) || !norm.NFC.IsNormalString(w) {
				t.Errorf("%s: %q is not valid NFC", l, w)
			}
			if seen[w] {
				t.Errorf("%s: %q listed twice", l, w)
			}
			seen[w] = true
			if lang.CountWords(w) == 0 {
				t.Errorf("%s: %q holds no word", l, w)
			}
		}
	}
}

func TestForAliases(t *testing.T) {
	for _, give := range []string{"yor_Latn", "yor", "yo", "Yoruba"} {
		if w, ok := For(give); !ok || len(w) == 0 {
			t.Errorf("For(%q) found nothing", give)
		}
	}
	if _, ok := For("eng_Latn"); ok {
		t.Error("English has no builtin list: gopher_quality's default list is English")
	}
	if _, ok := For("xyz_Latn"); ok {
		t.Error("unknown language has a list")
	}
}
