package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sieve-data/sieve/report"
)

// TestRerunKeepsAuditVerdicts runs the quickstart pipeline, ticks verdicts in an audit
// file, changes the text of one reviewed document, and checks that an interrupted and a
// failed rerun leave the audit file as it was, that a finished rerun (single-process, then
// task mode) carries the verdicts of the unchanged documents and keeps the changed one's
// aside, and that the card counts the carried verdicts only.
func TestRerunKeepsAuditVerdicts(t *testing.T) {
	dir := t.TempDir()
	corpus, err := os.ReadFile("../../testdata/corpus/quickstart.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(in, corpus, 0o644); err != nil {
		t.Fatal(err)
	}
	qs, err := os.ReadFile("../../configs/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfgText := strings.Replace(string(qs), "../testdata/corpus/quickstart.jsonl", "in.jsonl", 1)
	cfg := writeConfig(t, dir, "p.yaml", cfgText)
	out := filepath.Join(dir, "run")
	run := func(ctx context.Context, cfg string, extra ...string) (int, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := runMain(ctx, append([]string{"sieve", "run", "-c", cfg, "-o", out, "-w", "2"}, extra...), &stdout, &stderr)
		return code, stderr.String()
	}
	if code, stderr := run(context.Background(), cfg); code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}

	// A reviewer ticks three kept samples and one rejected sample of Basque.
	auditPath := filepath.Join(out, report.AuditDir, "eus_Latn.md")
	entries := readEntries(t, auditPath)
	var kept, rejected []string
	for _, e := range entries {
		if e.Kind == report.Kept {
			kept = append(kept, e.ID)
		} else {
			rejected = append(rejected, e.ID)
		}
	}
	if len(kept) < 3 || len(rejected) < 1 {
		t.Fatalf("eus_Latn.md draws %d kept and %d rejected samples; the test needs 3 and 1", len(kept), len(rejected))
	}
	ticks := map[string]string{kept[0]: report.VerdictOK, kept[1]: report.VerdictWrongLanguage, kept[2]: report.VerdictPoorQuality, rejected[0]: report.VerdictOK}
	text := mustRead(t, auditPath)
	for id, code := range ticks {
		text = tickBox(t, text, id, code)
	}
	if err := os.WriteFile(auditPath, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ticked := text
	// The third kept document gets another text in the corpus.
	changed := kept[2]
	if err := os.WriteFile(in, editText(t, corpus, changed, " Eskerrik asko zuen laguntzagatik."), 0o644); err != nil {
		t.Fatal(err)
	}

	// A rerun that stops (Ctrl-C) or fails leaves the audit file as the reviewer left it.
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	failing := writeConfig(t, dir, "fail.yaml", strings.Replace(cfgText, "on_error: reject", "on_error: fail", 1))
	for _, stop := range []struct {
		name string
		ctx  context.Context
		cfg  string
	}{{"interrupted", cancelled, cfg}, {"failed", context.Background(), failing}} {
		if code, stderr := run(stop.ctx, stop.cfg); code == 0 {
			t.Fatalf("%s rerun: exit 0: %s", stop.name, stderr)
		}
		if _, err := os.Stat(filepath.Join(out, "manifest.json")); err == nil {
			t.Fatalf("%s rerun left a manifest", stop.name)
		}
		if got := mustRead(t, auditPath); got != ticked {
			t.Errorf("%s rerun changed the audit file", stop.name)
		}
	}

	for _, mode := range []struct {
		name string
		args []string
	}{{"single-process", nil}, {"task mode", []string{"--task-count", "2"}}} {
		code, stderr := run(context.Background(), cfg, mode.args...)
		if code != 0 {
			t.Fatalf("%s rerun: exit %d: %s", mode.name, code, stderr)
		}
		want := fmt.Sprintf("audit verdicts: 3 carried over to the samples drawn again, 1 kept aside in %s\n", filepath.Join(out, "audit", "previous"))
		if !strings.Contains(strings.Replace(stderr, " (not counted", "\n(not counted", 1), want) {
			t.Errorf("%s rerun does not say where the verdicts went:\n%s", mode.name, stderr)
		}
		got := map[string]string{}
		for _, e := range readEntries(t, auditPath) {
			if e.Verdict != "" {
				got[e.ID] = e.Verdict
			}
		}
		for id, code := range ticks {
			if id != changed && got[id] != code {
				t.Errorf("%s rerun: %s has verdict %q, want %q carried over", mode.name, id, got[id], code)
			}
		}
		if _, ok := got[changed]; ok {
			t.Errorf("%s rerun: %s kept its verdict although its text changed", mode.name, changed)
		}
		aside := readEntries(t, filepath.Join(out, report.PreviousDir, "eus_Latn.md"))
		if len(aside) != 1 || aside[0].ID != changed || aside[0].Verdict != report.VerdictPoorQuality {
			t.Errorf("%s rerun: previous file holds %+v, want %s with %s", mode.name, aside, changed, report.VerdictPoorQuality)
		}
		if p := mustRead(t, filepath.Join(out, report.PreviousDir, "eus_Latn.md")); !strings.Contains(p, "text changed") {
			t.Errorf("%s rerun: the previous file does not say why:\n%s", mode.name, p)
		}
		// The card counts the carried verdicts: 2 of the kept samples (ok, wrong language),
		// 1 of the rejected (rightly removed).
		card := mustRead(t, filepath.Join(out, report.CardFile))
		row := fmt.Sprintf("| `eus_Latn` | [eus_Latn.md](audit/eus_Latn.md) | 2/%d | 1 | 1 | 0 | 1/%d | 1 | 0 |", len(kept), len(rejected))
		if !strings.Contains(card, row) || !strings.Contains(card, "1 verdict kept in `audit/previous/`") {
			t.Errorf("%s rerun: card lacks %s and the verdict kept aside:\n%s", mode.name, row, card[strings.Index(card, "## Audit"):strings.Index(card, "## Known")])
		}
	}
}

// readEntries reads the samples of an audit file.
func readEntries(t *testing.T, path string) []report.AuditEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	af, err := report.ReadAudit(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(af.Problems) > 0 {
		t.Errorf("%s: %q", path, af.Problems)
	}
	return af.Entries
}

// tickBox ticks the box code of the sample id in an audit file's text, as a reviewer does.
func tickBox(t *testing.T, text, id, code string) string {
	t.Helper()
	i := strings.Index(text, `"id":"`+id+`"`)
	j := strings.Index(text[max(i, 0):], "- [ ] "+code+":")
	if i < 0 || j < 0 {
		t.Fatalf("no box %s for sample %s", code, id)
	}
	return text[:i+j] + "- [x]" + text[i+j+5:]
}

// editText appends more to the text of the record id of a JSONL corpus.
func editText(t *testing.T, corpus []byte, id, more string) []byte {
	t.Helper()
	lines := bytes.Split(corpus, []byte("\n"))
	for i, l := range lines {
		var rec map[string]any
		if json.Unmarshal(l, &rec) != nil || rec["id"] != id {
			continue
		}
		rec["text"] = rec["text"].(string) + more
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		lines[i] = b
		return bytes.Join(lines, []byte("\n"))
	}
	t.Fatalf("no record %s", id)
	return nil
}
