package fasttext

import "math"

// Prediction is one label with its probability.
type Prediction struct {
	Label string // label without the "__label__" prefix
	// Prob is what fastText's predict-prob prints: exp(log(p + 1e-5)) for softmax, one-vs-all
	// and negative-sampling models (so a certain label scores 1.00001), and the product of the
	// branch probabilities (each + 1e-5) along the tree path for hierarchical softmax.
	Prob float32
}

// scratch is the per-call working memory of Predict, recycled through Model.pool.
type scratch struct {
	feats
	hidden []float32
	output []float32
	heap   []scored
}

// scored is a label and its log-probability.
type scored struct {
	score float32
	label int32
}

// Predict returns the k most probable labels of text with their probabilities, most
// probable first; k <= 0 means all labels. Labels whose probability is below threshold are
// left out (for hierarchical softmax, as in fastText, tree branches below threshold, or
// below 1e-5 when threshold is 0, are not explored). The result is empty when no label
// reaches threshold, or when the text gives the model no feature at all (possible only for
// models whose vocabulary lacks "</s>").
//
// text is one document: it is split into words on ASCII whitespace and NUL like a line given
// to fastText, and line breaks inside it count as spaces (fastText itself would classify
// each line separately). The result matches `fasttext predict-prob MODEL - k threshold` on
// the same text with its line breaks replaced by spaces.
func (m *Model) Predict(text string, k int, threshold float32) []Prediction {
	return m.AppendPredict(nil, text, k, threshold)
}

// AppendPredict is Predict appending to dst; with a dst of enough capacity it does not
// allocate.
func (m *Model) AppendPredict(dst []Prediction, text string, k int, threshold float32) []Prediction {
	s := m.pool.Get().(*scratch)
	defer m.pool.Put(s)
	heap := m.predict(s, text, k, threshold)
	for _, p := range heap {
		dst = append(dst, Prediction{
			Label: m.labels[p.label],
			Prob:  float32(math.Exp(float64(p.score))),
		})
	}
	return dst
}

// predict returns the best labels of text in s.heap, sorted best first.
func (m *Model) predict(s *scratch, text string, k int, threshold float32) []scored {
	m.addFeatures(&s.feats, text, m.wordRows)
	s.heap = s.heap[:0]
	n := s.nrows + len(s.ids)
	if n == 0 {
		return s.heap
	}
	nlabels := len(m.labels)
	if k <= 0 || k > nlabels {
		k = nlabels
	}
	hidden := s.hidden
	clear(hidden)
	m.wordVecs.addRows(hidden, s.words)
	m.input.addRows(hidden, s.ids)
	scale := float32(1.0 / float64(n))
	for j := range hidden {
		hidden[j] *= scale
	}
	switch m.info.Loss {
	case LossHS:
		s.heap = m.dfs(s.heap, k, stdLog(threshold), int32(2*nlabels-2), 0, hidden)
	case LossSoftmax:
		m.softmax(s.output, hidden)
		s.heap = findKBest(s.heap, k, threshold, s.output)
	default: // LossNS, LossOneVsAll
		for i := range s.output {
			s.output[i] = m.sigmoidLookup(m.output.dotRow(hidden, i))
		}
		s.heap = findKBest(s.heap, k, threshold, s.output)
	}
	sortHeap(s.heap)
	return s.heap
}

// addFeatures sets f to the features of text: the input rows of its tokens, then an
// end-of-line token, then the word n-grams; vocabulary words with a precomputed vector (the
// first len(wordRows): m.wordRows, or nil for every row apart) count as that one vector.
func (m *Model) addFeatures(f *feats, text string, wordRows []uint32) {
	d := &m.dict
	f.reset()
	for i := 0; i < len(text); {
		if isSpace[text[i]] {
			i++
			continue
		}
		start := i
		for i < len(text) && !isSpace[text[i]] {
			i++
		}
		d.addToken(f, text[start:i], wordRows)
	}
	d.addToken(f, eos, wordRows)
	f.ids = d.appendWordNgrams(f.ids, f.hashes)
}

// stdLog is fastText's std_log: the float log of x + 1e-5, computed in double.
func stdLog(x float32) float32 {
	return float32(math.Log(float64(x) + 1e-5))
}

// softmax fills out with the softmax of the output layer, in fastText's float order.
func (m *Model) softmax(out, hidden []float32) {
	for i := range out {
		out[i] = m.output.dotRow(hidden, i)
	}
	mx := out[0]
	for _, v := range out {
		if !(v < mx) { // std::max(v, mx)
			mx = v
		}
	}
	var z float32
	for i, v := range out {
		e := float32(math.Exp(float64(v - mx)))
		out[i] = e
		z += e
	}
	for i := range out {
		out[i] /= z
	}
}

// findKBest keeps in heap the k best of output (probabilities >= threshold) as log-scores.
func findKBest(heap []scored, k int, threshold float32, output []float32) []scored {
	for i, p := range output {
		if p < threshold {
			continue
		}
		lp := stdLog(p)
		if len(heap) == k && lp < heap[0].score {
			continue
		}
		heap = pushHeap(append(heap, scored{lp, int32(i)}))
		if len(heap) > k {
			heap = popHeap(heap)
		}
	}
	return heap
}

// dfs walks the hierarchical softmax tree from node, whose path log-probability is score,
// keeping the k best leaves in heap.
func (m *Model) dfs(heap []scored, k int, logThreshold float32, node int32, score float32, hidden []float32) []scored {
	if score < logThreshold {
		return heap
	}
	if len(heap) == k && score < heap[0].score {
		return heap
	}
	if m.left[node] == -1 && m.right[node] == -1 {
		heap = pushHeap(append(heap, scored{score, node}))
		if len(heap) > k {
			heap = popHeap(heap)
		}
		return heap
	}
	f := m.output.dotRow(hidden, int(node)-len(m.labels))
	f = float32(1.0 / float64(1+float32(math.Exp(float64(-f)))))
	heap = m.dfs(heap, k, logThreshold, m.left[node], score+stdLog(float32(1.0-float64(f))), hidden)
	heap = m.dfs(heap, k, logThreshold, m.right[node], score+stdLog(f), hidden)
	return heap
}

const (
	sigmoidTableSize = 512
	maxSigmoid       = 8
)

func (m *Model) initSigmoid() {
	for i := range m.sigmoid {
		x := float32(i*2*maxSigmoid)/sigmoidTableSize - maxSigmoid
		m.sigmoid[i] = float32(1.0 / (1.0 + float64(float32(math.Exp(float64(-x))))))
	}
}

// sigmoidLookup is fastText's table sigmoid.
func (m *Model) sigmoidLookup(x float32) float32 {
	switch {
	case x < -maxSigmoid:
		return 0
	case x > maxSigmoid:
		return 1
	case x != x: // NaN: fastText stops with an error here
		return x
	}
	i := int64((x + maxSigmoid) * sigmoidTableSize / maxSigmoid / 2)
	return m.sigmoid[i]
}

// The heap functions below are the binary-heap algorithms of the C++ standard library
// (libstdc++), with fastText's comparison "a before b when a.score > b.score": the front is
// the lowest score. Ties between equal scores are therefore ordered exactly as in fastText.

func heapLess(a, b scored) bool { return a.score > b.score }

// siftUp moves value from hole towards top.
func siftUp(h []scored, hole, top int, value scored) {
	parent := (hole - 1) / 2
	for hole > top && heapLess(h[parent], value) {
		h[hole] = h[parent]
		hole = parent
		parent = (hole - 1) / 2
	}
	h[hole] = value
}

// adjust sifts the hole at index hole down to a leaf, then value up from there.
func adjust(h []scored, hole, n int, value scored) {
	top := hole
	child := hole
	for child < (n-1)/2 {
		child = 2 * (child + 1)
		if heapLess(h[child], h[child-1]) {
			child--
		}
		h[hole] = h[child]
		hole = child
	}
	if n&1 == 0 && child == (n-2)/2 {
		child = 2 * (child + 1)
		h[hole] = h[child-1]
		hole = child - 1
	}
	siftUp(h, hole, top, value)
}

// pushHeap restores the heap after an append.
func pushHeap(h []scored) []scored {
	siftUp(h, len(h)-1, 0, h[len(h)-1])
	return h
}

// popHeap removes the front.
func popHeap(h []scored) []scored {
	n := len(h)
	if n > 1 {
		last := n - 1
		value := h[last]
		h[last] = h[0]
		adjust(h, 0, last, value)
	}
	return h[:n-1]
}

// sortHeap turns a heap into best-first order.
func sortHeap(h []scored) {
	for last := len(h) - 1; last > 0; last-- {
		value := h[last]
		h[last] = h[0]
		adjust(h, 0, last, value)
	}
}
