package fasttext

import (
	"bufio"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedDataDir returns the shared evaluation data directory: $SIEVE_SHARED_DATA, or
// ../shared/data next to the repository root.
func sharedDataDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("SIEVE_SHARED_DATA"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "data")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// readDevTSV reads langid/dev.tsv (label TAB text per line) or skips the test.
func readDevTSV(tb testing.TB) (labels, texts []string) {
	tb.Helper()
	path := filepath.Join(sharedDataDir(tb), "langid", "dev.tsv")
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		tb.Skipf("%s not found (set SIEVE_SHARED_DATA)", path)
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		label, text, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			tb.Fatalf("%s:%d: no tab", path, n)
		}
		labels = append(labels, label)
		texts = append(texts, text)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return labels, texts
}

// trainDevModel trains a GlotLID-like model (softmax, character 2-5-grams, word bigrams) on
// dev.tsv, shuffled (fastText does not shuffle, and dev.tsv is sorted by language).
func trainDevModel(tb testing.TB, bin, dir string, labels, texts []string) string {
	tb.Helper()
	order := rand.New(rand.NewPCG(1, 2)).Perm(len(texts))
	train := make([]string, len(texts))
	for i, j := range order {
		train[i] = labelPrefix + labels[j] + " " + texts[j]
	}
	trainPath := filepath.Join(dir, "dev.train")
	writeLines(tb, trainPath, train)
	out := filepath.Join(dir, "dev")
	runFastText(tb, bin, "supervised", "-input", trainPath, "-output", out, "-minn", "2", "-maxn", "5",
		"-wordNgrams", "2", "-dim", "32", "-epoch", "5", "-lr", "0.5", "-bucket", "200000", "-thread", "2", "-verbose", "0")
	return out + ".bin"
}

// TestDevTSVMatchesFastText trains fastText on ../shared/data/langid/dev.tsv and checks that
// our predictions equal `fasttext predict` on every line (and predict-prob's top 3
// probabilities within 1e-4).
func TestDevTSVMatchesFastText(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model for ~20 s")
	}
	labels, texts := readDevTSV(t)
	bin := fastTextBin(t)
	dir := t.TempDir()
	modelPath := trainDevModel(t, bin, dir, labels, texts)
	m, err := Load(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	inputPath := filepath.Join(dir, "dev.txt")
	writeLines(t, inputPath, texts)

	out := runFastText(t, bin, "predict", modelPath, inputPath)
	want := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(want) != len(texts) {
		t.Fatalf("fasttext predict printed %d lines for %d inputs", len(want), len(texts))
	}
	differ, correct := 0, 0
	for i, text := range texts {
		got := m.Predict(text, 1, 0)
		if len(got) != 1 || labelPrefix+got[0].Label != want[i] {
			differ++
			if differ <= 5 {
				t.Errorf("line %d %.60q: got %v, fasttext %s", i+1, text, got, want[i])
			}
			continue
		}
		if got[0].Label == labels[i] {
			correct++
		}
	}
	if differ > 0 {
		t.Errorf("%d of %d lines differ from fasttext predict", differ, len(texts))
	}
	t.Logf("%d lines, all equal to fasttext predict; training-set accuracy %.3f", len(texts), float64(correct)/float64(len(texts)))
	compareWithCLI(t, bin, modelPath, inputPath, m, texts, 3, "0")
}
