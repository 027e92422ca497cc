package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sieve-data/sieve/formats"
	"github.com/sieve-data/sieve/pipeline"
)

var brokenDir, _ = filepath.Abs("../../testdata/broken")

// sieveWithin runs the CLI in-process and fails the test if it does not return within d
// (a hang).
func sieveWithin(t *testing.T, d time.Duration, args ...string) (int, string, string) {
	t.Helper()
	type res struct {
		code        int
		out, stderr string
	}
	ch := make(chan res, 1)
	go func() {
		code, out, stderr := sieve(t, args...)
		ch <- res{code, out, stderr}
	}()
	select {
	case r := <-ch:
		return r.code, r.out, r.stderr
	case <-time.After(d):
		t.Fatalf("sieve %s: no answer after %v (hang?)", strings.Join(args, " "), d)
		return 0, "", ""
	}
}

// rejectReasons reads the reasons of a run's rejects, and its stats' read/kept/rejected.
func rejectReasons(t *testing.T, dir string) (map[string]int, [3]int64) {
	t.Helper()
	reasons := map[string]int{}
	f, err := os.Open(filepath.Join(dir, "rejects.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 256<<20)
	for sc.Scan() {
		var r struct{ Reason, Detail string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("rejects line: %v", err)
		}
		reasons[r.Reason]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var st struct{ Read, Kept, Rejected int64 }
	b, _ := os.ReadFile(filepath.Join(dir, "stats.json"))
	json.Unmarshal(b, &st)
	return reasons, [3]int64{st.Read, st.Kept, st.Rejected}
}

// Broken inputs give rejects with reasons (on_error: reject) or an error naming the file
// and line (on_error: fail); never a panic or a hang. Every run that finishes verifies.
func TestHostileInputs(t *testing.T) {
	tmp := t.TempDir()
	deep := filepath.Join(tmp, "deeper.jsonl")
	if err := os.WriteFile(deep, []byte(`{"id":"d","text":"x","m":`+strings.Repeat("[", 10_000_000)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file     string
		reasons  []string // reasons that must appear in the rejects
		minKept  int64
		failLine bool // with on_error: fail, the error names a line
	}{
		{"truncated.jsonl.gz", []string{"read.truncated"}, 1, false},
		{"corrupt.jsonl.zst", []string{"read.truncated"}, 0, false},
		{"garbage.jsonl", []string{"read.invalid_json"}, 0, true},
		{"invalid_utf8.jsonl", []string{"read.invalid_utf8"}, 2, true},
		{"nested.jsonl", []string{"read.invalid_json"}, 2, true},
		{deep, []string{"read.invalid_json"}, 0, true},
		{"empty.jsonl", nil, 0, false},
	}
	for _, tt := range tests {
		name := filepath.Base(tt.file)
		t.Run(name, func(t *testing.T) {
			in := tt.file
			if !filepath.IsAbs(in) {
				in = filepath.Join(brokenDir, in)
			}
			cfg := writeConfig(t, t.TempDir(), "p.yaml", fmt.Sprintf("inputs:\n  - {path: %q, format: jsonl}\nstages:\n  - length: {min_chars: 1}\nrejects: {enabled: true}\n", in))
			out := filepath.Join(t.TempDir(), "out")
			code, _, stderr := sieveWithin(t, time.Minute, "run", "-c", cfg, "-o", out, "-q")
			if code != 0 {
				t.Fatalf("on_error reject: exit %d: %s", code, stderr)
			}
			reasons, counts := rejectReasons(t, out)
			for _, r := range tt.reasons {
				if reasons[r] == 0 {
					t.Errorf("no %s reject; reasons %v", r, reasons)
				}
			}
			if counts[0] != counts[1]+counts[2] || counts[1] < tt.minKept {
				t.Errorf("read %d, kept %d, rejected %d; want at least %d kept", counts[0], counts[1], counts[2], tt.minKept)
			}
			mustVerify(t, out)

			failCfg := writeConfig(t, t.TempDir(), "f.yaml", fmt.Sprintf("inputs:\n  - {path: %q, format: jsonl, on_error: fail}\n", in))
			code, _, stderr = sieveWithin(t, time.Minute, "run", "-c", failCfg, "-o", filepath.Join(t.TempDir(), "o"), "-q")
			switch {
			case len(tt.reasons) == 0:
				if code != 0 {
					t.Errorf("on_error fail: exit %d: %s", code, stderr)
				}
			case code != 1 || !strings.Contains(stderr, filepath.Base(in)):
				t.Errorf("on_error fail: exit %d, %q; want exit 1 naming the file", code, stderr)
			case tt.failLine && !strings.Contains(stderr, filepath.Base(in)+":"):
				t.Errorf("on_error fail: %q does not name the line", stderr)
			}
		})
	}
}

// A directory where a file is expected, a file that became a directory after planning,
// and Parquet with the wrong schema are clear errors.
func TestHostileFiles(t *testing.T) {
	dir := t.TempDir()
	// A directory named like an input file, holding nothing to read.
	os.MkdirAll(filepath.Join(dir, "shards.jsonl", "empty.d"), 0o755)
	code, _, stderr := sieveWithin(t, time.Minute, "run", "-o", filepath.Join(dir, "o1"), "-q", filepath.Join(dir, "shards.jsonl"))
	if code != 2 || !strings.Contains(stderr, "shards.jsonl") {
		t.Errorf("directory input: exit %d, %q", code, stderr)
	}

	// In task mode a file replaced by a directory after the plan: the run is planned again
	// and the directory read as what it is.
	os.WriteFile(filepath.Join(dir, "a.jsonl"), []byte(`{"id":"1","text":"one two three four five six"}`+"\n"), 0o644)
	cfg := writeConfig(t, dir, "p.yaml", "inputs: [a.jsonl]\n")
	out := filepath.Join(dir, "o2")
	mustRun(t, "run", "-c", cfg, "-o", out, "-q", "--task-count", "2")
	os.Remove(filepath.Join(dir, "a.jsonl"))
	os.MkdirAll(filepath.Join(dir, "a.jsonl"), 0o755)
	code, _, stderr = sieveWithin(t, time.Minute, "run", "-c", cfg, "-o", out, "-q", "--task-count", "2")
	if code != 2 || !strings.Contains(stderr, "a.jsonl") {
		t.Errorf("file replaced by a directory: exit %d, %q", code, stderr)
	}

	// Parquet with the wrong schema: no text column.
	if _, ok := pipeline.LookupReader("parquet"); !ok {
		t.Log("no parquet reader registered; wrong-schema case skipped")
		return
	}
	pq := filepath.Join(dir, "wrong.parquet")
	f, err := os.Create(pq)
	if err != nil {
		t.Fatal(err)
	}
	w, err := formats.NewParquetWriter(f, formats.RejectShape(), formats.ParquetOptions{Compression: "zstd"})
	if err != nil {
		t.Fatal(err)
	}
	d := &pipeline.Document{ID: "x", Text: "some text here"}
	d.Reject("read", "read.invalid_json", "detail")
	if err := w.Write(d); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cfg = writeConfig(t, dir, "pq.yaml", "inputs:\n  - {path: wrong.parquet, text_field: body}\n")
	code, _, stderr = sieveWithin(t, time.Minute, "run", "-c", cfg, "-o", filepath.Join(dir, "o3"), "-q")
	if code == 0 {
		// A reader may reject every row instead of failing: then each must be accounted for.
		reasons, counts := rejectReasons(t, filepath.Join(dir, "o3"))
		if counts[2] != 1 || counts[0] != 1 {
			t.Errorf("wrong schema: exit 0 with reasons %v, counts %v", reasons, counts)
		}
	} else if !strings.Contains(stderr, "wrong.parquet") || !strings.Contains(stderr, "body") {
		t.Errorf("wrong schema: exit %d, %q; want the file and the missing column named", code, stderr)
	}
}

// A 100 MB line is rejected as too large (read.record_too_large) with memory bounded by
// max_record_bytes, not by the line: with a 1 MiB limit the run's peak RSS stays far below
// the line's size, in one process and split into tasks.
func TestHundredMegabyteLine(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100 MB")
	}
	bin := sieveBinary(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "big.jsonl")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	bw.WriteString(`{"id":"before","text":"a short line before the long one, long enough"}` + "\n")
	bw.WriteString(`{"id":"huge","text":"`)
	chunk := strings.Repeat("maneno mengi sana ", 1<<12)
	for n := 0; n < 100<<20; n += len(chunk) {
		bw.WriteString(chunk)
	}
	bw.WriteString("\"}\n")
	bw.WriteString(`{"id":"after","text":"a short line after the long one, long enough"}` + "\n")
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out := filepath.Join(dir, "out")
	for _, limit := range []string{"1048576", "67108864"} {
		cfg := writeConfig(t, dir, "p.yaml", "inputs: [{path: big.jsonl, max_record_bytes: "+limit+"}]\nstages:\n  - length: {min_chars: 10}\nrejects: {enabled: true}\n")
		for _, extra := range [][]string{nil, {"--task-count", "3", "--split-bytes", "8MiB"}} {
			os.RemoveAll(out)
			rss, b, err := peakRSS(exec.Command(bin, append([]string{"run", "-c", cfg, "-o", out, "-q", "-w", "2"}, extra...)...))
			if err != nil {
				t.Fatalf("%v: %v\n%s", extra, err, b)
			}
			reasons, counts := rejectReasons(t, out)
			if reasons["read.record_too_large"] != 1 || counts[1] != 2 {
				t.Errorf("%v: reasons %v, counts %v", extra, reasons, counts)
			}
			t.Logf("max_record_bytes %s %v: peak RSS %d MiB with a 100 MiB line", limit, extra, rss>>20)
			if limit == "1048576" && rss > 90<<20 {
				t.Errorf("%v: peak RSS %d MiB with max_record_bytes 1 MiB: the long line seems to be held in memory", extra, rss>>20)
			}
		}
	}
}

// Hostile configs give config errors naming the problem, never a panic, a hang or a huge
// allocation.
func TestHostileConfigs(t *testing.T) {
	tests := []struct {
		file string
		code int
		want []string
	}{
		{"alias_bomb.yaml", 2, []string{"alias"}},
		{"huge_numbers.yaml", 2, []string{"workers", "batch_size", "max_record_bytes", "min_chars", "bands"}},
		{"alias_stage.yaml", 2, []string{"x: unknown field"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			code, _, stderr := sieveWithin(t, 30*time.Second, "run", "-c", filepath.Join(brokenDir, tt.file), "-o", filepath.Join(t.TempDir(), "o"), "-q")
			if code != tt.code {
				t.Errorf("exit %d, want %d: %s", code, tt.code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not name %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// output.confine keeps the run directory inside the current directory, symbolic links
// resolved.
func TestOutputConfine(t *testing.T) {
	wd, _ := os.Getwd()
	tree := t.TempDir()
	outside := t.TempDir()
	os.WriteFile(filepath.Join(tree, "in.jsonl"), []byte(`{"id":"1","text":"one two three four five"}`+"\n"), 0o644)
	os.Symlink(outside, filepath.Join(tree, "link"))
	if err := os.Chdir(tree); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	tests := []struct {
		dir  string
		code int
	}{
		{"runs/a", 0},
		{"../elsewhere", 2},
		{outside + "/abs", 2},
		{"link/escape", 2},
		{".", 2},
	}
	for _, tt := range tests {
		cfg := writeConfig(t, tree, "c.yaml", fmt.Sprintf("inputs: [in.jsonl]\noutput: {dir: %q, confine: true}\n", tt.dir))
		for _, extra := range [][]string{nil, {"--task-count", "2"}} {
			code, _, stderr := sieveWithin(t, time.Minute, append([]string{"run", "-c", cfg, "-q"}, extra...)...)
			if code != tt.code {
				t.Errorf("dir %s %v: exit %d, want %d: %s", tt.dir, extra, code, tt.code, stderr)
			}
			if tt.code == 2 && !strings.Contains(stderr, "output.confine") && !strings.Contains(stderr, "current directory") {
				t.Errorf("dir %s: %q does not say why", tt.dir, stderr)
			}
		}
	}
	code, _, stderr := sieveWithin(t, time.Minute, "run", "-c", filepath.Join(brokenDir, "escape.yaml"), "-q")
	if code != 2 || !strings.Contains(stderr, "outside") {
		t.Errorf("escape.yaml: exit %d, %q", code, stderr)
	}
}

// peakRSS runs cmd and returns its peak resident set size, polled from VmHWM in
// /proc/PID/status (the child's rusage would count the test process's memory, shared until
// exec), with its combined output.
func peakRSS(cmd *exec.Cmd) (int64, []byte, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return 0, nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	var peak int64
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return peak, out.Bytes(), err
		case <-tick.C:
			b, err := os.ReadFile(status)
			if err != nil {
				continue
			}
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					var kb int64
					fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
					peak = max(peak, kb<<10)
				}
			}
		}
	}
}
