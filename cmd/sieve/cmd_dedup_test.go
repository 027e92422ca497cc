package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEvalDedupCommand(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	rng := rand.New(rand.NewPCG(1, 2))
	sylls := []string{"ka", "wa", "ma", "ni", "ku", "to", "li", "za", "mba", "nge", "ọ", "ẹ"}
	for i := 0; i < 80; i++ {
		var text strings.Builder
		for w := 0; w < 120; w++ {
			for k := 0; k < 1+rng.IntN(3); k++ {
				text.WriteString(sylls[rng.IntN(len(sylls))])
			}
			text.WriteByte(' ')
		}
		line, _ := json.Marshal(map[string]string{"id": fmt.Sprintf("doc-%d", i), "text": text.String()})
		b.Write(line)
		b.WriteByte('\n')
	}
	data := filepath.Join(dir, "docs.jsonl")
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := runMain(context.Background(), []string{"sieve", "eval", "dedup", "--data", data, "--json", "--workers", "2"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var rep struct {
		Synthetic struct {
			Originals   int `json:"originals"`
			VsUnrelated struct {
				F1 float64 `json:"f1"`
			} `json:"vs_unrelated"`
		} `json:"synthetic"`
		Groups any `json:"groups"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, stdout.String())
	}
	if rep.Synthetic.Originals != 80 || rep.Synthetic.VsUnrelated.F1 < 0.9 || rep.Groups != nil {
		t.Errorf("unexpected report: %s", stdout.String())
	}
	stdout.Reset()
	if code := runMain(context.Background(), []string{"sieve", "eval", "dedup", "--data", data, "--threshold", "2"}, &stdout, &stderr); code != 2 {
		t.Errorf("bad threshold: exit %d, want 2", code)
	}
	if code := runMain(context.Background(), []string{"sieve", "eval", "dedup", "--data", filepath.Join(dir, "missing.jsonl")}, &stdout, &stderr); code != 1 {
		t.Errorf("missing file: exit %d, want 1", code)
	}
}
