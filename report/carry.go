package report

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/sieve-data/sieve/pipeline"
)

// PreviousDir holds, per language (PreviousDir/<lang>.md), the verdicts ticked in earlier
// audit files that apply to no sample drawn now: the sample is no longer drawn, its
// document's text changed, or not one box is ticked. They are not counted, and move back
// into AuditDir/<lang>.md by themselves when the same document with the same text is drawn
// again.
const PreviousDir = AuditDir + "/previous"

// asideEntry is a ticked sample of an earlier audit file kept in PreviousDir, with why it
// is not counted.
type asideEntry struct {
	AuditEntry
	why      string
	fromPrev bool // read from the previous file, not newly set aside
}

// carryVerdicts matches the ticked samples of a language's earlier audit files to the
// samples drawn now. a is the language's audit (nil when it has no samples now), cur the
// entries of its audit file, prev those of its previous file. A verdict is carried when its
// sample is drawn again (same Sample.Key) with the same text (same text_sha256, or for a
// file written before sieve recorded the hash, the same text shown); the first such entry
// counts, those of the audit file before those of the previous file. Every other ticked
// entry is set aside, previous ones first, except exact repeats (same sample, text and
// boxes) of one carried or set aside. back counts the entries of prev carried.
func carryVerdicts(a *AuditLang, cur, prev []AuditEntry) (verdicts, notes map[string]string, aside []asideEntry, back int) {
	drawn := map[string]*Sample{}
	if a != nil {
		for _, l := range [][]Sample{a.Kept, a.Rejected} {
			for i := range l {
				drawn[l[i].Key()] = &l[i]
			}
		}
	}
	all := append(slices.Clip(cur), prev...)
	verdicts, notes = map[string]string{}, map[string]string{}
	used := make([]bool, len(all))
	seen := map[string]bool{}
	for i := range all {
		e := &all[i]
		s := drawn[e.Key()]
		if s == nil || !e.sameText(s) {
			continue
		}
		carried := false
		if _, done := verdicts[e.Key()]; !done && e.Verdict != "" {
			verdicts[e.Key()], carried = e.Verdict, true
		}
		if _, done := notes[e.Key()]; !done && e.Notes != "" {
			notes[e.Key()] = e.Notes
			// Notes alone carry an entry with no box ticked; ticks that are no verdict
			// still go aside (with the notes, as written).
			carried = carried || len(e.Ticked) == 0
		}
		if !carried {
			continue
		}
		used[i], seen[e.identity()] = true, true
		if i >= len(cur) {
			back++
		}
	}
	label := ""
	if a != nil {
		label = a.Label
	}
	order := make([]int, 0, len(all))
	for i := len(cur); i < len(all); i++ {
		order = append(order, i)
	}
	for i := range cur {
		order = append(order, i)
	}
	for _, i := range order {
		e := &all[i]
		if used[i] || len(e.Ticked) == 0 && e.Notes == "" || seen[e.identity()] {
			continue
		}
		seen[e.identity()] = true
		aside = append(aside, asideEntry{AuditEntry: *e, why: asideReason(e, drawn[e.Key()], label), fromPrev: i >= len(cur)})
	}
	return verdicts, notes, aside, back
}

// sameText reports whether the entry was ticked for the text s holds now.
func (e *AuditEntry) sameText(s *Sample) bool {
	if e.TextSHA256 != "" {
		return e.TextSHA256 == s.TextSHA256
	}
	return shownText(e.Text) == shownText(s.Text)
}

// identity names a review: the sample, the text it was ticked for and the boxes ticked.
func (e *AuditEntry) identity() string {
	text := "sha256:" + e.TextSHA256
	if e.TextSHA256 == "" {
		text = "shown:" + shownText(e.Text)
	}
	return e.Key() + "\x00" + text + "\x00" + strings.Join(e.Ticked, ",")
}

// shownText normalises a text as an editor may leave it: no trailing blanks on a line, no
// trailing empty lines.
func shownText(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// asideReason says why an entry is not counted; s is the sample drawn now with its key, or
// nil.
func asideReason(e *AuditEntry, s *Sample, label string) string {
	switch {
	case s == nil:
		return "its document is no longer drawn"
	case !e.sameText(s):
		return "its document's text changed after the verdict was ticked"
	case len(e.Ticked) == 0:
		return "no box is ticked (its notes are kept)"
	case e.Verdict == "":
		return fmt.Sprintf("not one verdict is ticked (%s); keep one box ticked and run `sieve report` to count it", strings.Join(e.Ticked, ", "))
	default:
		return fmt.Sprintf("another verdict for the same document and text is counted in `%s/%s.md`", AuditDir, label)
	}
}

// writeAside renders the previous file of a language.
func writeAside(label string, entries []asideEntry) []byte {
	b := &bytes.Buffer{}
	fmt.Fprintf(b, "# Audit verdicts set aside: `%s`\n\n", label)
	fmt.Fprintf(b, "These verdicts were ticked in `%[1]s/%[2]s.md` and are **not counted** in the dataset card or report.html: the current audit no longer draws their document (another dataset, `seed` or `audit_samples`), or the document's text changed after the review, or not one box is ticked; each says which. sieve keeps them here so that no review is lost, and moves a verdict back into `%[1]s/%[2]s.md` by itself when its document is drawn again with the same text and one box is ticked.\n\n", AuditDir, label)
	for _, e := range entries {
		fmt.Fprintf(b, "## `%s` (%s)\n\n", codeSpanSafe(e.ID), e.Kind)
		fmt.Fprintf(b, "Not counted: %s.\n\n", e.why)
		writeMarker(b, sampleMarker{Kind: e.Kind, ID: e.ID, Origin: e.Origin, TextSHA256: e.TextSHA256})
		if e.Body != "" {
			b.WriteString(e.Body)
			b.WriteString("\n\n")
		}
	}
	return b.Bytes()
}

// carryPlan is what a report does with the earlier audit files of one language.
type carryPlan struct {
	label string
	final []asideEntry // the previous file as it will be; none: no file
	// interim, when not nil, is written before the audit file: the old previous file with
	// the newly set aside entries, so that every verdict is in some file at every moment.
	interim    []byte
	staleAudit bool // audit/<label>.md holds samples of a language with none now: remove it
}

// readAuditFiles reads the audit files an earlier report left in dir/sub, by label. A file
// with no sample marker is not sieve's and is left out.
func readAuditFiles(dir, sub string, res *Result) (map[string]*AuditFile, error) {
	out := map[string]*AuditFile{}
	paths, err := filepath.Glob(filepath.Join(dir, filepath.FromSlash(sub), "*.md"))
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		rel := sub + "/" + filepath.Base(p)
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		af, err := ReadAudit(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rel, err)
		}
		for _, pr := range af.Problems {
			res.Problems = append(res.Problems, rel+": "+pr)
		}
		if af.Samples > 0 {
			out[strings.TrimSuffix(filepath.Base(p), ".md")] = af
		}
	}
	return out, nil
}

// carry reads the earlier audit files of the run directory, puts the verdicts that still
// apply into m.Audits and plans the previous files.
func (m *model) carry(res *Result) error {
	cur, err := readAuditFiles(m.Run.Dir, AuditDir, res)
	if err != nil {
		return err
	}
	prev, err := readAuditFiles(m.Run.Dir, PreviousDir, res)
	if err != nil {
		return err
	}
	audits := map[string]*AuditLang{}
	labels := map[string]bool{}
	for _, a := range m.Audits {
		audits[a.Label], labels[a.Label] = a, true
	}
	for l := range cur {
		labels[l] = true
	}
	for l := range prev {
		labels[l] = true
	}
	sorted := make([]string, 0, len(labels))
	for l := range labels {
		sorted = append(sorted, l)
	}
	sort.Strings(sorted)
	entries := func(af *AuditFile) []AuditEntry {
		if af == nil {
			return nil
		}
		return af.Entries
	}
	for _, label := range sorted {
		a := audits[label]
		verdicts, notes, aside, back := carryVerdicts(a, entries(cur[label]), entries(prev[label]))
		if a != nil {
			a.Verdicts, a.Notes, a.SetAside = verdicts, notes, len(aside)
			m.Summaries[label] = a.Summarise()
		}
		res.Carried += len(verdicts)
		res.SetAside += len(aside)
		p := carryPlan{label: label, final: aside, staleAudit: a == nil && cur[label] != nil}
		fresh := slices.ContainsFunc(aside, func(e asideEntry) bool { return !e.fromPrev })
		if fresh && back > 0 {
			// The entries about to move back stay in the previous file until the audit file
			// holding them is written.
			var kept []asideEntry
			for _, e := range entries(prev[label]) {
				kept = append(kept, asideEntry{AuditEntry: e, why: fmt.Sprintf("being moved back into `%s/%s.md`", AuditDir, label), fromPrev: true})
			}
			for _, e := range aside {
				if !e.fromPrev {
					kept = append(kept, e)
				}
			}
			p.interim = writeAside(label, kept)
		} else if fresh {
			p.interim = writeAside(label, aside)
		}
		m.carries = append(m.carries, p)
	}
	m.setAside = res.SetAside
	return nil
}

// writeAudits writes the audit files and the previous files: previous files that gain
// entries first, then the audit files, then the previous files in their final form and
// the removal of audit files of languages with no samples now. A report stopped at any
// point leaves every ticked verdict in one file or another.
func (m *model) writeAudits(res *Result) error {
	dir := m.Run.Dir
	if err := pipeline.RemoveTemps(filepath.Join(dir, AuditDir)); err != nil {
		return err
	}
	prevPath := func(label string) string {
		return filepath.Join(dir, filepath.FromSlash(PreviousDir), label+".md")
	}
	for _, p := range m.carries {
		if p.interim == nil {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(prevPath(p.label)), 0o755); err != nil {
			return err
		}
		if err := pipeline.WriteFileAtomic(prevPath(p.label), p.interim); err != nil {
			return err
		}
	}
	if len(m.Audits) > 0 {
		if err := os.MkdirAll(filepath.Join(dir, AuditDir), 0o755); err != nil {
			return err
		}
	}
	for _, a := range m.Audits {
		var b bytes.Buffer
		if err := WriteAudit(&b, a, m.Run.Coverage.Seed, m.Name); err != nil {
			return err
		}
		rel := AuditDir + "/" + a.Label + ".md"
		if err := pipeline.WriteFileAtomic(filepath.Join(dir, filepath.FromSlash(rel)), b.Bytes()); err != nil {
			return err
		}
		res.Files = append(res.Files, rel)
	}
	for _, p := range m.carries {
		path := prevPath(p.label)
		if len(p.final) == 0 {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		} else {
			data := writeAside(p.label, p.final)
			if old, err := os.ReadFile(path); err != nil || !bytes.Equal(old, data) {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					return err
				}
				if err := pipeline.WriteFileAtomic(path, data); err != nil {
					return err
				}
			}
			res.Files = append(res.Files, PreviousDir+"/"+p.label+".md")
		}
		if p.staleAudit {
			if err := os.Remove(filepath.Join(dir, filepath.FromSlash(AuditDir), p.label+".md")); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	_ = os.Remove(filepath.Join(dir, filepath.FromSlash(PreviousDir))) // only when empty
	return nil
}
