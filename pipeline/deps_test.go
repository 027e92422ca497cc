package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type filesConfig []string

func (f *filesConfig) UsedFiles() []string { return *f }

func TestListUsedFiles(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"m.bin", "lists/a.txt", "lists/sub/b.txt", "refs/x.jsonl", "refs/y.jsonl", "refs/z.txt"} {
		p = filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rel := func(files []UsedFile) string {
		var out []string
		for _, f := range files {
			r, _ := filepath.Rel(dir, f.Path)
			out = append(out, f.Stage+":"+filepath.ToSlash(r))
			if f.Size != int64(len(f.Path)) || f.MTime == 0 || f.SHA256 != "" {
				t.Errorf("%s: size %d mtime %d sha %q", f.Path, f.Size, f.MTime, f.SHA256)
			}
		}
		return strings.Join(out, " ")
	}
	tests := []struct {
		name    string
		paths   []string
		want    string
		wantErr string
	}{
		{"file", []string{"m.bin"}, "s:m.bin", ""},
		{"directory, recursively", []string{"lists"}, "s:lists/a.txt s:lists/sub/b.txt", ""},
		{"glob, sorted, repeats once", []string{"refs/*.jsonl", "refs/x.jsonl", ""}, "s:refs/x.jsonl s:refs/y.jsonl", ""},
		{"missing file", []string{"nope.bin"}, "", "stage s: "},
		{"glob matching nothing", []string{"refs/*.parquet"}, "", "no file matches"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := filesConfig(tt.paths)
			cfg := &Config{BaseDir: dir, Stages: []StageConfig{{Kind: "k", Name: "s", Config: &fc}, {Kind: "length", Name: "length", Config: &struct{}{}}}}
			got, err := ListUsedFiles(cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r := rel(got); r != tt.want {
				t.Errorf("got %s, want %s", r, tt.want)
			}
			if err := HashUsedFiles(got); err != nil || len(got) > 0 && len(got[0].SHA256) != 64 {
				t.Errorf("HashUsedFiles: %v %v", err, got)
			}
		})
	}
}

// TestListUsedFilesLinkedFiles: in a directory, a symbolic link to a file is a file the
// stage reads (Hugging Face's cache holds datasets as links to blobs), as formats' input
// walk reads it; a link to a directory is not followed.
func TestListUsedFilesLinkedFiles(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"blobs/1", "refs/own.jsonl", "other/z.jsonl"} {
		p = filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join("..", "blobs", "1"), filepath.Join(dir, "refs", "test.jsonl")); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	if err := os.Symlink(filepath.Join("..", "other"), filepath.Join(dir, "refs", "more")); err != nil {
		t.Fatal(err)
	}
	got, s := usedUnder(t, dir, dir, "refs")
	for _, f := range got {
		if f.Size != 3 {
			t.Errorf("%s: size %d, want the linked file's 3", f.Path, f.Size)
		}
	}
	if s != "refs/own.jsonl refs/test.jsonl" {
		t.Errorf("got %s, want refs/own.jsonl refs/test.jsonl", s)
	}
}

// TestListUsedFilesHidden: hidden files and directories below a directory are left out, as
// the stages reading directories (formats' input walk for decontaminate, toxicity's lists)
// skip them: a reference set or word lists cloned with git are not listed (nor hashed at
// every start, nor replanned for) with every file of their .git directory.
func TestListUsedFilesHidden(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"refs/a.jsonl", "refs/.git/HEAD", "refs/.git/objects/ab/cd", "refs/.notes.jsonl", "refs/sub/b.jsonl"} {
		p = filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct{ base, path, want string }{
		{dir, "refs", "refs/a.jsonl refs/sub/b.jsonl"},
		{filepath.Join(dir, "refs"), ".", "refs/a.jsonl refs/sub/b.jsonl"},
		{dir, "refs/.git", "refs/.git/HEAD refs/.git/objects/ab/cd"}, // named: every file below it
	} {
		if _, s := usedUnder(t, dir, tt.base, tt.path); s != tt.want {
			t.Errorf("%s: got %s, want %s", tt.path, s, tt.want)
		}
	}
}

// usedUnder lists the files of one stage reading path (relative to base), and their paths
// relative to dir joined by spaces.
func usedUnder(t *testing.T, dir, base, path string) ([]UsedFile, string) {
	t.Helper()
	fc := filesConfig{path}
	got, err := ListUsedFiles(&Config{BaseDir: base, Stages: []StageConfig{{Kind: "k", Name: "s", Config: &fc}}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range got {
		r, _ := filepath.Rel(dir, f.Path)
		names = append(names, filepath.ToSlash(r))
	}
	return got, strings.Join(names, " ")
}
