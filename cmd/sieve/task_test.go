package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// taskWords is the vocabulary of the generated test corpora.
var taskWords = strings.Fields(`amani baraka chai dunia elimu furaha gari habari imani jambo kazi
lugha maji nchi ombi pesa rafiki safari tumaini umoja vitabu watu yai zawadi shule mto mlima
bahari jua mvua upepo nyumba mji kijiji soko barabara daraja mti ua tunda samaki ndege simba
tembo twiga punda kuku mbuzi ng'ombe kondoo mkate wali ugali maharage ndizi embe chungwa nanasi`)

// writeTaskCorpus writes a corpus with planted near-duplicates and broken records over
// three files: an uncompressed JSONL file big enough to be split, a zstd JSONL file and a
// line-mode text file. It returns the config's inputs section.
func writeTaskCorpus(t testing.TB, dir string, docs int, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	doc := func() string {
		n := 30 + rng.IntN(60)
		w := make([]string, n)
		for i := range w {
			w[i] = taskWords[rng.IntN(len(taskWords))]
		}
		return strings.Join(w, " ")
	}
	var originals []string
	text := func(i int) string {
		if len(originals) > 0 && rng.IntN(5) == 0 {
			w := strings.Fields(originals[rng.IntN(len(originals))])
			w[rng.IntN(len(w))] = taskWords[rng.IntN(len(taskWords))]
			return strings.Join(w, " ")
		}
		d := doc()
		originals = append(originals, d)
		return d
	}
	var a, b, c bytes.Buffer
	for i := 0; i < docs; i++ {
		switch {
		case i%97 == 5:
			a.WriteString("{not json\n")
		case i%89 == 3:
			fmt.Fprintf(&a, `{"id":"a%d","text":"short"}`+"\n", i)
		case i%101 == 7:
			a.WriteString("\n")
		default:
			fmt.Fprintf(&a, `{"id":"a%d","text":%q,"n":%d}`+"\n", i, text(i), i)
		}
		if i%3 == 0 {
			fmt.Fprintf(&b, `{"id":"b%d","text":%q}`+"\n", i, text(i))
		}
		if i%4 == 0 {
			c.WriteString(text(i) + "\n")
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "a.jsonl"), a.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var zb bytes.Buffer
	zw, _ := zstd.NewWriter(&zb)
	zw.Write(b.Bytes())
	zw.Close()
	if err := os.WriteFile(filepath.Join(dir, "b.jsonl.zst"), zb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "c.txt"), c.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return "inputs:\n  - a.jsonl\n  - b.jsonl.zst\n  - {path: c.txt, text_mode: line}\n"
}

var clusterName = regexp.MustCompile(`; cluster [^)]*`)

// writeConfig writes a pipeline config into dir.
func writeConfig(t testing.TB, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const taskStages = `stages:
  - length: {min_chars: 40, min_words: 5}
  - minhash_dedup: {MODE}
rejects:
  enabled: true
  format: jsonl
`

// runOutputs reads what must not depend on how a run was split: kept ids in order, the
// rejects file and stats.json without its time and stage reports.
type runOutputs struct {
	kept    []string
	rejects []byte
	stats   string
}

func readRunOutputs(t *testing.T, dir string) runOutputs {
	t.Helper()
	var o runOutputs
	o.kept = keptIDs(t, dir)
	o.rejects, _ = os.ReadFile(filepath.Join(dir, "rejects.jsonl"))
	o.stats = comparableStats(t, dir)
	return o
}

func comparableStats(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "stats.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "seconds")
	for _, s := range m["stages"].([]any) {
		delete(s.(map[string]any), "extra")
	}
	out, _ := json.MarshalIndent(m, "", " ")
	return string(out)
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, stderr := sieve(t, args...)
	if code != 0 {
		t.Fatalf("sieve %s: exit %d\n%s%s", strings.Join(args, " "), code, out, stderr)
	}
	return stderr
}

func mustVerify(t *testing.T, dir string) {
	t.Helper()
	code, out, stderr := sieve(t, "verify", dir)
	if code != 0 {
		t.Fatalf("verify %s: exit %d\n%s%s", dir, code, out, stderr)
	}
}

// Acceptance: a run split into tasks (with the minhash_dedup phases, files split into byte
// ranges) keeps the same documents, rejects the same ones with the same details and counts
// the same stats as the single-process streaming run, with 1 and 3 tasks, and in mode
// sharded in one process.
func TestTaskModeMatchesSingleProcess(t *testing.T) {
	dir := t.TempDir()
	inputs := writeTaskCorpus(t, dir, 3000, 1)
	auto := writeConfig(t, dir, "auto.yaml", inputs+strings.Replace(taskStages, "MODE", "", 1))
	sharded := writeConfig(t, dir, "sharded.yaml", inputs+strings.Replace(taskStages, "MODE", "mode: sharded", 1))

	single := filepath.Join(dir, "single")
	mustRun(t, "run", "-c", auto, "-o", single, "-q")
	mustVerify(t, single)
	want := readRunOutputs(t, single)
	if len(want.kept) < 1000 || !bytes.Contains(want.rejects, []byte("minhash_dedup.near_duplicate")) || !bytes.Contains(want.rejects, []byte("read.invalid_json")) {
		t.Fatalf("corpus too tame: %d kept, rejects %d bytes", len(want.kept), len(want.rejects))
	}
	runs := []struct {
		name   string
		args   []string
		phased bool
	}{
		{"1 task", []string{"-c", auto, "--task-count", "1"}, false},
		{"3 tasks", []string{"-c", auto, "--task-count", "3", "--split-bytes", "64KiB"}, true},
		{"4 tasks 1 worker", []string{"-c", auto, "--task-count", "4", "--split-bytes", "100KiB", "-w", "1"}, true},
		{"sharded 1 process", []string{"-c", sharded}, true},
		{"sharded 3 tasks", []string{"-c", sharded, "--task-count", "3"}, true},
	}
	for _, tt := range runs {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
			mustRun(t, append([]string{"run", "-o", out, "-q"}, tt.args...)...)
			mustVerify(t, out)
			got := readRunOutputs(t, out)
			if !slices.Equal(got.kept, want.kept) {
				t.Errorf("kept %d documents, single process %d (or another order)", len(got.kept), len(want.kept))
			}
			if tt.phased {
				// The sharded phases name a removed document's final cluster (after every
				// merge of clusters); the streaming stage the cluster it joined when it was
				// read. Everything else is the same.
				got.rejects = clusterName.ReplaceAll(got.rejects, nil)
				want := clusterName.ReplaceAll(want.rejects, nil)
				if !bytes.Equal(got.rejects, want) {
					t.Errorf("rejects.jsonl differs from the single-process run's: %s", firstDiff(got.rejects, want))
				}
			} else if !bytes.Equal(got.rejects, want.rejects) {
				t.Errorf("rejects.jsonl differs from the single-process run's: %s", firstDiff(got.rejects, want.rejects))
			}
			if got.stats != want.stats {
				t.Errorf("stats differ:\n%s\nwant\n%s", got.stats, want.stats)
			}
		})
	}
	// The big file was split: its line numbers and fallback ids are those of the whole file.
	p, err := os.ReadFile(filepath.Join(dir, "3_tasks", "tasks", "plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	var plan struct {
		Units []struct{ Start, End int64 }
	}
	json.Unmarshal(p, &plan)
	if len(plan.Units) < 5 {
		t.Errorf("a.jsonl was not split: %d units", len(plan.Units))
	}
}

// Running each task as its own process, in any order within a phase, and merging with
// sieve merge gives the same bytes as running them all in one invocation.
func TestTaskByTask(t *testing.T) {
	dir := t.TempDir()
	inputs := writeTaskCorpus(t, dir, 1500, 2)
	cfg := writeConfig(t, dir, "p.yaml", inputs+strings.Replace(taskStages, "MODE", "", 1))
	all := filepath.Join(dir, "all")
	mustRun(t, "run", "-c", cfg, "-o", all, "--task-count", "3", "--split-bytes", "50KiB", "-q")

	one := filepath.Join(dir, "one")
	code, out, _ := sieve(t, "plan", "-c", cfg, "-o", one, "-n", "3", "--split-bytes", "50KiB", "--json")
	if code != 0 {
		t.Fatal(out)
	}
	var plan struct {
		Phases []struct {
			Name  string
			Tasks int
		}
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ph := range plan.Phases {
		names = append(names, fmt.Sprintf("%s:%d", ph.Name, ph.Tasks))
	}
	if got := strings.Join(names, " "); got != "signatures:3 buckets:3 clusters:1 filter:3 merge:1" {
		t.Fatalf("phases %s", got)
	}
	// A later phase before the first is refused.
	code, _, stderr := sieve(t, "run", "-c", cfg, "-o", one, "--phase", "buckets", "--task-index", "0", "--task-count", "3", "--split-bytes", "50KiB")
	if code != 2 || !strings.Contains(stderr, "signatures") {
		t.Errorf("buckets before signatures: exit %d: %s", code, stderr)
	}
	for _, ph := range plan.Phases[:len(plan.Phases)-1] {
		for t0 := ph.Tasks - 1; t0 >= 0; t0-- {
			mustRun(t, "run", "-c", cfg, "-o", one, "--phase", ph.Name, "--task-index", fmt.Sprint(t0), "--task-count", fmt.Sprint(ph.Tasks), "--split-bytes", "50KiB", "-q")
		}
	}
	// A task count that is not the phase's is refused.
	code, _, stderr = sieve(t, "run", "-c", cfg, "-o", one, "--phase", "clusters", "--task-index", "0", "--task-count", "3")
	if code != 2 || !strings.Contains(stderr, "has 1 tasks") {
		t.Errorf("clusters with 3 tasks: exit %d: %s", code, stderr)
	}
	mustRun(t, "merge", one, "-q")
	mustVerify(t, one)
	a, b := readTree(t, all), readTree(t, one)
	for name, data := range a {
		if strings.HasPrefix(name, "data/") || strings.HasPrefix(name, "rejects") {
			if !bytes.Equal(data, b[name]) {
				t.Errorf("%s differs between one invocation and task by task", name)
			}
		}
	}
	if comparableStats(t, all) != comparableStats(t, one) {
		t.Error("stats differ")
	}
}

// Outputs are byte-identical whatever the number of workers, in one process (streaming
// dedup) and split into tasks (phases).
func TestWorkersByteIdentical(t *testing.T) {
	dir := t.TempDir()
	inputs := writeTaskCorpus(t, dir, 1500, 3)
	cfg := writeConfig(t, dir, "p.yaml", inputs+strings.Replace(taskStages, "MODE", "", 1))
	for _, mode := range [][]string{nil, {"--task-count", "2", "--split-bytes", "64KiB"}} {
		var trees []map[string][]byte
		for _, w := range []string{"1", "2", "8"} {
			out := filepath.Join(t.TempDir(), "w"+w)
			mustRun(t, append([]string{"run", "-c", cfg, "-o", out, "-w", w, "-q"}, mode...)...)
			trees = append(trees, readTree(t, out))
		}
		for name, data := range trees[0] {
			if strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".md") || strings.HasSuffix(name, ".html") {
				continue // times and host names
			}
			for i, w := range []string{"2", "8"} {
				if !bytes.Equal(data, trees[i+1][name]) {
					t.Errorf("%v: %s differs between 1 and %s workers", mode, name, w)
				}
			}
		}
		if len(trees[0]) != len(trees[1]) || len(trees[0]) != len(trees[2]) {
			t.Errorf("%v: %d, %d, %d files", mode, len(trees[0]), len(trees[1]), len(trees[2]))
		}
	}
}

// A rerun skips finished tasks; a change of config or input redoes them instead of mixing
// old and new outputs.
func TestTaskResumeAndInvalidation(t *testing.T) {
	dir := t.TempDir()
	inputs := writeTaskCorpus(t, dir, 1200, 4)
	body := inputs + strings.Replace(taskStages, "MODE", "", 1)
	cfg := writeConfig(t, dir, "p.yaml", body)
	out := filepath.Join(dir, "out")
	args := []string{"run", "-c", cfg, "-o", out, "--task-count", "2", "--split-bytes", "64KiB"}
	mustRun(t, args...)
	before := readRunOutputs(t, out)

	stderr := mustRun(t, args...)
	if !strings.Contains(stderr, "resumed: 7 of 8 tasks had finished") {
		t.Errorf("rerun did not skip the finished tasks:\n%s", stderr)
	}
	if got := readRunOutputs(t, out); !slices.Equal(got.kept, before.kept) || got.stats != before.stats {
		t.Error("rerun changed the outputs")
	}

	// A stricter length filter: every task is redone, and nothing of the old run remains.
	writeConfig(t, dir, "p.yaml", strings.Replace(body, "min_words: 5", "min_words: 50", 1))
	stderr = mustRun(t, args...)
	if strings.Contains(stderr, "resumed") {
		t.Errorf("tasks skipped after a config change:\n%s", stderr)
	}
	mustVerify(t, out)
	changed := readRunOutputs(t, out)
	if len(changed.kept) >= len(before.kept) {
		t.Errorf("min_words 50 kept %d, min_words 5 kept %d", len(changed.kept), len(before.kept))
	}
	single := filepath.Join(dir, "single")
	mustRun(t, "run", "-c", cfg, "-o", single, "-q")
	if want := readRunOutputs(t, single); !slices.Equal(changed.kept, want.kept) || changed.stats != want.stats {
		t.Error("after the config change the run differs from a fresh single-process run")
	}

	// An input file that changes: the run is planned again.
	f, _ := os.OpenFile(filepath.Join(dir, "c.txt"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("zawadi ya mwisho kwa watu wote wa kijiji hiki kizuri sana leo\n")
	f.Close()
	stderr = mustRun(t, args...)
	if !strings.Contains(stderr, "replanning") {
		t.Errorf("no replanning after an input changed:\n%s", stderr)
	}
	mustVerify(t, out)
	var st struct{ Read int64 }
	b, _ := os.ReadFile(filepath.Join(out, "stats.json"))
	json.Unmarshal(b, &st)
	var want struct{ Read int64 }
	b, _ = os.ReadFile(filepath.Join(single, "stats.json"))
	json.Unmarshal(b, &want)
	if st.Read != want.Read+1 {
		t.Errorf("read %d after appending a line, %d before", st.Read, want.Read)
	}
}

// sieve verify finds every kind of tampering, naming the file.
func TestVerifyFindsMismatches(t *testing.T) {
	dir := t.TempDir()
	inputs := writeTaskCorpus(t, dir, 600, 5)
	cfg := writeConfig(t, dir, "p.yaml", inputs+strings.Replace(taskStages, "MODE", "", 1))
	base := filepath.Join(dir, "base")
	mustRun(t, "run", "-c", cfg, "-o", base, "-q", "--task-count", "2")
	tests := []struct {
		name   string
		tamper func(dir string) error
		want   string
	}{
		{"data file changed", func(d string) error {
			fs, _ := filepath.Glob(filepath.Join(d, "data", "*", "*.parquet"))
			f, err := os.OpenFile(fs[0], os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt([]byte("X"), 100)
			return err
		}, "sha256"},
		{"rejects line lost", func(d string) error {
			p := filepath.Join(d, "rejects.jsonl")
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b = b[bytes.IndexByte(b, '\n')+1:]
			return os.WriteFile(p, b, 0o644)
		}, "rejects.jsonl holds"},
		{"stats kept off by one", func(d string) error {
			p := filepath.Join(d, "stats.json")
			var m map[string]any
			b, _ := os.ReadFile(p)
			json.Unmarshal(b, &m)
			m["kept"] = m["kept"].(float64) + 1
			b, _ = json.Marshal(m)
			return os.WriteFile(p, b, 0o644)
		}, "read"},
		{"stray dataset file", func(d string) error {
			fs, _ := filepath.Glob(filepath.Join(d, "data", "*", "*.parquet"))
			return os.WriteFile(filepath.Join(filepath.Dir(fs[0]), "train-00009-of-00010.parquet"), []byte("x"), 0o644)
		}, "not listed in manifest.json"},
		{"temporary file left", func(d string) error {
			fs, _ := filepath.Glob(filepath.Join(d, "data", "*", "*.parquet"))
			return os.WriteFile(filepath.Join(filepath.Dir(fs[0]), ".tmp-train-1.parquet"), []byte("x"), 0o644)
		}, "temporary file"},
		{"data file missing", func(d string) error {
			fs, _ := filepath.Glob(filepath.Join(d, "data", "*", "*.parquet"))
			return os.Remove(fs[len(fs)-1])
		}, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := filepath.Join(t.TempDir(), "run")
			copyTree(t, base, d)
			if err := tt.tamper(d); err != nil {
				t.Fatal(err)
			}
			code, out, stderr := sieve(t, "verify", d)
			if code != 1 || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, output %q %q; want exit 1 naming %q", code, out, stderr, tt.want)
			}
		})
	}
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A stage that needs every document in read order and has no sharded mode refuses to be
// split into tasks; mode: streaming refuses too.
func TestTaskModeRefusals(t *testing.T) {
	dir := t.TempDir()
	inputs := writeTaskCorpus(t, dir, 100, 6)
	streaming := writeConfig(t, dir, "s.yaml", inputs+strings.Replace(taskStages, "MODE", "mode: streaming", 1))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"streaming minhash in 2 tasks", []string{"run", "-c", streaming, "-o", filepath.Join(dir, "o1"), "--task-count", "2"}, "mode: streaming"},
		{"index without count", []string{"run", "-c", streaming, "-o", filepath.Join(dir, "o2"), "--task-index", "1"}, "--task-index needs --task-count"},
		{"index out of range", []string{"run", "-c", streaming, "-o", filepath.Join(dir, "o3"), "--task-index", "3", "--task-count", "3"}, "out of range"},
		{"unknown phase", []string{"run", "-c", streaming, "-o", filepath.Join(dir, "o4"), "--phase", "nope", "--task-index", "0", "--task-count", "1"}, `no phase "nope"`},
		{"merge before tasks", []string{"merge", filepath.Join(dir, "o5")}, "no task-mode run"},
		{"bad split size", []string{"run", "-c", streaming, "-o", filepath.Join(dir, "o6"), "--task-count", "2", "--split-bytes", "lots"}, "--split-bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := sieve(t, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 with %q", code, stderr, tt.want)
			}
		})
	}
}

// SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT and JOB_COMPLETION_INDEX stand for the
// task flags.
func TestTaskFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	inputs := writeTaskCorpus(t, dir, 300, 8)
	cfg := writeConfig(t, dir, "p.yaml", inputs+"stages:\n  - length: {min_chars: 40}\n")
	out := filepath.Join(dir, "out")
	for i := 1; i <= 2; i++ { // a --array=1-2 job
		t.Setenv("SLURM_ARRAY_TASK_ID", fmt.Sprint(i))
		t.Setenv("SLURM_ARRAY_TASK_MIN", "1")
		t.Setenv("SLURM_ARRAY_TASK_COUNT", "2")
		mustRun(t, "run", "-c", cfg, "-o", out, "-q")
	}
	os.Unsetenv("SLURM_ARRAY_TASK_ID")
	var done []string
	ents, _ := os.ReadDir(filepath.Join(out, "tasks", "process"))
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".done.json") {
			done = append(done, e.Name())
		}
	}
	sort.Strings(done)
	if strings.Join(done, " ") != "00000-of-00002.done.json 00001-of-00002.done.json" {
		t.Fatalf("markers %v", done)
	}
	t.Setenv("JOB_COMPLETION_INDEX", "0")
	code, _, stderr := sieve(t, "run", "-c", cfg, "-o", out, "-q")
	if code != 2 || !strings.Contains(stderr, "--task-count") {
		t.Errorf("JOB_COMPLETION_INDEX without --task-count: exit %d %s", code, stderr)
	}
	mustRun(t, "run", "-c", cfg, "-o", out, "-q", "--task-count", "2") // task 0 again: skipped
	os.Unsetenv("JOB_COMPLETION_INDEX")
	mustRun(t, "run", "-c", cfg, "-o", out, "-q", "--phase", "merge")
	mustVerify(t, out)
}

// firstDiff shows the first line that differs between two files.
func firstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < min(len(la), len(lb)); i++ {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n  got  %.300s\n  want %.300s", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(la), len(lb))
}

// exact_dedup in task mode (hashes, groups, filter) removes the documents the streaming
// stage removes, naming the same first document, alone and next to minhash_dedup.
func TestTaskModeExactDedup(t *testing.T) {
	dir := t.TempDir()
	inputs := writeTaskCorpus(t, dir, 2000, 12)
	// Exact copies: the text file repeats lines of the JSONL file.
	a, _ := os.ReadFile(filepath.Join(dir, "a.jsonl"))
	var copies strings.Builder
	for i, line := range strings.Split(string(a), "\n") {
		var d struct{ Text string }
		if i%7 == 0 && json.Unmarshal([]byte(line), &d) == nil && d.Text != "" {
			copies.WriteString(strings.ToUpper(d.Text) + "\n")
		}
	}
	f, _ := os.OpenFile(filepath.Join(dir, "c.txt"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(copies.String())
	f.Close()
	for _, stages := range []string{
		"stages:\n  - exact_dedup: {normalize: whitespace_case, scope: per_language, MODE}\nrejects: {enabled: true}\n",
		"stages:\n  - length: {min_words: 5}\n  - exact_dedup: {MODE}\n  - minhash_dedup: {}\nrejects: {enabled: true}\n",
	} {
		auto := writeConfig(t, dir, "auto.yaml", inputs+strings.Replace(stages, ", MODE", "", 1))
		auto = writeConfig(t, dir, "auto.yaml", strings.Replace(mustRead(t, auto), "{MODE}", "{}", 1))
		sharded := writeConfig(t, dir, "sharded.yaml", inputs+strings.NewReplacer("{MODE}", "{mode: sharded}", "MODE", "mode: sharded").Replace(stages))
		single := filepath.Join(t.TempDir(), "single")
		mustRun(t, "run", "-c", auto, "-o", single, "-q")
		want := readRunOutputs(t, single)
		if !bytes.Contains(want.rejects, []byte("exact_dedup.duplicate")) {
			t.Fatal("no exact duplicates in the corpus")
		}
		for _, args := range [][]string{{"-c", auto, "--task-count", "3", "--split-bytes", "64KiB"}, {"-c", sharded}} {
			out := filepath.Join(t.TempDir(), "out")
			mustRun(t, append([]string{"run", "-o", out, "-q"}, args...)...)
			mustVerify(t, out)
			got := readRunOutputs(t, out)
			gr, wr := clusterName.ReplaceAll(got.rejects, nil), clusterName.ReplaceAll(want.rejects, nil)
			if !slices.Equal(got.kept, want.kept) || !bytes.Equal(gr, wr) || got.stats != want.stats {
				t.Errorf("%v: differs from the single-process run: kept %d/%d; %s", args, len(got.kept), len(want.kept), firstDiff(gr, wr))
			}
		}
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The quickstart pipeline (langid, exact and MinHash dedup, PII) split into 3 tasks gives
// the single-process result.
func TestTaskModeQuickstart(t *testing.T) {
	dir := t.TempDir()
	single, tasks := filepath.Join(dir, "single"), filepath.Join(dir, "tasks")
	mustRun(t, "run", "-c", "../../configs/quickstart.yaml", "-o", single, "-q")
	mustRun(t, "run", "-c", "../../configs/quickstart.yaml", "-o", tasks, "-q", "--task-count", "3", "--split-bytes", "8KiB")
	mustVerify(t, tasks)
	want, got := readRunOutputs(t, single), readRunOutputs(t, tasks)
	gr, wr := clusterName.ReplaceAll(got.rejects, nil), clusterName.ReplaceAll(want.rejects, nil)
	if !slices.Equal(got.kept, want.kept) || !bytes.Equal(gr, wr) || got.stats != want.stats {
		t.Errorf("quickstart in 3 tasks differs: kept %d/%d; %s", len(got.kept), len(want.kept), firstDiff(gr, wr))
	}
	// The stages' own figures: counts add up to the single run's, static ones are kept, a
	// dedup index's are left out.
	extras := func(dir string) map[string]map[string]any {
		var st struct {
			Stages []struct {
				Name  string
				Extra map[string]any
			}
		}
		b, err := os.ReadFile(filepath.Join(dir, "stats.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		out := map[string]map[string]any{}
		for _, s := range st.Stages {
			delete(s.Extra, "load_seconds")
			out[s.Name] = s.Extra
		}
		return out
	}
	we, ge := extras(single), extras(tasks)
	for _, name := range []string{"langid", "pii"} {
		if len(we[name]) == 0 || !reflect.DeepEqual(ge[name], we[name]) {
			t.Errorf("%s figures in 3 tasks %v, single run %v", name, ge[name], we[name])
		}
	}
	for _, name := range []string{"exact_dedup", "minhash_dedup"} {
		if len(ge[name]) != 0 {
			t.Errorf("%s: per-task index figures merged: %v", name, ge[name])
		}
	}
}
