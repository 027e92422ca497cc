package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Files a stage reads besides the inputs (here toxicity's word lists) are listed in the
// manifest with their sha256, and a task-mode run replans when one changes.
func TestUsedFilesInManifestAndPlan(t *testing.T) {
	dir := t.TempDir()
	inputs := writeTaskCorpus(t, dir, 300, 9)
	words := filepath.Join(dir, "words")
	if err := os.MkdirAll(words, 0o755); err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(words, "swh.txt")
	if err := os.WriteFile(list, []byte("simba\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, dir, "p.yaml", inputs+`stages:
  - length: {min_chars: 40, min_words: 5}
  - toxicity: {words_dir: words}
`)
	usedFiles := func(out string) []map[string]any {
		t.Helper()
		var m struct {
			UsedFiles []map[string]any `json:"used_files"`
		}
		b, err := os.ReadFile(filepath.Join(out, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m.UsedFiles
	}
	check := func(out, content string) {
		t.Helper()
		sum := sha256.Sum256([]byte(content))
		got := usedFiles(out)
		if len(got) != 1 || got[0]["stage"] != "toxicity" || got[0]["path"] != list ||
			got[0]["sha256"] != hex.EncodeToString(sum[:]) || got[0]["size"] != float64(len(content)) {
			t.Errorf("%s: used_files = %v, want toxicity %s with the sha256 of %q", out, got, list, content)
		}
		if _, ok := got[0]["mtime"]; ok {
			t.Errorf("%s: the manifest carries an mtime: %v", out, got[0])
		}
	}

	single := filepath.Join(dir, "single")
	mustRun(t, "run", "-c", cfg, "-o", single, "-q")
	check(single, "simba\n")

	out := filepath.Join(dir, "out")
	args := []string{"run", "-c", cfg, "-o", out, "--task-count", "2"}
	mustRun(t, args...)
	check(out, "simba\n")
	if stderr := mustRun(t, args...); !strings.Contains(stderr, "resumed") {
		t.Errorf("rerun with nothing changed did not resume:\n%s", stderr)
	}
	if err := os.WriteFile(list, []byte("simba\ntembo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stderr := mustRun(t, args...)
	if !strings.Contains(stderr, "replanning") || !strings.Contains(stderr, "a file a stage reads changed") {
		t.Errorf("no replanning after a word list changed:\n%s", stderr)
	}
	check(out, "simba\ntembo\n")
	mustVerify(t, out)
}
