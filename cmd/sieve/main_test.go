package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

// sieve runs the CLI in-process and returns its exit code, stdout and stderr.
func sieve(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runMain(context.Background(), append([]string{"sieve"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// readTree returns every file under dir (relative path -> bytes), skipping manifest.json,
// which holds times.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "manifest.json" {
			return nil
		}
		b, err := os.ReadFile(p)
		files[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestQuickstartGolden runs configs/quickstart.yaml with 1 and 4 workers, checks the two
// runs are byte-identical, and compares the kept ids, the rejects with their reasons and the
// stats with the golden files in testdata/golden/quickstart (go test ./cmd/sieve -update).
func TestQuickstartGolden(t *testing.T) {
	var trees []map[string][]byte
	var dirs []string
	for _, w := range []string{"1", "4"} {
		dir := filepath.Join(t.TempDir(), "run")
		code, _, stderr := sieve(t, "run", "-c", "../../configs/quickstart.yaml", "-o", dir, "--workers", w, "--quiet")
		if code != 0 {
			t.Fatalf("workers %s: exit %d: %s", w, code, stderr)
		}
		trees = append(trees, readTree(t, dir))
		dirs = append(dirs, dir)
	}
	if len(trees[0]) != len(trees[1]) {
		t.Fatalf("file sets differ: %d vs %d files", len(trees[0]), len(trees[1]))
	}
	for name, b := range trees[0] {
		if name == "stats.json" {
			continue // holds the run time
		}
		if !bytes.Equal(b, trees[1][name]) {
			t.Errorf("%s differs between 1 and 4 workers", name)
		}
	}
	dir := dirs[0]
	var st struct {
		Read, Kept, Rejected int64
		Balanced             bool
		Stages               []struct {
			Name     string
			In, Kept int64
			Rejected map[string]int64
		}
		Languages map[string]struct{ Docs, Chars, Words, Bytes int64 }
	}
	raw := trees[0]["stats.json"]
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	if !st.Balanced || st.Read != st.Kept+st.Rejected {
		t.Fatalf("unbalanced: %+v", st)
	}
	// Rejects: id, stage, reason per line.
	var rej []string
	for _, line := range strings.Split(strings.TrimSpace(string(trees[0]["rejects.jsonl"])), "\n") {
		var r struct{ ID, Stage, Reason, Detail string }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("rejects line %q: %v", line, err)
		}
		rej = append(rej, fmt.Sprintf("%s\t%s\t%s\t%s", r.ID, r.Stage, r.Reason, r.Detail))
	}
	if int64(len(rej)) != st.Rejected {
		t.Errorf("rejects.jsonl has %d lines, stats say %d", len(rej), st.Rejected)
	}
	kept := keptIDs(t, dir)
	if int64(len(kept)) != st.Kept {
		t.Errorf("output has %d rows, stats say kept %d", len(kept), st.Kept)
	}
	// Stats without the time, for the golden file.
	var generic map[string]any
	_ = json.Unmarshal(raw, &generic)
	dropTimings(generic)
	statsGolden, _ := json.MarshalIndent(generic, "", "  ")
	golden(t, "quickstart/want_kept.txt", strings.Join(kept, "\n")+"\n")
	golden(t, "quickstart/want_rejects.tsv", strings.Join(rej, "\n")+"\n")
	golden(t, "quickstart/want_stats.json", string(statsGolden)+"\n")
}

// keptIDs reads the kept ids from the JSONL or Parquet output in file order.
func keptIDs(t *testing.T, dir string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "data", "*", "*.parquet"))
	sort.Strings(files)
	var ids []string
	for _, f := range files {
		ids = append(ids, parquetIDs(t, f)...)
	}
	return ids
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/sieve -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the run's output (go test ./cmd/sieve -run %s -update after checking the change):\n--- want\n%s\n--- got\n%s", path, t.Name(), want, got)
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("inputs: [nope.jsonl]\nstages:\n  - lenght: {}\n"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad config", []string{"run", "-c", bad, "-o", filepath.Join(dir, "o")}, 2, `bad.yaml:3:5: stages[0]: unknown stage kind "lenght" (did you mean length?)`},
		{"lint bad config", []string{"lint", bad}, 2, "did you mean length?"},
		{"missing input file", []string{"run", "-o", filepath.Join(dir, "o2"), filepath.Join(dir, "missing.jsonl")}, 2, "missing.jsonl"},
		{"no args", []string{"run"}, 2, "give -c FILE"},
		{"version", []string{"version"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := sieve(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d (want %d), stderr %q (want it to contain %q)", code, tt.code, stderr, tt.want)
			}
		})
	}
}

func TestLintExampleConfigs(t *testing.T) {
	files, _ := filepath.Glob("../../configs/*.yaml")
	if len(files) == 0 {
		t.Fatal("no configs")
	}
	code, out, stderr := sieve(t, append([]string{"lint"}, files...)...)
	if code != 0 {
		t.Fatalf("lint: %s%s", out, stderr)
	}
}

func TestDefaultPipelineLoads(t *testing.T) {
	code, out, stderr := sieve(t, "config", "default")
	if code != 0 || !strings.Contains(out, "stages:") {
		t.Fatalf("config default: %d %s", code, stderr)
	}
	p := filepath.Join(t.TempDir(), "default.yaml")
	os.WriteFile(p, []byte(out), 0o644)
	if code, _, stderr := sieve(t, "lint", p); code != 0 {
		t.Fatalf("default pipeline does not lint: %s", stderr)
	}
}

// TestInterruptLeavesNothing cancels a run part-way (as Ctrl-C does through
// signal.NotifyContext) and checks that no output file, final or temporary, remains.
func TestInterruptLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "big.jsonl")
	var b strings.Builder
	for i := 0; i < 200000; i++ {
		fmt.Fprintf(&b, `{"id":"d%d","text":"document number %d with a few words in it"}`+"\n", i, i)
	}
	if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	done := make(chan int)
	go func() {
		done <- runMain(ctx, []string{"sieve", "run", "-o", out, "--quiet", "--workers", "2", in}, &stdout, &stderr)
	}()
	// Cancel once the run has started writing.
	for i := 0; i < 2000; i++ {
		if ents, _ := os.ReadDir(filepath.Join(out, "data")); len(ents) > 0 {
			break
		}
		select {
		case code := <-done:
			t.Skipf("run finished (exit %d) before it could be interrupted", code)
		default:
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	code := <-done
	if code != 1 || !strings.Contains(stderr.String(), "interrupted") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	var left []string
	filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, p)
		}
		return nil
	})
	if len(left) > 0 {
		t.Errorf("files left after interrupt: %v", left)
	}
}

func TestHoistFlags(t *testing.T) {
	app := newApp(nil, nil)
	tests := []struct{ give, want string }{
		{"sieve run a.jsonl -o out --workers 2 b.jsonl", "sieve run -o out --workers 2 a.jsonl b.jsonl"},
		{"sieve run a.jsonl --quiet -w=3", "sieve run --quiet -w=3 a.jsonl"},
		{"sieve run -c x.yaml", "sieve run -c x.yaml"},
		{"sieve run a -- -o", "sieve run a -- -o"},
		{"sieve version", "sieve version"},
	}
	for _, tt := range tests {
		if got := strings.Join(hoistFlags(app, strings.Fields(tt.give)), " "); got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.give, got, tt.want)
		}
	}
}

// dropTimings removes wall-clock figures (keys ending in "seconds") at any depth, the only
// part of stats.json that differs between identical runs.
func dropTimings(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.HasSuffix(k, "seconds") {
				delete(x, k)
				continue
			}
			dropTimings(e)
		}
	case []any:
		for _, e := range x {
			dropTimings(e)
		}
	}
}
