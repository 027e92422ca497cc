package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sieve-data/sieve/formats"
	"github.com/sieve-data/sieve/pipeline"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// TestMain removes the binary sieveBinary built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// sieveBinary builds the sieve command once per test process (removed by TestMain).
func sieveBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sieve-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "sieve")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// execSieve runs the binary to completion.
func execSieve(t *testing.T, bin string, args ...string) {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("sieve %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestKillAndResume kills runs with SIGKILL at random points, reruns the same command, and
// checks that the final dataset and rejects are byte-identical to an uninterrupted run's,
// that the stats match and that sieve verify passes. After each kill, every dataset file
// under its final name must be complete. Half the trials are single-process runs, half
// task-mode runs with the minhash_dedup phases (3 tasks, files split into ranges), some of
// them killed more than once. SIEVE_KILL_TRIALS sets the number of trials (default 20;
// 6 with -short).
func TestKillAndResume(t *testing.T) {
	trials := 20
	if testing.Short() {
		trials = 6
	}
	if s := os.Getenv("SIEVE_KILL_TRIALS"); s != "" {
		trials, _ = strconv.Atoi(s)
	}
	bin := sieveBinary(t)
	dir := t.TempDir()
	inputs := writeTaskCorpus(t, dir, 8000, 11)
	cfg := writeConfig(t, dir, "p.yaml", inputs+strings.Replace(taskStages, "MODE", "", 1))
	modes := []struct {
		name string
		args []string
	}{
		{"single", nil},
		{"tasks", []string{"--task-count", "3", "--split-bytes", "300KiB"}},
	}
	type ref struct {
		tree    map[string][]byte
		stats   string
		elapsed time.Duration
	}
	refs := make([]ref, len(modes))
	for i, m := range modes {
		out := filepath.Join(dir, "ref-"+m.name)
		start := time.Now()
		execSieve(t, bin, append([]string{"run", "-c", cfg, "-o", out, "-q", "-w", "2"}, m.args...)...)
		refs[i] = ref{datasetFiles(t, out), comparableStats(t, out), time.Since(start)}
		t.Logf("%s: uninterrupted run %v, %d dataset and rejects files", m.name, refs[i].elapsed, len(refs[i].tree))
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for trial := 0; trial < trials; trial++ {
		mi := trial % len(modes)
		m, r := modes[mi], refs[mi]
		out := filepath.Join(dir, fmt.Sprintf("trial-%02d", trial))
		args := append([]string{"run", "-c", cfg, "-o", out, "-q", "-w", "2"}, m.args...)
		kills := 1 + rng.IntN(2)
		var points []string
		for k := 0; k < kills; k++ {
			at := time.Duration(rng.Float64() * 1.05 * float64(r.elapsed))
			cmd := exec.Command(bin, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("trial %d: run failed before the kill: %v\n%s", trial, err, stderr.String())
				}
				points = append(points, fmt.Sprintf("finished before %v", at.Round(time.Millisecond)))
			case <-time.After(at):
				cmd.Process.Kill()
				<-done
				points = append(points, fmt.Sprintf("killed at %v", at.Round(time.Millisecond)))
			}
			checkNoPartialFiles(t, out)
		}
		execSieve(t, bin, args...)
		got := datasetFiles(t, out)
		if len(got) != len(r.tree) {
			t.Errorf("trial %d (%s, %s): %d dataset files, uninterrupted run %d", trial, m.name, strings.Join(points, ", "), len(got), len(r.tree))
		}
		for name, b := range r.tree {
			if !bytes.Equal(got[name], b) {
				t.Errorf("trial %d (%s, %s): %s differs from the uninterrupted run's", trial, m.name, strings.Join(points, ", "), name)
			}
		}
		if s := comparableStats(t, out); s != r.stats {
			t.Errorf("trial %d (%s): stats differ", trial, m.name)
		}
		execSieve(t, bin, "verify", out)
		t.Logf("trial %d (%s): %s; resumed outputs identical", trial, m.name, strings.Join(points, ", "))
	}
}

// datasetFiles reads the dataset shards and the rejects of a run directory.
func datasetFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for name, b := range readTree(t, dir) {
		if strings.HasPrefix(name, "data"+string(filepath.Separator)) || strings.HasPrefix(name, "rejects.") {
			out[name] = b
		}
	}
	return out
}

// checkNoPartialFiles checks that every file under a final dataset name is complete.
func checkNoPartialFiles(t *testing.T, dir string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "data", "*", "train-*"))
	for _, f := range files {
		if _, err := formats.CountRows(f); err != nil {
			t.Errorf("after a kill, %s is not a complete file: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
		// A manifest claims a finished run: it must verify.
		if v, err := verifyDir(dir); err != nil || len(v) > 0 {
			t.Errorf("after a kill, %s has a manifest.json but does not verify: %v %v", dir, err, v)
		}
	}
}

// verifyDir runs sieve verify in-process and returns its problems.
func verifyDir(dir string) ([]string, error) {
	opt := pipeline.Options{}
	setTaskHooks(&opt)
	v, err := pipeline.Verify(context.Background(), dir, opt)
	if err != nil {
		return nil, err
	}
	return v.Problems, nil
}
