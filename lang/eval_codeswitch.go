package lang

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
)

// CodeSwitchEval measures the code-switching signal (Result.Agreement) on documents built from
// labelled sentences: one-language documents of four sentences, and mixed documents of two
// sentences each of two languages in the same script, alternating. Only languages the
// backend supports, with at least four examples of MinSentenceChars characters, are used.
type CodeSwitchEval struct {
	Docs      int   `json:"docs"`       // one-language documents
	MixedDocs int   `json:"mixed_docs"` // fewer than Docs only when few languages share a script
	Languages int   `json:"languages"`
	Seed      int64 `json:"seed"`
	// MeanAgreement of each kind, over documents with 2+ classified sentences.
	MonoMean  float64 `json:"mono_mean_agreement"`
	MixedMean float64 `json:"mixed_mean_agreement"`
	// Curve: at each min_agreement, the share of one-language documents rejected (lost)
	// and of mixed documents rejected (caught).
	Curve []AgreementPoint `json:"curve"`
}

// AgreementPoint is the code-switching check at one minimum agreement.
type AgreementPoint struct {
	MinAgreement float64 `json:"min_agreement"`
	MonoRejected float64 `json:"mono_rejected"`
	MixedCaught  float64 `json:"mixed_caught"`
}

// EvaluateCodeSwitching builds n documents of each kind from examples (seeded) and labels
// them with id's settings plus the code-switching signal, over the whole document text.
func EvaluateCodeSwitching(ctx context.Context, id *Identifier, examples []Example, n, workers int, seed int64) (*CodeSwitchEval, error) {
	supported := map[string]bool{}
	for _, l := range id.Backend().Labels() {
		supported[Canonical(l)] = true
	}
	byLang := map[string][]string{}
	for _, ex := range examples {
		g := Canonical(ex.Gold)
		if supported[g] && len([]rune(ex.Text)) >= MinSentenceChars {
			byLang[g] = append(byLang[g], strings.TrimSpace(ex.Text))
		}
	}
	var langs []string
	for l, s := range byLang {
		if len(s) >= 4 {
			langs = append(langs, l)
		}
	}
	sort.Strings(langs)
	if len(langs) < 2 {
		return nil, fmt.Errorf("code-switching: need two supported languages with 4+ sentences each, have %d", len(langs))
	}
	groups := map[string][]string{} // script group -> languages
	for _, l := range langs {
		g := scriptGroup(LabelScript(l))
		groups[g] = append(groups[g], l)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	pick := func(l string) string { s := byLang[l]; return s[rng.IntN(len(s))] }
	mono := make([]string, n)
	mixed := make([]string, 0, n)
	for i := range mono {
		l := langs[rng.IntN(len(langs))]
		mono[i] = strings.Join([]string{pick(l), pick(l), pick(l), pick(l)}, " ")
	}
	for tries := 0; len(mixed) < n && tries < 100*n; tries++ {
		a := langs[rng.IntN(len(langs))]
		same := groups[scriptGroup(LabelScript(a))]
		if len(same) < 2 {
			continue
		}
		b := same[rng.IntN(len(same))]
		if b == a {
			continue
		}
		mixed = append(mixed, strings.Join([]string{pick(a), pick(b), pick(a), pick(b)}, " "))
	}
	o := id.opts
	o.Sentences, o.SampleChars = true, -1
	sid := NewIdentifier(id.backend, o)
	run := func(docs []string) ([]Result, error) {
		res := make([]Result, len(docs))
		err := parallel(ctx, len(docs), workers, func(i int) { res[i] = sid.Identify(docs[i]) })
		return res, err
	}
	mr, err := run(mono)
	if err != nil {
		return nil, err
	}
	xr, err := run(mixed)
	if err != nil {
		return nil, err
	}
	ev := &CodeSwitchEval{Docs: n, MixedDocs: len(mixed), Languages: len(langs), Seed: seed, MonoMean: meanAgreement(mr), MixedMean: meanAgreement(xr)}
	for _, t := range []float64{0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1} {
		ev.Curve = append(ev.Curve, AgreementPoint{MinAgreement: t, MonoRejected: belowShare(mr, t), MixedCaught: belowShare(xr, t)})
	}
	return ev, nil
}

func meanAgreement(rs []Result) float64 {
	var sum float64
	n := 0
	for i := range rs {
		if rs[i].Sentences >= 2 {
			sum += rs[i].Agreement()
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// belowShare is the share of results the langid stage would reject at min_agreement t.
func belowShare(rs []Result, t float64) float64 {
	n := 0
	for i := range rs {
		if rs[i].Sentences >= 2 && rs[i].Agreement() < t {
			n++
		}
	}
	return float64(n) / float64(max(len(rs), 1))
}

// WriteText prints the evaluation.
func (e *CodeSwitchEval) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "\ncode-switching signal: %d one-language and %d mixed documents of 4 sentences (%d languages, seed %d)\n"+
		"  mean agreement: one-language %.3f, mixed %.3f\n  %13s  %14s  %12s\n",
		e.Docs, e.MixedDocs, e.Languages, e.Seed, e.MonoMean, e.MixedMean, "min_agreement", "one-lang lost", "mixed caught")
	if err != nil {
		return err
	}
	for _, p := range e.Curve {
		if _, err := fmt.Fprintf(w, "  %13.2f  %13.1f%%  %11.1f%%\n", p.MinAgreement, 100*p.MonoRejected, 100*p.MixedCaught); err != nil {
			return err
		}
	}
	return nil
}
