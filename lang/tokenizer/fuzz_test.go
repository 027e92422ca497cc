package tokenizer

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

var fuzzTexts = []string{
	"", " ", "the cat's 12345 ẹ", "Ẹ kú àárọ̀!\n\n  ሰላም ለዓለም። 中文 ไทย", "a<s>b </s> <|end|> <mask> cats", "▁x▁", "\xff\xfe bad",
}

// FuzzParse feeds mutated tokenizer.json files to Parse: it must fail with an *Error or
// give a tokenizer that encodes without panicking, with Count == len(Encode).
func FuzzParse(f *testing.F) {
	for _, name := range []string{"bytelevel.json", "sentencepiece.json", "metaspace.json"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}}`))
	f.Add([]byte(`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a", "a"]]}, "added_tokens": [{"id": 5, "content": "a"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tk, err := Parse(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		c := tk.NewCounter()
		for _, s := range fuzzTexts {
			ids := c.Encode(nil, s)
			if n := c.Count(s); n != len(ids) {
				t.Fatalf("%q: Count %d, %d ids", s, n, len(ids))
			}
			for _, id := range ids {
				if id < 0 || id >= tk.VocabSize() {
					t.Fatalf("%q: id %d outside 0..%d", s, id, tk.VocabSize())
				}
			}
			_, _ = tk.Decode(ids)
		}
	})
}

// FuzzEncode encodes arbitrary text with each test tokenizer: no panic, Count == len(Encode),
// the same ids from a warm counter, and decode(encode(s)) == s where the family guarantees
// it: byte-level BPE without normalizer for valid UTF-8; the SentencePiece-style test file
// (byte fallback, Strip decoder) for valid UTF-8 without "▁" or added-token text. Cutting
// SentencePiece-style text before "▁" must not change the ids.
func FuzzEncode(f *testing.F) {
	for _, s := range fuzzTexts {
		f.Add(s)
	}
	f.Add("I'M HERE  \t\r\n\r\n 1234567 ٤٠٠ 👩‍💻 ﬁ ①")
	type tok struct {
		tk, whole *Tokenizer
		c         *Counter
		roundTrip func(string) bool
	}
	var toks []tok
	for _, name := range []string{"bytelevel.json", "sentencepiece.json", "metaspace.json"} {
		tk := load(f, name)
		whole := *tk
		whole.chunk = false
		tt := tok{tk: tk, whole: &whole, c: tk.NewCounter()}
		switch name {
		case "bytelevel.json":
			// <mask> swallows the white space on its left (lstrip).
			tt.roundTrip = func(s string) bool { return utf8.ValidString(s) && !strings.Contains(s, "<mask>") }
		case "sentencepiece.json":
			tt.roundTrip = func(s string) bool {
				return utf8.ValidString(s) && !strings.Contains(s, "▁") &&
					!strings.Contains(s, "<s>") && !strings.Contains(s, "</s>") && !strings.Contains(s, "<unk>")
			}
		}
		toks = append(toks, tt)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, tt := range toks {
			ids := tt.c.Encode(nil, s)
			if n := tt.c.Count(s); n != len(ids) {
				t.Fatalf("%s %q: Count %d, %d ids", tt.tk.name, s, n, len(ids))
			}
			if again := tt.c.Encode(nil, s); !reflect.DeepEqual(again, ids) {
				t.Fatalf("%s %q: warm counter gave %v, then %v", tt.tk.name, s, ids, again)
			}
			if tt.tk.chunk {
				if whole := tt.whole.NewCounter().Encode(nil, s); !reflect.DeepEqual(whole, ids) {
					t.Fatalf("%s %q: cut before ▁ %v, whole %v", tt.tk.name, s, ids, whole)
				}
			}
			got, err := tt.tk.Decode(ids)
			if err != nil {
				t.Fatalf("%s %q: decode: %v", tt.tk.name, s, err)
			}
			if tt.roundTrip != nil && tt.roundTrip(s) && got != s {
				t.Fatalf("%s: decode(encode(%q)) = %q", tt.tk.name, s, got)
			}
		}
	})
}

// FuzzNormalize checks the segment-wise Unicode normalization against x/text's whole-text one.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"E\u0323 ku\u0301 a\u0300a\u0301ro\u0323\u0300", "ﬁ ① 한국어 \u1100\u1161\u11a8 Å", "a\u0301\u0323\u0300b", "\u0300\u0300x", "\xff\u0301"} {
		f.Add(s)
	}
	forms := []norm.Form{norm.NFC, norm.NFD, norm.NFKC, norm.NFKD}
	f.Fuzz(func(t *testing.T, s string) {
		var nb normBufs
		for _, form := range forms {
			got, changed := unicodeNorm{form}.apply(&nb, nil, []byte(s))
			if !changed {
				got = []byte(s)
			}
			if want := form.String(s); string(got) != want {
				t.Fatalf("form %v of %+q: %+q, want %+q", form, s, got, want)
			}
		}
	})
}
