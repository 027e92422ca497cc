package lang

import (
	"context"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// fakeBackend returns fixed predictions and records what it was asked.
type fakeBackend struct {
	labels []string
	preds  []Prediction
	mu     sync.Mutex
	got    []string
}

func (f *fakeBackend) Labels() []string { return f.labels }

func (f *fakeBackend) Predict(text string, k int, dst []Prediction) []Prediction {
	f.mu.Lock()
	f.got = append(f.got, text)
	f.mu.Unlock()
	for i, p := range f.preds {
		if k > 0 && i == k {
			break
		}
		dst = append(dst, p)
	}
	return dst
}

const englishParagraph = "The new library opened on Monday morning in the centre of the town. " +
	"Hundreds of people waited outside in the rain before the doors opened at nine o'clock. " +
	"The second floor holds novels, history and science, and there is a quiet room for students who need a place to work."

func TestIdentifier(t *testing.T) {
	latin := []string{"eng_Latn", "swh_Latn", "rus_Cyrl"}
	openSet := DefaultOpenSet()
	tests := []struct {
		name        string
		give        string
		preds       []Prediction
		openSet     *OpenSet
		want        string
		wantProb    float64
		wantGuess   string
		wantRefused Refusal
	}{
		{name: "empty", give: "", want: "zxx_Zyyy"},
		{name: "digits and symbols", give: "12 345 !!! 😀", want: "zxx_Zyyy"},
		{name: "script without backend language", give: "ሰላም ለዓለም። እንዴት ነህ?", preds: []Prediction{{"eng_Latn", 1}}, want: "und_Ethi"},
		{name: "keeps the best label in the text's script", give: "hello there, how are you",
			preds: []Prediction{{"rus_Cyrl", 0.6}, {"eng_Latn", 0.4}}, want: "eng_Latn", wantProb: 0.4, wantGuess: "eng_Latn"},
		{name: "no label in the script", give: "hello there", preds: []Prediction{{"rus_Cyrl", 1}}, want: "und_Latn"},
		{name: "backend says nothing", give: "hello there", want: "und_Latn"},
		{name: "open-set keeps a fitting label", give: englishParagraph, preds: []Prediction{{"eng_Latn", 0.9}},
			openSet: &openSet, want: "eng_Latn", wantProb: 0.9, wantGuess: "eng_Latn"},
		{name: "open-set refuses a confident wrong label", give: englishParagraph, preds: []Prediction{{"swh_Latn", 0.99}},
			openSet: &openSet, want: "und_Latn", wantGuess: "swh_Latn", wantRefused: RefusedOpenSet},
		{name: "below the default minimum confidence", give: "hello there", preds: []Prediction{{"eng_Latn", 0.15}},
			want: "und_Latn", wantGuess: "eng_Latn", wantRefused: RefusedLowConfidence},
		{name: "per-label minimum confidence", give: "hello there", preds: []Prediction{{"swh_Latn", 0.3}},
			want: "und_Latn", wantGuess: "swh_Latn", wantRefused: RefusedLowConfidence},
		{name: "at the minimum confidence", give: "hello there", preds: []Prediction{{"eng_Latn", 0.2}},
			want: "eng_Latn", wantProb: 0.2, wantGuess: "eng_Latn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &fakeBackend{labels: latin, preds: tt.preds}
			id := NewIdentifier(b, IdentifierOptions{OpenSet: tt.openSet, MinConfidence: 0.2, MinConfidenceBy: map[string]float64{"swa": 0.5}})
			got := id.Identify(tt.give)
			if got.Label != tt.want || got.Prob != tt.wantProb || got.Guess != tt.wantGuess || got.Refused != tt.wantRefused {
				t.Errorf("Identify = %+v; want label %s prob %v guess %q refused %v", got, tt.want, tt.wantProb, tt.wantGuess, tt.wantRefused)
			}
			if tt.openSet != nil && !got.Checked {
				t.Errorf("open-set check did not run")
			}
		})
	}
}

func TestIdentifierNormalisesToNFC(t *testing.T) {
	b := &fakeBackend{labels: []string{"yor_Latn"}, preds: []Prediction{{"yor_Latn", 1}}}
	id := NewIdentifier(b, IdentifierOptions{})
	nfd := norm.NFD.String("Ọmọ náà ń ṣiṣẹ́ ní ilé-ìwé.")
	if got := id.Identify(nfd); got.Label != "yor_Latn" {
		t.Fatalf("label %s", got.Label)
	}
	if len(b.got) != 1 || !norm.NFC.IsNormalString(b.got[0]) {
		t.Errorf("backend got %q, want NFC text", b.got)
	}
}

func numbered(n int, f func(i int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func TestSample(t *testing.T) {
	// Ten sentences of 50 characters: "Sentence number 00 is here and it has some words."
	ten := numbered(10, func(i int) string {
		return "Sentence number " + string(rune('0'+i/10)) + string(rune('0'+i%10)) + " is here and it has some words."
	})
	longWords := strings.Repeat("word ", 100) // one 500-character sentence
	tests := []struct {
		name string
		give string
		max  int
		want string
	}{
		{"short text unchanged", "Short text. Two sentences.", 300, "Short text. Two sentences."},
		{"negative max keeps everything", strings.Join(ten, " "), -1, strings.Join(ten, " ")},
		{"first and middle sentence", strings.Join(ten, " "), 120, ten[0] + " " + ten[5]},
		{"first, middle, quarters", strings.Join(ten, " "), 220, ten[0] + " " + ten[2] + " " + ten[5] + " " + ten[7]},
		{"a sentence longer than the budget is cut at a word", longWords, 102, strings.Repeat("word ", 20)[:99]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Sample(tt.give, tt.max)
			if got != tt.want {
				t.Errorf("Sample(..., %d) =\n%q\nwant\n%q", tt.max, got, tt.want)
			}
		})
	}
}

func TestSampleWholeSentencesWithinBudget(t *testing.T) {
	// 200 KB of numbered Amharic-and-Latin sentences: the windowed path.
	var b strings.Builder
	n := 0
	for b.Len() < 200<<10 {
		b.WriteString("ሰላም ለዓለም ቁጥር ")
		b.WriteString(strings.Repeat("x", n%7+1))
		b.WriteString(" ነው። ")
		n++
	}
	text := b.String()
	for _, max := range []int{50, 300, 1000} {
		got := Sample(text, max)
		if c := utf8.RuneCountInString(got); c > max || c == 0 {
			t.Errorf("max %d: sample has %d characters", max, c)
		}
		for _, s := range strings.SplitAfter(got, "። ") {
			if s = strings.TrimSpace(s); s != "" && !strings.Contains(text, s) {
				t.Errorf("max %d: %q is not a sentence of the text", max, s)
			}
		}
	}
}

func BenchmarkSample(b *testing.B) {
	docs := benchDocs(b)
	b.ReportAllocs()
	var n int64
	for _, d := range docs {
		n += int64(len(d))
	}
	b.SetBytes(n / int64(len(docs)))
	i := 0
	for b.Loop() {
		Sample(docs[i%len(docs)], DefaultSampleChars)
		i++
	}
}

func TestIdentifierSentenceAgreement(t *testing.T) {
	b, err := NewLingua(LinguaOptions{Languages: []string{"eng", "swh", "yor", "fra"}})
	if err != nil {
		t.Fatal(err)
	}
	const (
		en1 = "The new library opened on Monday morning in the centre of the town."
		en2 = "Hundreds of people waited outside in the rain before the doors opened."
		en3 = "The second floor holds novels, history and science for the students."
		sw1 = "Watoto walikwenda shuleni asubuhi na mapema pamoja na walimu wao."
		sw2 = "Serikali imetangaza mpango mpya wa kujenga barabara katika mikoa yote."
		am1 = "የአዲስ አበባ ከተማ ነዋሪዎች በዛሬው ዕለት ለበዓሉ ዝግጅት በገበያ ላይ ተሰብስበው ነበር።"
	)
	tests := []struct {
		name                string
		give                string
		off                 bool
		wantLabel           string
		wantSent, wantAgree int
		agreeBy             map[string]int // wantAgree by the whole text's guess
	}{
		{name: "one language", give: en1 + " " + en2 + " " + en3, wantLabel: "eng_Latn", wantSent: 3, wantAgree: 3},
		// Mixed text fits neither profile as a whole: und_Latn, and the agreement says why.
		{name: "two languages", give: en1 + " " + sw1 + " " + en2 + " " + sw2 + " " + en3, wantLabel: "und_Latn", wantSent: 5,
			agreeBy: map[string]int{"eng_Latn": 3, "swh_Latn": 2}},
		{name: "a sentence in another script never agrees", give: en1 + " " + am1 + " " + en2, wantLabel: "eng_Latn", wantSent: 3, wantAgree: 2},
		{name: "short sentences are not counted", give: en1 + " Yes. Thank you! " + en2, wantLabel: "eng_Latn", wantSent: 2, wantAgree: 2},
		{name: "off", give: en1 + " " + en2, off: true, wantLabel: "eng_Latn"},
	}
	openSet := DefaultOpenSet()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := NewIdentifier(b, IdentifierOptions{SampleChars: -1, OpenSet: &openSet, MinConfidence: 0.2, Sentences: !tt.off})
			got := id.Identify(tt.give)
			if tt.agreeBy != nil {
				tt.wantAgree = tt.agreeBy[got.Guess]
			}
			if got.Label != tt.wantLabel || got.Sentences != tt.wantSent || got.Agreeing != tt.wantAgree {
				t.Errorf("Identify = label %s, %d of %d sentences agree; want %s, %d of %d",
					got.Label, got.Agreeing, got.Sentences, tt.wantLabel, tt.wantAgree, tt.wantSent)
			}
			if want := float64(max(tt.wantAgree, 1)) / float64(max(tt.wantSent, 1)); got.Agreement() != want {
				t.Errorf("Agreement() = %v, want %v", got.Agreement(), want)
			}
		})
	}
}

func TestEvaluateCodeSwitching(t *testing.T) {
	b, err := NewLingua(LinguaOptions{Languages: []string{"eng", "swh"}})
	if err != nil {
		t.Fatal(err)
	}
	var examples []Example
	add := func(gold string, texts ...string) {
		for _, s := range texts {
			examples = append(examples, Example{Gold: gold, Text: s})
		}
	}
	add("eng_Latn",
		"The new library opened on Monday morning in the centre of the town.",
		"Hundreds of people waited outside in the rain before the doors opened.",
		"The second floor holds novels, history and science for the students.",
		"Farmers in the valley expect the first rains of the year next week.")
	add("swh_Latn",
		"Watoto walikwenda shuleni asubuhi na mapema pamoja na walimu wao.",
		"Serikali imetangaza mpango mpya wa kujenga barabara katika mikoa yote.",
		"Wakulima wa bonde hilo wanatarajia mvua za kwanza wiki ijayo.",
		"Maktaba mpya ilifunguliwa siku ya Jumatatu katikati ya mji.")
	openSet := DefaultOpenSet()
	id := NewIdentifier(b, IdentifierOptions{OpenSet: &openSet, MinConfidence: 0.2})
	ev, err := EvaluateCodeSwitching(context.Background(), id, examples, 40, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Languages != 2 || ev.MixedDocs != 40 {
		t.Fatalf("languages %d, mixed docs %d; want 2, 40", ev.Languages, ev.MixedDocs)
	}
	if !(ev.MonoMean > 0.9 && ev.MixedMean < 0.6) {
		t.Errorf("mean agreement: one-language %.3f, mixed %.3f", ev.MonoMean, ev.MixedMean)
	}
	for i := 1; i < len(ev.Curve); i++ {
		if ev.Curve[i].MonoRejected < ev.Curve[i-1].MonoRejected || ev.Curve[i].MixedCaught < ev.Curve[i-1].MixedCaught {
			t.Errorf("curve not monotone: %+v", ev.Curve)
		}
	}
	var buf strings.Builder
	if err := ev.WriteText(&buf); err != nil || !strings.Contains(buf.String(), "mixed caught") {
		t.Errorf("WriteText: %v\n%s", err, buf.String())
	}
	if _, err := EvaluateCodeSwitching(context.Background(), id, examples[:4], 10, 1, 1); err == nil {
		t.Error("one language: want an error")
	}
}
