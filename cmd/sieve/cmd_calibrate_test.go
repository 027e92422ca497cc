package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCalibrateThenRun calibrates the Yoruba/Thai golden corpus through langid, then runs
// the pipeline with the thresholds file in every quality stage: every planted junk document
// is rejected and every other one kept.
func TestCalibrateThenRun(t *testing.T) {
	dir := t.TempDir()
	input, err := filepath.Abs("../../testdata/golden/quality/input.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "pipeline.yaml")
	os.WriteFile(cfg, []byte(`inputs:
  - path: `+input+`
stages:
  - langid: {candidates: [yor, tha, eng]}
  - gopher_quality: {builtin_stop_words: false, thresholds_file: thresholds.yaml}
  - gopher_repetition: {thresholds_file: thresholds.yaml}
  - c4_quality: {thresholds_file: thresholds.yaml}
  - fineweb_quality: {thresholds_file: thresholds.yaml}
output: {dir: out, format: jsonl}
`), 0o644)
	thresholds := filepath.Join(dir, "thresholds.yaml")

	// run before calibrating: the thresholds file is missing
	if code, _, stderr := sieve(t, "run", "-c", cfg, "-o", filepath.Join(dir, "out"), "-q"); code == 0 || !strings.Contains(stderr, "thresholds.yaml") {
		t.Fatalf("run without the thresholds file: exit %d, %s", code, stderr)
	}
	code, out, stderr := sieve(t, "calibrate", "-c", cfg, "-o", thresholds, "--min-docs", "10")
	if code != 0 {
		t.Fatalf("calibrate: exit %d\n%s%s", code, out, stderr)
	}
	for _, want := range []string{"read 32 documents", "yor_Latn: 16 documents sampled", "gopher_quality.stop_words", "wrote " + thresholds} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "to use it") {
		t.Errorf("hint printed although every stage reads the file:\n%s", out)
	}
	data, _ := os.ReadFile(thresholds)
	if !strings.HasPrefix(string(data), "# Per-language thresholds written by `sieve calibrate") || !strings.Contains(string(data), "yor_Latn:") {
		t.Errorf("thresholds file:\n%s", data)
	}

	code, _, stderr = sieve(t, "run", "-c", cfg, "-o", filepath.Join(dir, "out"), "-q")
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	f, err := os.Open(filepath.Join(dir, "out", "rejects.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rejected := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r struct{ ID, Reason string }
		json.Unmarshal(sc.Bytes(), &r)
		rejected[r.ID] = r.Reason
	}
	for _, l := range []string{"yor", "tha"} {
		for _, kind := range []string{"menu", "repeat", "symbols", "spam"} {
			if id := l + "-junk-" + kind; rejected[id] == "" {
				t.Errorf("%s kept", id)
			}
		}
	}
	for id, reason := range rejected {
		if !strings.Contains(id, "-junk-") {
			t.Errorf("%s rejected: %s", id, reason)
		}
	}
}

func TestCalibrateUsage(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "p.yaml")
	os.WriteFile(cfg, []byte("inputs: [x.jsonl]\nstages: [length]\noutput: {dir: o}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "x.jsonl"), []byte(`{"id":"a","text":"hello"}`+"\n"), 0o644)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"calibrate", "-c", cfg}, 2, "usage: sieve calibrate -c"},
		{[]string{"calibrate", "-c", cfg, "-o", filepath.Join(dir, "t.yaml"), "--quantile", "0.7"}, 2, "quantile must be in (0, 0.5)"},
		{[]string{"calibrate", "-c", cfg, "-o", filepath.Join(dir, "t.yaml"), "--mode", "tight"}, 2, "mode must be widen or fit"},
		{[]string{"calibrate", "-c", cfg, "-o", filepath.Join(dir, "t.yaml")}, 1, "has no quality stage"},
		{[]string{"calibrate", "-c", filepath.Join(dir, "nope.yaml"), "-o", filepath.Join(dir, "t.yaml")}, 2, "no such file"},
	}
	for _, tt := range tests {
		code, _, stderr := sieve(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tt.args, code, tt.code, stderr, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "t.yaml")); err == nil {
		t.Error("a failed calibration wrote the thresholds file")
	}
}
