package formats

import (
	"slices"
	"testing"

	"github.com/sieve-data/sieve/pipeline"
)

type usedPaths []string

func (u *usedPaths) UsedFiles() []string { return *u }

// The files a stage reads, listed for the manifest and the task plan, are those the inputs'
// expansion finds for the same path: "**" matches any number of directories.
func TestUsedFilesExpandLikeInputs(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"bench/a.jsonl", "bench/flores/b.jsonl", "bench/flores/dev/c.jsonl", "bench/d.txt"} {
		writeFile(t, dir, p, []byte(`{"text": "x"}`+"\n"))
	}
	for _, pattern := range []string{"bench/**/*.jsonl", "bench/**", "bench/*/*.jsonl", "bench"} {
		in := pipeline.DefaultInput()
		in.Path = pattern
		want, err := ExpandInputs(&in, dir)
		if err != nil {
			t.Fatal(err)
		}
		u := usedPaths{pattern}
		got, err := pipeline.ListUsedFiles(&pipeline.Config{BaseDir: dir, Stages: []pipeline.StageConfig{{Name: "decontaminate", Config: &u}}})
		if err != nil {
			t.Errorf("%s: %v", pattern, err)
			continue
		}
		var paths []string
		for _, f := range got {
			paths = append(paths, f.Path)
		}
		if !slices.Equal(paths, want) {
			t.Errorf("%s: used files %q, the inputs' expansion %q", pattern, paths, want)
		}
	}
}
