package fasttext

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// synthModel describes a model file written by writeModel: the fastText format with random
// weights, so that loader and predictor tests run without the fasttext binary.
type synthModel struct {
	version                  int32
	dim                      int32
	loss                     Loss
	wordNgrams, minn, maxn   int32
	bucket                   int32
	words                    []string
	labels                   []string // with the __label__ prefix
	pruned                   map[int32]int32
	quant, qnorm, qout       bool
	dsub                     int32
	seed                     uint64
	inputRows, inputRowsPlus int // inputRows 0: computed
}

func defaultSynth() synthModel {
	return synthModel{
		version: 12, dim: 8, loss: LossSoftmax, wordNgrams: 2, minn: 2, maxn: 4, bucket: 97,
		words:  []string{"</s>", "the", "a", "ọjà", "дом", "maji"},
		labels: []string{"__label__eng_Latn", "__label__yor_Latn", "__label__rus_Cyrl", "__label__swh_Latn"},
		dsub:   2, seed: 1,
	}
}

type binWriter struct{ bytes.Buffer }

func (w *binWriter) i32(v int32)   { binary.Write(&w.Buffer, binary.LittleEndian, v) }
func (w *binWriter) i64(v int64)   { binary.Write(&w.Buffer, binary.LittleEndian, v) }
func (w *binWriter) f64(v float64) { binary.Write(&w.Buffer, binary.LittleEndian, v) }
func (w *binWriter) b(v bool) {
	if v {
		w.WriteByte(1)
	} else {
		w.WriteByte(0)
	}
}
func (w *binWriter) floats(v []float32) {
	for _, f := range v {
		binary.Write(&w.Buffer, binary.LittleEndian, math.Float32bits(f))
	}
}

func randFloats(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// writeModel encodes s in the fastText file format.
func writeModel(s synthModel) []byte {
	rng := rand.New(rand.NewPCG(s.seed, 7))
	var w binWriter
	w.i32(fileMagic)
	w.i32(s.version)
	for _, v := range []int32{s.dim, 5, 5, 1, 5, s.wordNgrams, int32(s.loss), modelSup, s.bucket, s.minn, s.maxn, 100} {
		w.i32(v)
	}
	w.f64(1e-4)
	nw, nl := int32(len(s.words)), int32(len(s.labels))
	w.i32(nw + nl)
	w.i32(nw)
	w.i32(nl)
	w.i64(1000)
	pruneSize := int64(-1)
	if s.pruned != nil {
		pruneSize = int64(len(s.pruned))
	}
	w.i64(pruneSize)
	for i, word := range s.words {
		w.WriteString(word)
		w.WriteByte(0)
		w.i64(int64(100 - i))
		w.WriteByte(0)
	}
	for i, l := range s.labels {
		w.WriteString(l)
		w.WriteByte(0)
		w.i64(int64(50 - i)) // decreasing, as fastText sorts them
		w.WriteByte(1)
	}
	for k, v := range s.pruned {
		w.i32(k)
		w.i32(v)
	}
	rows := s.inputRows
	if rows == 0 {
		rows = int(nw) + int(s.bucket)
		if s.pruned != nil {
			rows = int(nw) + len(s.pruned)
		}
	}
	rows += s.inputRowsPlus
	w.b(s.quant)
	if s.quant {
		writeQuant(&w, rng, rows, int(s.dim), s.dsub, s.qnorm)
	} else {
		writeDense(&w, rng, rows, int(s.dim))
	}
	w.b(s.qout)
	if s.quant && s.qout {
		writeQuant(&w, rng, int(nl), int(s.dim), 2, s.qnorm)
	} else {
		writeDense(&w, rng, int(nl), int(s.dim))
	}
	return w.Bytes()
}

func writeDense(w *binWriter, rng *rand.Rand, rows, cols int) {
	w.i64(int64(rows))
	w.i64(int64(cols))
	w.floats(randFloats(rng, rows*cols))
}

func writeQuant(w *binWriter, rng *rand.Rand, rows, cols int, dsub int32, qnorm bool) {
	nsubq := (int32(cols) + dsub - 1) / dsub
	lastdsub := int32(cols) - (nsubq-1)*dsub
	w.b(qnorm)
	w.i64(int64(rows))
	w.i64(int64(cols))
	w.i32(int32(rows) * nsubq)
	for range rows * int(nsubq) {
		w.WriteByte(byte(rng.IntN(256)))
	}
	writePQ(w, rng, int32(cols), nsubq, dsub, lastdsub)
	if qnorm {
		for range rows {
			w.WriteByte(byte(rng.IntN(256)))
		}
		writePQ(w, rng, 1, 1, 1, 1)
	}
}

func writePQ(w *binWriter, rng *rand.Rand, dim, nsubq, dsub, lastdsub int32) {
	w.i32(dim)
	w.i32(nsubq)
	w.i32(dsub)
	w.i32(lastdsub)
	w.floats(randFloats(rng, int(dim)*ksub))
}

// synthVariants are the model shapes the loader and fuzz tests cover.
func synthVariants() map[string]synthModel {
	v := map[string]synthModel{}
	base := defaultSynth()
	v["softmax"] = base
	hs := base
	hs.loss = LossHS
	v["hs"] = hs
	ova := base
	ova.loss = LossOneVsAll
	v["ova"] = ova
	nochar := base
	nochar.maxn, nochar.minn, nochar.wordNgrams, nochar.bucket = 0, 0, 1, 0
	v["words-only"] = nochar
	v11 := base
	v11.version = 11
	v["version11"] = v11
	q := base
	q.quant = true
	v["quant"] = q
	qn := base
	qn.quant, qn.qnorm, qn.qout, qn.dim, qn.dsub = true, true, true, 7, 2
	qn.loss = LossHS
	v["quant-qnorm-qout"] = qn
	pr := base
	pr.quant = true
	pr.pruned = map[int32]int32{3: 0, 17: 1, 42: 2, 96: 3}
	v["quant-pruned"] = pr
	tiny := base
	tiny.dim, tiny.bucket, tiny.minn, tiny.maxn, tiny.dsub = 3, 5, 1, 3, 2
	tiny.words, tiny.labels = []string{"</s>", "a", "é"}, []string{"__label__x", "__label__y", "__label__z"}
	tiny.quant, tiny.qnorm, tiny.qout, tiny.loss = true, true, true, LossHS
	v["tiny-quant-hs"] = tiny
	for name, s := range v {
		s.seed = uint64(len(name))
		v[name] = s
	}
	return v
}
