package lang

import (
	"bytes"
	"compress/gzip"
	"errors"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/pemistahl/lingua-go"
)

// Written for these tests: Igbo, a language lingua-go lacks, with its dotted vowels.
const igboParagraph = "Ndị ọrụ ugbo na-atụ anya mmiri ozuzo mbụ nke afọ a. Ha akwadoola ala ubi ha, " +
	"ma zụta mkpụrụ ọhụrụ n'ahịa. Ọ bụrụ na mmiri ozuzo abịa n'oge, ihe ubi ga-amị mkpụrụ nke ọma."

func testDocs(t testing.TB) map[string]string {
	t.Helper()
	f, err := os.Open("testdata/docs.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ex, err := ReadLabelled(f, "testdata/docs.tsv")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range ex {
		out[e.Gold] = e.Text
	}
	return out
}

func TestDefaultProfilesCoverLingua(t *testing.T) {
	ps := DefaultProfiles()
	for _, l := range lingua.AllLanguages() {
		label := linguaLabel(l)
		p, ok := ps.Profile(label)
		if l == lingua.Chinese || l == lingua.Japanese || l == lingua.Korean {
			if ok {
				t.Errorf("%s has a profile; CJK are identified by script", label)
			}
			continue
		}
		if !ok {
			t.Errorf("no profile for lingua language %s (%s)", l, label)
			continue
		}
		if len(p.Letters) < 20 || p.Source == "" {
			t.Errorf("%s: %d letters, source %q", label, len(p.Letters), p.Source)
		}
		if len(p.Trigrams) > 0 && (p.Expect >= 0 || p.Expect < -8) {
			t.Errorf("%s: expect %v", label, p.Expect)
		}
	}
}

func TestOpenSetCheck(t *testing.T) {
	docs := testDocs(t)
	o := DefaultOpenSet()
	tests := []struct {
		name  string
		text  string
		label string
		want  bool
	}{
		{"english as english", docs["eng_Latn"], "eng_Latn", true},
		{"french as french", docs["fra_Latn"], "fra_Latn", true},
		{"yoruba with tone marks as yoruba", docs["yor_Latn"], "yor_Latn", true},
		{"swahili as swahili", docs["swh_Latn"], "swh_Latn", true},
		{"welsh as welsh", docs["cym_Latn"], "cym_Latn", true},
		{"russian as russian", docs["rus_Cyrl"], "rus_Cyrl", true},
		{"igbo as swahili", igboParagraph, "swh_Latn", false},
		{"igbo as yoruba", igboParagraph, "yor_Latn", false},
		{"english as german", docs["eng_Latn"], "deu_Latn", false},
		{"welsh as english", docs["cym_Latn"], "eng_Latn", false},
		{"swahili as zulu", docs["swh_Latn"], "zul_Latn", false},
		{"spanish as italian", docs["spa_Latn"], "ita_Latn", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fit, ok, checked := o.Check(tt.text, tt.label)
			if !checked || ok != tt.want {
				t.Errorf("Check(%s) = ok %v checked %v (fit %+v, unknown %.3f); want ok %v", tt.label, ok, checked, fit, fit.UnknownShare(), tt.want)
			}
		})
	}
	if _, ok, checked := o.Check(docs["eng_Latn"], "zho_Hans"); checked || !ok {
		t.Errorf("a label without profile must pass unchecked")
	}
}

func TestFitIgnoresOtherScripts(t *testing.T) {
	ps := DefaultProfiles()
	ru := testDocs(t)["rus_Cyrl"]
	plain, _ := ps.Fit(ru, "rus_Cyrl")
	mixed, _ := ps.Fit(ru+" Sergei Rachmaninoff, Yamaha, Wi-Fi.", "rus_Cyrl")
	if mixed.Letters != plain.Letters || mixed.Unknown != plain.Unknown || mixed.Value != plain.Value {
		t.Errorf("Latin words changed the Russian fit: %+v vs %+v", mixed, plain)
	}
}

func TestFoldLatin(t *testing.T) {
	tests := []struct{ give, want rune }{
		{'a', 'a'}, {'é', 'e'}, {'ọ', 'o'}, {'ẹ', 'e'}, {'ñ', 'n'}, {'ŵ', 'w'}, {'ő', 'o'},
		{'ß', 'ß'}, {'ø', 'ø'}, {'ɛ', 'ɛ'}, {'ŋ', 'ŋ'}, {'ё', 'е'}, {'й', 'и'}, {'ά', 'α'}, {'ж', 'ж'},
	}
	for _, tt := range tests {
		if got := foldLatin(tt.give); got != tt.want {
			t.Errorf("foldLatin(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestBuildProfileRoundTrip(t *testing.T) {
	docs := testDocs(t)
	text := strings.Repeat(docs["eng_Latn"]+"\n", 4)
	p, err := BuildProfile("eng_Latn", strings.NewReader(text), "testdata/docs.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Trigrams) == 0 || len(p.Trigrams) > DefaultProfileTrigrams || p.Expect >= 0 {
		t.Fatalf("profile: %d trigrams, expect %v", len(p.Trigrams), p.Expect)
	}
	// A profile knows exactly the letters of its text, lower-cased.
	seen := map[rune]bool{}
	for _, r := range strings.ToLower(text) {
		if unicode.IsLetter(r) {
			seen[r] = true
		}
	}
	if len(seen) != len(p.Letters) {
		t.Errorf("profile has %d letters, text %d", len(p.Letters), len(seen))
	}
	for r := range seen {
		if _, ok := p.Letters[r]; !ok {
			t.Errorf("letter %q of the text missing from the profile", r)
		}
	}
	var buf bytes.Buffer
	if _, err := p.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadProfiles(bytes.NewReader(buf.Bytes()), "buf")
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 1 || !reflect.DeepEqual(back[0], p) {
		t.Fatalf("read back %+v, want %+v", back[0], p)
	}
	// Writing is reproducible, and gzip input is read too.
	var again, zbuf bytes.Buffer
	back[0].WriteTo(&again)
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("WriteTo output differs between two writes of the same profile")
	}
	zw := gzip.NewWriter(&zbuf)
	zw.Write(buf.Bytes())
	zw.Close()
	if z, err := ReadProfiles(&zbuf, "buf.gz"); err != nil || !reflect.DeepEqual(z[0], p) {
		t.Errorf("gzip read: %v", err)
	}
	// The profile accepts its own text better than Welsh.
	set := NewProfileSet(p)
	own, _ := set.Fit(docs["eng_Latn"], "eng_Latn")
	welsh, _ := set.Fit(docs["cym_Latn"], "eng_Latn")
	if !(own.Value > welsh.Value) || math.IsInf(own.Value, 0) {
		t.Errorf("fit of own text %v, of Welsh %v", own.Value, welsh.Value)
	}
}

func TestBuildProfileTooSmall(t *testing.T) {
	_, err := BuildProfile("eng_Latn", strings.NewReader("far too short"), "")
	if !errors.Is(err, ErrProfileTooSmall) {
		t.Errorf("err = %v, want ErrProfileTooSmall", err)
	}
}

func TestReadProfilesErrors(t *testing.T) {
	tests := []struct {
		name, give, want string
	}{
		{"empty", "", "p.prof: no profile in file"},
		{"record before label", "expect\t-2\n", `p.prof:1: "expect" before the first label line`},
		{"bad label", "label\n", `p.prof:1: want "label<TAB>name"`},
		{"bad expect", "label\tx_Latn\nexpect\tabc\n", `p.prof:2: expect: want a log-probability (a number <= 0), got "abc"`},
		{"positive log-probability", "label\tx_Latn\nletter\ta\t0.5\n", `p.prof:2: letter "a": want a log-probability (a number <= 0), got "0.5"`},
		{"two letters", "# c\nlabel\tx_Latn\nletter\tab\t-1\n", `p.prof:3: want "letter<TAB>one letter<TAB>log-probability"`},
		{"short trigram", "label\tx_Latn\ntri\tab\t-1\n", `p.prof:2: want "tri<TAB>three letters<TAB>log-probability"`},
		{"unknown record", "label\tx_Latn\nbigram\tab\t-1\n", `p.prof:2: unknown record "bigram" (want label, source, expect, letter or tri)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadProfiles(strings.NewReader(tt.give), "p.prof")
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %s", err, tt.want)
			}
		})
	}
}

func FuzzReadProfiles(f *testing.F) {
	f.Add("label\tx_Latn\nexpect\t-2.5\nletter\ta\t-1\ntri\tabc\t-0.5\n")
	f.Add("label\ty_Cyrl\nsource\ts\n")
	f.Add("\x1f\x8b garbage")
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ReadProfiles(strings.NewReader(s), "fuzz")
		if err != nil {
			return
		}
		for _, p := range ps {
			if p.Label == "" {
				t.Fatalf("profile without label from %q", s)
			}
		}
		set := NewProfileSet(ps...)
		set.Fit("some text to score", ps[0].Label)
	})
}

func BenchmarkProfileFit(b *testing.B) {
	docs := benchDocs(b)
	ps := DefaultProfiles()
	samples := make([]string, len(docs))
	for i, d := range docs {
		samples[i] = Sample(d, DefaultSampleChars)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(samples[0])))
	i := 0
	for b.Loop() {
		ps.Fit(samples[i%len(samples)], "eng_Latn")
		i++
	}
}

// TestFitEqualsFullScore checks that Fit, which scores only the label's profile, gives
// exactly what scoring every profile gives that label.
func TestFitEqualsFullScore(t *testing.T) {
	set := DefaultProfiles()
	texts := []string{
		"Ọmọ náà lọ sí ọjà ní àárọ̀ ana, ó sì ra ẹja.",
		"Watoto walikwenda shuleni asubuhi na mapema.",
		"Привет, как дела? Всё хорошо, спасибо, Anna.",
		"the the the zzz qqq 123 !!",
		"",
	}
	for _, label := range set.Labels() {
		for _, text := range texts {
			got, ok := set.Fit(text, label)
			if !ok {
				t.Fatalf("no profile for %s", label)
			}
			i := set.index[label]
			sc := set.pool.Get().(*scoreScratch)
			st := set.score(text, sc, set.scripts[i], -1)
			want := set.fitOf(i, sc, st)
			set.pool.Put(sc)
			if got != want && !(math.IsNaN(got.Value) && math.IsNaN(want.Value)) {
				t.Errorf("%s %.30q: Fit %+v, full score %+v", label, text, got, want)
			}
		}
	}
}
