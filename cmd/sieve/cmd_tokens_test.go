package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sieve-data/sieve/lang/tokenizer"
)

func TestTokensCommand(t *testing.T) {
	tokFile := "../../lang/tokenizer/testdata/sentencepiece.json"
	tok, err := tokenizer.Load(tokFile)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"hello world", "Ẹ kú àárọ̀!\nline two", "", "a<s>b"}
	var lines []string
	for _, s := range texts {
		lines = append(lines, strconv.Quote(s))
	}
	in := filepath.Join(t.TempDir(), "texts.jsonl")
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	code, out, stderr := sieve(t, "tokens", "--json", "--summary", "--tokenizer", tokFile, in)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	counts := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(counts) != len(texts) {
		t.Fatalf("%d lines of output for %d texts: %q", len(counts), len(texts), out)
	}
	c := tok.NewCounter()
	total := 0
	for i, s := range texts {
		if want := strconv.Itoa(c.Count(s)); counts[i] != want {
			t.Errorf("line %d: %s tokens, want %s", i+1, counts[i], want)
		}
		total += c.Count(s)
	}
	if !strings.Contains(stderr, "4 lines") || !strings.Contains(stderr, strconv.Itoa(total)+" tokens") || !strings.Contains(stderr, "tokens/word") {
		t.Errorf("summary: %q", stderr)
	}

	code, out, stderr = sieve(t, "tokens", "--json", "--ids", "-t", tokFile, in)
	if code != 0 {
		t.Fatalf("--ids: exit %d: %s", code, stderr)
	}
	for i, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var ids []int
		for _, f := range strings.Fields(l) {
			id, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("line %d: %q", i+1, l)
			}
			ids = append(ids, id)
		}
		if got, err := tok.Decode(ids); err != nil || (got != texts[i] && !strings.Contains(texts[i], "<s>")) {
			t.Errorf("line %d: ids %v decode to %q (%v), want %q", i+1, ids, got, err, texts[i])
		}
	}

	// Plain lines: one text per line.
	code, out, _ = sieve(t, "tokens", "-t", tokFile, in)
	if code != 0 || strings.Count(out, "\n") != len(texts) {
		t.Errorf("plain lines: exit %d, %q", code, out)
	}

	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, []byte("\"ok\"\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := sieve(t, "tokens", "--json", "-t", tokFile, bad); code != 1 || !strings.Contains(stderr, "bad.jsonl:2: not a JSON string") {
		t.Errorf("bad JSON line: exit %d, %q", code, stderr)
	}
	unsupported := filepath.Join(t.TempDir(), "wp.json")
	if err := os.WriteFile(unsupported, []byte(`{"model": {"type": "WordPiece", "vocab": {}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := sieve(t, "tokens", "-t", unsupported, in); code != 2 || !strings.Contains(stderr, `model.type: "WordPiece"`) {
		t.Errorf("WordPiece tokenizer: exit %d, %q", code, stderr)
	}
}
