package fasttext

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The tests in this file train models with the reference implementation (Debian package
// "fasttext", 0.9.2) and check that this package predicts what `fasttext predict-prob`
// prints. They skip when the binary is not installed.

// fastTextBin returns the path of the fasttext command or skips the test.
func fastTextBin(tb testing.TB) string {
	tb.Helper()
	p, err := exec.LookPath("fasttext")
	if err != nil {
		tb.Skip("fasttext command not found (install the Debian package fasttext)")
	}
	return p
}

// runFastText runs the fasttext command and returns its standard output.
func runFastText(tb testing.TB, bin string, args ...string) []byte {
	tb.Helper()
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("fasttext %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// trainLangs are the languages of testdata/train_<code>.txt.
var trainLangs = []string{"eng", "fra", "deu", "yor", "swh", "rus"}

// readTrainSet returns the labelled training lines ("__label__<code> text"), interleaving
// the languages, and the texts alone.
func readTrainSet(tb testing.TB) (labelled, texts []string) {
	tb.Helper()
	var per [][]string
	for _, code := range trainLangs {
		data, err := os.ReadFile(filepath.Join("testdata", "train_"+code+".txt"))
		if err != nil {
			tb.Fatal(err)
		}
		per = append(per, strings.Split(strings.TrimSpace(string(data)), "\n"))
	}
	for i := 0; ; i++ {
		added := false
		for j, lines := range per {
			if i < len(lines) {
				labelled = append(labelled, "__label__"+trainLangs[j]+"_"+scriptOf(trainLangs[j])+" "+lines[i])
				texts = append(texts, lines[i])
				added = true
			}
		}
		if !added {
			return labelled, texts
		}
	}
}

func scriptOf(code string) string {
	if code == "rus" {
		return "Cyrl"
	}
	return "Latn"
}

// probeTexts are inputs beyond the training lines: held-out sentences and edge cases of
// fastText's tokeniser.
func probeTexts(tb testing.TB) []string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "probe.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	return append(lines,
		"",
		"    ",
		"tabs\tand\vvertical\ffeeds\x00and NUL\rand CR",
		"__label__eng_Latn the label token is dropped",
		"__label__nosuchlabel neither is an unknown one",
		"\xff\xfe broken \xc3 utf8 \xe1\xba",
		"Ọ̀rọ̀ yìí dára gan-an", // NFD: combining marks as separate characters
		"12345 678 😀😀 !!! ???",
		strings.Repeat("the market opens early ", 300),
		strings.Repeat("дом ", 2000),
	)
}

// synthLabelled writes a training set with many labels (quantizing the output matrix needs
// at least 256 rows): each label gets a few lines of pseudo-words from its own syllables.
func synthLabelled(nlabels int) []string {
	rng := rand.New(rand.NewPCG(3, 4))
	cons := []string{"b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "w", "y", "ż", "ŋ", "ч", "ш"}
	vows := []string{"a", "e", "i", "o", "u", "ẹ", "ọ", "á", "ы"}
	var out []string
	for l := range nlabels {
		syl := make([]string, 6)
		for i := range syl {
			syl[i] = cons[rng.IntN(len(cons))] + vows[rng.IntN(len(vows))]
		}
		for range 4 {
			words := []string{fmt.Sprintf("__label__L%03d", l)}
			for range 3 + rng.IntN(5) {
				w := ""
				for range 1 + rng.IntN(3) {
					w += syl[rng.IntN(len(syl))]
				}
				words = append(words, w)
			}
			out = append(out, strings.Join(words, " "))
		}
	}
	return out
}

type cliModel struct {
	name     string
	train    string   // "lang" or "synth"
	args     []string // fasttext supervised options
	quantize []string // fasttext quantize options, nil: use the .bin
}

var cliModels = []cliModel{
	{name: "softmax", train: "lang", args: []string{"-loss", "softmax", "-dim", "16", "-minn", "2", "-maxn", "4", "-bucket", "50000"}},
	{name: "softmax-w2", train: "lang", args: []string{"-loss", "softmax", "-dim", "10", "-minn", "2", "-maxn", "5", "-wordNgrams", "2", "-bucket", "50000"}},
	{name: "hs", train: "lang", args: []string{"-loss", "hs", "-dim", "16", "-minn", "2", "-maxn", "4", "-bucket", "50000"}},
	{name: "hs-w2", train: "lang", args: []string{"-loss", "hs", "-dim", "16", "-minn", "3", "-maxn", "6", "-wordNgrams", "2", "-bucket", "50000"}},
	{name: "hs-words-only", train: "lang", args: []string{"-loss", "hs", "-dim", "12"}},
	{name: "ova-w3", train: "lang", args: []string{"-loss", "ova", "-dim", "16", "-minn", "3", "-maxn", "5", "-wordNgrams", "3", "-bucket", "50000"}},
	{name: "ns", train: "lang", args: []string{"-loss", "ns", "-neg", "3", "-dim", "16", "-minn", "2", "-maxn", "4", "-bucket", "50000"}},
	{name: "softmax-w2-q", train: "lang",
		args:     []string{"-loss", "softmax", "-dim", "16", "-minn", "2", "-maxn", "4", "-wordNgrams", "2", "-bucket", "4000"},
		quantize: []string{"-dsub", "2"}},
	{name: "hs-w2-qnorm", train: "lang",
		args:     []string{"-loss", "hs", "-dim", "16", "-minn", "2", "-maxn", "4", "-wordNgrams", "2", "-bucket", "4000"},
		quantize: []string{"-dsub", "3", "-qnorm"}},
	{name: "softmax-w2-cutoff", train: "lang",
		args:     []string{"-loss", "softmax", "-dim", "16", "-minn", "2", "-maxn", "4", "-wordNgrams", "2", "-bucket", "50000"},
		quantize: []string{"-cutoff", "1500", "-retrain", "-epoch", "5", "-qnorm"}},
	{name: "synth300-softmax-qout", train: "synth",
		args:     []string{"-loss", "softmax", "-dim", "8", "-minn", "2", "-maxn", "3", "-bucket", "2000", "-epoch", "10"},
		quantize: []string{"-qout", "-qnorm", "-dsub", "2"}},
	{name: "synth300-hs-qout", train: "synth",
		args:     []string{"-loss", "hs", "-dim", "8", "-minn", "2", "-maxn", "3", "-bucket", "2000", "-epoch", "10"},
		quantize: []string{"-qout", "-cutoff", "1000"}},
}

// trainCLIModel trains (and quantizes) one model in dir and returns its path.
func trainCLIModel(tb testing.TB, bin, dir string, cm cliModel, trainFile string) string {
	tb.Helper()
	out := filepath.Join(dir, cm.name)
	args := append([]string{"supervised", "-input", trainFile, "-output", out, "-thread", "1", "-verbose", "0",
		"-epoch", "25", "-lr", "0.5", "-seed", "7"}, cm.args...)
	runFastText(tb, bin, args...)
	if cm.quantize == nil {
		return out + ".bin"
	}
	runFastText(tb, bin, append([]string{"quantize", "-input", trainFile, "-output", out, "-verbose", "0"}, cm.quantize...)...)
	return out + ".ftz"
}

func writeLines(tb testing.TB, path string, lines []string) {
	tb.Helper()
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func TestMatchesFastTextCLI(t *testing.T) {
	bin := fastTextBin(t)
	dir := t.TempDir()
	labelled, texts := readTrainSet(t)
	langTrain := filepath.Join(dir, "lang.train")
	writeLines(t, langTrain, labelled)
	synth := synthLabelled(300)
	synthTrain := filepath.Join(dir, "synth.train")
	writeLines(t, synthTrain, synth)

	langInputs := append(texts, probeTexts(t)...)
	synthInputs := append(probeTexts(t), "")
	for _, l := range synth[:200] {
		synthInputs = append(synthInputs, l[strings.IndexByte(l, ' ')+1:])
	}
	inputs := map[string][]string{"lang": langInputs, "synth": synthInputs}
	for name, lines := range inputs {
		writeLines(t, filepath.Join(dir, name+".input"), lines)
	}

	for _, cm := range cliModels {
		t.Run(cm.name, func(t *testing.T) {
			trainFile := langTrain
			if cm.train == "synth" {
				trainFile = synthTrain
			}
			path := trainCLIModel(t, bin, dir, cm, trainFile)
			m, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := m.Info().Quantized, cm.quantize != nil; got != want {
				t.Errorf("Info().Quantized = %v, want %v", got, want)
			}
			lines := inputs[cm.train]
			inputPath := filepath.Join(dir, cm.train+".input")
			for _, c := range []struct {
				k   int
				thr string
			}{{1, "0"}, {3, "0"}, {-1, "0"}, {-1, "0.05"}} {
				compareWithCLI(t, bin, path, inputPath, m, lines, c.k, c.thr)
			}
		})
	}
}

// tieTolerance is how close two labels' probabilities must be for the order between them to
// be rounding: fastText prints six significant digits, and sieve's float32 sums differ from
// fastText's by about 1e-7 relative.
const tieTolerance = 2e-6

// compareWithCLI checks that m.Predict gives, for every line, the labels `fasttext
// predict-prob` prints, in the same order except between labels that tie to within
// rounding, with probabilities within 1e-4.
func compareWithCLI(t *testing.T, bin, modelPath, inputPath string, m *Model, lines []string, k int, thr string) {
	t.Helper()
	out := runFastText(t, bin, "predict-prob", modelPath, inputPath, strconv.Itoa(k), thr)
	outLines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(outLines) != len(lines) {
		t.Fatalf("k=%d threshold=%s: fasttext printed %d lines for %d inputs", k, thr, len(outLines), len(lines))
	}
	threshold, err := strconv.ParseFloat(thr, 32)
	if err != nil {
		t.Fatal(err)
	}
	mismatches := 0
	for i, line := range lines {
		fields := strings.Fields(outLines[i])
		got := m.Predict(line, k, float32(threshold))
		ok := len(fields) == 2*len(got)
		cli := map[string]float64{}
		for j := 0; ok && j < len(got); j++ {
			want, err := strconv.ParseFloat(fields[2*j+1], 64)
			if err != nil {
				t.Fatalf("fasttext output %q: %v", outLines[i], err)
			}
			cli[strings.TrimPrefix(fields[2*j], labelPrefix)] = want
		}
		for j := 0; ok && j < len(got); j++ {
			want, _ := strconv.ParseFloat(fields[2*j+1], 64)
			ok = math.Abs(want-float64(got[j].Prob)) <= 1e-4
			if label := strings.TrimPrefix(fields[2*j], labelPrefix); ok && label != got[j].Label {
				// Sieve sums a word's rows before adding them (see Model.wordVecs), so
				// its probabilities differ from fastText's by rounding: labels whose
				// probabilities tie to within that may come in another order, or, at the
				// k or threshold cut, be swapped for one another.
				p, listed := cli[got[j].Label]
				ok = math.Abs(want-float64(got[j].Prob)) <= tieTolerance &&
					(!listed || math.Abs(p-want) <= tieTolerance)
			}
		}
		if !ok {
			mismatches++
			if mismatches <= 5 {
				t.Errorf("k=%d threshold=%s line %d %.60q:\n got %v\nwant %s", k, thr, i+1, line, got, outLines[i])
			}
		}
	}
	if mismatches > 0 {
		t.Errorf("k=%d threshold=%s: %d of %d lines differ", k, thr, mismatches, len(lines))
	}
}
