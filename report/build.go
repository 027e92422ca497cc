package report

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/sieve-data/sieve/pipeline"
)

// Files a report writes into the run directory.
const (
	CardFile  = "README.md"
	HTMLFile  = "report.html"
	AuditDir  = "audit"
	StatsFile = "stats.json"
)

// Options adjust BuildWith. The zero value builds from what the run directory records.
type Options struct {
	// Coverage, when not nil, replaces the coverage section recorded in manifest.json (for
	// example targets edited after the run).
	Coverage *pipeline.Coverage
}

// Result is what BuildWith wrote and found.
type Result struct {
	Files    []string // written, relative to the run directory
	Coverage *Coverage
	Audit    []AuditSummary // per language, in the card's order
	// Problems lists audit-file lines that could not be read as one verdict;
	// "audit/<lang>.md: ..." or "audit/previous/<lang>.md: ...".
	Problems []string
	// Carried counts the verdicts of the earlier audit files that apply to a sample drawn
	// now (same document, same text): they are in the audit files and counted. SetAside
	// counts those kept in PreviousDir instead, not counted: their sample is no longer
	// drawn, its text changed, or not one box is ticked.
	Carried, SetAside int
}

// model is everything the card, the page and the audit files are made from.
type model struct {
	Run        *Run
	Cov        *Coverage
	Name       string
	LangID     bool
	ConfigHash string
	Rows       map[string]int64 // dataset rows per language, counted in the files
	Audits     []*AuditLang
	Summaries  map[string]AuditSummary
	carries    []carryPlan // what to do with the earlier audit files, by language
	setAside   int         // verdicts kept in PreviousDir
}

// Build writes the dataset card README.md, report.html and audit/<lang>.md into a finished
// run directory, from its stats.json, manifest.json, dataset files and rejects. Verdicts
// already ticked in audit files are kept for the samples drawn again with the same text;
// the others go to PreviousDir/<lang>.md, so no verdict is ever lost. It fails, writing
// nothing, when the dataset files do not hold exactly the documents stats.json counts.
func Build(runDir string) error {
	_, err := BuildWith(context.Background(), runDir, Options{})
	return err
}

// BuildWith is Build with options; it also returns what it found.
func BuildWith(ctx context.Context, runDir string, opt Options) (*Result, error) {
	run, err := LoadRun(runDir, opt.Coverage)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	stages := make([]string, len(run.Stats.Stages))
	for i, s := range run.Stats.Stages {
		stages[i] = s.Name
	}
	cov, err := ComputeCoverage(run.Stats, run.Coverage, stages)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	m := &model{
		Run: run, Cov: cov, Name: run.Coverage.PrettyName, LangID: run.hasStageKind("langid"),
		ConfigHash: configHash(run.Manifest), Rows: map[string]int64{}, Summaries: map[string]AuditSummary{},
	}
	if m.Name == "" {
		m.Name = filepath.Base(filepath.Clean(runDir))
	}
	res := &Result{Coverage: cov}
	if err := m.scan(ctx, res); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	card, err := m.Card()
	if err != nil {
		return nil, fmt.Errorf("report: card: %w", err)
	}
	page, err := m.HTML()
	if err != nil {
		return nil, fmt.Errorf("report: html: %w", err)
	}
	if err := m.writeAudits(res); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{HTMLFile, page}, {CardFile, card}} {
		if err := pipeline.WriteFileAtomic(filepath.Join(runDir, f.name), f.data); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		res.Files = append(res.Files, f.name)
	}
	for _, a := range m.Audits {
		res.Audit = append(res.Audit, m.Summaries[a.Label])
	}
	return res, nil
}

// scan counts the dataset rows per language, checks them against stats.json, draws the
// audit samples and carries over the verdicts of earlier audit files.
func (m *model) scan(ctx context.Context, res *Result) error {
	run := m.Run
	k := run.Coverage.AuditSamples
	seed := run.Coverage.Seed
	kept := map[string][]Sample{}
	for _, label := range run.sortedDataLangs() {
		samples, rows, err := scanKept(ctx, run.Dir, run.Data[label], run.DataFormat, newReservoir(k, seed, Kept, label))
		if err != nil {
			return err
		}
		m.Rows[label] = rows
		kept[label] = samples
	}
	var mismatch []error
	for label, ls := range run.Stats.Langs {
		if m.Rows[label] != ls.Docs {
			mismatch = append(mismatch, fmt.Errorf("data/%s holds %d documents, stats.json counts %d kept", label, m.Rows[label], ls.Docs))
		}
	}
	for label, n := range m.Rows {
		if _, ok := run.Stats.Langs[label]; !ok && n > 0 {
			mismatch = append(mismatch, fmt.Errorf("data/%s holds %d documents, stats.json counts none", label, n))
		}
	}
	var rejected map[string][]Sample
	if run.Rejects != "" {
		var counts map[string]int64
		var err error
		rejected, counts, err = scanRejects(ctx, filepath.Join(run.Dir, run.Rejects), func(label string) *reservoir {
			return newReservoir(k, seed, Rejected, label)
		})
		if err != nil {
			return err
		}
		for label, ls := range run.Stats.Langs {
			if n := ls.RejectedDocs(); counts[label] != n {
				mismatch = append(mismatch, fmt.Errorf("%s holds %d documents labelled %s, stats.json counts %d", run.Rejects, counts[label], label, n))
			}
		}
		for label, n := range counts {
			if _, ok := run.Stats.Langs[label]; !ok {
				mismatch = append(mismatch, fmt.Errorf("%s holds %d documents labelled %s, stats.json counts none", run.Rejects, n, label))
			}
		}
	}
	if len(mismatch) > 0 {
		sort.Slice(mismatch, func(i, j int) bool { return mismatch[i].Error() < mismatch[j].Error() })
		return fmt.Errorf("the run directory's files disagree with stats.json: %w", errors.Join(mismatch...))
	}
	for i := range m.Cov.Langs {
		l := &m.Cov.Langs[i]
		if k == 0 || len(kept[l.Label]) == 0 && len(rejected[l.Label]) == 0 {
			continue
		}
		m.Audits = append(m.Audits, &AuditLang{
			Label: l.Label, Name: l.Name, Kept: kept[l.Label], Rejected: rejected[l.Label],
			KeptTotal: l.Docs, RejectedTotal: l.Stats.RejectedDocs(), Verdicts: map[string]string{},
		})
	}
	return m.carry(res)
}
