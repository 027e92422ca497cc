package lang

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"

	"golang.org/x/text/unicode/norm"
)

// testLanguages keeps unit tests light: lingua-go loads a model only when a text needs it,
// and a restricted set needs few.
var testLanguages = []string{"eng_Latn", "fra_Latn", "deu_Latn", "spa_Latn", "swh_Latn", "yor_Latn", "cym_Latn", "zul_Latn", "rus_Cyrl", "ukr_Cyrl"}

var (
	testLinguaOnce sync.Once
	testLingua     *Lingua
)

func restrictedLingua(t testing.TB) *Lingua {
	t.Helper()
	testLinguaOnce.Do(func() {
		var err error
		testLingua, err = NewLingua(LinguaOptions{Languages: testLanguages})
		if err != nil {
			t.Fatal(err)
		}
	})
	return testLingua
}

func TestLinguaIdentifiesDocuments(t *testing.T) {
	o := DefaultOpenSet()
	id := NewIdentifier(restrictedLingua(t), IdentifierOptions{OpenSet: &o})
	for label, doc := range testDocs(t) {
		want := label
		if label == "amh_Ethi" {
			want = "und_Ethi" // no Ethiopic language in the backend: script routing
		}
		got := id.Identify(doc)
		if got.Label != want {
			t.Errorf("%s: got %+v", label, got)
		}
		if want == label && (got.Prob <= 0.5 || got.Prob > 1) {
			t.Errorf("%s: probability %v", label, got.Prob)
		}
		if got.SampleLen > DefaultSampleChars {
			t.Errorf("%s: classified %d characters, more than the sample", label, got.SampleLen)
		}
	}
}

func TestLinguaSentences(t *testing.T) {
	id := NewIdentifier(restrictedLingua(t), IdentifierOptions{})
	tests := []struct{ give, want string }{
		{"The weather is lovely today.", "eng_Latn"},
		{"Il fait très beau aujourd'hui.", "fra_Latn"},
		{"Das Wetter ist heute schön.", "deu_Latn"},
		{"Hoy hace muy buen tiempo.", "spa_Latn"},
		{"Hali ya hewa ni nzuri leo.", "swh_Latn"},
		{"Ojú ọjọ́ dára gan-an lónìí.", "yor_Latn"},
		{"Mae'r tywydd yn braf heddiw.", "cym_Latn"},
		{"Сегодня очень хорошая погода.", "rus_Cyrl"},
		{"Сьогодні дуже гарна погода.", "ukr_Cyrl"},
	}
	for _, tt := range tests {
		if got := id.Identify(tt.give); got.Label != tt.want {
			t.Errorf("Identify(%q) = %+v, want %s", tt.give, got, tt.want)
		}
	}
}

// Decomposed (NFD) text gets the label and probability of its NFC form.
func TestLinguaNFD(t *testing.T) {
	id := NewIdentifier(restrictedLingua(t), IdentifierOptions{})
	for _, s := range []string{"Ojú ọjọ́ dára gan-an lónìí.", "Àwọn àgbẹ̀ ń retí òjò àkọ́kọ́ ọdún.", testDocs(t)["yor_Latn"]} {
		nfc, nfd := id.Identify(norm.NFC.String(s)), id.Identify(norm.NFD.String(s))
		if nfc.Label != "yor_Latn" || nfd != nfc {
			t.Errorf("NFC %+v, NFD %+v", nfc, nfd)
		}
	}
}

func TestLinguaOpenSetRefusesIgbo(t *testing.T) {
	o := DefaultOpenSet()
	id := NewIdentifier(restrictedLingua(t), IdentifierOptions{OpenSet: &o})
	got := id.Identify(igboParagraph)
	if got.Label != "und_Latn" || got.Guess == "" || !got.Checked {
		t.Errorf("Igbo: %+v, want und_Latn with the backend's guess kept", got)
	}
}

func TestLinguaPredict(t *testing.T) {
	b := restrictedLingua(t)
	docs := testDocs(t)
	for _, label := range []string{"eng_Latn", "cym_Latn", "rus_Cyrl"} {
		sample := Sample(docs[label], DefaultSampleChars)
		preds := b.Predict(sample, 0, nil)
		if len(preds) == 0 || preds[0].Label != label {
			t.Fatalf("%s: predictions %+v", label, preds)
		}
		sum := 0.0
		for i, p := range preds {
			sum += p.Prob
			if p.Prob <= 0 || p.Prob > 1 || (i > 0 && p.Prob > preds[i-1].Prob) {
				t.Errorf("%s: predictions not sorted probabilities in (0, 1]: %+v", label, preds)
			}
			if LabelScript(p.Label) != LabelScript(label) {
				t.Errorf("%s: candidate %s outside the text's script", label, p.Label)
			}
		}
		if sum > 1+1e-5 {
			t.Errorf("%s: probabilities sum to %v", label, sum)
		}
		if got := b.Predict(sample, 1, []Prediction{{"x", 0}}); len(got) != 2 || got[1] != preds[0] {
			t.Errorf("%s: Predict(k=1) appended %+v, want %+v", label, got, preds[0])
		}
		// Pruning the candidates with profiles does not change the answer.
		full, err := NewLingua(LinguaOptions{Languages: testLanguages, NoPrune: true})
		if err != nil {
			t.Fatal(err)
		}
		if fp := full.Predict(sample, 1, nil); fp[0].Label != label || math.Abs(fp[0].Prob-preds[0].Prob) > 0.05 {
			t.Errorf("%s: without pruning %+v, with %+v", label, fp, preds[0])
		}
	}
}

func TestLinguaOptions(t *testing.T) {
	if _, err := NewLingua(LinguaOptions{Languages: []string{"yor_Latn", "ibo_Latn"}}); err == nil || !strings.Contains(err.Error(), `"ibo_Latn" is not supported by lingua-go`) {
		t.Errorf("unsupported language: err = %v", err)
	}
	if _, err := NewLingua(LinguaOptions{Languages: []string{"Klingon"}}); err == nil {
		t.Error("unknown language accepted")
	}
	b, err := NewLingua(LinguaOptions{Languages: []string{"yo", "Chinese", "swa"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(b.Labels(), " "), "swh_Latn yor_Latn zho_Hans zho_Hant"; got != want {
		t.Errorf("Labels() = %s, want %s", got, want)
	}
	if got := b.Predict("我们这个国家的发展很快。", 0, nil); len(got) != 1 || got[0] != (Prediction{"zho_Hans", 1}) {
		t.Errorf("simplified Chinese: %+v", got)
	}
	if got := b.Predict("我們這個國家的發展很快。", 0, nil); len(got) != 1 || got[0] != (Prediction{"zho_Hant", 1}) {
		t.Errorf("traditional Chinese: %+v", got)
	}
	if got := len(LinguaLabels()); got != 76 {
		t.Errorf("LinguaLabels has %d labels, want 75 languages + zho_Hant", got)
	}
}

// Concurrent callers get the same results as one caller (run with -race).
func TestLinguaConcurrent(t *testing.T) {
	o := DefaultOpenSet()
	id := NewIdentifier(restrictedLingua(t), IdentifierOptions{OpenSet: &o})
	docs := testDocs(t)
	var texts []string
	for _, d := range docs {
		texts = append(texts, d, string([]rune(d)[:len([]rune(d))/3]))
	}
	want := make([]Result, len(texts))
	for i, s := range texts {
		want[i] = id.Identify(s)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(texts))
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, s := range texts {
				if got := id.Identify(s); got != want[i] {
					errs <- got.Label + " != " + want[i].Label
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestLinguaPreloadLowAccuracy checks that preload in low accuracy mode loads the models
// that mode reads (trigrams), not the unigram to fivegram models too: with every
// language that is about 225 MB instead of 1.9 GB. lingua-go keeps its models in
// process-wide maps, so the heap is measured in a fresh process (this test, re-run).
func TestLinguaPreloadLowAccuracy(t *testing.T) {
	langs := []string{"yor_Latn", "swh_Latn"}
	heap := func() int64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	if os.Getenv("SIEVE_TEST_LINGUA_PRELOAD") == "1" {
		DefaultProfiles()
		h0 := heap()
		if _, err := NewLingua(LinguaOptions{Languages: langs, Preload: true, LowAccuracy: true}); err != nil {
			t.Fatal(err)
		}
		h1 := heap()
		if _, err := NewLingua(LinguaOptions{Languages: langs, Preload: true}); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("heap low=%d all=%d\n", h1-h0, heap()-h0)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLinguaPreloadLowAccuracy$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SIEVE_TEST_LINGUA_PRELOAD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var low, all int64
	i := strings.Index(string(out), "heap low=")
	if i < 0 {
		t.Fatalf("no measurement in %s", out)
	}
	if _, err := fmt.Sscanf(string(out[i:]), "heap low=%d all=%d", &low, &all); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Logf("preloaded %v: low accuracy %d MB, then every model %d MB", langs, low>>20, all>>20)
	if low*2 > all {
		t.Errorf("preload with low accuracy took %d MB of the %d MB of every model: it loaded the models low accuracy does not read", low>>20, all>>20)
	}
}
