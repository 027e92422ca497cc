package lang

import (
	"fmt"
	"sync"

	"github.com/sieve-data/sieve/lang/fasttext"
)

// FastText is a Backend that runs a fastText supervised language-identification model
// (.bin or quantized .ftz: GlotLID, OpenLID, lid.176, or one trained with `fasttext
// supervised`). Model labels map to the language table through Canonical ("__label__yo" ->
// "yor_Latn"); labels the table lacks are kept without their "__label__" prefix.
// Probabilities are fastText's own (see fasttext.Prediction), capped at 1. Models trained
// with the one-vs-all or negative-sampling loss give independent per-label scores, which
// need not sum to 1.
type FastText struct {
	model  *fasttext.Model
	labels []string       // Labels(): mapped, first occurrence of each
	mapped map[string]int // model label -> index in labels
	dups   int            // model labels that map to an earlier one's table label
	pool   sync.Pool      // *[]fasttext.Prediction
}

var _ Backend = (*FastText)(nil)

// NewFastText loads a fastText model file.
func NewFastText(path string) (*FastText, error) {
	m, err := fasttext.Load(path)
	if err != nil {
		return nil, err
	}
	return NewFastTextModel(m), nil
}

// NewFastTextModel wraps a loaded model.
func NewFastTextModel(m *fasttext.Model) *FastText {
	f := &FastText{model: m, mapped: make(map[string]int)}
	seen := make(map[string]int)
	for _, l := range m.Labels() {
		c := Canonical(l)
		i, ok := seen[c]
		if !ok {
			i = len(f.labels)
			seen[c] = i
			f.labels = append(f.labels, c)
		} else {
			f.dups++
		}
		f.mapped[l] = i
	}
	f.pool.New = func() any {
		s := make([]fasttext.Prediction, 0, 8)
		return &s
	}
	return f
}

// Model returns the underlying model.
func (f *FastText) Model() *fasttext.Model { return f.model }

// Labels lists the table labels of the model's labels, in model order.
func (f *FastText) Labels() []string { return f.labels }

// String describes the backend for logs and reports.
func (f *FastText) String() string {
	info := f.model.Info()
	return fmt.Sprintf("fasttext(%d labels, dim %d, %v)", info.Labels, info.Dim, info.Loss)
}

// Predict implements Backend. It classifies text as one line (line breaks count as spaces)
// with the fastText model; predictions with equal probabilities are put in label order, and
// model labels that map to the same table label appear once, with the higher probability.
func (f *FastText) Predict(text string, k int, dst []Prediction) []Prediction {
	sp := f.pool.Get().(*[]fasttext.Prediction)
	defer f.pool.Put(sp)
	ask := k
	if k > 0 {
		ask = k + f.dups
	}
	preds := f.model.AppendPredict((*sp)[:0], text, ask, 0)
	*sp = preds
	start := len(dst)
	for _, p := range preds {
		if k > 0 && len(dst)-start == k {
			break
		}
		i := f.mapped[p.Label]
		label := f.labels[i]
		dup := false
		for _, q := range dst[start:] {
			if q.Label == label {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		prob := min(float64(p.Prob), 1)
		// Insert in order: higher probability first, ties by label index.
		j := len(dst)
		dst = append(dst, Prediction{})
		for j > start && dst[j-1].Prob == prob && f.index(dst[j-1].Label) > i {
			dst[j] = dst[j-1]
			j--
		}
		dst[j] = Prediction{Label: label, Prob: prob}
	}
	return dst
}

// index returns the position of a table label in Labels (for tie order).
func (f *FastText) index(label string) int {
	for i, l := range f.labels {
		if l == label {
			return i
		}
	}
	return len(f.labels)
}
