package lang

import (
	"math"
	"strings"
	"testing"
	"unicode"
)

func TestDetectScript(t *testing.T) {
	tests := []struct {
		name      string
		give      string
		want      string
		wantShare float64
	}{
		{"empty", "", "Zyyy", 0},
		{"spaces", " \t\n ", "Zyyy", 0},
		{"digits only", "0123 456,78 ٣٤٥ ५६७", "Zyyy", 0},
		{"punctuation and symbols", "!? ... -- (+) $ € ¥ % @ # « » ¡¿", "Zyyy", 0},
		{"emoji only", "😀 🎉 👍🏽 ❤️ 🇳🇬", "Zyyy", 0},
		{"english", "The quick brown fox.", "Latn", 1},
		{"latin with diacritics yoruba", "Ọmọ náà ń ṣiṣẹ́ ní ilé-ìwé.", "Latn", 1},
		{"latin decomposed yoruba", "O\u0323mo\u0323 na\u0301a\u0300", "Latn", 1},
		{"vietnamese", "Tiếng Việt có dấu", "Latn", 1},
		{"icelandic", "Þetta er ævintýri", "Latn", 1},
		{"latin with emoji and digits", "Habari 123 😀 yako!", "Latn", 1},
		{"ethiopic amharic", "ሰላም ለዓለም።", "Ethi", 1},
		{"ethiopic with digits and punctuation", "፩፪ ሰላም 2024 ።", "Ethi", 1},
		{"devanagari hindi", "नमस्ते दुनिया।", "Deva", 1},
		{"devanagari marathi with digits", "माझे नाव ५ आहे", "Deva", 1},
		{"bengali", "আমার সোনার বাংলা", "Beng", 1},
		{"tamil", "வணக்கம் உலகம்", "Taml", 1},
		{"telugu", "నమస్కారం ప్రపంచం", "Telu", 1},
		{"gujarati", "નમસ્તે દુનિયા", "Gujr", 1},
		{"gurmukhi", "ਸਤਿ ਸ੍ਰੀ ਅਕਾਲ", "Guru", 1},
		{"armenian", "Բարեւ աշխարհ", "Armn", 1},
		{"georgian", "გამარჯობა მსოფლიო", "Geor", 1},
		{"cyrillic", "Привет, мир!", "Cyrl", 1},
		{"greek", "Γειά σου κόσμε", "Grek", 1},
		{"hebrew", "שלום עולם", "Hebr", 1},
		{"arabic", "مرحبا بالعالم ٣", "Arab", 1},
		{"thai", "สวัสดีชาวโลก", "Thai", 1},
		{"lao", "ສະບາຍດີ", "Laoo", 1},
		{"khmer", "សួស្តី​ពិភពលោក", "Khmr", 1},
		{"myanmar", "မင်္ဂလာပါ", "Mymr", 1},
		{"tibetan", "བཀྲ་ཤིས་བདེ་ལེགས།", "Tibt", 1},
		{"chinese simplified", "我们这个国家的发展", "Hans", 1},
		{"chinese traditional", "我們這個國家的發展", "Hant", 1},
		{"chinese undecided", "中文", "Hani", 1},
		{"japanese", "日本語のテキストです。", "Jpan", 1},
		{"japanese kana only", "ひらがなだけ", "Jpan", 1},
		{"korean", "안녕하세요 세계", "Hang", 1},
		{"korean with han", "大韓民國 안녕하세요", "Hang", 1},
		{"chinese quoting one kana", "我们这个国家的发展很快很快很快很快很快很快很快很快很快很快ノ", "Hans", 29.0 / 30},
		{"mixed latin majority", "hello мир", "Latn", 5.0 / 8},
		{"mixed cyrillic majority", "hi привет", "Cyrl", 6.0 / 8},
		{"mixed tie goes to unicode order", "ab аб", "Latn", 0.5},
		{"latin in ethiopic text", "ሰላም ለዓለም OK", "Ethi", 7.0 / 9},
		{"combining marks count with base", "किताब", "Deva", 1},
		{"script-neutral combining mark ignored", "\u0301\u0301a", "Latn", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, share := DetectScript(tt.give)
			if got != tt.want || math.Abs(share-tt.wantShare) > 1e-9 {
				t.Errorf("DetectScript(%q) = %q, %.4f; want %q, %.4f", tt.give, got, share, tt.want, tt.wantShare)
			}
			gotB, shareB := DetectScriptBytes([]byte(tt.give))
			if gotB != got || shareB != share {
				t.Errorf("DetectScriptBytes(%q) = %q, %v; DetectScript gave %q, %v", tt.give, gotB, shareB, got, share)
			}
		})
	}
}

func TestScriptOf(t *testing.T) {
	tests := []struct {
		give rune
		want string
	}{
		{'a', "Latn"}, {'Ọ', "Latn"}, {'1', ""}, {'.', ""}, {' ', ""}, {'😀', ""},
		{'ሀ', "Ethi"}, {'क', "Deva"}, {'ि', "Deva"}, {'५', ""}, {'中', "Hani"}, {'の', "Hira"},
		{'カ', "Kana"}, {'한', "Hang"}, {'\u0301', ""}, {'𞤀', "Adlm"}, {'𐌰', "Goth"},
	}
	for _, tt := range tests {
		if got := ScriptOf(tt.give); got != tt.want {
			t.Errorf("ScriptOf(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

// Every script in the standard library's Unicode tables has an ISO 15924 code.
func TestISO15924Complete(t *testing.T) {
	for name := range unicode.Scripts {
		code, ok := iso15924[name]
		if !ok || len(code) != 4 || code[0] < 'A' || code[0] > 'Z' || strings.ToLower(code[1:]) != code[1:] {
			t.Errorf("script %s: ISO 15924 code %q", name, code)
		}
	}
}

func TestDetectScriptNoAlloc(t *testing.T) {
	text := strings.Repeat("Ọmọ náà ń ṣiṣẹ́ 123 ሰላም 我们 ", 20)
	DetectScript(text)
	if n := testing.AllocsPerRun(100, func() { DetectScript(text) }); n != 0 {
		t.Errorf("DetectScript allocates %v times per call", n)
	}
}

func FuzzDetectScript(f *testing.F) {
	for _, s := range []string{"", "abc", "ሰላም", "日本語のテキスト", "\xff\xfe", "a\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, share := DetectScript(s)
		if code == "" || share < 0 || share > 1 || (code == NoScript) != (share == 0) {
			t.Fatalf("DetectScript(%q) = %q, %v", s, code, share)
		}
	})
}

func BenchmarkDetectScript(b *testing.B) {
	text := strings.Repeat("Ọmọ náà ń ṣiṣẹ́ ní ilé-ìwé, ó sì ń kọ́ ẹ̀kọ́ rẹ̀ dáadáa. ", 24)[:1400]
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		DetectScript(text)
	}
}
