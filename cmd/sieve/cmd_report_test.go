package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReportCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if code, _, stderr := sieve(t, "run", "-c", "../../configs/quickstart.yaml", "-o", dir, "--quiet"); code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	for _, f := range []string{"README.md", "report.html", "audit/und.md"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("sieve run did not write %s: %v", f, err)
		}
	}
	card, _ := os.ReadFile(filepath.Join(dir, "README.md"))

	// Rebuilt from the run directory alone: the same card.
	if err := os.Remove(filepath.Join(dir, "README.md")); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := sieve(t, "report", dir)
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "README.md")); string(again) != string(card) {
		t.Error("sieve report wrote another card than sieve run")
	}
	if !strings.Contains(stdout, "und ") || !strings.Contains(stdout, "audit: 0 of ") {
		t.Errorf("stdout:\n%s", stdout)
	}

	// Targets from another config file.
	cfg := filepath.Join(t.TempDir(), "targets.yaml")
	if err := os.WriteFile(cfg, []byte("coverage:\n  targets:\n    hau_Latn: {min_docs: 10}\n  license: cc-by-4.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = sieve(t, "report", "-c", cfg, dir)
	if code != 0 {
		t.Fatalf("report -c: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "0 of 1 targeted languages meet their target") {
		t.Errorf("stdout:\n%s", stdout)
	}
	card, _ = os.ReadFile(filepath.Join(dir, "README.md"))
	if !strings.Contains(string(card), "license: cc-by-4.0") || !strings.Contains(string(card), "| Hausa | `hau_Latn` | ha | 0 |") {
		t.Errorf("card does not use the targets of %s", cfg)
	}

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no directory", []string{"report"}, 2, "give one run directory"},
		{"not a run directory", []string{"report", t.TempDir()}, 2, "stats.json"},
		{"bad coverage", []string{"report", "-c", writeFile(t, "coverage:\n  audit_samples: -1\n"), dir}, 2, "coverage.audit_samples: must be in 0..1000, got -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := sieve(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
