// Package fasttext reads fastText supervised models (.bin, and product-quantized .ftz) and
// predicts labels with them, in pure Go, giving the same labels and probabilities as the
// fastText reference implementation (release 0.9.2) to float32 rounding: the same
// tokenisation, word and character n-gram hashing, input averaging, and softmax,
// hierarchical softmax, one-vs-all or negative-sampling output. It runs GlotLID, OpenLID and
// lid.176 style language-identification models.
//
// A Model is immutable once loaded and safe for concurrent use.
package fasttext

import (
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
)

// File format constants of fastText 0.9.x.
const (
	fileMagic   = 793712314
	maxVersion  = 12
	minVersion  = 11
	modelSup    = 3
	ksub        = 256 // centroids per product sub-quantizer
	maxInputRow = math.MaxInt32
)

// Loss is the output layer a model was trained with.
type Loss int32

// Loss values, numbered as in the fastText file format.
const (
	LossHS       Loss = 1 // hierarchical softmax (lid.176)
	LossNS       Loss = 2 // negative sampling
	LossSoftmax  Loss = 3 // softmax (GlotLID, OpenLID)
	LossOneVsAll Loss = 4 // independent sigmoids (multi-label)
)

func (l Loss) String() string {
	switch l {
	case LossHS:
		return "hs"
	case LossNS:
		return "ns"
	case LossSoftmax:
		return "softmax"
	case LossOneVsAll:
		return "ova"
	}
	return fmt.Sprintf("loss(%d)", int32(l))
}

// Info describes a loaded model.
type Info struct {
	Version    int  // file format version (11 or 12)
	Dim        int  // vector size
	Loss       Loss // output layer
	WordNgrams int  // longest word n-gram used as a feature (1 = words only)
	Minn, Maxn int  // character n-gram lengths (Maxn 0 = none)
	Bucket     int  // hash buckets for n-grams
	Words      int  // vocabulary words
	Labels     int  // labels
	Quantized  bool // input matrix product-quantized (.ftz)
	QuantOut   bool // output matrix product-quantized too
	Pruned     bool // n-gram buckets pruned by quantize -cutoff
}

// Model is a loaded fastText supervised model. It is immutable and safe for concurrent use.
type Model struct {
	info   Info
	dict   dictionary
	input  matrix
	output matrix
	labels []string // without the "__label__" prefix

	// wordVecs holds, for the most frequent vocabulary words (ids 0..rows-1; fastText sorts
	// words by decreasing count), the sum of the word's input rows: its own row and its
	// character n-grams. Predict adds that one vector instead of the word's 10-30 rows, which
	// are scattered across the input matrix. The table's size depends only on the model, so
	// predictions are reproducible; they differ from fastText's row-by-row float32 sums only
	// by rounding (about 1e-7 relative), which can swap labels whose probabilities tie.
	wordVecs matrix
	wordRows []uint32 // per word of wordVecs, the rows its vector sums (for the average)

	// hierarchical softmax tree (LossHS): node i < nlabels is leaf i; children -1 at leaves.
	left, right []int32
	sigmoid     [sigmoidTableSize + 1]float32

	pool sync.Pool // *scratch
}

// Info describes the model.
func (m *Model) Info() Info { return m.info }

// Labels returns the model's labels in model order (most frequent in training first), with
// any "__label__" prefix removed. The caller must not modify the slice.
func (m *Model) Labels() []string { return m.labels }

// Load reads a model file. Errors from a malformed file are *FormatError (with Path set).
func Load(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fasttext: %w", err)
	}
	defer f.Close()
	m, err := load(f, inputSize(f))
	if err != nil {
		if fe, ok := err.(*FormatError); ok {
			fe.Path = path
			return nil, fe
		}
		return nil, fmt.Errorf("fasttext: %s: %w", path, err)
	}
	return m, nil
}

// LoadReader reads a model from r, which it reads to the end of the model but does not
// close. When the length of r is known (bytes.Reader, strings.Reader, bytes.Buffer, or a
// seekable regular file such as *os.File) size fields are checked against it before any
// allocation; otherwise arrays grow only as data arrives. Errors from a malformed stream are
// *FormatError.
func LoadReader(r io.Reader) (*Model, error) {
	return load(r, inputSize(r))
}

// inputSize returns the number of bytes left in r, or -1 when it cannot tell.
func inputSize(r io.Reader) int64 {
	switch r := r.(type) {
	case interface{ Len() int }:
		return int64(r.Len())
	case interface {
		io.Seeker
		Stat() (os.FileInfo, error)
	}:
		st, err := r.Stat()
		if err != nil || !st.Mode().IsRegular() {
			return -1
		}
		pos, err := r.Seek(0, io.SeekCurrent)
		if err != nil || pos > st.Size() {
			return -1
		}
		return st.Size() - pos
	}
	return -1
}

func load(r io.Reader, size int64) (*Model, error) {
	d := newDecoder(r, size)
	m := &Model{}
	if err := m.decode(d); err != nil {
		return nil, err
	}
	m.initSigmoid()
	m.initWordVecs(wordVecBytes)
	dim := m.info.Dim
	nlabels := len(m.labels)
	m.pool.New = func() any {
		return &scratch{
			hidden: make([]float32, dim),
			output: make([]float32, nlabels),
		}
	}
	return m, nil
}

func (m *Model) decode(d *decoder) error {
	at := d.off
	magic, err := d.int32("magic number")
	if err != nil {
		return err
	}
	if magic != fileMagic {
		return d.errorf(at, "magic number", ErrNotFastText, "got %d, want %d", magic, fileMagic)
	}
	at = d.off
	version, err := d.int32("version")
	if err != nil {
		return err
	}
	if version < minVersion || version > maxVersion {
		return d.errorf(at, "version", ErrUnsupported, "version %d, want %d..%d", version, minVersion, maxVersion)
	}
	m.info.Version = int(version)
	if err := m.decodeArgs(d); err != nil {
		return err
	}
	if err := m.decodeDict(d); err != nil {
		return err
	}

	quantIn, err := d.bool("input quantization flag")
	if err != nil {
		return err
	}
	if quantIn {
		err = decodeQuant(d, &m.input, "input matrix")
	} else {
		err = decodeDense(d, &m.input, "input matrix")
	}
	if err != nil {
		return err
	}
	if !quantIn && m.dict.pruneSize >= 0 {
		return d.errorf(d.off, "input matrix", ErrUnsupported,
			"pruned dictionary with a dense matrix (an outdated model file, see fastText issue #332)")
	}
	qout, err := d.bool("output quantization flag")
	if err != nil {
		return err
	}
	// fastText reads a quantized output matrix only in a quantized model.
	if quantIn && qout {
		err = decodeQuant(d, &m.output, "output matrix")
	} else {
		err = decodeDense(d, &m.output, "output matrix")
	}
	if err != nil {
		return err
	}
	m.info.Quantized = quantIn
	m.info.QuantOut = quantIn && qout
	return m.check(d)
}

func (m *Model) decodeArgs(d *decoder) error {
	var v [12]int32
	names := [12]string{"dim", "ws", "epoch", "minCount", "neg", "wordNgrams", "loss", "model",
		"bucket", "minn", "maxn", "lrUpdateRate"}
	ats := [12]int64{}
	for i := range v {
		ats[i] = d.off
		x, err := d.int32("args " + names[i])
		if err != nil {
			return err
		}
		v[i] = x
	}
	if _, err := d.float64("args t"); err != nil {
		return err
	}
	dim, wordNgrams, loss, model, bucket, minn, maxn := v[0], v[5], Loss(v[6]), v[7], v[8], v[9], v[10]
	if model != modelSup {
		return d.errorf(ats[7], "args model", ErrUnsupported,
			"model type %d is not supervised (%d): word-vector models have no labels", model, modelSup)
	}
	if loss < LossHS || loss > LossOneVsAll {
		return d.errorf(ats[6], "args loss", ErrUnsupported, "unknown loss %d", int32(loss))
	}
	if dim <= 0 {
		return d.errorf(ats[0], "args dim", ErrCorrupt, "dim %d", dim)
	}
	if bucket < 0 {
		return d.errorf(ats[8], "args bucket", ErrCorrupt, "bucket %d", bucket)
	}
	if m.info.Version == 11 {
		maxn = 0 // old supervised models did not use character n-grams
	}
	// fastText divides by bucket whenever it hashes an n-gram.
	charNgrams := max(uint64(int64(minn)), 1) <= uint64(int64(maxn))
	if bucket == 0 && (charNgrams || wordNgrams > 1) {
		return d.errorf(ats[8], "args bucket", ErrCorrupt,
			"bucket is 0 but the model uses n-grams (wordNgrams %d, minn %d, maxn %d)", wordNgrams, minn, maxn)
	}
	m.info.Dim = int(dim)
	m.info.Loss = loss
	m.info.WordNgrams = int(wordNgrams)
	m.info.Minn, m.info.Maxn = int(minn), int(maxn)
	m.info.Bucket = int(bucket)
	m.dict.bucket, m.dict.minn, m.dict.maxn, m.dict.wordNgrams = bucket, minn, maxn, wordNgrams
	return nil
}

// minEntryBytes is the smallest encoding of a dictionary entry: NUL, int64 count, int8 type.
const minEntryBytes = 10

func (m *Model) decodeDict(d *decoder) error {
	at := d.off
	size, err := d.int32("dictionary size")
	if err != nil {
		return err
	}
	nwords, err := d.int32("dictionary nwords")
	if err != nil {
		return err
	}
	nlabels, err := d.int32("dictionary nlabels")
	if err != nil {
		return err
	}
	if size < 0 || nwords < 0 || nlabels <= 0 || int64(size) != int64(nwords)+int64(nlabels) {
		return d.errorf(at, "dictionary header", ErrCorrupt,
			"size %d, nwords %d, nlabels %d (want nlabels > 0 and size = nwords + nlabels)", size, nwords, nlabels)
	}
	ntokens, err := d.int64("dictionary ntokens")
	if err != nil {
		return err
	}
	at = d.off
	pruneSize, err := d.int64("dictionary pruneidx size")
	if err != nil {
		return err
	}
	if pruneSize < -1 {
		return d.errorf(at, "dictionary pruneidx size", ErrCorrupt, "%d", pruneSize)
	}
	if err := d.need(int64(size)*minEntryBytes, "dictionary entries"); err != nil {
		return err
	}
	dict := &m.dict
	dict.nwords, dict.nlabels, dict.ntokens, dict.pruneSize = nwords, nlabels, ntokens, pruneSize
	// Preallocate only what the input can hold; grow past that as entries arrive.
	hint := d.capHint(int64(size), minEntryBytes)
	dict.ents = make([]entry, 0, hint)
	dict.counts = make([]int64, 0, hint)
	for i := int32(0); i < size; i++ {
		field := "dictionary entry"
		if dict.arena, err = d.cstring(dict.arena, field); err != nil {
			return withIndex(err, i)
		}
		count, err := d.int64(field)
		if err != nil {
			return withIndex(err, i)
		}
		typAt := d.off
		typ, err := d.byte(field)
		if err != nil {
			return withIndex(err, i)
		}
		wantType := byte(0)
		if i >= nwords {
			wantType = 1
		}
		if typ != wantType {
			return d.errorf(typAt, fmt.Sprintf("dictionary entry %d", i), ErrCorrupt,
				"entry type %d, want %d (words first, then labels)", typ, wantType)
		}
		start := uint32(0)
		if len(dict.ents) > 0 {
			start = dict.ents[len(dict.ents)-1].end
		}
		if uint64(len(dict.arena)) > math.MaxUint32 {
			return d.errorf(typAt, fmt.Sprintf("dictionary entry %d", i), ErrUnsupported, "dictionary strings exceed 4 GiB")
		}
		dict.ents = append(dict.ents, entry{off: start, end: uint32(len(dict.arena))})
		dict.counts = append(dict.counts, count)
	}
	if pruneSize > 0 {
		if err := d.need(pruneSize*8, "dictionary pruneidx"); err != nil {
			return err
		}
		dict.prune = make(map[int32]int32, d.capHint(pruneSize, 8))
		for i := int64(0); i < pruneSize; i++ {
			k, err := d.int32("dictionary pruneidx key")
			if err != nil {
				return err
			}
			at := d.off
			v, err := d.int32("dictionary pruneidx value")
			if err != nil {
				return err
			}
			if v < 0 {
				return d.errorf(at, "dictionary pruneidx value", ErrCorrupt, "row %d", v)
			}
			dict.prune[k] = v
		}
	}
	dict.buildTable()
	m.labels = make([]string, nlabels)
	for i := range m.labels {
		m.labels[i] = strings.TrimPrefix(dict.word(nwords+int32(i)), labelPrefix)
	}
	return nil
}

// withIndex adds the entry index to a FormatError's field name.
func withIndex(err error, i int32) error {
	if fe, ok := err.(*FormatError); ok {
		fe.Field = fmt.Sprintf("%s %d", fe.Field, i)
	}
	return err
}

func decodeDense(d *decoder, mat *matrix, name string) error {
	at := d.off
	rows, err := d.int64(name + " rows")
	if err != nil {
		return err
	}
	cols, err := d.int64(name + " cols")
	if err != nil {
		return err
	}
	if rows < 0 || cols <= 0 || rows > maxInputRow || rows > math.MaxInt64/4/cols {
		return d.errorf(at, name+" shape", ErrCorrupt, "%d x %d", rows, cols)
	}
	data, err := d.float32s(rows*cols, name+" data")
	if err != nil {
		return err
	}
	*mat = matrix{rows: int(rows), cols: int(cols), dense: data}
	return nil
}

func decodeQuant(d *decoder, mat *matrix, name string) error {
	qnorm, err := d.bool(name + " qnorm flag")
	if err != nil {
		return err
	}
	at := d.off
	rows, err := d.int64(name + " rows")
	if err != nil {
		return err
	}
	cols, err := d.int64(name + " cols")
	if err != nil {
		return err
	}
	if rows < 0 || cols <= 0 || rows > maxInputRow || cols > math.MaxInt32 {
		return d.errorf(at, name+" shape", ErrCorrupt, "%d x %d", rows, cols)
	}
	at = d.off
	codesize, err := d.int32(name + " code size")
	if err != nil {
		return err
	}
	if codesize < 0 {
		return d.errorf(at, name+" code size", ErrCorrupt, "%d", codesize)
	}
	codes, err := d.bytes(int64(codesize), name+" codes")
	if err != nil {
		return err
	}
	q := &quantMatrix{codes: codes}
	at = d.off
	pq, err := decodePQ(d, name+" product quantizer")
	if err != nil {
		return err
	}
	if int64(pq.dim) != cols {
		return d.errorf(at, name+" product quantizer", ErrCorrupt, "dim %d, matrix has %d columns", pq.dim, cols)
	}
	if int64(codesize) != rows*int64(pq.nsubq) {
		return d.errorf(at, name+" product quantizer", ErrCorrupt,
			"%d codes for %d rows of %d sub-vectors", codesize, rows, pq.nsubq)
	}
	q.nsubq, q.dsub, q.lastdsub, q.centroids = pq.nsubq, pq.dsub, pq.lastdsub, pq.centroids
	if qnorm {
		if q.normCodes, err = d.bytes(rows, name+" norm codes"); err != nil {
			return err
		}
		at = d.off
		npq, err := decodePQ(d, name+" norm quantizer")
		if err != nil {
			return err
		}
		if npq.dim != 1 || npq.nsubq != 1 || npq.dsub != 1 || npq.lastdsub != 1 {
			return d.errorf(at, name+" norm quantizer", ErrCorrupt, "shape dim %d, nsubq %d, dsub %d, lastdsub %d, want all 1",
				npq.dim, npq.nsubq, npq.dsub, npq.lastdsub)
		}
		q.norms = npq.centroids
	}
	*mat = matrix{rows: int(rows), cols: int(cols), q: q}
	return nil
}

type productQuantizer struct {
	dim, nsubq, dsub, lastdsub int
	centroids                  []float32
}

func decodePQ(d *decoder, name string) (productQuantizer, error) {
	var v [4]int32
	at := d.off
	for i, f := range [4]string{"dim", "nsubq", "dsub", "lastdsub"} {
		x, err := d.int32(name + " " + f)
		if err != nil {
			return productQuantizer{}, err
		}
		v[i] = x
	}
	dim, nsubq, dsub, lastdsub := int64(v[0]), int64(v[1]), int64(v[2]), int64(v[3])
	if dim <= 0 || nsubq <= 0 || dsub <= 0 || lastdsub <= 0 || lastdsub > dsub || (nsubq-1)*dsub+lastdsub != dim {
		return productQuantizer{}, d.errorf(at, name, ErrCorrupt,
			"dim %d, nsubq %d, dsub %d, lastdsub %d do not fit together", dim, nsubq, dsub, lastdsub)
	}
	c, err := d.float32s(dim*ksub, name+" centroids")
	if err != nil {
		return productQuantizer{}, err
	}
	return productQuantizer{dim: int(dim), nsubq: int(nsubq), dsub: int(dsub), lastdsub: int(lastdsub), centroids: c}, nil
}

// check validates the shapes of the matrices against the dictionary, so that prediction can
// index them without further checks, and builds the derived tables.
func (m *Model) check(d *decoder) error {
	dim := m.info.Dim
	dict := &m.dict
	nwords, nlabels := int64(dict.nwords), int64(dict.nlabels)
	in, out := &m.input, &m.output
	if in.cols != dim || out.cols != dim {
		return d.errorf(d.off, "matrices", ErrCorrupt, "input has %d columns, output %d, dim is %d", in.cols, out.cols, dim)
	}
	if int64(out.rows) != nlabels {
		return d.errorf(d.off, "output matrix", ErrCorrupt, "%d rows for %d labels", out.rows, nlabels)
	}
	needRows := nwords
	switch {
	case dict.pruneSize < 0:
		needRows += int64(dict.bucket)
	case dict.pruneSize > 0:
		maxRow := int32(-1)
		for _, v := range dict.prune {
			maxRow = max(maxRow, v)
		}
		needRows += int64(maxRow) + 1
	}
	if int64(in.rows) < needRows {
		return d.errorf(d.off, "input matrix", ErrCorrupt,
			"%d rows, the dictionary needs %d (%d words + n-gram buckets)", in.rows, needRows, nwords)
	}
	if m.info.Loss == LossHS {
		if err := m.buildTree(); err != nil {
			return d.errorf(d.off, "label counts", ErrCorrupt, "%v", err)
		}
	}
	if err := dict.initSubwords(); err != nil {
		return d.errorf(d.off, "dictionary", ErrUnsupported, "%v", err)
	}
	m.info.WordNgrams = int(dict.wordNgrams)
	m.info.Words = int(dict.nwords)
	m.info.Labels = int(dict.nlabels)
	m.info.Pruned = dict.pruneSize >= 0
	return nil
}

// buildTree builds the Huffman tree of hierarchical softmax from the label counts, exactly
// as fastText does (labels are sorted by decreasing count, so the two cheapest nodes are
// always at the end of the leaves or the front of the internal nodes).
func (m *Model) buildTree() error {
	osz := int(m.dict.nlabels)
	n := 2*osz - 1
	counts := make([]int64, n)
	m.left = make([]int32, n)
	m.right = make([]int32, n)
	for i := range n {
		m.left[i], m.right[i] = -1, -1
		counts[i] = 1e15
	}
	copy(counts, m.dict.counts[m.dict.nwords:])
	leaf, node := osz-1, osz
	for i := osz; i < n; i++ {
		var mini [2]int
		for j := range mini {
			if leaf >= 0 && counts[leaf] < counts[node] {
				mini[j] = leaf
				leaf--
			} else {
				mini[j] = node
				node++
			}
			if mini[j] >= i {
				return fmt.Errorf("label counts do not make a hierarchical softmax tree (node %d)", i)
			}
		}
		m.left[i], m.right[i] = int32(mini[0]), int32(mini[1])
		counts[i] = counts[mini[0]] + counts[mini[1]]
	}
	return nil
}

// wordVecBytes bounds the memory of Model.wordVecs: 32 MiB holds 262,144 words of a
// 32-dimensional model (GlotLID-like) or 32,768 of a 256-dimensional one.
const wordVecBytes = 32 << 20

// initWordVecs precomputes the summed input rows of the most frequent vocabulary words, at
// most maxBytes of them, using every CPU. Models without character n-grams gain nothing (a
// word is one row) and get none.
func (m *Model) initWordVecs(maxBytes int) {
	m.wordVecs, m.wordRows = matrix{}, nil
	dim := m.info.Dim
	if m.info.Maxn <= 0 || dim <= 0 || m.dict.nwords == 0 {
		return
	}
	k := min(int(m.dict.nwords), maxBytes/(4*dim))
	if k == 0 {
		return
	}
	data := make([]float32, k*dim)
	adviseHugePages(data)
	m.wordRows = make([]uint32, k)
	workers := min(runtime.GOMAXPROCS(0), (k+4095)/4096)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := k*w/workers, k*(w+1)/workers
		wg.Go(func() {
			rows := make([]int32, 0, 64)
			for i := lo; i < hi; i++ {
				e := m.dict.ents[i]
				rows = append(append(rows[:0], int32(i)), m.dict.subIDs[e.subOff:e.subEnd]...)
				m.wordRows[i] = uint32(len(rows))
				m.input.addRows(data[i*dim:(i+1)*dim], rows)
			}
		})
	}
	wg.Wait()
	m.wordVecs = matrix{rows: k, cols: dim, dense: data}
}
