package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sieve-data/sieve/lang"
)

// A restricted candidate set keeps these tests light (lingua-go loads models on demand).
const langidTestCandidates = "eng_Latn,fra_Latn,deu_Latn,swh_Latn,yor_Latn,rus_Cyrl"

func TestLangidCommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	lines := "The weather is lovely today and the market is busy.\n" +
		"ሰላም ለዓለም። እንዴት ነህ?\n" +
		"12345 !!!\n" +
		"Ọjà Bódìjà kún fún èrò lónìí, àwọn oníṣòwò ń ta iṣu.\n" +
		"\n" +
		"Сегодня на рынке много людей.\n"
	if err := os.WriteFile(in, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := runMain(context.Background(), []string{"sieve", "langid", in, "--candidates", langidTestCandidates, "--workers", "2"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	wantLabels := []string{"eng_Latn", "und_Ethi", "zxx_Zyyy", "yor_Latn", "zxx_Zyyy", "rus_Cyrl"}
	if len(got) != len(wantLabels) {
		t.Fatalf("%d output lines for %d input lines:\n%s", len(got), len(wantLabels), stdout.String())
	}
	for i, line := range got {
		label, conf, ok := strings.Cut(line, "\t")
		if !ok || label != wantLabels[i] || len(conf) != 6 {
			t.Errorf("line %d: %q, want %s<TAB>confidence", i+1, line, wantLabels[i])
		}
		if lang.IsUnd(label) != (conf == "0.0000") {
			t.Errorf("line %d: %q: und labels and only they print 0", i+1, line)
		}
	}

	// Bad usage exits 2, a missing file 1.
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"sieve", "langid", "--sample-chars", "0", in}, 2},
		{[]string{"sieve", "langid", "--candidates", "ibo_Latn", in}, 2},
		{[]string{"sieve", "langid", in, in}, 2},
		{[]string{"sieve", "langid", filepath.Join(dir, "missing.txt")}, 1},
		{[]string{"sieve", "langid", "--model", filepath.Join(dir, "missing.bin"), in}, 1},
		{[]string{"sieve", "eval", "langid"}, 2},
		{[]string{"sieve", "langid", "profile", in}, 2},
	} {
		stdout.Reset()
		stderr.Reset()
		if code := runMain(context.Background(), tt.args, &stdout, &stderr); code != tt.code {
			t.Errorf("%v: exit %d, want %d (%s)", tt.args[1:], code, tt.code, stderr.String())
		}
	}
}

func TestEvalLangidCommand(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "dev.tsv")
	tsv := "eng_Latn\tThe weather is lovely today and the market is busy.\n" +
		"eng_Latn\tThe council opened a new library in the town centre.\n" +
		"fra_Latn\tLe marché est plein de monde aujourd'hui.\n" +
		"swa_Latn\tSoko limejaa watu leo na bei ni nzuri.\n" +
		"yor_Latn\tỌjà Bódìjà kún fún èrò lónìí, àwọn oníṣòwò ń ta iṣu.\n" +
		"amh_Ethi\tሰላም ለዓለም። እንዴት ነህ?\n" +
		"ibo_Latn\tNdị ọrụ ugbo na-atụ anya mmiri ozuzo mbụ nke afọ a. Ha akwadoola ala ubi ha.\n"
	if err := os.WriteFile(data, []byte(tsv), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	args := []string{"sieve", "eval", "langid", "--data", data, "--json", "--candidates", langidTestCandidates}
	if code := runMain(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var rep lang.EvalReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, stdout.String())
	}
	if rep.Examples != 7 || rep.Supported != 5 || rep.Accuracy != 1 || rep.MacroF1 != 1 {
		t.Errorf("examples %d supported %d accuracy %v macro-F1 %v, want 7 5 1 1", rep.Examples, rep.Supported, rep.Accuracy, rep.MacroF1)
	}
	if u := rep.Unsupported; u.Other != 1 || u.OtherUnd != 1 || u.Latin != 1 || u.LatinWrong != 0 {
		t.Errorf("unsupported %+v", u)
	}
	if len(rep.Curve) == 0 || rep.Curve[0].MinFit != nil || rep.Curve[0].UnsupportedWrong != 1 {
		t.Errorf("curve %+v: the first point is the check off, where Igbo gets a wrong label", rep.Curve)
	}
	stdout.Reset()
	if code := runMain(context.Background(), args[:len(args)-3], &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "macro-F1") {
		t.Errorf("text report: exit %d\n%s", code, stdout.String())
	}
}

func TestLangidProfileCommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "en.txt")
	f, err := os.Open(filepath.Join("..", "..", "lang", "testdata", "docs.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := lang.ReadLabelled(f, "docs.tsv")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, e := range ex {
		if e.Gold == "eng_Latn" {
			text.WriteString(strings.Repeat(e.Text+"\n", 4))
		}
	}
	os.WriteFile(in, []byte(text.String()), 0o644)
	out := filepath.Join(dir, "en.prof")
	var stdout, stderr bytes.Buffer
	if code := runMain(context.Background(), []string{"sieve", "langid", "profile", "--label", "en", "-o", out, in}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	ps, err := lang.ReadProfileFile(out)
	if err != nil || len(ps) != 1 || ps[0].Label != "eng_Latn" || ps[0].Source != in {
		t.Fatalf("profile %v, %v", ps, err)
	}
	// The profile is accepted by sieve langid --profiles.
	stdout.Reset()
	if code := runMain(context.Background(), []string{"sieve", "langid", "--candidates", langidTestCandidates, "--profiles", out, in}, &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), "eng_Latn\t") {
		t.Errorf("exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	if code := runMain(context.Background(), []string{"sieve", "langid", "profile", "--label", "en", filepath.Join(dir, "missing")}, &stdout, &stderr); code != 1 {
		t.Errorf("missing input: exit %d, want 1", code)
	}
}
