package lang

import (
	"fmt"
	"math"
	"math/bits"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pemistahl/lingua-go"
	"golang.org/x/text/unicode/norm"
)

// LinguaOptions configure the lingua backend. The zero value means every lingua-go language,
// models loaded on first use, candidates pruned with the embedded profiles.
type LinguaOptions struct {
	// Languages restricts the backend to these languages (labels, codes or names that Lookup
	// understands, all of them lingua-go languages). Empty means all 75.
	Languages []string
	// Preload loads every model of the chosen languages in NewLingua (about 15 s and 2 GB
	// for all 75) instead of on first use. Only the models a text needs are ever loaded
	// otherwise: trigram models for texts of 120 letters or more, unigram to fivegram models
	// for shorter ones.
	Preload bool
	// Profiles are used to prune the candidate languages before lingua-go scores them; nil
	// means DefaultProfiles().
	Profiles *ProfileSet
	// NoPrune makes lingua-go score every language of the text's script, as plain lingua-go
	// does (several times slower, same accuracy).
	NoPrune bool
	// LowAccuracy uses lingua-go's low accuracy mode: trigram models only, also for texts
	// under 120 letters. On dev.tsv's short sentences: macro-F1 0.946 instead of 0.979, about
	// 225 MB instead of 1.9 GB at peak, 4x the speed. Texts of 120 letters or more (a full
	// 300-character sample) are classified the same either way.
	LowAccuracy bool
}

// Candidate pruning: lingua-go scores only the languages whose profile score is within
// pruneMargin (natural log units over the whole sample) of the best, at least pruneMin and
// at most pruneMax of them. On dev.tsv this keeps lingua-go's own answer in the set for all
// but a handful of sentences while cutting the work about tenfold.
const (
	pruneMargin = 20.0
	pruneMin    = 3
	pruneMax    = 8
	// detectorCacheMax bounds the cache of lingua detectors per candidate set.
	detectorCacheMax = 4096
)

// Lingua is the backend built on github.com/pemistahl/lingua-go in high-accuracy mode. It
// adds what lingua-go lacks for bulk use: candidates restricted to the text's script and
// pruned with character profiles, and labels from the language table. Give it NFC text of
// bounded length (Identifier does both). It is safe for concurrent use.
type Lingua struct {
	langs       []linguaLang
	byScript    map[string][]int // script group -> indexes into langs
	labels      []string
	profiles    *ProfileSet
	profIdx     []int // langs index -> profiles index, -1 when there is none
	noPrune     bool
	lowAccuracy bool // LinguaOptions.LowAccuracy

	detectors sync.Map // candMask -> lingua.LanguageDetector
	cached    atomic.Int32
	pool      sync.Pool // *linguaScratch
}

type linguaLang struct {
	lang  lingua.Language
	label string
	group string // script group, see scriptGroup
}

// candMask is a set of indexes into Lingua.langs (lingua-go has 75 languages).
type candMask [2]uint64

func (m *candMask) set(i int)     { m[i>>6] |= 1 << (i & 63) }
func (m candMask) has(i int) bool { return m[i>>6]&(1<<(i&63)) != 0 }
func (m candMask) count() int     { return bits.OnesCount64(m[0]) + bits.OnesCount64(m[1]) }

type linguaScratch struct {
	score *scoreScratch
	order []int
	langs []lingua.Language
}

// NewLingua builds the backend. With Preload it loads the models now; otherwise it is cheap.
func NewLingua(opts LinguaOptions) (*Lingua, error) {
	all := lingua.AllLanguages()
	var chosen []lingua.Language
	if len(opts.Languages) == 0 {
		chosen = all
	} else {
		seen := map[lingua.Language]bool{}
		for _, s := range opts.Languages {
			l, err := linguaLanguage(s)
			if err != nil {
				return nil, err
			}
			if !seen[l] {
				seen[l] = true
				chosen = append(chosen, l)
			}
		}
	}
	sort.Slice(chosen, func(i, j int) bool { return chosen[i] < chosen[j] })
	b := &Lingua{byScript: map[string][]int{}, profiles: opts.Profiles, noPrune: opts.NoPrune, lowAccuracy: opts.LowAccuracy}
	if b.profiles == nil {
		b.profiles = DefaultProfiles()
	}
	for i, l := range chosen {
		label := linguaLabel(l)
		ll := linguaLang{lang: l, label: label, group: scriptGroup(LabelScript(label))}
		b.langs = append(b.langs, ll)
		b.byScript[ll.group] = append(b.byScript[ll.group], i)
		b.labels = append(b.labels, label)
		if l == lingua.Chinese {
			b.labels = append(b.labels, "zho_Hant")
		}
		idx := -1
		if _, ok := b.profiles.index[label]; ok {
			idx = b.profiles.index[label]
		}
		b.profIdx = append(b.profIdx, idx)
	}
	sort.Strings(b.labels)
	b.pool.New = func() any { return &linguaScratch{} }
	if opts.Preload && len(chosen) > 0 {
		langs := chosen
		if len(langs) == 1 {
			// lingua-go needs two languages for a detector; loading is global, any partner does.
			langs = []lingua.Language{chosen[0], otherLanguage(chosen[0])}
		}
		bld := lingua.NewLanguageDetectorBuilder().FromLanguages(langs...).WithPreloadedLanguageModels()
		if opts.LowAccuracy {
			bld = bld.WithLowAccuracyMode() // trigram models only: the others would never be read
		}
		bld.Build()
	}
	return b, nil
}

// CheckLinguaLanguage returns an error unless s (a label, code or name) is a lingua-go
// language.
func CheckLinguaLanguage(s string) error {
	_, err := linguaLanguage(s)
	return err
}

func linguaLanguage(s string) (lingua.Language, error) {
	entry, ok := Lookup(s)
	if !ok {
		return 0, fmt.Errorf("unknown language %q", s)
	}
	if entry.Label == "zho_Hant" {
		return lingua.Chinese, nil
	}
	for _, l := range lingua.AllLanguages() {
		if linguaLabel(l) == entry.Label {
			return l, nil
		}
	}
	return 0, fmt.Errorf("language %q is not supported by lingua-go (supported: %s)", s, strings.Join(LinguaLabels(), ", "))
}

func otherLanguage(l lingua.Language) lingua.Language {
	if l == lingua.English {
		return lingua.French
	}
	return lingua.English
}

// linguaLabel is the table label of a lingua-go language.
func linguaLabel(l lingua.Language) string {
	entry, ok := Lookup(strings.ToLower(l.IsoCode639_3().String()))
	if !ok {
		panic("lang: lingua language " + l.String() + " missing from the table") // caught by tests
	}
	return entry.Label
}

// LinguaLabels lists the labels of every lingua-go language, sorted.
func LinguaLabels() []string {
	var out []string
	for _, l := range lingua.AllLanguages() {
		out = append(out, linguaLabel(l))
	}
	out = append(out, "zho_Hant")
	sort.Strings(out)
	return out
}

// scriptGroup maps a text's or label's script to the group lingua-go routes on: Chinese
// characters of any kind go together, as do Japanese scripts.
func scriptGroup(script string) string {
	switch script {
	case "Hans", "Hant", "Hani":
		return "Hani"
	case "Jpan", "Hira", "Kana":
		return "Jpan"
	case "Kore":
		return "Hang"
	}
	return script
}

// Labels implements Backend.
func (b *Lingua) Labels() []string { return append([]string(nil), b.labels...) }

// Predict implements Backend. The probabilities are lingua-go's confidence values among
// the candidate languages it scored (every language of the script when fewer than the
// pruning minimum), rounded to 1e-6 so that results do not depend on the order lingua-go
// happens to sum in.
func (b *Lingua) Predict(text string, k int, dst []Prediction) []Prediction {
	if !norm.NFC.IsNormalString(text) {
		text = norm.NFC.String(text)
	}
	script, _ := DetectScript(text)
	cands := b.byScript[scriptGroup(script)]
	switch len(cands) {
	case 0:
		return dst
	case 1:
		return append(dst, Prediction{Label: b.labelFor(cands[0], script), Prob: 1})
	}
	sc := b.pool.Get().(*linguaScratch)
	defer b.pool.Put(sc)
	mask := b.candidates(text, script, cands, sc)
	det := b.detector(mask)
	values := det.ComputeLanguageConfidenceValues(text)
	start := len(dst)
	for _, v := range values {
		if v.Value() <= 0 {
			continue
		}
		i, ok := b.indexOf(v.Language())
		if !ok {
			continue
		}
		dst = append(dst, Prediction{Label: b.labelFor(i, script), Prob: math.Round(v.Value()*1e6) / 1e6})
	}
	out := dst[start:]
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Prob != out[j].Prob {
			return out[i].Prob > out[j].Prob
		}
		return out[i].Label < out[j].Label
	})
	if k > 0 && len(out) > k {
		dst = dst[:start+k]
	}
	return dst
}

// labelFor returns the label of langs[i] for text in script (Chinese follows the script).
func (b *Lingua) labelFor(i int, script string) string {
	if b.langs[i].lang == lingua.Chinese && script == "Hant" {
		return "zho_Hant"
	}
	return b.langs[i].label
}

func (b *Lingua) indexOf(l lingua.Language) (int, bool) {
	i := sort.Search(len(b.langs), func(i int) bool { return b.langs[i].lang >= l })
	return i, i < len(b.langs) && b.langs[i].lang == l
}

// candidates picks the languages lingua-go will score: those of the script, pruned by
// profile score unless pruning is off or cannot apply.
func (b *Lingua) candidates(text, script string, cands []int, sc *linguaScratch) candMask {
	var mask candMask
	if b.noPrune || len(cands) <= pruneMin {
		for _, i := range cands {
			mask.set(i)
		}
		return mask
	}
	if sc.score == nil {
		sc.score = b.profiles.pool.Get().(*scoreScratch)
	}
	b.profiles.score(text, sc.score, scriptIndexOfCode(script), -1)
	sc.order = sc.order[:0]
	for _, i := range cands {
		if b.profIdx[i] < 0 {
			mask.set(i) // no profile: always scored
			continue
		}
		sc.order = append(sc.order, i)
	}
	total := func(i int) float64 {
		p := b.profIdx[i]
		return sc.score.tri[p] + sc.score.letter[p]
	}
	sort.SliceStable(sc.order, func(x, y int) bool { return total(sc.order[x]) > total(sc.order[y]) })
	if len(sc.order) > 0 {
		best := total(sc.order[0])
		for n, i := range sc.order {
			if n >= pruneMax || (n >= pruneMin && total(i) < best-pruneMargin) {
				break
			}
			mask.set(i)
		}
	}
	return mask
}

// detector returns a lingua-go detector for the languages in mask, cached.
func (b *Lingua) detector(mask candMask) lingua.LanguageDetector {
	if d, ok := b.detectors.Load(mask); ok {
		return d.(lingua.LanguageDetector)
	}
	langs := make([]lingua.Language, 0, mask.count())
	for i := range b.langs {
		if mask.has(i) {
			langs = append(langs, b.langs[i].lang)
		}
	}
	if len(langs) == 1 {
		// lingua-go needs two languages; predictions for the partner are dropped by Predict.
		langs = append(langs, otherLanguage(langs[0]))
	}
	bld := lingua.NewLanguageDetectorBuilder().FromLanguages(langs...)
	if b.lowAccuracy {
		bld = bld.WithLowAccuracyMode()
	}
	d := bld.Build()
	if b.cached.Load() < detectorCacheMax {
		if _, loaded := b.detectors.LoadOrStore(mask, d); !loaded {
			b.cached.Add(1)
		}
	}
	return d
}
