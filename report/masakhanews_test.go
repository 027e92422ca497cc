package report

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sieve-data/sieve/lang"
)

// sharedData returns ../shared/data relative to the repository root (or $SIEVE_SHARED_DATA),
// or skips the test when it is absent.
func sharedData(t *testing.T, rel string) string {
	t.Helper()
	base := os.Getenv("SIEVE_SHARED_DATA")
	if base == "" {
		base = filepath.Join("..", "..", "shared", "data")
	}
	p := filepath.Join(base, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not available: %v", p, err)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

type cardRow struct{ docs, words, chars, bytes int64 }

// cardLanguages parses the Languages table of a card: label -> figures.
func cardLanguages(t *testing.T, body string) map[string]cardRow {
	t.Helper()
	sec := body[strings.Index(body, "## Languages"):]
	sec = sec[:strings.Index(sec, "\n## ")]
	out := map[string]cardRow{}
	for _, line := range strings.Split(sec, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 9 || !strings.HasPrefix(strings.TrimSpace(cells[2]), "`") {
			continue
		}
		n := func(i int) int64 {
			v, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(cells[i]), ",", ""), 10, 64)
			if err != nil {
				t.Fatalf("card row %q: %v", line, err)
			}
			return v
		}
		out[strings.Trim(strings.TrimSpace(cells[2]), "`")] = cardRow{n(4), n(5), n(6), n(7)}
	}
	return out
}

// cardFunnelRead parses the Read column of the per-language funnel table.
func cardFunnelRead(t *testing.T, body string) map[string]int64 {
	t.Helper()
	sec := body[strings.Index(body, "| Label | Read |"):]
	sec = sec[:strings.Index(sec, "\n\n")]
	out := map[string]int64{}
	for _, line := range strings.Split(sec, "\n")[2:] {
		cells := strings.Split(line, "|")
		v, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(cells[2]), ",", ""), 10, 64)
		if err != nil {
			t.Fatalf("funnel row %q: %v", line, err)
		}
		out[strings.Trim(strings.TrimSpace(cells[1]), "`")] = v
	}
	return out
}

// TestMasakhanews runs ../shared/data/docs/masakhanews.jsonl (16 languages, labelled by its
// lang field) with a target for each language, and checks that the card's figures per
// language are those of the Parquet files, counted with an independent reader, and that
// its funnel reads as many documents per language as the input holds.
func TestMasakhanews(t *testing.T) {
	input := sharedData(t, filepath.Join("docs", "masakhanews.jsonl"))
	inputLangs := map[string]int64{}
	f, err := os.Open(input)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var rec struct{ Lang string }
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		inputLangs[rec.Lang]++
	}
	f.Close()
	if len(inputLangs) != 16 {
		t.Fatalf("masakhanews.jsonl has %d languages, want 16", len(inputLangs))
	}
	var targets strings.Builder
	labels := make([]string, 0, len(inputLangs))
	for l := range inputLangs {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, l := range labels {
		targets.WriteString("    " + l + ": {min_docs: 150}\n")
	}
	pipe := "inputs:\n  - path: " + input + "\nstages:\n  - langid: {}\n  - length: {min_words: 50}\n  - exact_dedup: {}\n" +
		"output: {format: parquet, max_shard_rows: 60, row_group_size: 25}\nrejects: {enabled: true, format: jsonl, compression: zstd}\n" +
		"coverage:\n  targets:\n" + targets.String() + "  audit_samples: 10\n"
	dir := filepath.Join(t.TempDir(), "masakhanews")
	runPipeline(t, pipe, dir, 2)
	res, err := BuildWith(t.Context(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fm := checkCard(t, dir)
	_, body, err := ParseCard(mustRead(t, filepath.Join(dir, CardFile)))
	if err != nil {
		t.Fatal(err)
	}
	rows := cardLanguages(t, body)
	read := cardFunnelRead(t, body)
	for _, label := range labels {
		files, _ := filepath.Glob(filepath.Join(dir, "data", label, "*.parquet"))
		var want cardRow
		for _, file := range files {
			for _, text := range parquetColumn(t, file, "text") {
				want.docs++
				want.words += int64(lang.CountWords(text))
				want.chars += int64(utf8.RuneCountInString(text))
				want.bytes += int64(len(text))
			}
			for _, l := range parquetColumn(t, file, "lang") {
				if l != label {
					t.Fatalf("%s holds a row labelled %s", file, l)
				}
			}
		}
		if got := rows[label]; got != want || want.docs == 0 {
			t.Errorf("%s: card says %+v, the Parquet files hold %+v", label, got, want)
		}
		if read[label] != inputLangs[label] {
			t.Errorf("%s: the funnel reads %d documents, the input holds %d", label, read[label], inputLangs[label])
		}
	}
	if len(rows) != 16 {
		t.Errorf("card lists %d languages: %v", len(rows), rows)
	}
	if len(fm.Language) != 16 || len(fm.Configs) != 17 {
		t.Errorf("front matter: %d languages, %d configs", len(fm.Language), len(fm.Configs))
	}
	var met int
	for _, l := range res.Coverage.Langs {
		if l.Status == StatusMet {
			met++
		}
	}
	t.Logf("masakhanews: %d documents kept of %d, %d of 16 languages meet min_docs 150", res.Coverage.Docs, 2400, met)
}
