package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestPeakRSSFlat checks that memory does not grow with the input for a pipeline without
// dedup: peak RSS on a 2 GB generated corpus is within 20% of that on 100 MB, in one process
// and split into 4 tasks. It generates 2.1 GB and takes minutes, so it runs only with
// SIEVE_RSS_TEST=1 (SIEVE_RSS_TEST_DIR: where to generate; default a temporary directory):
//
//	SIEVE_RSS_TEST=1 go test ./cmd/sieve -run PeakRSSFlat -v -timeout 30m
func TestPeakRSSFlat(t *testing.T) {
	if os.Getenv("SIEVE_RSS_TEST") == "" {
		t.Skip("set SIEVE_RSS_TEST=1 to generate 2 GB and compare peak RSS")
	}
	bin := sieveBinary(t)
	dir := os.Getenv("SIEVE_RSS_TEST_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	gen := filepath.Join(dir, "gen")
	if b, err := exec.Command("go", "build", "-o", gen, "../../bench/gen").CombinedOutput(); err != nil {
		t.Fatalf("build bench/gen: %v\n%s", err, b)
	}
	cfg := writeConfig(t, dir, "p.yaml", "inputs: [corpus.jsonl]\nstages:\n  - length: {min_chars: 40, min_words: 5}\nrejects: {enabled: true}\n")
	peaks := map[string]int64{}
	for _, size := range []string{"100MB", "2GB"} {
		corpus := filepath.Join(dir, "corpus.jsonl")
		if b, err := exec.Command(gen, "-size", size, "-seed", "1", "-out", corpus, "-quiet").CombinedOutput(); err != nil {
			t.Fatalf("bench/gen: %v\n%s", err, b)
		}
		for _, mode := range [][]string{nil, {"--task-count", "4"}} {
			out := filepath.Join(dir, "out")
			os.RemoveAll(out)
			rss, b, err := peakRSS(exec.Command(bin, append([]string{"run", "-c", cfg, "-o", out, "-q"}, mode...)...))
			if err != nil {
				t.Fatalf("%s %v: %v\n%s", size, mode, err, b)
			}
			key := size + " " + filepath.Join(mode...)
			peaks[key] = rss
			t.Logf("%s %v: peak RSS %d MiB", size, mode, rss>>20)
		}
		os.Remove(corpus)
		os.RemoveAll(filepath.Join(dir, "out"))
	}
	for _, mode := range []string{"", "--task-count/4"} {
		small, big := peaks["100MB "+mode], peaks["2GB "+mode]
		if float64(big) > 1.2*float64(small) {
			t.Errorf("%s: peak RSS %d MiB on 2 GB, %d MiB on 100 MB: more than 20%% apart", mode, big>>20, small>>20)
		}
	}
}
