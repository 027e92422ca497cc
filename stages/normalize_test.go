package stages

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"

	"github.com/sieve-data/sieve/pipeline"
)

func newNormalize(t testing.TB, mod func(*NormalizeConfig)) *Normalize {
	t.Helper()
	c := DefaultNormalizeConfig()
	if mod != nil {
		mod(&c)
	}
	s, err := NewNormalize(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNormalize(t *testing.T) {
	unicodeSpaces := func(c *NormalizeConfig) { c.UnicodeSpaces = true }
	tests := []struct {
		name string
		mod  func(*NormalizeConfig)
		give string
		want string
		// changes counted
		invisible, control, newlines, spaces, blanks int64
		form                                         bool
	}{
		{name: "NFD Yoruba to NFC",
			give: "O\u0323mo\u0323 na\u0301a\u0300 lo\u0323 si\u0301 ile\u0301 i\u0300we\u0301 la\u0301a\u0300a\u0301ro\u0323\u0300.",
			want: "Ọmọ náà lọ sí ilé ìwé láàárọ̀.", form: true},
		{name: "Yoruba NFC with marks that have no precomposed form",
			give: "Ẹ̀gbọ́n mi ń ṣiṣẹ́ ní ọjà; ọ̀rẹ́ rẹ̀ wà níbẹ̀.",
			want: "Ẹ̀gbọ́n mi ń ṣiṣẹ́ ní ọjà; ọ̀rẹ́ rẹ̀ wà níbẹ̀."},
		{name: "Vietnamese stacked marks in either order",
			give: "Tie\u0302\u0301ng Vie\u0302\u0323t (vie\u0323\u0302t) ra\u0306\u0300ng ngu\u031bo\u031b\u0300i",
			want: "Tiếng Việt (việt) rằng người", form: true},
		{name: "Amharic unchanged",
			give: "ሰላም ለዓለም። ኢትዮጵያ ውብ ሀገር ናት፤ ቡና በየቀኑ እንጠጣለን።",
			want: "ሰላም ለዓለም። ኢትዮጵያ ውብ ሀገር ናት፤ ቡና በየቀኑ እንጠጣለን።"},
		{name: "U+FEFF inside a word and as BOM",
			give: "\uFEFFG\uFEFFomina ti ìpínlẹ̀ Ọ̀yọ́\u200B sọ\u2060rọ̀ lo\u00ADní.",
			want: "Gomina ti ìpínlẹ̀ Ọ̀yọ́ sọrọ̀ loní.", invisible: 5},
		{name: "removed character between a letter and its mark",
			give: "Ile\u200B\u0301 wa",
			want: "Ilé wa", invisible: 1, form: true},
		{name: "strip_invisible off",
			mod:  func(c *NormalizeConfig) { c.StripInvisible = false },
			give: "G\uFEFFomina\u200B",
			want: "G\uFEFFomina\u200B"},
		{name: "ZWNJ in Persian kept",
			give: "من می\u200Cخواهم کتاب\u200Cها را بخوانم.",
			want: "من می\u200Cخواهم کتاب\u200Cها را بخوانم."},
		{name: "ZWJ emoji and bidi marks kept",
			give: "👩\u200D💻 👨\u200D👩\u200D👧 \u200Fשלום\u200E",
			want: "👩\u200D💻 👨\u200D👩\u200D👧 \u200Fשלום\u200E"},
		{name: "CRLF",
			give: "Habari\r\nza asubuhi\r\n",
			want: "Habari\nza asubuhi\n", newlines: 2},
		{name: "lone CR and CR LF with a removed character between",
			give: "line one\rline two\r\u200B\nthree\r",
			want: "line one\nline two\nthree\n", newlines: 3, invisible: 1},
		{name: "newlines keep",
			mod:  func(c *NormalizeConfig) { c.Newlines = "keep" },
			give: "a\r\nb\rc\fd",
			want: "a\r\nb\rc\fd"},
		{name: "other line breaks",
			give: "page\fnext\vline\u0085nel\u2028ls\u2029ps",
			want: "page\nnext\nline\nnel\nls\nps", newlines: 5},
		{name: "NUL and other controls",
			give: "a\x00b\x07c\x1bd\x7fe\u0080f\u009fg\th\n",
			want: "abcdefg\th\n", control: 6},
		{name: "control_chars off",
			mod:  func(c *NormalizeConfig) { c.ControlChars = false },
			give: "a\x00b\u0081",
			want: "a\x00b\u0081"},
		{name: "NBSP kept by default",
			give: "Il a dit\u00A0: «\u202Foui\u202F» 100\u00A0km",
			want: "Il a dit\u00A0: «\u202Foui\u202F» 100\u00A0km"},
		{name: "unicode_spaces",
			mod:  unicodeSpaces,
			give: "Il a dit\u00A0: «\u202Foui\u202F» 1\u2007000\u3000km\u2003x\u1680y",
			want: "Il a dit : « oui » 1 000 km x y", spaces: 7},
		{name: "NFKC of fullwidth digits",
			mod:  func(c *NormalizeConfig) { c.Form = "NFKC" },
			give: "２０２４年 ﬁle x²",
			want: "2024年 file x2", form: true},
		{name: "NFC leaves fullwidth digits",
			give: "２０２４年 ﬁle x²",
			want: "２０２４年 ﬁle x²"},
		{name: "form none",
			mod:  func(c *NormalizeConfig) { c.Form = "none" },
			give: "O\u0323mo\u0323\u200B",
			want: "O\u0323mo\u0323", invisible: 1},
		{name: "collapse_blank_lines 1",
			mod:  func(c *NormalizeConfig) { c.CollapseBlankLines = 1 },
			give: "\n\n\ntitle\n\n\n\nbody\n \n\t\n\u00A0\nend\n\n\n",
			want: "\ntitle\n\nbody\n \nend\n\n", blanks: 7},
		{name: "collapse_blank_lines 2 with CRLF",
			mod:  func(c *NormalizeConfig) { c.CollapseBlankLines = 2 },
			give: "a\r\n\r\n\r\n\r\nb\n\n\nc",
			want: "a\n\n\nb\n\n\nc", newlines: 4, blanks: 1},
		{name: "collapse keeps runs within the limit",
			mod:  func(c *NormalizeConfig) { c.CollapseBlankLines = 2 },
			give: "a\n\n\nb",
			want: "a\n\n\nb"},
		{name: "invalid UTF-8 becomes U+FFFD",
			give: "ab\xffc\xe2\x80",
			want: "ab\uFFFDc\uFFFD\uFFFD"},
		{name: "empty", give: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newNormalize(t, tt.mod)
			d := &pipeline.Document{Text: tt.give}
			if v, err := s.Process(context.Background(), d); err != nil || !v.Kept() {
				t.Fatalf("Process = %v, %v", v, err)
			}
			if d.Text != tt.want {
				t.Errorf("got  %+q\nwant %+q", d.Text, tt.want)
			}
			if again := s.Normalize(d.Text); again != d.Text {
				t.Errorf("not idempotent: %+q", again)
			}
			rep := s.Report()
			removed := rep["removed"].(map[string]int64)
			got := []int64{removed["invisible"], removed["control"], rep["newlines_converted"].(int64), rep["spaces_replaced"].(int64), rep["blank_lines_removed"].(int64), rep["docs_form_changed"].(int64)}
			want := []int64{tt.invisible, tt.control, tt.newlines, tt.spaces, tt.blanks, int64(boolInt(tt.form))}
			if tt.name == "invalid UTF-8 becomes U+FFFD" {
				got = append(got, rep["invalid_utf8"].(int64))
				want = append(want, 3)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("counts (invisible, control, newlines, spaces, blank lines, form) = %v, want %v", got, want)
					break
				}
			}
			if changed := rep["docs_changed"].(int64); changed != int64(boolInt(tt.give != tt.want)) {
				t.Errorf("docs_changed = %d", changed)
			}
		})
	}
}

// Text that needs no change comes back as it is, without allocating: ASCII, NFC Yoruba whose
// marks stay combining (the quick check is inconclusive there), Amharic, Persian with ZWNJ.
func TestNormalizeNoAlloc(t *testing.T) {
	s := newNormalize(t, func(c *NormalizeConfig) { c.CollapseBlankLines = 2 })
	for _, text := range []string{
		"Plain ASCII text,\twith a tab.\n\nAnd a paragraph.",
		strings.Repeat("Ẹ̀gbọ́n mi ń ṣiṣẹ́ ní ọjà; ọ̀rẹ́ rẹ̀ wà níbẹ̀. ", 30),
		"ሰላም ለዓለም። ኢትዮጵያ ውብ ሀገር ናት።\n\n\nቡና።",
		"من می\u200Cخواهم کتاب\u200Cها را بخوانم.",
		"Tiếng Việt có dấu: người, được, những.",
	} {
		d := &pipeline.Document{Text: text}
		allocs := testing.AllocsPerRun(50, func() {
			d.Text = text
			s.Process(context.Background(), d)
		})
		if allocs != 0 || d.Text != text {
			t.Errorf("%.20q: %v allocations, text %q", text, allocs, d.Text)
		}
		if unsafe.StringData(d.Text) != unsafe.StringData(text) {
			t.Errorf("%.20q: a copy was returned", text)
		}
	}
	if n := s.Report()["docs_changed"].(int64); n != 0 {
		t.Errorf("docs_changed = %d", n)
	}
}

// An instruction record is written from its turns: every turn and Input are normalized, the
// instruction and Input apart so that Flat still splits them, the text view follows the
// turns, and each change is counted once.
func TestNormalizeInstructionRecord(t *testing.T) {
	s := newNormalize(t, nil)
	in := &pipeline.Instruction{
		Input: "G\uFEFFomina na\u0301a\u0300 so\u0323 pe\u0301",
		Messages: []pipeline.Message{
			{Role: pipeline.RoleSystem, Content: "O je\u0323\u0301 olu\u0300ra\u0300nlo\u0323\u0301wo\u0323\u0301."},
			{Role: pipeline.RoleUser, Content: "Tu\u0301mo\u0323\u0300 si\u0301 ède\u0300 Ge\u0323\u0300e\u0323\u0301sì:\r\n\n\nG\uFEFFomina na\u0301a\u0300 so\u0323 pe\u0301"},
			{Role: pipeline.RoleAssistant, Content: "The governor said that\r\nit is so."},
			{Role: pipeline.RoleUser, Content: "E\u0323 s\u200Be\u0301!"},
			{Role: pipeline.RoleAssistant, Content: "Ko\u0300 to\u0301pe\u0301."},
		},
	}
	d := &pipeline.Document{Instruction: in, Text: in.View(pipeline.ViewOutput)}
	if _, err := s.Process(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"O jẹ́ olùrànlọ́wọ́.",
		"Túmọ̀ sí èdè Gẹ̀ẹ́sì:\n\n\nGomina náà sọ pé",
		"The governor said that\nit is so.",
		"Ẹ sé!",
		"Kò tópé.",
	}
	for i, m := range in.Messages {
		if m.Content != want[i] {
			t.Errorf("turn %d: %+q, want %+q", i, m.Content, want[i])
		}
	}
	if instr, input, output := in.Flat(); instr != "Túmọ̀ sí èdè Gẹ̀ẹ́sì:\n" || input != "Gomina náà sọ pé" || output != want[2] {
		t.Errorf("Flat() = %+q, %+q, %+q", instr, input, output)
	}
	if d.Text != in.View(pipeline.ViewOutput) {
		t.Errorf("text view %+q, want the output view of the new turns", d.Text)
	}
	rep := s.Report()
	removed := rep["removed"].(map[string]int64)
	if rep["docs_changed"] != int64(1) || rep["docs_form_changed"] != int64(1) || removed["invisible"] != 2 || rep["newlines_converted"] != int64(2) {
		t.Errorf("report %v, want 1 document, 2 invisible characters (the Input's counted once), 2 newlines", rep)
	}

	// A text view that is no view of the turns (a stage rewrote it) is normalized by itself.
	in2 := &pipeline.Instruction{Messages: []pipeline.Message{{Role: pipeline.RoleUser, Content: "a"}, {Role: pipeline.RoleAssistant, Content: "b"}}}
	d2 := &pipeline.Document{Instruction: in2, Text: "x\uFEFFy"}
	s.Process(context.Background(), d2)
	if d2.Text != "xy" || in2.Messages[0].Content != "a" {
		t.Errorf("text %q, turns %v", d2.Text, in2.Messages)
	}
}

func TestNormalizeConfigValidate(t *testing.T) {
	c := NormalizeConfig{Form: "nfc", Newlines: "crlf", CollapseBlankLines: -1}
	var got []string
	for _, e := range c.Validate() {
		got = append(got, e.Field+": "+e.Msg)
	}
	want := []string{
		`form: must be one of NFC, NFKC, none; got "nfc"`,
		`newlines: must be one of lf, keep; got "crlf"`,
		"collapse_blank_lines: must be >= 0 (0 = off), got -1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Validate:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	c = DefaultNormalizeConfig()
	c.Form = "NFD"
	if errs := c.Validate(); len(errs) != 1 || errs[0].Msg != `must be one of NFC, NFKC, none; got "NFD" (decomposed text is what this stage fixes)` {
		t.Errorf("NFD: %v", errs)
	}
	if _, err := NewNormalize(c); err == nil || err.Error() != `normalize: form: must be one of NFC, NFKC, none; got "NFD" (decomposed text is what this stage fixes)` {
		t.Errorf("NewNormalize: %v", err)
	}

	yml := `inputs: [{path: in.jsonl}]
stages:
  - normalize:
      form: NFKD
      newlines: lf
      collapse_blank_lines: -2
      strip_invisibles: true
output: {dir: out}
`
	_, err := pipeline.Load("p.yaml", []byte(yml), pipeline.DefaultRegistry())
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`p.yaml:4:13: stages[0].normalize.form: must be one of NFC, NFKC, none; got "NFKD" (decomposed text is what this stage fixes)`,
		`p.yaml:6:29: stages[0].normalize.collapse_blank_lines: must be >= 0 (0 = off), got -2`,
		`p.yaml:7:7: stages[0].normalize.strip_invisibles: unknown field (did you mean strip_invisible?)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors:\n%v\nwant a line %s", err, want)
		}
	}
	cfg, err := pipeline.Load("p.yaml", []byte("inputs: [{path: in.jsonl}]\nstages:\n  - normalize: {collapse_blank_lines: 2}\noutput: {dir: out}\n"), pipeline.DefaultRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := *cfg.Stages[0].Config.(*NormalizeConfig), (NormalizeConfig{Form: "NFC", StripInvisible: true, ControlChars: true, Newlines: "lf", CollapseBlankLines: 2}); got != want {
		t.Errorf("decoded %+v, want %+v", got, want)
	}
}

// FuzzNormalize: whatever the input, the output is UTF-8, a fixed point, and in the form asked
// for; the stage never panics.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"", "a\r\nb", "O\u0323mo\u0323\u200B\u0300", "e\u0302\u0323\u0301", "\uFEFF\r\u200B\n", "\xff\xfe", "x\u00A0\u2000y",
		"\n\n \n\u3000\n\u0085\n", "２０２４ ﬁ ½ \u00B4", "\u1100\u1161\u11A8", "\u0BC6\u0BBE", "a" + strings.Repeat("\u0301", 40),
		"\r\x00\n\u2028\r", "\u0F73\u0F75\u0F81",
	} {
		f.Add(s)
	}
	var stages []*Normalize
	for _, mod := range []func(*NormalizeConfig){
		nil,
		func(c *NormalizeConfig) { c.Form, c.UnicodeSpaces, c.CollapseBlankLines = "NFKC", true, 1 },
		func(c *NormalizeConfig) { c.Newlines, c.CollapseBlankLines = "keep", 2 },
		func(c *NormalizeConfig) { c.Form, c.StripInvisible, c.ControlChars = "none", false, false },
	} {
		stages = append(stages, newNormalize(f, mod))
	}
	// With the character pass off, the output is norm's, segment by segment or not.
	var formOnly []*Normalize
	for _, form := range []string{"NFC", "NFKC"} {
		formOnly = append(formOnly, newNormalize(f, func(c *NormalizeConfig) {
			c.Form, c.StripInvisible, c.ControlChars, c.Newlines = form, false, false, "keep"
		}))
	}
	f.Fuzz(func(t *testing.T, text string) {
		if utf8.ValidString(text) {
			for _, s := range formOnly {
				if got, want := s.Normalize(text), s.form.String(text); got != want {
					t.Fatalf("%s: %+q, norm gives %+q", s.cfg.Form, got, want)
				}
			}
		}
		for i, s := range stages {
			out := s.Normalize(text)
			if !utf8.ValidString(out) {
				t.Fatalf("config %d: output not UTF-8: %+q", i, out)
			}
			if again := s.Normalize(out); again != out {
				t.Fatalf("config %d: not idempotent:\n%+q\n%+q\n%+q", i, text, out, again)
			}
			if f := s.cfg.Form; f != "none" && !s.form.IsNormalString(out) {
				t.Fatalf("config %d: output not %s: %+q", i, f, out)
			}
		}
	})
}

// normBenchDocs are about 1.4 KB each: half already NFC (Yoruba, Amharic, Vietnamese,
// English), half decomposed or carrying BOMs, zero width spaces and CRLF.
func normBenchDocs() []string {
	yo := "Ẹ̀gbọ́n mi ń ṣiṣẹ́ ní ọjà Ọ̀yọ́, ó sì ń tà aṣọ àti bàtà fún àwọn èèyàn tí wọ́n wá láti ìlú mìíràn. "
	am := "ኢትዮጵያ በአፍሪካ ቀንድ የምትገኝ ሀገር ናት። ዋና ከተማዋ አዲስ አበባ ነው። ቡና በብዛት ይመረታል። "
	vi := "Tiếng Việt là ngôn ngữ chính thức của Việt Nam, được hàng chục triệu người sử dụng hằng ngày. "
	en := "The market opened early and traders set out fruit, cloth and shoes for the visitors from town. "
	fill := func(s string) string { return strings.Repeat(s, 1400/len(s)) }
	docs := []string{fill(yo), fill(am), fill(vi), fill(en)}
	docs = append(docs,
		norm.NFD.String(fill(yo)),
		norm.NFD.String(fill(vi)),
		strings.ReplaceAll(fill(en), ". ", ".\r\n"),
		"\uFEFF"+strings.ReplaceAll(fill(yo), "ọjà", "ọ\u200Bjà"),
	)
	return docs
}

// BenchmarkNormalize measures one core on ~1.4 KB documents: mix (half need a change),
// normal (none does: the no-allocation path) and dirty (all do).
func BenchmarkNormalize(b *testing.B) {
	docs := normBenchDocs()
	for _, bb := range []struct {
		name string
		docs []string
	}{{"mix", docs}, {"normal", docs[:4]}, {"dirty", docs[4:]}} {
		b.Run(bb.name, func(b *testing.B) {
			s := newNormalize(b, nil)
			total := 0
			for _, d := range bb.docs {
				total += len(d)
			}
			b.ReportAllocs()
			b.SetBytes(int64(total / len(bb.docs)))
			i := 0
			for b.Loop() {
				d := pipeline.Document{Text: bb.docs[i%len(bb.docs)]}
				s.Process(context.Background(), &d)
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}
