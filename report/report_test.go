package report

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sieve-data/sieve/lang"
	"github.com/sieve-data/sieve/pipeline"
)

func TestComputeCoverage(t *testing.T) {
	st := &pipeline.Stats{Langs: map[string]pipeline.LangStats{
		"yor_Latn": {Docs: 120, Words: 5000, Bytes: 4000, Rejected: map[string]map[string]int64{"length": {"length.too_short": 30}}},
		"hau_Latn": {Docs: 40, Words: 9000, Bytes: 1000},
		"swh_Latn": {Docs: 500, Words: 900, Bytes: 3000},
		"eng_Latn": {Docs: 10, Words: 100, Bytes: 2000},
		"und_Ethi": {Docs: 2, Words: 10, Bytes: 0},
		"und":      {Rejected: map[string]map[string]int64{"read": {"read.invalid_json": 3}}},
	}}
	cov := pipeline.Coverage{
		Default: pipeline.CoverageTarget{MinDocs: 100},
		Targets: map[string]pipeline.CoverageTarget{
			"yo":       {},               // ISO 639-1, default minimum
			"hau":      {MinWords: 8000}, // ISO 639-3, default docs
			"swa_Latn": {MinWords: 1000}, // macrolanguage label: finds swh_Latn
			"fuv_Latn": {MinDocs: 5},
		},
		BytesPerToken: 4,
	}
	c, err := ComputeCoverage(st, cov, []string{"read", "length"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		label    string
		status   Status
		target   pipeline.CoverageTarget
		read     int64
		tokens   int64
		keptRate float64
	}{
		{"fuv_Latn", StatusMissing, pipeline.CoverageTarget{MinDocs: 5}, 0, 0, 0},
		{"hau_Latn", StatusUnder, pipeline.CoverageTarget{MinDocs: 100, MinWords: 8000}, 40, 250, 1},
		{"swh_Latn", StatusUnder, pipeline.CoverageTarget{MinDocs: 100, MinWords: 1000}, 500, 750, 1},
		{"yor_Latn", StatusMet, pipeline.CoverageTarget{MinDocs: 100}, 150, 1000, 0.8},
		{"eng_Latn", StatusUntargeted, pipeline.CoverageTarget{}, 10, 500, 1},
		{"und", StatusUntargeted, pipeline.CoverageTarget{}, 3, 0, 0},
		{"und_Ethi", StatusUntargeted, pipeline.CoverageTarget{}, 2, 0, 1},
	}
	if len(c.Langs) != len(tests) {
		t.Fatalf("got %d languages, want %d", len(c.Langs), len(tests))
	}
	for i, tt := range tests {
		l := c.Langs[i]
		if l.Label != tt.label || l.Status != tt.status || l.Target != tt.target || l.Read != tt.read || l.Tokens != tt.tokens || l.KeptRate != tt.keptRate {
			t.Errorf("row %d: got %s %q target %+v read %d tokens %d kept %.2f; want %s %q %+v %d %d %.2f",
				i, l.Label, l.Status, l.Target, l.Read, l.Tokens, l.KeptRate, tt.label, tt.status, tt.target, tt.read, tt.tokens, tt.keptRate)
		}
	}
	if c.Targeted != 4 || c.Met != 1 || c.Docs != 672 {
		t.Errorf("totals: targeted %d met %d docs %d", c.Targeted, c.Met, c.Docs)
	}
	if got := c.Langs[3].Removed; len(got) != 1 || got[0] != (Removal{"length", "length.too_short", 30}) {
		t.Errorf("yor_Latn removals: %+v", got)
	}
	if c.Langs[3].Code != "yo" || c.Langs[0].Code != "ff" || c.Langs[5].Code != "" {
		t.Errorf("codes: %q %q %q", c.Langs[3].Code, c.Langs[0].Code, c.Langs[5].Code)
	}

	cov.Targets["yor_Latn"] = pipeline.CoverageTarget{}
	if _, err := ComputeCoverage(st, cov, nil); err == nil || !strings.Contains(err.Error(), "yo and yor_Latn both name yor_Latn") {
		t.Errorf("duplicate target: %v", err)
	}
}

func TestReservoir(t *testing.T) {
	// Streaming and simulating choose the same positions.
	for _, n := range []int64{0, 3, 20, 1000} {
		a := newReservoir(20, 1, Kept, "yor_Latn")
		for i := int64(0); i < n; i++ {
			a.offer()
		}
		got := newReservoir(20, 1, Kept, "yor_Latn").positions(n)
		want := append([]int64(nil), a.slots...)
		sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
		if len(got) != int(min(n, 20)) || !equalInts(got, want) {
			t.Errorf("n=%d: positions %v, streamed %v", n, got, want)
		}
	}
	// Seed, kind and label all change the draw.
	base := newReservoir(5, 1, Kept, "yor_Latn").positions(1000)
	for _, r := range []*reservoir{newReservoir(5, 2, Kept, "yor_Latn"), newReservoir(5, 1, Rejected, "yor_Latn"), newReservoir(5, 1, Kept, "hau_Latn")} {
		if equalInts(r.positions(1000), base) {
			t.Errorf("same draw for a different seed, kind or label: %v", base)
		}
	}
	// Every position is drawn with probability k/n: 4,000 draws of 5 of 50 put each position
	// in about 400 samples; a biased draw would leave some far off.
	hits := make([]int, 50)
	for seed := uint64(0); seed < 4000; seed++ {
		for _, p := range newReservoir(5, seed, Kept, "x").positions(50) {
			hits[p]++
		}
	}
	for p, h := range hits {
		if h < 300 || h > 500 {
			t.Errorf("position %d drawn %d times of 4000, want about 400", p, h)
		}
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAuditRoundTrip(t *testing.T) {
	a := &AuditLang{
		Label: "yor_Latn", Name: "Yoruba", KeptTotal: 10, RejectedTotal: 4,
		Kept: []Sample{
			{Kind: Kept, ID: "k1", Origin: "in.jsonl", Text: "Ẹ kú àárọ̀", Chars: 10},
			{Kind: Kept, ID: "k-->2", Origin: "in.jsonl", Text: "```\n- [x] poor_quality\n<!-- sieve:sample {\"kind\":\"kept\",\"id\":\"k1\",\"origin\":\"in.jsonl\"} -->\n```", Chars: 60},
			{Kind: Kept, ID: "k3", Origin: "in.jsonl", Text: "ọ̀rọ̀ kẹta", Chars: 9},
		},
		Rejected: []Sample{{Kind: Rejected, ID: "r1", Origin: "in.jsonl:4", Stage: "length", Reason: "length.too_short", Detail: "3 < 5", Text: "abc", Chars: 3}},
		Verdicts: map[string]string{},
	}
	a.Verdicts[a.Kept[0].Key()] = VerdictWrongLanguage
	var b bytes.Buffer
	if err := WriteAudit(&b, a, 1, "test"); err != nil {
		t.Fatal(err)
	}
	af, err := ReadAudit(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if af.Samples != 4 || len(af.Problems) != 0 || len(af.Verdicts) != 1 || af.Verdicts[a.Kept[0].Key()] != VerdictWrongLanguage {
		t.Fatalf("read back %+v", af)
	}
	// A reviewer ticks boxes: k3 ok, r1 wrongly rejected, and both boxes of k-->2.
	text := b.String()
	text = tick(t, text, "k3", VerdictOK)
	text = tick(t, text, "r1", VerdictWronglyRejected)
	text = tick(t, text, "k--\\u003e2", VerdictOK)
	text = tick(t, text, "k--\\u003e2", VerdictPoorQuality)
	af, err = ReadAudit(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		a.Kept[0].Key():     VerdictWrongLanguage,
		a.Kept[2].Key():     VerdictOK,
		a.Rejected[0].Key(): VerdictWronglyRejected,
	}
	if !equalMaps(af.Verdicts, want) {
		t.Errorf("verdicts %v, want %v", af.Verdicts, want)
	}
	if len(af.Problems) != 1 || !strings.Contains(af.Problems[0], `"k-->2" has 2 boxes ticked`) {
		t.Errorf("problems %q", af.Problems)
	}
	a.Verdicts = af.Verdicts
	s := a.Summarise()
	if s != (AuditSummary{Label: "yor_Latn", Kept: 3, Rejected: 1, KeptReviewed: 2, OK: 1, WrongLanguage: 1, RejReviewed: 1, WronglyRejected: 1}) {
		t.Errorf("summary %+v", s)
	}
}

// tick ticks the box code of the sample whose marker holds id.
func tick(t *testing.T, text, id, code string) string {
	t.Helper()
	i := strings.Index(text, `"id":"`+id+`"`)
	if i < 0 {
		t.Fatalf("no sample %s", id)
	}
	j := strings.Index(text[i:], "- [ ] "+code+":")
	if j < 0 {
		t.Fatalf("sample %s has no box %s", id, code)
	}
	j += i
	return text[:j] + "- [x]" + text[j+5:]
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestReadAuditProblems(t *testing.T) {
	give := "# Audit\n<!-- sieve:sample {\"kind\":\"kept\",\"id\":\"a\",\"origin\":\"f\"} -->\n- [x] okay: typo\n" +
		"<!-- sieve:sample not json -->\n" +
		"<!-- sieve:sample {\"kind\":\"rejected\",\"id\":\"b\",\"origin\":\"f:2\"} -->\n* [X] wrong_language\n- [X] Wrongly_Rejected: yes\n"
	af, err := ReadAudit(strings.NewReader(give))
	if err != nil {
		t.Fatal(err)
	}
	wantProblems := []string{
		`line 3: "okay" is not a verdict for a kept sample`,
		"line 4: unreadable sample marker",
		`line 6: "wrong_language" is not a verdict for a rejected sample`,
	}
	if strings.Join(af.Problems, "\n") != strings.Join(wantProblems, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(af.Problems, "\n"), strings.Join(wantProblems, "\n"))
	}
	if len(af.Verdicts) != 1 || af.Verdicts[(&Sample{Kind: Rejected, ID: "b", Origin: "f:2"}).Key()] != VerdictWronglyRejected {
		t.Errorf("verdicts %v", af.Verdicts)
	}
}

func FuzzReadAudit(f *testing.F) {
	var b bytes.Buffer
	_ = WriteAudit(&b, &AuditLang{Label: "yor_Latn", Name: "Yoruba",
		Kept:     []Sample{{Kind: Kept, ID: "k1", Origin: "f", Text: "a ``` b"}},
		Rejected: []Sample{{Kind: Rejected, ID: "r1", Origin: "f:1", Text: "~~~\n- [x] ok"}}}, 1, "x")
	f.Add(b.String())
	f.Add("<!-- sieve:sample {\"kind\":\"kept\",\"id\":\"a\",\"origin\":\"f\"} -->\n- [x] ok\n````\n- [x] poor_quality\n```\n")
	f.Add("- [x]\n- [")
	f.Fuzz(func(t *testing.T, s string) {
		af, err := ReadAudit(strings.NewReader(s))
		if err != nil {
			return
		}
		if len(af.Verdicts) > af.Samples {
			t.Fatalf("%d verdicts for %d samples", len(af.Verdicts), af.Samples)
		}
	})
}

// hubSizeCategories and the other lists are the values the Hugging Face Hub accepts for the
// dataset card metadata fields sieve fills in (huggingface_hub's DatasetCardData).
var (
	hubSizeCategories  = []string{"n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M", "100M<n<1B", "1B<n<10B", "10B<n<100B", "100B<n<1T", "n>1T"}
	hubMultilinguality = []string{"monolingual", "multilingual", "translation", "other"}
	hubTaskCategories  = []string{"text-generation", "fill-mask", "text-classification", "translation"}
	hubTaskIDs         = []string{"language-modeling", "masked-language-modeling"}
	hubLicenses        = []string{"unknown", "other", "cc-by-4.0", "cc-by-sa-4.0", "cc0-1.0", "odc-by", "apache-2.0", "mit"}
	isoCode            = regexp.MustCompile(`^[a-z]{2,3}$`)
)

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// checkCard parses the card's front matter back and checks it against the Hub's dataset card
// metadata fields and against the run directory: every config's data_files glob matches
// exactly that language's files, and dataset_info counts the rows the files hold.
func checkCard(t *testing.T, dir string) FrontMatter {
	t.Helper()
	card := mustRead(t, filepath.Join(dir, CardFile))
	fm, body, err := ParseCard(card)
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := yaml.Unmarshal(bytes.SplitN(card, []byte("\n---\n"), 2)[0][4:], &generic); err != nil {
		t.Fatalf("front matter is not YAML: %v", err)
	}
	for k := range generic {
		if !contains([]string{"pretty_name", "language", "license", "multilinguality", "size_categories", "task_categories", "task_ids", "tags", "configs", "dataset_info"}, k) {
			t.Errorf("front matter key %q is not a dataset card metadata field", k)
		}
	}
	if fm.PrettyName == "" || !strings.HasPrefix(body, "\n# "+fm.PrettyName+"\n") {
		t.Errorf("pretty_name %q and title of body %q", fm.PrettyName, body[:min(len(body), 80)])
	}
	if !contains(hubLicenses, fm.License) {
		t.Errorf("license %q", fm.License)
	}
	for _, field := range []struct {
		name        string
		got, values []string
	}{
		{"size_categories", fm.SizeCategories, hubSizeCategories},
		{"multilinguality", fm.Multilinguality, hubMultilinguality},
		{"task_categories", fm.TaskCategories, hubTaskCategories},
		{"task_ids", fm.TaskIDs, hubTaskIDs},
	} {
		for _, v := range field.got {
			if !contains(field.values, v) {
				t.Errorf("%s: %q is not a Hub value", field.name, v)
			}
		}
	}
	// Languages: one code per language with kept documents, ISO 639-1 where one exists.
	var st pipeline.Stats
	if err := json.Unmarshal(mustRead(t, filepath.Join(dir, StatsFile)), &st); err != nil {
		t.Fatal(err)
	}
	wantCodes := map[string]bool{}
	var kept int64
	for label, ls := range st.Langs {
		kept += ls.Docs
		if ls.Docs == 0 || undetermined(label) {
			continue
		}
		l, ok := lang.Lookup(label)
		if !ok {
			t.Fatalf("label %s not in the language table", label)
		}
		code := l.ISO1
		if code == "" {
			code = l.Code
		}
		wantCodes[code] = true
	}
	if len(fm.Language) != len(wantCodes) {
		t.Errorf("language %v, want the codes %v", fm.Language, wantCodes)
	}
	for _, c := range fm.Language {
		if !isoCode.MatchString(c) || !wantCodes[c] {
			t.Errorf("language code %q", c)
		}
	}
	if fm.SizeCategories[0] != SizeCategory(kept) {
		t.Errorf("size_categories %v for %d documents", fm.SizeCategories, kept)
	}
	// Configs: data_files globs match exactly the files of the language; dataset_info
	// counts their rows with an independent Parquet reader.
	all, _ := filepath.Glob(filepath.Join(dir, "data", "*", "*"))
	for i := range all {
		all[i], _ = filepath.Rel(dir, all[i])
		all[i] = filepath.ToSlash(all[i])
	}
	info := map[string]DatasetInfo{}
	for _, di := range fm.DatasetInfo {
		info[di.ConfigName] = di
	}
	defaults := 0
	seen := map[string]bool{}
	for _, c := range fm.Configs {
		if c.Default {
			defaults++
		}
		if len(c.DataFiles) != 1 || c.DataFiles[0].Split != "train" {
			t.Fatalf("config %s: data_files %+v", c.ConfigName, c.DataFiles)
		}
		var matched []string
		for _, f := range all {
			if ok, _ := path.Match(c.DataFiles[0].Path, f); ok {
				matched = append(matched, f)
			}
		}
		var want []string
		for _, f := range all {
			if c.ConfigName == allConfig || strings.HasPrefix(f, "data/"+c.ConfigName+"/") {
				want = append(want, f)
			}
		}
		if len(want) == 0 || strings.Join(matched, ",") != strings.Join(want, ",") {
			t.Errorf("config %s: %s matches %v, want %v", c.ConfigName, c.DataFiles[0].Path, matched, want)
		}
		seen[c.ConfigName] = true
		if strings.HasSuffix(c.DataFiles[0].Path, ".parquet") {
			var rows int64
			for _, f := range want {
				rows += int64(len(parquetColumn(t, filepath.Join(dir, f), "id")))
			}
			di, ok := info[c.ConfigName]
			if !ok || len(di.Splits) != 1 || di.Splits[0].NumExamples != rows || len(di.Features) != 7 {
				t.Errorf("config %s: dataset_info %+v, want %d rows", c.ConfigName, di, rows)
			}
		}
	}
	for label, ls := range st.Langs {
		if ls.Docs > 0 && !seen[label] {
			t.Errorf("no config for %s", label)
		}
	}
	if defaults != 1 {
		t.Errorf("%d default configs", defaults)
	}
	return fm
}

// TestCardGolden runs the test pipeline with 1 and 3 workers, checks that the two reports
// are byte-identical, compares the card with the golden file and checks its front matter.
func TestCardGolden(t *testing.T) {
	var dirs []string
	for _, w := range []int{1, 3} {
		dir := filepath.Join(t.TempDir(), "corpus")
		runPipeline(t, testPipeline, dir, w)
		res, err := BuildWith(context.Background(), dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Problems) > 0 {
			t.Errorf("problems: %q", res.Problems)
		}
		dirs = append(dirs, dir)
	}
	files := reportFiles(t, dirs[0])
	if len(files) != 2+7 {
		t.Errorf("report files %v", files)
	}
	for _, f := range files {
		if !bytes.Equal(mustRead(t, filepath.Join(dirs[0], f)), mustRead(t, filepath.Join(dirs[1], f))) {
			t.Errorf("%s differs between 1 and 3 workers", f)
		}
	}
	golden(t, "card.md", maskCard(t, mustRead(t, filepath.Join(dirs[0], CardFile))))
	golden(t, "audit_yor_Latn.md", mustRead(t, filepath.Join(dirs[0], AuditDir, "yor_Latn.md")))
	fm := checkCard(t, dirs[0])
	if fm.License != "cc-by-4.0" || fm.PrettyName != "sieve report test corpus" || fm.Configs[0].ConfigName != allConfig {
		t.Errorf("front matter %+v", fm)
	}
	// A second build gives the same bytes.
	if err := Build(dirs[0]); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !bytes.Equal(mustRead(t, filepath.Join(dirs[0], f)), mustRead(t, filepath.Join(dirs[1], f))) {
			t.Errorf("%s changed when rebuilt", f)
		}
	}
}

// maskCard replaces the parts of a card that change whenever any stage or output setting
// gains a parameter (the resolved parameters and the hash of the resolved configuration),
// after checking them, so the golden file follows the report rather than the config structs.
func maskCard(t *testing.T, card []byte) []byte {
	t.Helper()
	s := string(card)
	start := strings.Index(s, "Stages, in order")
	end := strings.Index(s, "## Removal funnel")
	proc := s[start:end]
	for _, want := range []string{"2. `length`: ", "`min_chars: 30`", "`min_words: 3`", "3. `langid`: `min_score: 0.5`", "4. `exact_dedup`: ", "`row_group_size: 4`", "`format: \"parquet\"`", "Rejected documents: `rejects.jsonl`"} {
		if !strings.Contains(proc, want) {
			t.Errorf("processing section lacks %s:\n%s", want, proc)
		}
	}
	s = s[:start] + "(stages and output settings: checked by maskCard)\n\n" + s[end:]
	hash := regexp.MustCompile("configuration SHA-256: `[0-9a-f]{64}`")
	if !hash.MatchString(s) {
		t.Error("no configuration hash")
	}
	return []byte(hash.ReplaceAllString(s, "configuration SHA-256: `(masked)`"))
}

// reportFiles lists the files a report wrote, relative to dir.
func reportFiles(t *testing.T, dir string) []string {
	t.Helper()
	out := []string{CardFile, HTMLFile}
	audits, _ := filepath.Glob(filepath.Join(dir, AuditDir, "*.md"))
	for _, a := range audits {
		out = append(out, AuditDir+"/"+filepath.Base(a))
	}
	return out
}

// TestStatsMergeShards runs the test corpus whole and as three shards, merges the shards'
// stats.json and compares them with the whole run's (and with a golden file). Exact dedup is
// left out: duplicates across shards are only found when the shards share an index.
func TestStatsMergeShards(t *testing.T) {
	lines := strings.SplitAfter(string(mustRead(t, filepath.Join("testdata", "corpus.jsonl"))), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	tmp := t.TempDir()
	pipe := func(input string) string {
		return "inputs:\n  - path: " + input + "\nstages:\n  - length: {min_chars: 30, min_words: 3}\n  - langid: {min_score: 0.5}\noutput: {format: parquet}\nrejects: {enabled: true}\n"
	}
	whole := runPipeline(t, pipe(filepath.Join("..", "testdata", "corpus.jsonl")), filepath.Join(tmp, "whole"), 2)
	var merged pipeline.Stats
	for i, bounds := range [][2]int{{0, 11}, {11, 22}, {22, len(lines)}} {
		shard := filepath.Join(tmp, "shard"+string(rune('0'+i))+".jsonl")
		if err := os.WriteFile(shard, []byte(strings.Join(lines[bounds[0]:bounds[1]], "")), 0o644); err != nil {
			t.Fatal(err)
		}
		abs, _ := filepath.Abs(shard)
		st := runPipeline(t, pipe(abs), filepath.Join(tmp, "run"+string(rune('0'+i))), 2)
		// Through stats.json, as merging tools see it.
		var fromFile pipeline.Stats
		if err := json.Unmarshal(mustRead(t, filepath.Join(tmp, "run"+string(rune('0'+i)), StatsFile)), &fromFile); err != nil {
			t.Fatal(err)
		}
		if fromFile.Read != st.Read {
			t.Fatalf("shard %d: stats.json read %d, run %d", i, fromFile.Read, st.Read)
		}
		merged.Merge(&fromFile)
	}
	merged.Version = pipeline.StatsVersion
	if !merged.Balanced || merged.Read != int64(len(lines)) {
		t.Errorf("merged: balanced %v, read %d of %d lines", merged.Balanced, merged.Read, len(lines))
	}
	norm := func(s *pipeline.Stats) []byte {
		c := *s
		c.Seconds = 0
		b, _ := json.MarshalIndent(&c, "", "  ")
		return append(b, '\n')
	}
	if got, want := norm(&merged), norm(whole); !bytes.Equal(got, want) {
		t.Errorf("merged shards differ from the whole run:\n%s", firstDiff(string(want), string(got)))
	}
	golden(t, "merged_stats.json", norm(&merged))
}

// TestVerdictsKept ticks boxes in the audit files and checks that a rebuild keeps them,
// counts them, and reports and keeps aside those it cannot use.
func TestVerdictsKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	runPipeline(t, testPipeline, dir, 2)
	if err := Build(dir); err != nil {
		t.Fatal(err)
	}
	yor := filepath.Join(dir, AuditDir, "yor_Latn.md")
	text := string(mustRead(t, yor))
	ids := regexp.MustCompile(`"kind":"kept","id":"([^"]+)"`).FindAllStringSubmatch(text, -1)
	if len(ids) != 4 {
		t.Fatalf("%d kept samples in yor_Latn.md", len(ids))
	}
	text = tick(t, text, ids[0][1], VerdictOK)
	text = tick(t, text, ids[1][1], VerdictWrongLanguage)
	text = tick(t, text, ids[2][1], VerdictOK)
	text = tick(t, text, ids[2][1], VerdictPoorQuality) // conflicting: not counted
	// A verdict for a sample that is not drawn any more.
	text += "\n<!-- sieve:sample {\"kind\":\"kept\",\"id\":\"gone\",\"origin\":\"x\"} -->\n- [x] ok\n"
	if err := os.WriteFile(yor, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := BuildWith(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var s AuditSummary
	for _, a := range res.Audit {
		if a.Label == "yor_Latn" {
			s = a
		}
	}
	if s.KeptReviewed != 2 || s.OK != 1 || s.WrongLanguage != 1 {
		t.Errorf("summary %+v", s)
	}
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "2 boxes ticked") {
		t.Errorf("problems %q", res.Problems)
	}
	// The conflicting ticks and the verdict for the sample no longer drawn are kept aside.
	if res.Carried != 2 || res.SetAside != 2 {
		t.Errorf("carried %d, set aside %d; want 2 and 2", res.Carried, res.SetAside)
	}
	aside := string(mustRead(t, filepath.Join(dir, PreviousDir, "yor_Latn.md")))
	if !strings.Contains(aside, `"id":"gone"`) || !strings.Contains(aside, `"id":"`+ids[2][1]+`"`) || strings.Count(aside, "- [x]") != 3 {
		t.Errorf("previous file does not keep the two verdicts:\n%s", aside)
	}
	rebuilt := string(mustRead(t, yor))
	// code1's text holds a ticked box and a sample marker of its own, inside its fence.
	if !strings.Contains(rebuilt, `"id":"code1"`) {
		t.Fatal("code1 is not among the samples: choose a seed that draws it")
	}
	if strings.Count(rebuilt, "- [x] ok: the text is in Yoruba") != 1 || strings.Count(rebuilt, "- [x] wrong_language:") != 1 ||
		strings.Count(rebuilt, "- [x] poor_quality:") != 0 || strings.Contains(rebuilt, `"id":"gone"`) {
		t.Errorf("rebuilt audit file does not keep the two verdicts:\n%s", rebuilt)
	}
	card := string(mustRead(t, filepath.Join(dir, CardFile)))
	if !strings.Contains(card, "| `yor_Latn` | [yor_Latn.md](audit/yor_Latn.md) | 2/4 | 1 | 1 | 0 |") {
		t.Errorf("card audit table does not count the verdicts:\n%s", card[strings.Index(card, "## Audit"):strings.Index(card, "## Known")])
	}
}

// TestBuildMismatch checks that a report refuses a run directory whose files disagree with
// stats.json, naming the language, and writes nothing.
func TestBuildMismatch(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	runPipeline(t, testPipeline, dir, 2)
	statsPath := filepath.Join(dir, StatsFile)
	var st pipeline.Stats
	if err := json.Unmarshal(mustRead(t, statsPath), &st); err != nil {
		t.Fatal(err)
	}
	ls := st.Langs["hau_Latn"]
	ls.Docs++
	st.Langs["hau_Latn"] = ls
	ls = st.Langs["yor_Latn"]
	ls.Rejected["exact_dedup"]["exact_dedup.duplicate"]++
	st.Langs["yor_Latn"] = ls
	if err := pipeline.WriteJSONFile(statsPath, &st); err != nil {
		t.Fatal(err)
	}
	err := Build(dir)
	if err == nil {
		t.Fatal("Build accepted stats that disagree with the files")
	}
	for _, want := range []string{"data/hau_Latn holds 5 documents, stats.json counts 6 kept", "rejects.jsonl holds 1 documents labelled yor_Latn, stats.json counts 2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, CardFile)); !os.IsNotExist(err) {
		t.Errorf("card written despite the mismatch: %v", err)
	}
}

// TestFormatsDrawSameSamples runs the pipeline with JSONL output and Parquet rejects, and
// checks the report draws the same samples as from Parquet output and JSONL rejects.
func TestFormatsDrawSameSamples(t *testing.T) {
	a := filepath.Join(t.TempDir(), "corpus")
	b := filepath.Join(t.TempDir(), "corpus")
	runPipeline(t, testPipeline, a, 2)
	alt := strings.Replace(testPipeline, "output: {format: parquet, row_group_size: 4}\nrejects: {enabled: true, format: jsonl}",
		"output: {format: jsonl, compression: zstd}\nrejects: {enabled: true, format: parquet, compression: zstd}", 1)
	if alt == testPipeline {
		t.Fatal("pipeline not changed")
	}
	runPipeline(t, alt, b, 2)
	for _, dir := range []string{a, b} {
		if err := Build(dir); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range reportFiles(t, a)[2:] {
		if !bytes.Equal(mustRead(t, filepath.Join(a, f)), mustRead(t, filepath.Join(b, f))) {
			t.Errorf("%s differs between Parquet and JSONL outputs", f)
		}
	}
	fm := checkCard(t, b)
	if fm.Configs[1].DataFiles[0].Path != "data/amh_Ethi/train-*.jsonl.zst" || len(fm.DatasetInfo) != 0 {
		t.Errorf("JSONL configs %+v, dataset_info %+v", fm.Configs[1], fm.DatasetInfo)
	}
}

// TestHTMLInChromium opens the report of the test corpus in headless Chromium through
// .ci/report_check.sh (screenshot, no console output, every chart laid out). It is skipped
// when Chromium is not installed.
func TestHTMLInChromium(t *testing.T) {
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("no Chromium at %s (Debian package chromium)", chromium)
	}
	if testing.Short() {
		t.Skip("starts a browser")
	}
	dir := filepath.Join(t.TempDir(), "corpus")
	runPipeline(t, testPipeline, dir, 2)
	if err := Build(dir); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.TempDir(), "report.png")
	out, err := exec.Command("bash", filepath.Join("..", ".ci", "report_check.sh"), dir, shot).CombinedOutput()
	if err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if !strings.Contains(string(out), "rendered 4/4 charts") {
		t.Errorf("report_check.sh: %s", out)
	}
}

func TestTopLevelString(t *testing.T) {
	tests := []struct {
		give   string
		want   string
		wantOK bool
	}{
		{`{"id":"a","lang":"yor_Latn","text":"x"}`, "yor_Latn", true},
		{`{"id":"a","detail":"said ,\"lang\":\"fake\"","lang":"hau_Latn"}`, "hau_Latn", true},
		{`{"id":"a","lang":"","text":"x"}`, "", true},
		{`{"id":"a","lang":"q\"x\\","text":"y"}`, "q\"x\\", true},
		{`{"lang":"first"}`, "", false},
		{`{"id":"a","lang":null}`, "", false},
		{`{"id":"a","lang":"unterminated`, "", false},
	}
	for _, tt := range tests {
		got, ok := topLevelString([]byte(tt.give), "lang")
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("topLevelString(%s) = %q, %v; want %q, %v", tt.give, got, ok, tt.want, tt.wantOK)
		}
	}
}

// FuzzTopLevelString checks the fast path against encoding/json on flat objects.
func FuzzTopLevelString(f *testing.F) {
	f.Add("yor_Latn", "said ,\"lang\":\"x\"")
	f.Add("a\\\"b", "")
	f.Fuzz(func(t *testing.T, label, detail string) {
		line, _ := json.Marshal(struct {
			ID     string `json:"id"`
			Detail string `json:"detail"`
			Lang   string `json:"lang"`
			Text   string `json:"text"`
		}{"x", detail, label, detail})
		var rec struct{ Lang string }
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatal(err)
		}
		got, ok := topLevelString(line, "lang")
		if !ok || got != rec.Lang {
			t.Fatalf("%s: got %q, %v; encoding/json %q", line, got, ok, rec.Lang)
		}
	})
}

// TestNothingKeptNoRejects builds the report of a run that kept nothing and wrote no
// rejects file, with audit samples off.
func TestNothingKeptNoRejects(t *testing.T) {
	in := filepath.Join(t.TempDir(), "broken.jsonl")
	if err := os.WriteFile(in, []byte("{\"id\": 1, \"text\": \"\"}\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "empty")
	runPipeline(t, "inputs: ["+in+"]\nstages:\n  - length: {}\nrejects: {enabled: false}\ncoverage:\n  targets: {yor_Latn: {min_docs: 1}}\n  audit_samples: 0\n", dir, 1)
	res, err := BuildWith(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Audit) != 0 || len(res.Files) != 2 {
		t.Errorf("files %v, audit %v", res.Files, res.Audit)
	}
	fm, body, err := ParseCard(mustRead(t, filepath.Join(dir, CardFile)))
	if err != nil {
		t.Fatal(err)
	}
	if len(fm.Configs) != 0 || len(fm.Language) != 0 || fm.SizeCategories[0] != "n<1K" {
		t.Errorf("front matter %+v", fm)
	}
	for _, want := range []string{"0 documents", "| Yoruba | `yor_Latn` | yo | 0 |", "Targeted but absent: `yor_Latn`.", "counted in `stats.json`, not written", "| `und` | 2 | 2 | 0 | 0 | 0% |"} {
		if !strings.Contains(body, want) {
			t.Errorf("card lacks %q:\n%s", want, body)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, AuditDir)); !os.IsNotExist(err) {
		t.Errorf("audit directory written with audit_samples 0: %v", err)
	}
}
