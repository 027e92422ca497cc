package lang

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// TestFastTextBackend trains a tiny model whose labels use several spellings (ISO 639-1,
// 639-3, a macrolanguage code and its member, a label outside the table) and checks the
// label mapping and that predictions are the model's own.
func TestFastTextBackend(t *testing.T) {
	bin, err := exec.LookPath("fasttext")
	if err != nil {
		t.Skip("fasttext command not found (install the Debian package fasttext)")
	}
	dir := t.TempDir()
	texts := map[string][]string{
		"yo":       {"Ọjà máa ń ṣí ní kùtùkùtù", "Ó tún gbàgbé agboòrùn rẹ̀", "Ẹ ṣé gan-an fún ìrànlọ́wọ́ yín"},
		"eng_Latn": {"The market opens early", "He forgot his umbrella again", "Thank you for your help"},
		"swa":      {"Soko hufunguliwa mapema", "Amesahau mwavuli wake tena", "Asante sana kwa msaada wako"},
		"swh_Latn": {"Tafadhali nitumie ripoti", "Bei ya mkate ilipanda tena", "Watoto walitembea shuleni"},
		"xyz_Qaaa": {"qqq zzz qqq", "zzz qqq zzz", "qqq qqq zzz"},
	}
	var train []string
	for range 5 {
		for _, l := range []string{"yo", "eng_Latn", "swa", "swh_Latn", "xyz_Qaaa"} {
			for _, s := range texts[l] {
				train = append(train, "__label__"+l+" "+s)
			}
		}
	}
	trainPath := filepath.Join(dir, "train.txt")
	if err := os.WriteFile(trainPath, []byte(strings.Join(train, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "m")
	cmd := exec.Command(bin, "supervised", "-input", trainPath, "-output", out, "-minn", "2", "-maxn", "4",
		"-dim", "8", "-epoch", "20", "-lr", "0.5", "-thread", "1", "-verbose", "0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("fasttext supervised: %v\n%s", err, b)
	}
	f, err := NewFastText(out + ".bin")
	if err != nil {
		t.Fatal(err)
	}
	m := f.Model()
	wantLabels := map[string]string{"yo": "yor_Latn", "eng_Latn": "eng_Latn", "swa": "swh_Latn", "swh_Latn": "swh_Latn", "xyz_Qaaa": "xyz_Qaaa"}
	var want []string
	for _, l := range m.Labels() {
		if w := wantLabels[l]; !slices.Contains(want, w) {
			want = append(want, w)
		}
	}
	if got := f.Labels(); !slices.Equal(got, want) {
		t.Errorf("Labels() = %v, want %v (model labels %v)", got, want, m.Labels())
	}

	for _, text := range []string{"Ọjà máa ń ṣí", "The market", "Soko hufunguliwa", "qqq", ""} {
		for _, k := range []int{1, 2, 0} {
			got := f.Predict(text, k, nil)
			ref := m.Predict(text, 0, 0)
			// Expected: the model's predictions, mapped, first occurrence of each table label.
			var exp []Prediction
			for _, p := range ref {
				l := wantLabels[p.Label]
				if !slices.ContainsFunc(exp, func(q Prediction) bool { return q.Label == l }) {
					exp = append(exp, Prediction{Label: l, Prob: min(float64(p.Prob), 1)})
				}
			}
			if k > 0 {
				exp = exp[:min(k, len(exp))]
			}
			if fmt.Sprint(got) != fmt.Sprint(exp) {
				t.Errorf("Predict(%q, %d) = %v, want %v", text, k, got, exp)
			}
		}
	}
	dst := make([]Prediction, 0, 4)
	if fastTextRaceBuild() {
		return // the race detector makes sync.Pool drop items
	}
	if allocs := testing.AllocsPerRun(50, func() { dst = f.Predict("The market opens", 3, dst[:0]) }); allocs != 0 {
		t.Errorf("Predict allocates %v times per call, want 0", allocs)
	}
}

// fastTextRaceBuild reports whether the test binary was built with -race.
func fastTextRaceBuild() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
