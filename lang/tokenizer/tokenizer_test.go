package tokenizer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func load(t testing.TB, name string) *Tokenizer {
	t.Helper()
	tk, err := Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// pieces shows ids as the text they stand for: byte-level tokens as raw text, others as
// written in the vocabulary ("▁he", "<0xE1>").
func pieces(tk *Tokenizer, ids []int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		s := tk.idToken[id]
		if a, ok := tk.addedByID[int32(id)]; ok {
			s = a.Content
		} else if tk.byteLevel {
			if b, ok := byteLevelDecode(s); ok {
				s = string(b)
			}
		}
		out[i] = s
	}
	return out
}

func split(p *splitPattern, s string) []string {
	var out []string
	b := []byte(s)
	for i := 0; i < len(b); {
		e := p.end(b, i)
		if e <= i {
			panic("no progress")
		}
		out = append(out, s[i:e])
		i = e
	}
	return out
}

func TestSplitPatterns(t *testing.T) {
	tests := []struct {
		pat  *splitPattern
		in   string
		want []string
	}{
		// GPT-2: HF's own pre-tokenizer tests.
		{patGPT2, "Hello my friend, how is your day going?", []string{"Hello", " my", " friend", ",", " how", " is", " your", " day", " going", "?"}},
		{patGPT2, "Hello there\nHello there", []string{"Hello", " there", "\n", "Hello", " there"}},
		{patGPT2, "Hello there       dear", []string{"Hello", " there", "      ", " dear"}},
		{patGPT2, "I'm", []string{"I", "'m"}},
		{patGPT2, "I'M", []string{"I", "'", "M"}}, // case-sensitive contractions
		{patGPT2, "a  \n\n b", []string{"a", "  \n\n", " b"}},
		{patGPT2, "x 123 4567", []string{"x", " 123", " 4567"}},
		{patGPT2, "end  ", []string{"end", "  "}},
		// Llama 3 / cl100k.
		{patLlama3, "I'M HERE", []string{"I", "'M", " HERE"}},
		{patLlama3, "we'll, they've, 'ſ", []string{"we", "'ll", ",", " they", "'ve", ",", " '", "ſ"}},
		{patLlama3, "'ſ", []string{"'ſ"}}, // Unicode case folding: ſ is s
		{patLlama3, "1234567", []string{"123", "456", "7"}},
		{patLlama3, "  \n\n  ሰላም", []string{"  \n\n", " ", " ሰላም"}},
		{patLlama3, "hello!!\n\nworld", []string{"hello", "!!\n\n", "world"}},
		{patLlama3, "(abc) x", []string{"(abc", ")", " x"}},
		{patLlama3, "a\u00a0b", []string{"a", "\u00a0b"}},
		{patLlama3, "o\u0323\u0300!", []string{"o", "\u0323\u0300!"}}, // combining marks are not letters
		{patLlama3, "end   ", []string{"end", "   "}},
		{patLlama3, "a \tb", []string{"a", " ", "\tb"}},
		{patLlama3, "x\r\n\r\ny", []string{"x", "\r\n\r\n", "y"}},
		{patLlama3, "\n x", []string{"\n", " x"}},
		{patLlama3, "ภาษาไทย", []string{"ภาษาไทย"}},
		{patLlama3, "ไม่มี", []string{"ไม", "่ม", "ี"}}, // Thai marks (Mn) are not letters: one may lead a letter run
		{patLlama3, "٤٠٠ ２１", []string{"٤٠٠", " ", "２１"}},
		{patLlama3, "a\xffb", []string{"a", "\xffb"}}, // invalid UTF-8: one byte of punctuation
		// Letters and digits added in Unicode 15.1 and 16.0, which HF's regexes know: Garay
		// (Wolof), Ol Onal, a Cyrillic letter (splits as HF tokenizers 0.22 pre-tokenize).
		{patLlama3, "cat𐵐's 𐵀𐵁𐵂𐵃", []string{"cat𐵐", "'s", " ", "𐵀𐵁𐵂", "𐵃"}},
		{patLlama3, "Ᲊ's", []string{"Ᲊ", "'s"}},
		{patLlama3, "𞗐𞗑 𞗱𞗲𞗳𞗴5", []string{"𞗐𞗑", " ", "𞗱𞗲𞗳", "𞗴5"}},
		{patGPT2, "cat𐵐's 𐵀𐵁𐵂𐵃", []string{"cat𐵐", "'s", " 𐵀𐵁𐵂𐵃"}},
		// Qwen 2: single digits.
		{patQwen2, "1234 x", []string{"1", "2", "3", "4", " x"}},
	}
	for _, tt := range tests {
		if got := split(tt.pat, tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %q: got %q, want %q", tt.pat.name, tt.in, got, tt.want)
		}
	}
}

func TestEncode(t *testing.T) {
	tests := []struct {
		file, in string
		want     []string
	}{
		// Merge order: ranks decide, not left-to-right.
		{"bytelevel.json", "the cat", []string{"t", "he", " cat"}},
		{"bytelevel.json", " the", []string{" the"}},
		{"bytelevel.json", "aaa", []string{"aa", "a"}}, // leftmost of equal ranks
		{"bytelevel.json", "aaaa", []string{"aa", "aa"}},
		{"bytelevel.json", "12345", []string{"123", "4", "5"}},
		{"bytelevel.json", "ẹ ẹ", []string{"ẹ", " ẹ"}},
		{"bytelevel.json", "cat's", []string{"cat", "'s"}},
		{"bytelevel.json", "\n\n\n", []string{"\n\n", "\n"}},
		{"bytelevel.json", "ọ", []string{"\xe1", "\xbb", "\x8d"}}, // bytes with no merge stay bytes
		// Added tokens: literal special token, lstrip, single_word.
		{"bytelevel.json", "hi<|end|>", []string{"h", "i", "<|end|>"}},
		{"bytelevel.json", "a   <mask>b", []string{"a", "<mask>", "b"}},
		{"bytelevel.json", "bobcats", []string{"b", "o", "b", "cat", "s"}},
		{"bytelevel.json", "x cats y", []string{"x", " ", "cats", " ", "y"}},
		{"bytelevel.json", "Ⓐcats", []string{"\xe2", "\x92", "\xb6", "cat", "s"}}, // Ⓐ is Alphabetic, so \w
		{"bytelevel.json", "catsⓐ", []string{"cat", "s", "\xe2", "\x93", "\x90"}},
		{"bytelevel.json", "\U00010D50cats", []string{"\xf0", "\x90", "\xb5", "\x90", "cat", "s"}}, // a Garay letter (Unicode 16)
		{"bytelevel.json", "cats\U000113B8", []string{"cat", "s", "\xf0", "\x91", "\x8e", "\xb8"}}, // a Tulu-Tigalari vowel sign
		{"bytelevel.json", "", nil},
		// GPT-2 style: ByteLevel with its own regex and add_prefix_space.
		{"gpt2.json", "the cat", []string{" the", " cat"}},
		{"gpt2.json", "x 12345", []string{" ", "x", " ", "123", "4", "5"}},
		{"gpt2.json", "a<|end|>the", []string{" ", "a", "<|end|>", " the"}}, // the prefix on each piece
		// SentencePiece style: Prepend + Replace normalizer, byte fallback.
		{"sentencepiece.json", "hello world", []string{"▁", "he", "ll", "o▁w", "o", "rld"}},
		{"sentencepiece.json", "kú", []string{"▁kú"}},
		{"sentencepiece.json", "ẹ", []string{"▁", "<0xE1>", "<0xBA>", "<0xB9>"}},
		{"sentencepiece.json", "a<s>b", []string{"▁", "a", "<s>", "▁", "b"}}, // Prepend on each piece
		{"sentencepiece.json", "  x", []string{"▁▁", "▁", "<0x78>"}},
		// Metaspace (prepend_scheme first, split), NFKC, fused unk.
		{"metaspace.json", "ab cd", []string{"▁ab", "▁", "cd"}},
		{"metaspace.json", "aÅÅb", []string{"▁a", "<unk>", "b"}},
		{"metaspace.json", "x<sep>ab", []string{"▁", "x", "<sep>", "a", "b"}}, // no prefix after an added token
		{"metaspace.json", "ﬁ ①②", []string{"▁", "f", "i", "▁", "12"}},
		{"metaspace.json", " a", []string{"▁a"}}, // a leading space is the prefix
	}
	for _, tt := range tests {
		tk := load(t, tt.file)
		c := tk.NewCounter()
		ids := c.Encode(nil, tt.in)
		if got := pieces(tk, ids); !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("%s %q: got %q, want %q", tt.file, tt.in, got, tt.want)
		}
		if n := c.Count(tt.in); n != len(ids) {
			t.Errorf("%s %q: Count %d, Encode gave %d ids", tt.file, tt.in, n, len(ids))
		}
	}
}

// Without a normalizer, HF still cuts the non-normalized added tokens out first and looks
// for the normalized ones only in the pieces between them (two passes, not one automaton):
// the expected pieces are what Hugging Face tokenizers (Node binding 0.6.0) give.
func TestAddedNormalizedWithoutNormalizer(t *testing.T) {
	base, err := os.ReadFile("testdata/bytelevel.json")
	if err != nil {
		t.Fatal(err)
	}
	const old = `"special": false
  }
 ],`
	if !strings.Contains(string(base), old) {
		t.Fatalf("testdata/bytelevel.json has no %q", old)
	}
	data := strings.Replace(string(base), old, `"special": false
  },
    {"id": 276, "content": "he c", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true, "special": false},
    {"id": 277, "content": "c", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": false},
    {"id": 278, "content": "<sep>", "single_word": true, "lstrip": false, "rstrip": false, "normalized": true, "special": false}
 ],`, 1)
	tk, err := Parse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want []string
	}{
		{"the cat", []string{"t", "he", " ", "c", "a", "t"}}, // "c" is cut first: "he c" never matches
		{"<sep>cats", []string{"<sep>", "cats"}},             // "<sep>" is a single word in its piece
		{"a<mask>cats<sep>.", []string{"a", "<mask>", "cats", "<sep>", "."}},
	}
	for _, tt := range tests {
		if got := pieces(tk, tk.Encode(tt.in)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDecode(t *testing.T) {
	tests := []struct{ file, in, want string }{
		{"bytelevel.json", "Ẹ kú àárọ̀!\n\n  <|end|> 1234 ሰላም 😀", "Ẹ kú àárọ̀!\n\n  <|end|> 1234 ሰላም 😀"},
		{"sentencepiece.json", "hello wọrld ẹ 😀", "hello wọrld ẹ 😀"},
		{"sentencepiece.json", " leading space", " leading space"},
		{"metaspace.json", "ab cd", "ab cd"},
		{"metaspace.json", "ab Å", "ab <unk>"}, // unk loses the character
	}
	for _, tt := range tests {
		tk := load(t, tt.file)
		got, err := tk.Decode(tk.Encode(tt.in))
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("%s: decode(encode(%q)) = %q, want %q", tt.file, tt.in, got, tt.want)
		}
	}
	if _, err := load(t, "bytelevel.json").Decode([]int{1 << 20}); err == nil {
		t.Error("decoding an id outside the vocabulary: no error")
	}
}

// The two merge algorithms (scan for short words, heap for long ones) agree.
func TestMergeLinearHeapAgree(t *testing.T) {
	for _, file := range []string{"bytelevel.json", "sentencepiece.json"} {
		tk := load(t, file)
		var w bpeWork
		for _, s := range []string{"aaaaaaa", "▁the▁cat▁hello▁world▁kú", "12312312aaaacatcatthe", "hello▁world▁▁▁▁wo"} {
			for n := 1; n < 6; n++ {
				word := []byte(strings.Repeat(s, n))
				w.ids = tk.initSymbols(word, w.ids[:0])
				init := append([]int32(nil), w.ids...)
				heap := tk.mergeHeap(&w, nil)
				w.ids = append(w.ids[:0], init...)
				tk.mergeLinear(&w)
				if !reflect.DeepEqual(heap, w.ids) {
					t.Errorf("%s %q x%d: heap %v, linear %v", file, s, n, heap, w.ids)
				}
			}
		}
	}
}

// Cutting SentencePiece-style text before "▁" does not change the tokens.
func TestChunkingExact(t *testing.T) {
	tk := load(t, "sentencepiece.json")
	if !tk.chunk || tk.chunkAfter['o'] {
		t.Fatalf("chunk %v, after 'o' %v: want chunking on, but not after 'o' (the vocabulary has \"o▁w\")", tk.chunk, tk.chunkAfter['o'])
	}
	plain := *tk
	plain.chunk = false
	texts := []string{"hello world the kú", "wo wo hello  world", "ẹ ẹ ọ hello", "a<s> b </s>c  "}
	for _, s := range texts {
		a := tk.NewCounter().Encode(nil, s)
		b := plain.NewCounter().Encode(nil, s)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%q: cut %v, whole %v", s, a, b)
		}
	}
}

// A counter gives the same ids with a warm cache, after the cache was emptied, and as a fresh
// counter.
func TestCounterCache(t *testing.T) {
	tk := load(t, "bytelevel.json")
	c := tk.NewCounter()
	var words []string
	// 100,000 distinct pieces, more than the two generations of 32k hold, so pieces are
	// evicted and counted again; every word comes back a second time later in the text.
	for i := range 100000 {
		w := []byte("w")
		for n := i; n > 0; n /= 26 {
			w = append(w, byte('a'+n%26))
		}
		words = append(words, string(w)+string(rune(0x1200+i%300)))
		if i%3 == 0 {
			words = append(words, words[i/2])
		}
	}
	if 2*(cacheSlots/2) >= 100000 { // a generation fills at half its slots
		t.Fatalf("the test needs more distinct pieces than two generations of %d pieces hold", cacheSlots/2)
	}
	text := strings.Join(words, " ")
	want := tk.Encode(text)
	for range 2 {
		if got := c.Encode(nil, text); !reflect.DeepEqual(got, want) {
			t.Fatalf("counter with cache: %d ids, fresh %d", len(got), len(want))
		}
	}
}

// Counting allocates nothing once the pieces are cached.
func TestCountAllocs(t *testing.T) {
	for _, file := range []string{"bytelevel.json", "sentencepiece.json", "metaspace.json"} {
		tk := load(t, file)
		c := tk.NewCounter()
		text := strings.Repeat("Ẹ kú àárọ̀! the cat 12345 <s> <|end|> ሰላም ለዓለም\n\n", 20)
		c.Count(text)
		if n := testing.AllocsPerRun(20, func() { c.Count(text) }); n != 0 {
			t.Errorf("%s: %v allocations per Count", file, n)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	base, err := os.ReadFile("testdata/metaspace.json")
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) []byte {
		if !strings.Contains(string(base), old) {
			t.Fatalf("testdata/metaspace.json has no %q", old)
		}
		return []byte(strings.Replace(string(base), old, new, 1))
	}
	tests := []struct {
		name        string
		data        []byte
		want        string // in the message: the JSON path and the value
		unsupported bool
	}{
		{"not json", []byte("{"), "not a tokenizer.json", false},
		{"wordpiece", edit(`"type": "BPE"`, `"type": "WordPiece"`), `model.type: "WordPiece"`, true},
		{"unigram", edit(`"type": "BPE"`, `"type": "Unigram"`), `model.type: "Unigram"`, true},
		{"unigram vocabulary", []byte(`{"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0], ["a", -1.5]]}}`), `model.type: "Unigram"`, true},
		{"dropout", edit(`"dropout": null`, `"dropout": 0.1`), `model.dropout: 0.1`, true},
		{"prefix", edit(`"continuing_subword_prefix": null`, `"continuing_subword_prefix": "##"`), `model.continuing_subword_prefix: "##"`, true},
		{"bert normalizer", edit(`"type": "NFKC"`, `"type": "BertNormalizer"`), `normalizer.type: normalizer "BertNormalizer"`, true},
		{"lowercase", edit(`"normalizer": {`, `"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Lowercase"}]}, "x": {`), `normalizer.normalizers[1].type: normalizer "Lowercase"`, true},
		{"whitespace pre-tokenizer", edit(`"type": "Metaspace",
  "replacement"`, `"type": "Whitespace",
  "replacement"`), `pre_tokenizer.type: pre-tokenizer "Whitespace"`, true},
		{"unknown regex", edit(`"pre_tokenizer": {`, `"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "\\w+|[^\\w\\s]+"}, "behavior": "Isolated", "invert": false}]}, "y": {`), `pre_tokenizer.pretokenizers[0].pattern.Regex: "\\w+|[^\\w\\s]+"`, true},
		{"regex replace", edit(`"normalizer": {`, `"normalizer": {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}, "z": {`), `normalizer.pattern.Regex: " {2,}"`, true},
		{"merge out of vocabulary", edit(`"▁ a",`, `"▁ a", "q Q",`), `model.merges[1]: "Q" is not in model.vocab`, false},
		{"merged out of vocabulary", edit(`"▁ a",`, `"▁ a", "q z",`), `model.merges[1]: the merged token "qz" is not in model.vocab`, false},
		{"bad merge", edit(`"▁ a",`, `"▁ a", "abc",`), `model.merges[1]: "abc": want two tokens`, false},
		{"unk not in vocab", edit(`"unk_token": "<unk>"`, `"unk_token": "<UNK>"`), `model.unk_token: "<UNK>" is not in model.vocab`, false},
		{"bad behavior", edit(`"type": "Metaspace",
  "replacement": "▁",
  "prepend_scheme": "first"`, `"type": "Split", "pattern": {"String": " "}, "behavior": "Sideways", "x": "first"`), `pre_tokenizer.behavior: "Sideways"`, false},
		{"no model", edit(`"model": {`, `"nomodel": {`), `model: missing`, false},
	}
	for _, tt := range tests {
		_, err := Parse(tt.data)
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q does not contain %q", tt.name, err, tt.want)
		}
		if errors.Is(err, ErrUnsupported) != tt.unsupported {
			t.Errorf("%s: errors.Is(err, ErrUnsupported) = %v", tt.name, !tt.unsupported)
		}
	}
	if _, err := Load("testdata/missing.json"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestFamily(t *testing.T) {
	for file, want := range map[string]string{"bytelevel.json": "byte-level BPE", "sentencepiece.json": "SentencePiece-style BPE"} {
		tk := load(t, file)
		if tk.Family() != want || len(tk.SHA256()) != 64 || tk.Name() != file {
			t.Errorf("%s: family %q, sha256 %q, name %q", file, tk.Family(), tk.SHA256(), tk.Name())
		}
	}
}

// A Counter does not keep buffers the size of a huge text once it has counted it: workers
// keep their counters for a whole run, and each would otherwise hold several times the
// largest document it met (a 12 MB CJK text, one piece for Llama 3, left 239 MB behind).
func TestCounterShedsBigBuffers(t *testing.T) {
	for _, tt := range []struct{ file, text string }{
		{"sentencepiece.json", strings.Repeat("hello wọrld ", 200_000)},
		{"bytelevel.json", strings.Repeat("ẹ", 1_000_000)}, // one piece of 3 MB
	} {
		tk := load(t, tt.file)
		c := tk.NewCounter()
		want := c.Count(tt.text)
		if got := len(c.Encode(nil, tt.text)); got != want {
			t.Fatalf("%s: Encode gave %d ids, Count %d", tt.file, got, want)
		}
		w := &c.work
		bufs := map[string]int{"text": cap(c.text), "norm a": cap(c.nb.a), "norm b": cap(c.nb.b),
			"ids": 4 * cap(c.ids), "word": 4 * cap(c.word), "work ids": 4 * cap(w.ids), "ranks": 4 * cap(w.ranks),
			"mids": 4 * cap(w.mids), "next": 4 * cap(w.next), "prev": 4 * cap(w.prev), "heap": 12 * cap(w.heap)}
		for i := range c.scratch {
			bufs[fmt.Sprint("scratch ", i)] = cap(c.scratch[i])
			bufs[fmt.Sprint("spans ", i)] = 24 * cap(c.spans[i])
		}
		for name, n := range bufs {
			if n > 1<<20 {
				t.Errorf("%s: after a text of %d bytes the counter keeps %d bytes in %s", tt.file, len(tt.text), n, name)
			}
		}
	}
}
