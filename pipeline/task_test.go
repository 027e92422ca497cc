package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Units go to tasks in order, each task a contiguous run, balanced by bytes.
func TestAssignUnits(t *testing.T) {
	tests := []struct {
		name  string
		sizes []int64 // -1: a whole file of unknown size
		n     int
	}{
		{"one unit", []int64{100}, 1},
		{"more tasks than units", []int64{100, 100}, 5},
		{"equal units", []int64{10, 10, 10, 10, 10, 10, 10, 10}, 4},
		{"one big unit", []int64{1, 1, 1000, 1, 1}, 3},
		{"uneven", []int64{5, 80, 3, 3, 40, 40, 1, 90, 12}, 4},
		{"no bytes", []int64{0, 0, 0}, 2},
		{"unknown sizes", []int64{-1, -1, -1, -1}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var files []InputFileInfo
			var units []InputUnit
			var total, biggest int64
			for i, s := range tt.sizes {
				files = append(files, InputFileInfo{Path: string(rune('a' + i)), Size: s})
				units = append(units, InputUnit{File: i, End: -1})
				total += max(s, 0)
				biggest = max(biggest, s)
			}
			b := assignUnits(files, units, tt.n)
			if len(b) != tt.n+1 || b[0] != 0 || b[tt.n] != len(units) {
				t.Fatalf("bounds %v", b)
			}
			for i := 1; i < len(b); i++ {
				if b[i] < b[i-1] {
					t.Fatalf("bounds not increasing: %v", b)
				}
			}
			p := &RunPlan{Files: files, Units: units, TaskUnits: b, Tasks: tt.n}
			for task := 0; task < tt.n; task++ {
				if got := p.TaskBytes(task); got > total/int64(tt.n)+biggest {
					t.Errorf("task %d reads %d bytes of %d (bounds %v)", task, got, total, b)
				}
			}
		})
	}
}

func TestUnitTarget(t *testing.T) {
	files := []InputFileInfo{{Size: 10 << 30}, {Size: 6 << 30}}
	tests := []struct {
		n     int
		split int64
		want  int64
	}{
		{1, 0, 0},                   // one task: no split
		{1, 1 << 20, 1 << 20},       // asked for
		{4, 0, 1 << 30},             // 16 GiB / (4*4)
		{1000, 0, DefaultUnitBytes}, // never below the floor
		{8, 100 << 20, 100 << 20},   // asked for wins
	}
	for _, tt := range tests {
		if got := unitTarget(files, tt.n, tt.split); got != tt.want {
			t.Errorf("unitTarget(n=%d, split=%d) = %d, want %d", tt.n, tt.split, got, tt.want)
		}
	}
}

// A run directory is reused only when sieve made it; what a killed run leaves counts. A
// rerun clears everything but the audit files, whose verdicts its report carries over.
func TestCheckRunDir(t *testing.T) {
	tests := []struct {
		name  string
		files []string // relative paths; a trailing / makes a directory
		ok    bool
	}{
		{"missing", nil, true},
		{"empty", []string{""}, true},
		{"finished run", []string{"manifest.json", "data/und/train-00000-of-00001.parquet", "stats.json", "README.md"}, true},
		{"task run", []string{"tasks/plan.json", "tasks/process/00000-of-00002/stats.json", "notes.txt"}, true},
		{"killed single run", []string{"data/yor_Latn/.tmp-train-00000-123-1.parquet", ".tmp-rejects-123-2.jsonl"}, true},
		{"killed after a shard", []string{"data/yor_Latn/train-00000-of-00001.parquet", "data/und/"}, true},
		{"killed task run before its plan", []string{"tasks/", "work/"}, true},
		{"someone's files", []string{"thesis.tex"}, false},
		{"someone's data dir", []string{"data/raw.jsonl"}, false},
		{"someone's language dir", []string{"data/yor/notes.txt"}, false},
		{"rerun of a reviewed run", []string{"manifest.json", "audit/yor_Latn.md", "audit/previous/und.md", "README.md"}, true},
		{"rerun interrupted: the audit stays", []string{"audit/yor_Latn.md", "audit/.tmp-yor_Latn.md-1", "audit/previous/und.md", "data/und/"}, true},
		{"someone's audit dir", []string{"audit/notes.txt"}, false},
		{"someone's dir in the audit dir", []string{"audit/old/yor_Latn.md"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			for _, f := range tt.files {
				p := filepath.Join(dir, f)
				if f == "" || strings.HasSuffix(f, "/") {
					os.MkdirAll(p, 0o755)
					continue
				}
				os.MkdirAll(filepath.Dir(p), 0o755)
				os.WriteFile(p, []byte("x"), 0o644)
			}
			err := checkRunDir(dir)
			if (err == nil) != tt.ok {
				t.Errorf("checkRunDir: %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && len(tt.files) > 0 && tt.files[0] != "tasks/plan.json" {
				if err := prepareRunDir(dir); err != nil {
					t.Fatal(err)
				}
				ents, _ := os.ReadDir(dir)
				for _, e := range ents {
					if e.Name() == "audit" {
						continue // reviewers' verdicts outlive the run
					}
					t.Errorf("prepareRunDir left %s", e.Name())
				}
				for _, f := range tt.files {
					if strings.HasPrefix(f, "audit/") {
						if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
							t.Errorf("prepareRunDir removed %s: %v", f, err)
						}
					}
				}
			}
		})
	}
}

// A marker proves a task done only for the plan and previous phase it ran under, and only
// while its outputs are there with their sizes.
func TestMarkerProblem(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "tasks", "p", "00000-of-00001", "data.bin")
	os.MkdirAll(filepath.Dir(out), 0o755)
	os.WriteFile(out, []byte("12345"), 0o644)
	good := func() *TaskMarker {
		return &TaskMarker{Version: markerVersion, Phase: "p", Index: 0, Count: 1, PlanSHA256: "plan", DepsSHA256: "deps",
			Outputs: []OutputFile{{Path: "tasks/p/00000-of-00001/data.bin", Size: 5}}}
	}
	tests := []struct {
		name   string
		mod    func(m *TaskMarker)
		want   string
		remove bool
	}{
		{"valid", func(*TaskMarker) {}, "", false},
		{"other plan", func(m *TaskMarker) { m.PlanSHA256 = "old" }, "another plan", false},
		{"previous phase redone", func(m *TaskMarker) { m.DepsSHA256 = "old" }, "previous phase", false},
		{"other task", func(m *TaskMarker) { m.Index = 1 }, "another task", false},
		{"output size", func(m *TaskMarker) { m.Outputs[0].Size = 4 }, "5 bytes", false},
		{"output gone", func(*TaskMarker) {}, "data.bin", true},
	}
	for _, tt := range tests {
		m := good()
		tt.mod(m)
		if tt.remove {
			os.Remove(out)
		}
		got := markerProblem(dir, m, "p", 0, 1, "plan", "deps")
		if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := markerProblem(dir, nil, "p", 0, 1, "plan", "deps"); got != "not finished" {
		t.Errorf("nil marker: %q", got)
	}
}
