package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// UsedFile is a file a stage reads besides the inputs (see FileUser).
type UsedFile struct {
	Stage  string `json:"stage"`
	Path   string `json:"path"` // resolved against the config file's directory
	Size   int64  `json:"size"`
	MTime  int64  `json:"mtime,omitempty"` // in run plans only: unix nanoseconds
	SHA256 string `json:"sha256,omitempty"`
}

// ListUsedFiles lists the files the stages of cfg read besides the inputs (and the coverage
// tokenizer, first), in stage order
// and, within a stage, sorted and without repeats: each FileUser path resolved against
// cfg.BaseDir, a directory expanded to every regular file below it (and link to one) but
// hidden ones, a glob to its matches.
// Size and MTime are set; SHA256 is not (HashUsedFiles). A path that matches nothing is an
// error naming the stage: the stage would fail on it too.
func ListUsedFiles(cfg *Config) ([]UsedFile, error) {
	var out []UsedFile
	if t := cfg.Coverage.Tokenizer; t != "" {
		p := resolvePath(cfg.BaseDir, t)
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("coverage.tokenizer: %w", err)
		}
		out = append(out, UsedFile{Stage: "coverage.tokenizer", Path: p, Size: fi.Size(), MTime: fi.ModTime().UnixNano()})
	}
	for _, sc := range cfg.Stages {
		fu, ok := sc.Config.(FileUser)
		if !ok {
			continue
		}
		var paths []string
		for _, p := range fu.UsedFiles() {
			if p == "" {
				continue
			}
			got, err := expandUsed(resolvePath(cfg.BaseDir, p))
			if err != nil {
				return nil, fmt.Errorf("stage %s: %w", sc.Name, err)
			}
			paths = append(paths, got...)
		}
		slices.Sort(paths)
		for _, p := range slices.Compact(paths) {
			fi, err := os.Stat(p)
			if err != nil {
				return nil, fmt.Errorf("stage %s: %w", sc.Name, err)
			}
			out = append(out, UsedFile{Stage: sc.Name, Path: p, Size: fi.Size(), MTime: fi.ModTime().UnixNano()})
		}
	}
	return out, nil
}

// GlobUsedFiles expands a glob pattern of a stage's files (see FileUser). The formats
// package sets it to the expansion of input paths, in which "**" matches any number of
// directories, so that the files listed are those the stage reads.
var GlobUsedFiles = filepath.Glob

// expandUsed turns a path, directory or glob into regular files.
func expandUsed(p string) ([]string, error) {
	fi, err := os.Stat(p)
	switch {
	case err == nil && fi.IsDir():
		var files []string
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				// Hidden, as .git: the stages reading directories skip them (formats'
				// input walk, toxicity's lists).
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				files = append(files, path)
			} else if d.Type()&fs.ModeSymlink != 0 {
				// A link to a file is read like the file (as formats reads inputs); a link
				// to a directory is not followed.
				if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
					files = append(files, path)
				}
			}
			return nil
		})
		return files, err
	case err == nil:
		return []string{p}, nil
	case strings.ContainsAny(p, "*?["):
		m, gerr := GlobUsedFiles(p)
		if gerr != nil {
			return nil, fmt.Errorf("%s: %w", p, gerr)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("%s: no file matches", p)
		}
		var files []string
		for _, f := range m {
			got, err := expandUsed(f)
			if err != nil {
				return nil, err
			}
			files = append(files, got...)
		}
		return files, nil
	}
	return nil, err
}

// HashUsedFiles sets the SHA256 of each file.
func HashUsedFiles(files []UsedFile) error {
	for i := range files {
		f, err := os.Open(files[i].Path)
		if err != nil {
			return fmt.Errorf("stage %s: %w", files[i].Stage, err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("stage %s: %s: %w", files[i].Stage, files[i].Path, err)
		}
		files[i].SHA256 = hex.EncodeToString(h.Sum(nil))
	}
	return nil
}
