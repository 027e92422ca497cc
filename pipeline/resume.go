package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// OutputFile is a file a run or a task wrote, with its checksum.
type OutputFile struct {
	Path   string `json:"path"` // relative to the run directory, '/'-separated
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"` // empty for work files of phased stages (they carry their own checksums)
}

// TaskMarker records that a task finished: it is written (synced, then renamed into place)
// only after every output of the task is durable, so a marker always speaks of complete
// files. A rerun skips a task whose marker is valid for the current plan and whose outputs
// are still there, and redoes any other from scratch.
type TaskMarker struct {
	Version int    `json:"version"`
	Phase   string `json:"phase"`
	Index   int    `json:"index"`
	Count   int    `json:"count"`
	// PlanSHA256 is the hash of the plan (config, sieve version, inputs and their split)
	// the task ran under.
	PlanSHA256 string `json:"plan_sha256"`
	// DepsSHA256 is the hash of the previous phase's markers: when that phase was redone,
	// this task is redone too.
	DepsSHA256 string       `json:"deps_sha256,omitempty"`
	Outputs    []OutputFile `json:"outputs"`
	Inputs     []InputFile  `json:"inputs,omitempty"` // input passes: what the task read, per unit
	Stats      *Stats       `json:"stats,omitempty"`  // input passes: the task's counts
	Emitted    int64        `json:"emitted"`          // shard passes: documents given to the phased stage
	Started    time.Time    `json:"started"`
	Finished   time.Time    `json:"finished"`
	Host       string       `json:"host,omitempty"`
	Workers    int          `json:"workers"`
}

const markerVersion = 1

// taskName is the name of task t of n in paths: 00003-of-00008.
func taskName(t, n int) string { return fmt.Sprintf("%05d-of-%05d", t, n) }

func markerPath(dir, phase string, t, n int) string {
	return filepath.Join(dir, "tasks", phase, taskName(t, n)+".done.json")
}

// taskDir is where an input pass task writes its dataset shards, rejects and stats.
func taskDir(dir, phase string, t, n int) string {
	return filepath.Join(dir, "tasks", phase, taskName(t, n))
}

// readMarker reads a marker and its bytes; a missing marker is (nil, nil, nil).
func readMarker(dir, phase string, t, n int) (*TaskMarker, []byte, error) {
	p := markerPath(dir, phase, t, n)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var m TaskMarker
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", p, err)
	}
	return &m, b, nil
}

// markerProblem says why m does not prove task t of phase done under planSHA and deps ("" when
// it does). Output files are checked for presence and size; `sieve verify` checks their
// checksums.
func markerProblem(dir string, m *TaskMarker, phase string, t, n int, planSHA, deps string) string {
	switch {
	case m == nil:
		return "not finished"
	case m.Version != markerVersion || m.Phase != phase || m.Index != t || m.Count != n:
		return "marker is for another task"
	case m.PlanSHA256 != planSHA:
		return "finished under another plan (config, sieve version or inputs changed)"
	case m.DepsSHA256 != deps:
		return "finished before the previous phase was redone"
	}
	for _, o := range m.Outputs {
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(o.Path)))
		if err != nil {
			return fmt.Sprintf("output %s: %v", o.Path, errors.Unwrap(err))
		}
		if fi.Size() != o.Size {
			return fmt.Sprintf("output %s has %d bytes, the marker says %d", o.Path, fi.Size(), o.Size)
		}
	}
	return ""
}

// writeMarker makes the task's outputs durable (their directories synced) and then writes
// its marker.
func writeMarker(dir string, m *TaskMarker) error {
	synced := map[string]bool{}
	for _, o := range m.Outputs {
		d := filepath.Dir(filepath.Join(dir, filepath.FromSlash(o.Path)))
		for !synced[d] && strings.HasPrefix(d, dir) && d != dir {
			if err := syncDir(d); err != nil {
				return fmt.Errorf("sync %s: %w", d, err)
			}
			synced[d] = true
			d = filepath.Dir(d)
		}
	}
	p := markerPath(dir, m.Phase, m.Index, m.Count)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := WriteJSONFile(p, m); err != nil {
		return err
	}
	return syncDir(filepath.Dir(p))
}

// hashFile returns the size and SHA-256 of a file.
func hashFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", path, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// outputFile describes the file at rel (relative to dir), with its checksum when sum is set.
func outputFile(dir, rel string, sum bool) (OutputFile, error) {
	full := filepath.Join(dir, filepath.FromSlash(rel))
	o := OutputFile{Path: filepath.ToSlash(rel)}
	if !sum {
		fi, err := os.Stat(full)
		if err != nil {
			return o, err
		}
		o.Size = fi.Size()
		return o, nil
	}
	var err error
	o.Size, o.SHA256, err = hashFile(full)
	return o, err
}

// syncDir makes renames in dir durable. File systems that cannot sync a directory are not
// an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil
	}
	return err
}

// RemoveTemps removes leftover temporary files (".tmp-*", from a killed process) under
// root; a missing root is no error. The report uses it for the audit directory.
func RemoveTemps(root string) error { return removeTemps(root) }

// removeTemps removes leftover temporary files (".tmp-*", from a killed process) under root.
func removeTemps(root string) error {
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), ".tmp-") {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// removeTopTemps removes temporary files directly in dir.
func removeTopTemps(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp-") && e.Type().IsRegular() {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}
