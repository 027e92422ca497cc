package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// VerifyReport is what Verify checked and found wrong.
type VerifyReport struct {
	Dir        string
	Files      int   // output files checked against the manifest's checksums
	Rows       int64 // dataset rows counted on disk
	RejectRows int64 // rejects rows counted on disk
	Tasks      int   // task markers checked (task-mode runs)
	Problems   []string
}

// OK reports whether nothing was found wrong.
func (v *VerifyReport) OK() bool { return len(v.Problems) == 0 }

func (v *VerifyReport) addf(format string, args ...any) {
	v.Problems = append(v.Problems, fmt.Sprintf(format, args...))
}

// Verify re-checks a finished run directory against the files on disk: stats.json adds up
// (read = kept + rejected, stage by stage and language by language); every output file
// exists with the size and SHA-256 the manifest records and no other dataset file is
// there; the dataset files hold as many rows as stats.json counts kept documents, per
// language, and the rejects file as many as it counts rejected; for a task-mode run, every
// task's counts add up and sum to the run's, and the final pass's outputs match their
// markers (the work files of phased stages are needed only to redo later phases, and may
// be deleted once merged). It returns an error only when dir is not a finished run;
// everything else is a Problem.
func Verify(ctx context.Context, dir string, opt Options) (*VerifyReport, error) {
	v := &VerifyReport{Dir: dir}
	var man Manifest
	if err := readJSONFile(filepath.Join(dir, "manifest.json"), &man); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s holds no manifest.json: not a finished sieve run (a task-mode run needs its merge step)", dir)
		}
		return nil, err
	}
	var st Stats
	if err := readJSONFile(filepath.Join(dir, "stats.json"), &st); err != nil {
		return nil, err
	}
	checkStats(v, "stats.json", &st)
	if man.Read != st.Read || man.Kept != st.Kept || man.Rejected != st.Rejected {
		v.addf("manifest.json counts read %d, kept %d, rejected %d; stats.json %d, %d, %d", man.Read, man.Kept, man.Rejected, st.Read, st.Kept, st.Rejected)
	}

	// Checksums.
	listed := map[string]OutputFile{}
	if len(man.Files) == 0 && len(man.Outputs) > 0 {
		v.addf("manifest.json records no output checksums (written by an older sieve); rerun to get them")
	}
	for _, f := range man.Files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		listed[f.Path] = f
		v.Files++
		checkFile(v, dir, f)
	}
	for _, rel := range man.Outputs {
		if _, ok := listed[rel]; !ok && len(man.Files) > 0 {
			v.addf("%s: listed in outputs but has no checksum in manifest.json", rel)
		}
	}

	// Dataset files on disk: all listed, no leftovers; rows per language.
	rows := map[string]int64{}
	_ = filepath.WalkDir(filepath.Join(dir, "data"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				v.addf("data: %v", err)
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case strings.HasPrefix(d.Name(), ".tmp-"):
			v.addf("%s: temporary file of an unfinished run", rel)
			return nil
		case !containsString(man.Outputs, rel):
			v.addf("%s: not listed in manifest.json (a file of another run?)", rel)
			return nil
		}
		elems := strings.Split(rel, "/")
		if len(elems) != 3 {
			v.addf("%s: not at data/<lang>/<file>", rel)
			return nil
		}
		n, err := countRows(opt, p)
		if err != nil {
			v.addf("%s: %v", rel, err)
			return nil
		}
		rows[elems[1]] += n
		v.Rows += n
		return nil
	})
	for _, rel := range man.Outputs {
		if strings.HasPrefix(rel, "data/") {
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
				v.addf("%s: listed in manifest.json but missing", rel)
			}
		}
	}
	langs := map[string]bool{}
	for l := range rows {
		langs[l] = true
	}
	for l, ls := range st.Langs {
		if ls.Docs > 0 {
			langs[l] = true
		}
	}
	for _, l := range slices.Sorted(maps.Keys(langs)) {
		if got, want := rows[l], st.Langs[l].Docs; got != want {
			v.addf("data/%s holds %d rows; stats.json counts %d kept documents of %s", l, got, want, l)
		}
	}
	if v.Rows != st.Kept {
		v.addf("data/ holds %d rows; stats.json counts %d kept", v.Rows, st.Kept)
	}

	// Rejects.
	rejFile := ""
	for _, rel := range man.Outputs {
		if strings.HasPrefix(rel, "rejects.") && !strings.Contains(rel, "/") {
			rejFile = rel
		}
	}
	if rejFile != "" {
		n, err := countRows(opt, filepath.Join(dir, rejFile))
		if err != nil {
			v.addf("%s: %v", rejFile, err)
		} else {
			v.RejectRows = n
			if n != st.Rejected {
				v.addf("%s holds %d rows; stats.json counts %d rejected", rejFile, n, st.Rejected)
			}
		}
	} else if rejectsEnabled(man.ConfigResolved) {
		v.addf("rejects are enabled in the config but manifest.json lists no rejects file")
	}

	if man.Tasks != nil {
		verifyTasks(v, dir, &man, &st)
	}
	return v, nil
}

// checkStats checks that a Stats adds up.
func checkStats(v *VerifyReport, label string, st *Stats) {
	if st.Read != st.Kept+st.Rejected {
		v.addf("%s: read %d != kept %d + rejected %d", label, st.Read, st.Kept, st.Rejected)
	}
	if rt := st.RejectedTotal(); rt != st.Rejected {
		v.addf("%s: the stages reject %d documents in all, rejected says %d", label, rt, st.Rejected)
	}
	if !st.Balanced {
		v.addf("%s: balanced is false", label)
	}
	if len(st.Stages) == 0 || st.Stages[0].Name != "read" {
		v.addf("%s: the stage list does not start with read", label)
		return
	}
	if st.Stages[0].In != st.Read {
		v.addf("%s: stage read saw %d documents, read says %d", label, st.Stages[0].In, st.Read)
	}
	for i, s := range st.Stages {
		var rej int64
		for _, c := range s.Rejected {
			rej += c
		}
		if s.In != s.Kept+rej {
			v.addf("%s: stage %s: in %d != kept %d + rejected %d", label, s.Name, s.In, s.Kept, rej)
		}
		if i > 0 && s.In != st.Stages[i-1].Kept {
			v.addf("%s: stage %s saw %d documents, stage %s kept %d", label, s.Name, s.In, st.Stages[i-1].Name, st.Stages[i-1].Kept)
		}
	}
	if last := st.Stages[len(st.Stages)-1]; last.Kept != st.Kept {
		v.addf("%s: the last stage kept %d, kept says %d", label, last.Kept, st.Kept)
	}
	var docs, rej int64
	for _, ls := range st.Langs {
		docs += ls.Docs
		rej += ls.RejectedDocs()
	}
	if docs != st.Kept {
		v.addf("%s: the languages count %d kept documents, kept says %d", label, docs, st.Kept)
	}
	if rej != st.Rejected {
		v.addf("%s: the languages count %d rejected documents, rejected says %d", label, rej, st.Rejected)
	}
}

// checkFile checks one file against its recorded size and checksum.
func checkFile(v *VerifyReport, dir string, f OutputFile) {
	full := filepath.Join(dir, filepath.FromSlash(f.Path))
	if f.SHA256 == "" {
		fi, err := os.Stat(full)
		switch {
		case err != nil:
			v.addf("%s: %v", f.Path, errors.Unwrap(err))
		case fi.Size() != f.Size:
			v.addf("%s: %d bytes; recorded %d", f.Path, fi.Size(), f.Size)
		}
		return
	}
	size, sum, err := hashFile(full)
	switch {
	case err != nil:
		v.addf("%s: %v", f.Path, err)
	case size != f.Size:
		v.addf("%s: %d bytes; recorded %d", f.Path, size, f.Size)
	case sum != f.SHA256:
		v.addf("%s: sha256 %s; recorded %s (the file changed after the run)", f.Path, sum, f.SHA256)
	}
}

// verifyTasks checks the task markers of a task-mode run.
func verifyTasks(v *VerifyReport, dir string, man *Manifest, st *Stats) {
	p, err := ReadPlan(dir)
	if err != nil {
		v.addf("tasks/plan.json: %v", err)
		return
	}
	if p.sha() != man.Tasks.PlanSHA256 {
		v.addf("tasks/plan.json is not the plan the run was merged from (planned again since?)")
		return
	}
	checked := map[string]bool{}
	for _, f := range man.Files {
		checked[f.Path] = true
	}
	for _, ph := range p.Phases {
		if ph.Kind == PhaseMerge {
			continue
		}
		sum := &Stats{Version: StatsVersion}
		for t := 0; t < ph.Tasks; t++ {
			label := fmt.Sprintf("phase %s task %d of %d", ph.Name, t, ph.Tasks)
			m, _, err := readMarker(dir, ph.Name, t, ph.Tasks)
			if err != nil || m == nil {
				v.addf("%s: no marker (%v)", label, err)
				continue
			}
			v.Tasks++
			if m.PlanSHA256 != man.Tasks.PlanSHA256 {
				v.addf("%s: finished under another plan", label)
			}
			if ph.Target >= 0 || ph.Kind != PhaseInput {
				continue // work files of phased stages: needed only to redo later phases
			}
			for _, o := range m.Outputs {
				if o.SHA256 != "" && sameFileAsChecked(dir, o.Path, man.Files) {
					continue
				}
				checkFile(v, dir, o)
			}
			if m.Stats == nil {
				v.addf("%s: no stats", label)
				continue
			}
			checkStats(v, label, m.Stats)
			sum.Merge(m.Stats)
		}
		if ph.Target < 0 && (sum.Read != st.Read || sum.Kept != st.Kept || sum.Rejected != st.Rejected) {
			v.addf("the tasks of phase %s read %d, kept %d, rejected %d; stats.json says %d, %d, %d", ph.Name, sum.Read, sum.Kept, sum.Rejected, st.Read, st.Kept, st.Rejected)
		}
	}
}

// sameFileAsChecked reports whether rel is the same file (a hard link) as one of the run's
// output files, already hashed.
func sameFileAsChecked(dir, rel string, files []OutputFile) bool {
	fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return false
	}
	base := path.Base(rel)
	for _, f := range files {
		if path.Ext(f.Path) != path.Ext(base) {
			continue
		}
		if gi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f.Path))); err == nil && os.SameFile(fi, gi) {
			return true
		}
	}
	return false
}

func countRows(opt Options, p string) (int64, error) {
	if opt.CountRows == nil {
		return 0, errors.New("no row counter configured")
	}
	return opt.CountRows(p)
}

func rejectsEnabled(resolved map[string]any) bool {
	r, _ := resolved["rejects"].(map[string]any)
	e, _ := r["enabled"].(bool)
	return e
}

func readJSONFile(p string, v any) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
