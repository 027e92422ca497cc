package minhash

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedData locates ../shared/data from the repository root (or $SIEVE_SHARED_DATA) and
// skips the test when it is absent.
func sharedData(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("SIEVE_SHARED_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "data")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not available: %v", p, err)
	}
	return p
}

// Acceptance: on real news articles with the default configuration, F1 >= 0.95 for copies
// with true Jaccard >= 0.8 against unrelated documents.
func TestEvalSyntheticMasakhaNews(t *testing.T) {
	docs, err := ReadJSONL[EvalDoc](sharedData(t, "docs/masakhanews.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultEvalConfig()
	if testing.Short() {
		cfg.MaxDocs = 400
	}
	res, err := EvalSynthetic(docs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range res.Levels {
		t.Logf("level %.2f: %d pairs, mean true J %.3f, flagged %.3f (S-curve %.3f)", l.Target, l.Pairs, l.MeanTrueJ, l.FlaggedRate, l.SCurve)
	}
	t.Logf("vs unrelated %+v; all levels %+v; unrelated flagged %d (true J >= threshold: %d); dropped %d", res.VsUnrelated, res.AllLevels, res.UnrelatedFlagged, res.FoundPreexisting, res.DroppedPreexisting)
	if res.VsUnrelated.F1 < 0.95 {
		t.Errorf("F1 vs unrelated = %.3f, want >= 0.95", res.VsUnrelated.F1)
	}
	for _, l := range res.Levels {
		if l.Target >= 0.8 && l.MeanTrueJ < l.Target {
			t.Errorf("level %.2f: copies have mean true J %.3f below the target", l.Target, l.MeanTrueJ)
		}
	}
}

// Acceptance: translations of the same UDHR article are not near-duplicates.
func TestEvalGroupsUDHR(t *testing.T) {
	docs, err := ReadJSONL[EvalDoc](sharedData(t, "docs/udhr.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := EvalGroups(docs, DefaultEvalConfig())
	if err != nil {
		t.Fatal(err)
	}
	if res.SameGroupFlagged != 0 {
		t.Errorf("%d translation pairs flagged, e.g. %v", res.SameGroupFlagged, res.SameGroupExamples)
	}
	t.Logf("%+v", res)
}

func TestEvalLabelledPairsCounter(t *testing.T) {
	docs, err := ReadJSONL[EvalDoc](sharedData(t, "docs/counter_urd_docs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := ReadJSONL[LabelledPair](sharedData(t, "docs/counter_urd_pairs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := EvalLabelledPairs(docs, pairs, DefaultEvalConfig())
	if err != nil {
		t.Fatal(err)
	}
	rate := map[string]float64{}
	for _, r := range res {
		t.Logf("%+v", r)
		rate[r.Label] = r.FlaggedRate
		if r.MissingDocs > 0 {
			t.Errorf("%s: %d pairs name missing documents", r.Label, r.MissingDocs)
		}
	}
	// Wholly derived pairs are flagged at least as often as non-derived ones.
	if rate["WD"] < rate["ND"] {
		t.Errorf("WD flagged rate %.2f < ND %.2f", rate["WD"], rate["ND"])
	}
}

// Edit-rate mode: copies with 1-3% of words substituted; misses follow the S-curve and no
// original joins another's cluster.
func TestEvalEditRate(t *testing.T) {
	docs, err := ReadJSONL[EvalDoc](sharedData(t, "docs/masakhanews.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultEvalConfig()
	cfg.MaxDocs, cfg.EditPct = 300, [2]float64{1, 3}
	res, err := EvalSynthetic(docs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	l := res.Levels[0]
	if len(res.Levels) != 1 || l.Pairs != res.Originals || l.MeanTrueJ < 0.7 || l.MeanTrueJ > 0.95 {
		t.Fatalf("edit-rate copies: %+v", res.Levels)
	}
	if miss := float64(res.MissedCopies) / float64(l.Pairs); miss > 1-l.SCurve+0.08 {
		t.Errorf("missed %.3f of copies; S-curve at mean J predicts %.3f", miss, 1-l.SCurve)
	}
	if res.UnrelatedFlagged != 0 {
		t.Errorf("%d unrelated pairs flagged", res.UnrelatedFlagged)
	}
}
