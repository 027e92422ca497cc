package minhash

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// EvalDoc is one document of an evaluation file (JSONL with "id", "text" and optional
// "lang" and "group" fields; other fields are ignored).
type EvalDoc struct {
	ID    string `json:"id"`
	Text  string `json:"text"`
	Lang  string `json:"lang"`
	Group string `json:"group"`
}

// LabelledPair is one line of a pairs file such as counter_urd_pairs.jsonl.
type LabelledPair struct {
	ID        string `json:"id"`
	SourceID  string `json:"source_id"`
	DerivedID string `json:"derived_id"`
	Label     string `json:"label"`
}

// ReadJSONL decodes every line of a JSONL file into a T, with errors naming file and line.
func ReadJSONL[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []T
	r := bufio.NewReaderSize(f, 1<<20)
	for line := 1; ; line++ {
		b, err := r.ReadBytes('\n')
		if len(strings.TrimSpace(string(b))) > 0 {
			var v T
			if jerr := json.Unmarshal(b, &v); jerr != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, line, jerr)
			}
			out = append(out, v)
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
	}
}

// EvalConfig is the dedup configuration under evaluation and how the test set is made.
type EvalConfig struct {
	Params    Params
	Shingle   ShingleOptions
	Verify    bool
	Threshold float64   // pairs with true Jaccard >= Threshold are duplicates; also the verify threshold
	Levels    []float64 // target true Jaccard levels of the edited copies
	// EditPct, when EditPct[1] > 0, replaces Levels: each copy gets a number of word
	// substitutions drawn uniformly between EditPct[0] and EditPct[1] percent of its words
	// (the setting of the datatrove measurement quoted in issue 4: 1-3%).
	EditPct  [2]float64
	MaxDocs  int // originals used; 0 = all
	MinWords int // originals with fewer words are skipped
	Seed     uint64
	Workers  int // signature workers; 0 = GOMAXPROCS
}

// DefaultEvalConfig is the default dedup configuration with levels around 0.8.
func DefaultEvalConfig() EvalConfig {
	return EvalConfig{
		Params: DefaultParams, Threshold: 0.8,
		Levels:   []float64{0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1},
		MinWords: 30, Seed: 1,
	}
}

// LevelResult summarises the edited copies made for one target level.
type LevelResult struct {
	Target      float64 `json:"target"`
	Pairs       int     `json:"pairs"`
	MeanTrueJ   float64 `json:"mean_true_jaccard"`
	Flagged     int     `json:"flagged"`
	FlaggedRate float64 `json:"flagged_rate"`
	SCurve      float64 `json:"s_curve_rate"` // candidate probability at the mean true Jaccard
}

// PRF is precision, recall and F1 with their counts.
type PRF struct {
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	FN        int     `json:"fn"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

func newPRF(tp, fp, fn int) PRF {
	p := PRF{TP: tp, FP: fp, FN: fn, Precision: 1, Recall: 1}
	if tp+fp > 0 {
		p.Precision = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		p.Recall = float64(tp) / float64(tp+fn)
	}
	if p.Precision+p.Recall > 0 {
		p.F1 = 2 * p.Precision * p.Recall / (p.Precision + p.Recall)
	}
	return p
}

// SyntheticResult is the outcome of the controlled-edit evaluation.
type SyntheticResult struct {
	Originals          int           `json:"originals"`
	SkippedShort       int           `json:"skipped_short"`
	DroppedPreexisting int           `json:"dropped_preexisting_near_duplicates"`
	Docs               int           `json:"docs"`
	Levels             []LevelResult `json:"levels"`
	EditPct            []float64     `json:"edit_pct,omitempty"` // set in edit-rate mode
	MissedCopies       int           `json:"missed_copies"`
	// Acceptance: pairs with true J >= threshold against unrelated documents (every pair of
	// documents made from different originals).
	VsUnrelated PRF `json:"vs_unrelated"`
	// AllLevels also counts flagged copies below the threshold as false positives.
	AllLevels           PRF     `json:"all_levels"`
	UnrelatedPairs      int64   `json:"unrelated_pairs"`
	UnrelatedFlagged    int     `json:"unrelated_flagged"`
	FoundPreexisting    int     `json:"unrelated_flagged_with_true_j_above_threshold"`
	SignatureSeconds    float64 `json:"signature_seconds"`
	SignatureCPUSeconds float64 `json:"signature_cpu_seconds"`
	DocsPerSecPerCore   float64 `json:"signature_docs_per_cpu_second"`
	IndexSeconds        float64 `json:"index_seconds"`
	TotalSeconds        float64 `json:"total_seconds"`
	IndexBytesPerDoc    float64 `json:"index_bytes_per_doc"`
	PeakRSSBytes        int64   `json:"peak_rss_bytes"`
}

type editOp struct {
	kind int // 0 replace, 1 insert, 2 delete, 3 swap, 4 truncate
	pos  float64
	word string
}

func makeOps(rng *rand.Rand, n int, vocab []string) []editOp {
	ops := make([]editOp, n)
	for i := range ops {
		k := 0
		switch x := rng.Float64(); {
		case x < 0.35:
			k = 0
		case x < 0.6:
			k = 1
		case x < 0.85:
			k = 2
		case x < 0.96:
			k = 3
		default:
			k = 4
		}
		ops[i] = editOp{kind: k, pos: rng.Float64(), word: vocab[rng.IntN(len(vocab))]}
	}
	return ops
}

func applyOps(words []string, ops []editOp) string {
	w := append([]string(nil), words...)
	for _, op := range ops {
		if len(w) < 2 {
			break
		}
		p := int(op.pos * float64(len(w)))
		switch op.kind {
		case 0:
			w[p] = op.word
		case 1:
			w = append(w[:p], append([]string{op.word}, w[p:]...)...)
		case 2:
			w = append(w[:p], w[p+1:]...)
		case 3:
			if p+1 < len(w) {
				w[p], w[p+1] = w[p+1], w[p]
			}
		case 4:
			cut := max(1, len(w)/50)
			w = w[:len(w)-cut]
		}
	}
	return strings.Join(w, " ")
}

// makeCopy edits words with a growing prefix of ops and returns the copy with the most
// edits whose true Jaccard with the original is still >= level, and that Jaccard.
func makeCopy(sh *Shingler, orig []uint64, words []string, ops []editOp, level float64) (string, float64) {
	if level >= 1 {
		return strings.Join(words, " "), 1
	}
	jAt := func(k int) (string, float64) {
		c := applyOps(words, ops[:k])
		return c, SetJaccard(orig, ShingleSet(sh, c, ""))
	}
	lo, hi := 0, len(ops) // invariant: J(lo) >= level
	best, bestJ := jAt(0)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		c, j := jAt(mid)
		if j >= level {
			lo, best, bestJ = mid, c, j
		} else {
			hi = mid - 1
		}
	}
	return best, bestJ
}

type evalItem struct {
	text  string
	group int // index of the original
	trueJ float64
	level int // -1 for originals
}

// signAll computes signatures and band keys of texts on workers goroutines.
func signAll(texts []string, p Params, so ShingleOptions, workers int) (sigs, keys [][]uint64, err error) {
	h, err := NewHasher(p)
	if err != nil {
		return nil, nil, err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	sigs = make([][]uint64, len(texts))
	keys = make([][]uint64, len(texts))
	var wg sync.WaitGroup
	next := make(chan int, 64)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &Signer{H: h, Sh: NewShingler(so)}
			for i := range next {
				sig := make([]uint64, p.NumHashes())
				if s.Sign(texts[i], "", sig) == 0 {
					continue
				}
				k := make([]uint64, p.Bands)
				h.BandKeys(sig, 0, k)
				sigs[i], keys[i] = sig, k
			}
		}()
	}
	for i := range texts {
		next <- i
	}
	close(next)
	wg.Wait()
	return sigs, keys, nil
}

// runDedup adds documents in order; it returns each document's number in the deduper
// (-1 when it has no words) and the deduper, which the caller closes.
func runDedup(sigs, keys [][]uint64, ids []string, cfg EvalConfig) ([]int, *Deduper, error) {
	dd, err := NewDeduper(DedupOptions{Params: cfg.Params, Verify: cfg.Verify, Threshold: cfg.Threshold})
	if err != nil {
		return nil, nil, err
	}
	num := make([]int, len(sigs))
	for i := range sigs {
		num[i] = -1
		if sigs[i] == nil {
			continue
		}
		m, err := dd.Add(ids[i], sigs[i], keys[i])
		if err != nil {
			dd.Close()
			return nil, nil, err
		}
		num[i] = int(m.Doc)
	}
	return num, dd, nil
}

// EvalSynthetic builds near-duplicates of real documents with controlled edits (word
// replacements, insertions, deletions, swaps and truncations) at the configured true
// Jaccard levels, mixes them with the originals in a seeded random order, runs the dedup
// and scores it: a pair is flagged when both documents end in one cluster.
func EvalSynthetic(docs []EvalDoc, cfg EvalConfig) (*SyntheticResult, error) {
	start := time.Now()
	res := &SyntheticResult{}
	sh := NewShingler(cfg.Shingle)
	// originals: enough words, at most MaxDocs
	var origs []EvalDoc
	for _, d := range docs {
		if len(strings.Fields(d.Text)) < cfg.MinWords {
			res.SkippedShort++
			continue
		}
		origs = append(origs, d)
		if cfg.MaxDocs > 0 && len(origs) == cfg.MaxDocs {
			break
		}
	}
	// drop originals that already near-duplicate an earlier one
	{
		texts := make([]string, len(origs))
		ids := make([]string, len(origs))
		for i, d := range origs {
			texts[i], ids[i] = d.Text, d.ID
		}
		sigs, keys, err := signAll(texts, cfg.Params, cfg.Shingle, cfg.Workers)
		if err != nil {
			return nil, err
		}
		num, dd, err := runDedup(sigs, keys, ids, cfg)
		if err != nil {
			return nil, err
		}
		byNum := map[int]int{}
		for i, n := range num {
			byNum[n] = i
		}
		drop := map[int]bool{}
		for i, n := range num {
			if n < 0 {
				drop[i] = true
				continue
			}
			root := int(dd.Root(uint32(n)))
			if root != n && ExactJaccard(sh, origs[byNum[root]].Text, origs[i].Text, "") >= 0.3 {
				drop[i] = true
			}
		}
		dd.Close()
		kept := origs[:0]
		for i, d := range origs {
			if drop[i] {
				res.DroppedPreexisting++
				continue
			}
			kept = append(kept, d)
		}
		origs = kept
	}
	res.Originals = len(origs)
	if len(origs) < 2 {
		return nil, fmt.Errorf("eval dedup: %d usable documents, need at least 2", len(origs))
	}
	var vocab []string
	for _, d := range origs {
		vocab = append(vocab, strings.Fields(d.Text)...)
	}
	// one edited copy per original, levels in turn; built in parallel, deterministic
	items := make([]evalItem, 2*len(origs))
	origSets := make([][]uint64, len(origs))
	var wg sync.WaitGroup
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	next := make(chan int, 64)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sh := NewShingler(cfg.Shingle)
			for i := range next {
				rng := rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
				words := strings.Fields(origs[i].Text)
				origSets[i] = ShingleSet(sh, origs[i].Text, "")
				var c string
				var j float64
				level := 0
				if cfg.EditPct[1] > 0 {
					pct := cfg.EditPct[0] + rng.Float64()*(cfg.EditPct[1]-cfg.EditPct[0])
					ops := makeOps(rng, max(1, int(math.Round(pct/100*float64(len(words))))), vocab)
					for k := range ops {
						ops[k].kind = 0 // substitutions: "words edited"
					}
					c = applyOps(words, ops)
					j = SetJaccard(origSets[i], ShingleSet(sh, c, ""))
				} else {
					level = i % len(cfg.Levels)
					ops := makeOps(rng, len(words), vocab)
					c, j = makeCopy(sh, origSets[i], words, ops, cfg.Levels[level])
				}
				items[2*i] = evalItem{text: origs[i].Text, group: i, level: -1, trueJ: 1}
				items[2*i+1] = evalItem{text: c, group: i, level: level, trueJ: j}
			}
		}()
	}
	for i := range origs {
		next <- i
	}
	close(next)
	wg.Wait()
	rng := rand.New(rand.NewPCG(cfg.Seed, 99))
	rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	res.Docs = len(items)

	texts := make([]string, len(items))
	ids := make([]string, len(items))
	for i, it := range items {
		texts[i] = it.text
		ids[i] = fmt.Sprintf("%d/%d", it.group, it.level)
	}
	runtime.GC()
	t0, c0 := time.Now(), cpuSeconds()
	sigs, keys, err := signAll(texts, cfg.Params, cfg.Shingle, cfg.Workers)
	if err != nil {
		return nil, err
	}
	res.SignatureSeconds = time.Since(t0).Seconds()
	res.SignatureCPUSeconds = cpuSeconds() - c0
	if res.SignatureCPUSeconds > 0 {
		res.DocsPerSecPerCore = float64(len(items)) / res.SignatureCPUSeconds
	}
	t1 := time.Now()
	num, dd, err := runDedup(sigs, keys, ids, cfg)
	if err != nil {
		return nil, err
	}
	defer dd.Close()
	res.IndexSeconds = time.Since(t1).Seconds()
	res.IndexBytesPerDoc = dd.Stats().IndexBytesPerDoc

	// positions of the two members of each group
	pos := make([][2]int, len(origs))
	for i, it := range items {
		if it.level < 0 {
			pos[it.group][0] = i
		} else {
			pos[it.group][1] = i
		}
	}
	root := func(i int) int {
		if num[i] < 0 {
			return -1 - i
		}
		return int(dd.Root(uint32(num[i])))
	}
	targets := cfg.Levels
	if cfg.EditPct[1] > 0 {
		targets = []float64{0}
		res.EditPct = cfg.EditPct[:]
	}
	levels := make([]LevelResult, len(targets))
	for l, t := range targets {
		levels[l].Target = t
	}
	tp, fn, fpBelow := 0, 0, 0
	for g := range origs {
		it := items[pos[g][1]]
		lr := &levels[it.level]
		lr.Pairs++
		lr.MeanTrueJ += it.trueJ
		flagged := root(pos[g][0]) == root(pos[g][1])
		if flagged {
			lr.Flagged++
		} else {
			res.MissedCopies++
		}
		switch {
		case it.trueJ >= cfg.Threshold && flagged:
			tp++
		case it.trueJ >= cfg.Threshold:
			fn++
		case flagged:
			fpBelow++
		}
	}
	for l := range levels {
		if levels[l].Pairs > 0 {
			levels[l].MeanTrueJ /= float64(levels[l].Pairs)
			levels[l].FlaggedRate = float64(levels[l].Flagged) / float64(levels[l].Pairs)
			levels[l].SCurve = CandidateProbability(levels[l].MeanTrueJ, cfg.Params.Bands, cfg.Params.Rows)
		}
	}
	res.Levels = levels
	// cross-group pairs in one cluster: false positives unless truly similar
	clusters := map[int][]int{}
	for i := range items {
		if r := root(i); r >= 0 {
			clusters[r] = append(clusters[r], i)
		}
	}
	rootsSorted := make([]int, 0, len(clusters))
	for r := range clusters {
		rootsSorted = append(rootsSorted, r)
	}
	sort.Ints(rootsSorted)
	checked := 0
	for _, r := range rootsSorted {
		m := clusters[r]
		for a := 0; a < len(m); a++ {
			for b := a + 1; b < len(m); b++ {
				ia, ib := items[m[a]], items[m[b]]
				if ia.group == ib.group {
					continue
				}
				res.UnrelatedFlagged++
				if checked < 20000 {
					checked++
					if ExactJaccard(sh, ia.text, ib.text, "") >= cfg.Threshold {
						res.FoundPreexisting++
					}
				}
			}
		}
	}
	n := int64(len(items))
	res.UnrelatedPairs = n*(n-1)/2 - int64(len(origs))
	fpUnrelated := res.UnrelatedFlagged - res.FoundPreexisting
	res.VsUnrelated = newPRF(tp, fpUnrelated, fn)
	res.AllLevels = newPRF(tp, fpUnrelated+fpBelow, fn)
	res.TotalSeconds = time.Since(start).Seconds()
	res.PeakRSSBytes = PeakRSS()
	return res, nil
}

// GroupResult is the outcome of the translation check: documents of one group are
// translations of the same text and must not be flagged.
type GroupResult struct {
	Docs                int        `json:"docs"`
	Groups              int        `json:"groups"`
	FlaggedPairs        int        `json:"flagged_pairs"`
	SameGroupFlagged    int        `json:"translation_pairs_flagged"`
	SameGroupExamples   [][]string `json:"translation_pairs_flagged_examples,omitempty"`
	OtherFlaggedExample [][]string `json:"other_flagged_examples,omitempty"`
}

// EvalGroups runs the dedup over documents with a group field (such as UDHR articles in
// many languages) and counts flagged pairs within a group.
func EvalGroups(docs []EvalDoc, cfg EvalConfig) (*GroupResult, error) {
	texts := make([]string, len(docs))
	ids := make([]string, len(docs))
	groups := map[string]bool{}
	for i, d := range docs {
		texts[i], ids[i] = d.Text, d.ID
		groups[d.Group] = true
	}
	sigs, keys, err := signAll(texts, cfg.Params, cfg.Shingle, cfg.Workers)
	if err != nil {
		return nil, err
	}
	num, dd, err := runDedup(sigs, keys, ids, cfg)
	if err != nil {
		return nil, err
	}
	defer dd.Close()
	res := &GroupResult{Docs: len(docs), Groups: len(groups)}
	clusters := map[uint32][]int{}
	for i, n := range num {
		if n >= 0 {
			r := dd.Root(uint32(n))
			clusters[r] = append(clusters[r], i)
		}
	}
	roots := make([]uint32, 0, len(clusters))
	for r := range clusters {
		roots = append(roots, r)
	}
	sort.Slice(roots, func(i, j int) bool { return roots[i] < roots[j] })
	for _, r := range roots {
		m := clusters[r]
		for a := 0; a < len(m); a++ {
			for b := a + 1; b < len(m); b++ {
				res.FlaggedPairs++
				pair := []string{docs[m[a]].ID, docs[m[b]].ID}
				if docs[m[a]].Group != "" && docs[m[a]].Group == docs[m[b]].Group {
					res.SameGroupFlagged++
					if len(res.SameGroupExamples) < 10 {
						res.SameGroupExamples = append(res.SameGroupExamples, pair)
					}
				} else if len(res.OtherFlaggedExample) < 10 {
					res.OtherFlaggedExample = append(res.OtherFlaggedExample, pair)
				}
			}
		}
	}
	return res, nil
}

// LabelResult summarises the verdicts on the pairs of one label.
type LabelResult struct {
	Label          string  `json:"label"`
	Pairs          int     `json:"pairs"`
	Flagged        int     `json:"flagged"`
	FlaggedRate    float64 `json:"flagged_rate"`
	MeanTrueJ      float64 `json:"mean_true_jaccard"`
	MedianTrueJ    float64 `json:"median_true_jaccard"`
	MeanEstimatedJ float64 `json:"mean_estimated_jaccard"`
	MissingDocs    int     `json:"missing_docs,omitempty"`
}

// EvalLabelledPairs runs the dedup over docs (in file order) and reports, per label of the
// pairs (e.g. WD wholly derived, PD partially derived, ND non-derived), how many pairs end
// in one cluster and their true and estimated Jaccard similarity.
func EvalLabelledPairs(docs []EvalDoc, pairs []LabelledPair, cfg EvalConfig) ([]LabelResult, error) {
	texts := make([]string, len(docs))
	ids := make([]string, len(docs))
	at := map[string]int{}
	for i, d := range docs {
		texts[i], ids[i] = d.Text, d.ID
		at[d.ID] = i
	}
	sigs, keys, err := signAll(texts, cfg.Params, cfg.Shingle, cfg.Workers)
	if err != nil {
		return nil, err
	}
	num, dd, err := runDedup(sigs, keys, ids, cfg)
	if err != nil {
		return nil, err
	}
	defer dd.Close()
	sh := NewShingler(cfg.Shingle)
	by := map[string]*LabelResult{}
	js := map[string][]float64{}
	var order []string
	for _, p := range pairs {
		lr := by[p.Label]
		if lr == nil {
			lr = &LabelResult{Label: p.Label}
			by[p.Label] = lr
			order = append(order, p.Label)
		}
		a, okA := at[p.SourceID]
		b, okB := at[p.DerivedID]
		if !okA || !okB {
			lr.MissingDocs++
			continue
		}
		lr.Pairs++
		j := ExactJaccard(sh, texts[a], texts[b], "")
		js[p.Label] = append(js[p.Label], j)
		lr.MeanTrueJ += j
		if sigs[a] != nil && sigs[b] != nil {
			lr.MeanEstimatedJ += Similarity(sigs[a], sigs[b])
		}
		if num[a] >= 0 && num[b] >= 0 && dd.Root(uint32(num[a])) == dd.Root(uint32(num[b])) {
			lr.Flagged++
		}
	}
	sort.Strings(order)
	out := make([]LabelResult, 0, len(order))
	for _, l := range order {
		lr := by[l]
		if lr.Pairs > 0 {
			lr.FlaggedRate = float64(lr.Flagged) / float64(lr.Pairs)
			lr.MeanTrueJ /= float64(lr.Pairs)
			lr.MeanEstimatedJ /= float64(lr.Pairs)
			v := js[l]
			sort.Float64s(v)
			lr.MedianTrueJ = v[len(v)/2]
		}
		out = append(out, *lr)
	}
	return out, nil
}

// EvalFiles names the inputs of a full evaluation; empty optional paths are skipped.
type EvalFiles struct {
	Data         string // documents to copy with controlled edits (required)
	Groups       string // documents with a group field, e.g. udhr.jsonl (optional)
	PairDocs     string // documents of the labelled pairs, e.g. counter_urd_docs.jsonl (optional)
	LabelledPair string // labelled pairs, e.g. counter_urd_pairs.jsonl (optional)
}

// EvalReport is everything `sieve eval dedup` prints.
type EvalReport struct {
	Config struct {
		Bands     int     `json:"bands"`
		Rows      int     `json:"rows"`
		Seed      uint64  `json:"seed"`
		Shingle   string  `json:"shingle"`
		NGram     int     `json:"ngram"`
		CharNGram int     `json:"char_ngram"`
		Verify    bool    `json:"verify"`
		Threshold float64 `json:"threshold"`
	} `json:"config"`
	Data      string           `json:"data"`
	Synthetic *SyntheticResult `json:"synthetic"`
	Groups    *GroupResult     `json:"groups,omitempty"`
	GroupFile string           `json:"groups_file,omitempty"`
	Labelled  []LabelResult    `json:"labelled_pairs,omitempty"`
	PairsFile string           `json:"labelled_pairs_file,omitempty"`
}

// RunEval runs the synthetic evaluation on files.Data and, when given, the group and
// labelled-pair checks.
func RunEval(files EvalFiles, cfg EvalConfig) (*EvalReport, error) {
	rep := &EvalReport{Data: files.Data}
	so := cfg.Shingle.withDefaults()
	rep.Config.Bands, rep.Config.Rows, rep.Config.Seed = cfg.Params.Bands, cfg.Params.Rows, cfg.Params.Seed
	rep.Config.Shingle, rep.Config.NGram, rep.Config.CharNGram = so.Mode.String(), so.WordN, so.CharN
	rep.Config.Verify, rep.Config.Threshold = cfg.Verify, cfg.Threshold
	docs, err := ReadJSONL[EvalDoc](files.Data)
	if err != nil {
		return nil, err
	}
	if rep.Synthetic, err = EvalSynthetic(docs, cfg); err != nil {
		return nil, err
	}
	if files.Groups != "" {
		g, err := ReadJSONL[EvalDoc](files.Groups)
		if err != nil {
			return nil, err
		}
		if rep.Groups, err = EvalGroups(g, cfg); err != nil {
			return nil, err
		}
		rep.GroupFile = files.Groups
	}
	if files.PairDocs != "" && files.LabelledPair != "" {
		d, err := ReadJSONL[EvalDoc](files.PairDocs)
		if err != nil {
			return nil, err
		}
		p, err := ReadJSONL[LabelledPair](files.LabelledPair)
		if err != nil {
			return nil, err
		}
		if rep.Labelled, err = EvalLabelledPairs(d, p, cfg); err != nil {
			return nil, err
		}
		rep.PairsFile = files.LabelledPair
	}
	return rep, nil
}

// WriteText prints the report for people.
func (r *EvalReport) WriteText(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "dedup evaluation: %s shingles (ngram %d, char_ngram %d), %d bands x %d rows, seed %d, verify %v, threshold %.2f\n",
		c.Shingle, c.NGram, c.CharNGram, c.Bands, c.Rows, c.Seed, c.Verify, c.Threshold)
	s := r.Synthetic
	fmt.Fprintf(w, "\n%s: %d originals (%d too short, %d already near-duplicates dropped), %d documents with the copies\n",
		r.Data, s.Originals, s.SkippedShort, s.DroppedPreexisting, s.Docs)
	if len(s.EditPct) == 2 {
		fmt.Fprintf(w, "  copies with %.1f-%.1f%% of words edited: %d missed of %d (%.2f%%)\n", s.EditPct[0], s.EditPct[1],
			s.MissedCopies, s.Originals, 100*float64(s.MissedCopies)/float64(max(1, s.Originals)))
	}
	fmt.Fprintf(w, "  %-7s %6s %10s %9s %8s\n", "level", "pairs", "mean true J", "flagged", "S-curve")
	for _, l := range s.Levels {
		fmt.Fprintf(w, "  %-7.2f %6d %10.3f %9.3f %8.3f\n", l.Target, l.Pairs, l.MeanTrueJ, l.FlaggedRate, l.SCurve)
	}
	p := s.VsUnrelated
	fmt.Fprintf(w, "  true J >= %.2f vs unrelated: precision %.4f recall %.4f F1 %.4f (tp %d, fp %d, fn %d; %d unrelated pairs, %d flagged, %d of them truly similar)\n",
		c.Threshold, p.Precision, p.Recall, p.F1, p.TP, p.FP, p.FN, s.UnrelatedPairs, s.UnrelatedFlagged, s.FoundPreexisting)
	p = s.AllLevels
	fmt.Fprintf(w, "  all levels (copies below %.2f count as negatives): precision %.4f recall %.4f F1 %.4f\n", c.Threshold, p.Precision, p.Recall, p.F1)
	fmt.Fprintf(w, "  time: signatures %.2fs (%.0f docs per CPU second), index %.2fs, total %.2fs; index %.1f bytes/doc; peak RSS %.1f MiB\n",
		s.SignatureSeconds, s.DocsPerSecPerCore, s.IndexSeconds, s.TotalSeconds, s.IndexBytesPerDoc, float64(s.PeakRSSBytes)/(1<<20))
	if g := r.Groups; g != nil {
		fmt.Fprintf(w, "\n%s: %d documents in %d groups: %d pairs flagged, %d of them translations of each other (must be 0)\n",
			r.GroupFile, g.Docs, g.Groups, g.FlaggedPairs, g.SameGroupFlagged)
		for _, e := range g.SameGroupExamples {
			fmt.Fprintf(w, "  translation pair flagged: %s ~ %s\n", e[0], e[1])
		}
	}
	if len(r.Labelled) > 0 {
		fmt.Fprintf(w, "\n%s: verdicts by label\n", r.PairsFile)
		fmt.Fprintf(w, "  %-6s %6s %8s %9s %12s %13s %12s\n", "label", "pairs", "flagged", "rate", "mean true J", "median true J", "mean est. J")
		for _, l := range r.Labelled {
			fmt.Fprintf(w, "  %-6s %6d %8d %9.3f %12.3f %13.3f %12.3f\n", l.Label, l.Pairs, l.Flagged, l.FlaggedRate, l.MeanTrueJ, l.MedianTrueJ, l.MeanEstimatedJ)
		}
	}
}
