package lang

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func words(text string) []string {
	var out []string
	for t := range Words(text) {
		out = append(out, text[t.Start:t.End])
	}
	return out
}

func TestWords(t *testing.T) {
	tests := []struct {
		name string
		give string
		want []string
	}{
		{"empty", "", nil},
		{"spaces only", " \t\n ", nil},
		{"english", "The cat sat, on the mat.", []string{"The", "cat", "sat", "on", "the", "mat"}},
		{"welsh apostrophe", "Aeth hi i'r dref.", []string{"Aeth", "hi", "i'r", "dref"}},
		{"kinyarwanda apostrophe", "n'abandi bose", []string{"n'abandi", "bose"}},
		{"hawaiian okina letter", "ʻŌlelo Hawaiʻi", []string{"ʻŌlelo", "Hawaiʻi"}},
		{"hawaiian okina as quote", "Hawai‘i nei", []string{"Hawai‘i", "nei"}},
		{"curly apostrophe", "don’t stop", []string{"don’t", "stop"}},
		{"yoruba hyphen and tones", "Ọmọ-ọba náà lọ sí ọjà.", []string{"Ọmọ-ọba", "náà", "lọ", "sí", "ọjà"}},
		{"yoruba decomposed marks", "o\u0323mo\u0323 jé\u0329", []string{"o\u0323mo\u0323", "jé\u0329"}},
		{"trailing apostrophe and hyphen separate", "dogs' -- end- 'quoted'", []string{"dogs", "end", "quoted"}},
		{"numbers keep separators", "It cost 1,000.50 on 3.5.2024, ok.", []string{"It", "cost", "1,000.50", "on", "3.5.2024", "ok"}},
		{"comma after letter splits", "a,b c.d", []string{"a", "b", "c", "d"}},
		{"ethiopic separators", "ሰላም፡ለዓለም። ሰራተኞቹ ነበር።", []string{"ሰላም", "ለዓለም", "ሰራተኞቹ", "ነበር"}},
		{"devanagari marks", "नमस्ते दुनिया।", []string{"नमस्ते", "दुनिया"}},
		{"arabic", "ڈھاکہ ۔ یکم دسمبر؟", []string{"ڈھاکہ", "یکم", "دسمبر"}},
		{"persian zwnj", "می\u200cخواهم", []string{"می\u200cخواهم"}},
		{"symbols and emoji separate", "a+b=c 🙂 #tag $5", []string{"a", "b", "c", "tag", "5"}},
		{"thai graphemes", "สวัสดี", []string{"ส", "วั", "ส", "ดี"}},
		{"thai with latin and digits", "ราคา 100 บาท iPhone", []string{"ร", "า", "ค", "า", "100", "บ", "า", "ท", "iPhone"}},
		{"chinese", "我爱北京。", []string{"我", "爱", "北", "京"}},
		{"chinese digits", "2020年", []string{"2020", "年"}},
		{"japanese kana", "ひらがなカタカナ", []string{"ひ", "ら", "が", "な", "カ", "タ", "カ", "ナ"}},
		{"khmer coeng stack", "ខ្មែរ", []string{"ខ្មែ", "រ"}},
		{"myanmar virama stack", "မြန်မာ", []string{"မြ", "န်", "မာ"}},
		{"tibetan tsheg separates", "བོད་ཡིག", []string{"བོ", "ད", "ཡི", "ག"}},
		{"korean uses spaces", "안녕하세요 세계", []string{"안녕하세요", "세계"}},
		{"invalid utf8 separates", "ab\xffcd", []string{"ab", "cd"}},
		{"catalan middle dot", "col·lecció", []string{"col·lecció"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := words(tt.give)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Words(%q) = %q, want %q", tt.give, got, tt.want)
			}
			if n := CountWords(tt.give); n != len(tt.want) {
				t.Errorf("CountWords(%q) = %d, want %d", tt.give, n, len(tt.want))
			}
		})
	}
}

func TestTokenKinds(t *testing.T) {
	words, chars := CountTokens("ราคา 100 บาท iPhone 中文")
	if words != 2 || chars != 9 {
		t.Errorf("CountTokens = %d words, %d chars; want 2, 9", words, chars)
	}
	for tok := range Words("abc 中") {
		want := Word
		if tok.Start == 4 {
			want = Char
		}
		if tok.Kind != want {
			t.Errorf("token at %d has kind %v, want %v", tok.Start, tok.Kind, want)
		}
	}
}

func TestWordsStopEarly(t *testing.T) {
	n := 0
	for range Words("one two three four") {
		n++
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Fatalf("iterated %d tokens after break at 2", n)
	}
}

func sentences(text string) []string {
	var out []string
	for s := range Sentences(text) {
		out = append(out, text[s.Start:s.End])
	}
	return out
}

func TestSentences(t *testing.T) {
	tests := []struct {
		name string
		give string
		want []string
	}{
		{"empty", "", nil},
		{"no terminator", "just words", []string{"just words"}},
		{"english", "It rained. We stayed in! Did you?", []string{"It rained.", "We stayed in!", "Did you?"}},
		{"abbreviation", "Dr. Okafor arrived. He sat.", []string{"Dr. Okafor arrived.", "He sat."}},
		{"swahili title", "Mhe. Rais alisema jambo. Watu walifurahi.", []string{"Mhe. Rais alisema jambo.", "Watu walifurahi."}},
		{"initials", "J. K. Rowling wrote it. Yes.", []string{"J. K. Rowling wrote it.", "Yes."}},
		{"number abbreviation", "See No. 5 here. No. It is not.", []string{"See No. 5 here.", "No.", "It is not."}},
		{"decimal", "Pi is 3.14 exactly. Right.", []string{"Pi is 3.14 exactly.", "Right."}},
		{"lowercase continues", "He said approx. ten words. Then left.", []string{"He said approx. ten words.", "Then left."}},
		{"closing quote", "She said \"go.\" Then he went.", []string{"She said \"go.\"", "Then he went."}},
		{"ellipsis and runs", "Wait... What?! Ok.", []string{"Wait...", "What?!", "Ok."}},
		{"hindi danda", "यह एक वाक्य है। यह दूसरा है॥ तीसरा", []string{"यह एक वाक्य है।", "यह दूसरा है॥", "तीसरा"}},
		{"amharic", "ሰራተኞቹ ተቆልፎባቸው ነበር። ምን ሆነ፧ አላውቅም።", []string{"ሰራተኞቹ ተቆልፎባቸው ነበር።", "ምን ሆነ፧", "አላውቅም።"}},
		{"myanmar", "မြန်မာ။နိုင်ငံ။", []string{"မြန်မာ။", "နိုင်ငံ။"}},
		{"chinese no spaces", "我爱北京。你呢？好！", []string{"我爱北京。", "你呢？", "好！"}},
		{"urdu", "بنگلہ دیش نے میچ جیت لیا۔ کیا آپ نے دیکھا؟ ہاں", []string{"بنگلہ دیش نے میچ جیت لیا۔", "کیا آپ نے دیکھا؟", "ہاں"}},
		{"blank line", "Heading\n\nBody text here", []string{"Heading", "Body text here"}},
		{"single newline joins", "line one\nline two.", []string{"line one\nline two."}},
		{"url dot", "Visit example.com today.", []string{"Visit example.com today."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sentences(tt.give)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Sentences(%q) =\n %q\nwant\n %q", tt.give, got, tt.want)
			}
			if n := CountSentences(tt.give); n != len(tt.want) {
				t.Errorf("CountSentences = %d, want %d", n, len(tt.want))
			}
		})
	}
}

func TestSpacelessScript(t *testing.T) {
	for _, c := range []string{"Thai", "Laoo", "Khmr", "Mymr", "Tibt", "Hani", "Hans", "Hant", "Hira", "Kana", "Jpan"} {
		if !SpacelessScript(c) {
			t.Errorf("SpacelessScript(%q) = false", c)
		}
	}
	for _, c := range []string{"Latn", "Hang", "Ethi", "Arab", "Deva", ""} {
		if SpacelessScript(c) {
			t.Errorf("SpacelessScript(%q) = true", c)
		}
	}
	// Consistency with DetectScript: a text whose detected script is spaceless segments into
	// Char tokens.
	for _, text := range []string{"สวัสดีครับ", "我爱北京天安门", "ひらがなとカタカナ", "ខ្មែរ", "မြန်မာ", "ພາສາລາວ", "བོད་ཡིག"} {
		script, _ := DetectScript(text)
		if !SpacelessScript(script) {
			t.Errorf("DetectScript(%q) = %s, not spaceless", text, script)
		}
		if w, c := CountTokens(text); w != 0 || c == 0 {
			t.Errorf("CountTokens(%q) = %d words, %d chars", text, w, c)
		}
	}
}

// Tokens and sentences are in order, inside the text, non-overlapping, and never split a
// UTF-8 sequence, whatever the input.
func FuzzSegment(f *testing.F) {
	for _, s := range []string{"", "a b", "ab\xffcd", "ሰላም፡ለዓለም።", "ខ្មែរ", "Dr. X. 3.5 ?!", "a'-b", "\n\n.", "中\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		last := 0
		for tok := range Words(s) {
			if tok.Start < last || tok.End <= tok.Start || tok.End > len(s) {
				t.Fatalf("bad token %+v after %d in %q", tok, last, s)
			}
			if utf8.ValidString(s) && (!utf8.ValidString(s[tok.Start:tok.End]) || strings.TrimSpace(s[tok.Start:tok.End]) != s[tok.Start:tok.End]) {
				t.Fatalf("token %q not a clean slice of %q", s[tok.Start:tok.End], s)
			}
			last = tok.End
		}
		last = 0
		for sp := range Sentences(s) {
			if sp.Start < last || sp.End <= sp.Start || sp.End > len(s) {
				t.Fatalf("bad sentence %+v after %d in %q", sp, last, s)
			}
			last = sp.End
		}
	})
}

var benchText = strings.Repeat("Ọmọ-ọba náà lọ sí ọjà ní àárọ̀. The council met on 3.5.2024, and Mhe. Rais spoke! ", 40)

func BenchmarkCountWords(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchText)))
	for b.Loop() {
		CountWords(benchText)
	}
}

func BenchmarkWordsRange(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchText)))
	for b.Loop() {
		n := 0
		for t := range Words(benchText) {
			n += t.End - t.Start
		}
		_ = n
	}
}

func BenchmarkCountWordsThai(b *testing.B) {
	text := strings.Repeat("ภาษาไทยเป็นภาษาที่เขียนโดยไม่เว้นวรรคระหว่างคำ ", 60)
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		CountWords(text)
	}
}

func BenchmarkSentences(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchText)))
	for b.Loop() {
		CountSentences(benchText)
	}
}
