package stages

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sieve-data/sieve/pipeline"
)

// The -update flag rewrites golden files (the repository's convention); it is defined here
// unless another test file of the package already did.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// golden compares got with the file at path, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if updateGolden() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != string(got) {
		wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
		for i := 0; i < max(len(wl), len(gl)); i++ {
			var w, g string
			if i < len(wl) {
				w = wl[i]
			}
			if i < len(gl) {
				g = gl[i]
			}
			if w != g {
				t.Fatalf("%s differs at line %d:\nwant %q\ngot  %q\n(run with -update if the change is intended)", path, i+1, w, g)
			}
		}
	}
}

// verdictTSV lists each document's outcome: id, "kept" or the reason, and the detail.
func verdictTSV(docs []calDoc, reasons map[string]pipeline.Rejection) []byte {
	var b strings.Builder
	for _, d := range docs {
		if r, ok := reasons[d.ID]; ok {
			fmt.Fprintf(&b, "%s\t%s\t%s\n", d.ID, r.Reason, r.Detail)
		} else {
			fmt.Fprintf(&b, "%s\tkept\t\n", d.ID)
		}
	}
	return []byte(b.String())
}

// TestQualityGolden shows on Yoruba and Thai documents that the English-tuned quality
// stages (published defaults, Gopher's English stop words) remove most of them, while the
// same stages with thresholds calibrated on this corpus (junk included) keep every one and
// still remove the planted junk.
func TestQualityGolden(t *testing.T) {
	dir := filepath.Join("..", "testdata", "golden", "quality")
	docs := readJSONLDocs(t, filepath.Join(dir, "input.jsonl"))
	for i := range docs {
		docs[i].Junk = strings.Contains(docs[i].ID, "-junk-")
	}
	tmp := t.TempDir()
	english := fmt.Sprintf(allQuality, "{builtin_stop_words: false}", "{}", "{}", "{}")
	engCfg := calConfig(t, tmp, english)
	run := calibrateDocs(t, engCfg, docs, func(o *CalibrateOptions) { o.MinDocs = 10 })
	yml := writeThresholds(t, run, filepath.Join(tmp, "calibrated.yaml"))
	golden(t, filepath.Join(dir, "want_thresholds.yaml"), yml)

	calibrated := fmt.Sprintf(allQuality, "{builtin_stop_words: false, thresholds_file: calibrated.yaml}",
		withFile("calibrated.yaml"), withFile("calibrated.yaml"), withFile("calibrated.yaml"))
	calCfg := calConfig(t, tmp, calibrated)
	var engOut, calOut [][]byte
	for _, workers := range []int{1, 3} {
		r, _ := runPipeline(t, engCfg, docs, workers)
		engOut = append(engOut, verdictTSV(docs, r))
		r, _ = runPipeline(t, calCfg, docs, workers)
		calOut = append(calOut, verdictTSV(docs, r))
	}
	if string(engOut[0]) != string(engOut[1]) || string(calOut[0]) != string(calOut[1]) {
		t.Fatal("verdicts differ between 1 and 3 workers")
	}
	golden(t, filepath.Join(dir, "want_english.tsv"), engOut[0])
	golden(t, filepath.Join(dir, "want_calibrated.tsv"), calOut[0])

	// the properties the golden files must show
	engRemoved, calKept, good := map[string]int{}, map[string]int{}, map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(engOut[0])), "\n") {
		f := strings.Split(line, "\t")
		if !strings.Contains(f[0], "-junk-") && f[1] != "kept" {
			engRemoved[f[0][:3]]++
		}
	}
	for i, line := range strings.Split(strings.TrimSpace(string(calOut[0])), "\n") {
		f := strings.Split(line, "\t")
		d := docs[i]
		if d.Junk {
			if f[1] == "kept" {
				t.Errorf("calibrated thresholds keep planted junk %s", d.ID)
			}
			continue
		}
		good[d.ID[:3]]++
		if f[1] == "kept" {
			calKept[d.ID[:3]]++
		} else {
			t.Errorf("calibrated thresholds remove %s: %s %s", d.ID, f[1], f[2])
		}
	}
	for _, l := range []string{"yor", "tha"} {
		if engRemoved[l]*4 < good[l]*3 {
			t.Errorf("English-tuned stages remove only %d of %d %s documents", engRemoved[l], good[l], l)
		}
		t.Logf("%s: English-tuned stages remove %d of %d documents; calibrated keep %d", l, engRemoved[l], good[l], calKept[l])
	}
	// the calibrated file names what it changed for each language
	for _, want := range []string{"yor_Latn:", "tha_Thai:", "stop_words:", "min_mean_word_length:"} {
		if !strings.Contains(string(yml), want) {
			t.Errorf("thresholds file lacks %q", want)
		}
	}
}
