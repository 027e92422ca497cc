package fasttext

import (
	"bytes"
	"errors"
	"hash/fnv"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"sync"
	"testing"
	"testing/iotest"
)

func TestHashString(t *testing.T) {
	// ASCII: plain 32-bit FNV-1a.
	for _, s := range []string{"", "a", "</s>", "__label__eng", "hello world"} {
		f := fnv.New32a()
		f.Write([]byte(s))
		if got, want := hashString(s), f.Sum32(); got != want {
			t.Errorf("hashString(%q) = %#x, want FNV-1a %#x", s, got, want)
		}
	}
	// Bytes >= 0x80 are xored sign-extended (fastText's signed-char quirk), so the result
	// differs from FNV-1a and equals FNV-1a over the sign-extended words.
	tests := []struct {
		give string
	}{{"é"}, {"ọjà"}, {"дом"}, {"\xff"}}
	for _, tt := range tests {
		h := uint32(2166136261)
		for _, b := range []byte(tt.give) {
			x := uint32(b)
			if b >= 0x80 {
				x |= 0xFFFFFF00
			}
			h = (h ^ x) * 16777619
		}
		if got := hashString(tt.give); got != h {
			t.Errorf("hashString(%q) = %#x, want %#x", tt.give, got, h)
		}
		f := fnv.New32a()
		f.Write([]byte(tt.give))
		if hashString(tt.give) == f.Sum32() {
			t.Errorf("hashString(%q) equals unsigned FNV-1a; the signed-char quirk is missing", tt.give)
		}
	}
}

func TestAppendSubwords(t *testing.T) {
	tests := []struct {
		name       string
		give       string
		minn, maxn int32
		want       []string
	}{
		{"ascii 1-2", "<ab>", 1, 2, []string{"<a", "a", "ab", "b", "b>"}},
		{"ascii 2-3", "<abc>", 2, 3, []string{"<a", "<ab", "ab", "abc", "bc", "bc>", "c>"}},
		{"utf8 counts characters", "<éa>", 2, 2, []string{"<é", "éa", "a>"}},
		{"cyrillic 3", "<дом>", 3, 3, []string{"<до", "дом", "ом>"}},
		{"minn above word", "<a>", 4, 6, nil},
		{"maxn 0", "<abc>", 1, 0, nil},
		// Negative maxn compares as a huge unsigned number in fastText: no upper bound.
		{"negative maxn", "<ab>", 3, -1, []string{"<ab", "<ab>", "ab>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := dictionary{nwords: 10, minn: tt.minn, maxn: tt.maxn, bucket: 1000003, pruneSize: -1}
			got := d.appendSubwords(nil, []byte(tt.give))
			var want []int32
			for _, s := range tt.want {
				want = append(want, 10+int32(hashString(s)%1000003))
			}
			if !slices.Equal(got, want) {
				t.Errorf("appendSubwords(%q) = %v, want %v (%q)", tt.give, got, want, tt.want)
			}
		})
	}
}

func TestPushHashPruned(t *testing.T) {
	d := dictionary{nwords: 5, pruneSize: 2, prune: map[int32]int32{7: 0, 9: 1}}
	got := d.pushHash(d.pushHash(d.pushHash(nil, 7), 8), 9)
	if want := []int32{5, 6}; !slices.Equal(got, want) {
		t.Errorf("pruned pushHash = %v, want %v", got, want)
	}
	d = dictionary{nwords: 5, pruneSize: 0}
	if got := d.pushHash(nil, 7); len(got) != 0 {
		t.Errorf("pushHash with every bucket pruned = %v, want none", got)
	}
}

func TestFeatures(t *testing.T) {
	s := defaultSynth()
	m := mustLoad(t, writeModel(s))
	d := &m.dict
	id := func(w string) int32 { return d.find(w, hashString(w)) }
	sub := func(w string) []int32 { return d.appendSubwords(nil, []byte("<"+w+">")) }
	h := func(w string) int32 { return int32(hashString(w)) }
	tests := []struct {
		name string
		give string
		want func() []int32
	}{
		{"empty gives EOS", "", func() []int32 {
			return d.appendWordNgrams([]int32{id(eos)}, []int32{h(eos)})
		}},
		{"known and unknown word, separators", "the\t\vzzz\r\x00", func() []int32 {
			ids := append([]int32{id("the")}, sub("the")...)
			ids = append(ids, sub("zzz")...)
			ids = append(ids, id(eos))
			return d.appendWordNgrams(ids, []int32{h("the"), h("zzz"), h(eos)})
		}},
		{"labels are dropped, newline is a space", "__label__eng_Latn ọjà\n__label__xx дом", func() []int32 {
			ids := append([]int32{id("ọjà")}, sub("ọjà")...)
			ids = append(ids, id("дом"))
			ids = append(ids, sub("дом")...)
			ids = append(ids, id(eos))
			return d.appendWordNgrams(ids, []int32{h("ọjà"), h("дом"), h(eos)})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := allRows(m, tt.give)
			if want := tt.want(); !slices.Equal(got, want) {
				t.Errorf("features(%q) = %v, want %v", tt.give, got, want)
			}
		})
	}
	// Word bigrams: sign-extended hashes combined as in fastText.
	hs := []int32{-5, 7, 1 << 30}
	got := d.appendWordNgrams(nil, hs)
	b := uint64(d.bucket)
	minus5 := uint64(math.MaxUint64 - 4) // -5 sign-extended
	want := []int32{
		d.nwords + int32((minus5*116049371+7)%b),
		d.nwords + int32((uint64(7)*116049371+1<<30)%b),
	}
	if !slices.Equal(got, want) {
		t.Errorf("appendWordNgrams(%v) = %v, want %v", hs, got, want)
	}
}

func TestHeapOrder(t *testing.T) {
	scores := []float32{-3, -1, -2, -7, -0.5, -4, -1.5, -6}
	for k := 1; k <= len(scores)+1; k++ {
		var h []scored
		for i, s := range scores {
			if len(h) == k && s < h[0].score {
				continue
			}
			h = pushHeap(append(h, scored{s, int32(i)}))
			if len(h) > k {
				h = popHeap(h)
			}
		}
		sortHeap(h)
		want := slices.Clone(scores)
		sort.Slice(want, func(i, j int) bool { return want[i] > want[j] })
		want = want[:min(k, len(want))]
		var got []float32
		for _, p := range h {
			got = append(got, p.score)
		}
		if !slices.Equal(got, want) {
			t.Errorf("k=%d: got %v, want %v", k, got, want)
		}
	}
}

// TestPredictMath checks the output layers against a float64 reference computed from the
// model's own features and weights.
func TestPredictMath(t *testing.T) {
	texts := []string{"", "the maji", "ọjà дом a the", "zzz qqq", "a a a a a"}
	for name, s := range synthVariants() {
		t.Run(name, func(t *testing.T) {
			m := mustLoad(t, writeModel(s))
			for _, text := range texts {
				want := referencePredict(m, text)
				got := m.Predict(text, 0, 0)
				// hs prunes tree branches below 1e-5, so it may return fewer labels.
				if len(got) == 0 || (m.info.Loss != LossHS && len(got) != len(want)) {
					t.Fatalf("%q: %d predictions, want %d", text, len(got), len(want))
				}
				for i, p := range got {
					if math.Abs(float64(p.Prob-want[p.Label])) > 1e-4 {
						t.Errorf("%q: %s prob %v, want %v", text, p.Label, p.Prob, want[p.Label])
					}
					if i > 0 && p.Prob > got[i-1].Prob {
						t.Errorf("%q: not sorted: %v", text, got)
					}
				}
			}
		})
	}
}

// TestWordVecsTableSize checks that the precomputed word vectors change nothing but rounding,
// whatever share of the vocabulary they cover (none, some, all).
func TestWordVecsTableSize(t *testing.T) {
	texts := []string{"the maji", "ọjà дом a the", "zzz qqq the", "a a a a a"}
	for name, s := range synthVariants() {
		t.Run(name, func(t *testing.T) {
			m := mustLoad(t, writeModel(s))
			if m.info.Maxn == 0 {
				if m.wordVecs.rows != 0 {
					t.Errorf("a model without character n-grams got %d word vectors", m.wordVecs.rows)
				}
				return
			}
			if m.wordVecs.rows != int(m.dict.nwords) {
				t.Errorf("%d word vectors for %d words", m.wordVecs.rows, m.dict.nwords)
			}
			for _, rows := range []int{0, 1, 2, int(m.dict.nwords)} {
				m.wordVecs = matrix{}
				m.initWordVecs(rows * 4 * m.info.Dim)
				if m.wordVecs.rows != min(rows, int(m.dict.nwords)) {
					t.Fatalf("budget of %d rows gave %d", rows, m.wordVecs.rows)
				}
				for _, text := range texts {
					want := referencePredict(m, text)
					for _, p := range m.Predict(text, 0, 0) {
						if math.Abs(float64(p.Prob-want[p.Label])) > 1e-6 {
							t.Errorf("%d word vectors, %q: %s prob %v, want %v", rows, text, p.Label, p.Prob, want[p.Label])
						}
					}
				}
			}
		})
	}
}

// allRows returns the input rows of text's features, every word's rows apart (as fastText
// adds them).
func allRows(m *Model, text string) []int32 {
	var f feats
	m.addFeatures(&f, text, nil)
	return f.ids
}

// referencePredict computes every label's probability in float64, as fastText defines it
// (before the heap and the threshold).
func referencePredict(m *Model, text string) map[string]float32 {
	ids := allRows(m, text)
	dim := m.info.Dim
	hidden := make([]float64, dim)
	row := make([]float32, dim)
	for _, id := range ids {
		clear(row)
		m.input.addRows(row, []int32{id})
		for j := range hidden {
			hidden[j] += float64(row[j])
		}
	}
	for j := range hidden {
		hidden[j] /= float64(len(ids))
	}
	dot := func(i int) float64 {
		clear(row)
		var d float64
		if m.output.q == nil {
			for j := range dim {
				d += float64(m.output.dense[i*dim+j]) * hidden[j]
			}
			return d
		}
		unit := make([]float32, dim)
		for j := range dim {
			clear(unit)
			unit[j] = 1
			d += float64(m.output.dotRow(unit, i)) * hidden[j]
		}
		return d
	}
	n := len(m.labels)
	probs := make([]float64, n)
	switch m.info.Loss {
	case LossSoftmax:
		mx := math.Inf(-1)
		for i := range probs {
			probs[i] = dot(i)
			mx = math.Max(mx, probs[i])
		}
		var z float64
		for i := range probs {
			probs[i] = math.Exp(probs[i] - mx)
			z += probs[i]
		}
		for i := range probs {
			probs[i] = probs[i]/z + 1e-5
		}
	case LossHS:
		var walk func(node int, p float64)
		walk = func(node int, p float64) {
			if m.left[node] < 0 {
				probs[node] = p
				return
			}
			f := 1 / (1 + math.Exp(-dot(node-n)))
			walk(int(m.left[node]), p*(1-f+1e-5))
			walk(int(m.right[node]), p*(f+1e-5))
		}
		walk(2*n-2, 1)
	default:
		for i := range probs {
			x := dot(i)
			switch {
			case x < -8:
				probs[i] = 1e-5
			case x > 8:
				probs[i] = 1 + 1e-5
			default: // fastText's table sigmoid: the value at the grid point below x
				g := math.Floor((x+8)*32)/32 - 8
				probs[i] = 1/(1+math.Exp(-g)) + 1e-5
			}
		}
	}
	out := make(map[string]float32, n)
	for i, p := range probs {
		out[m.labels[i]] = float32(p)
	}
	return out
}

func mustLoad(t testing.TB, data []byte) *Model {
	t.Helper()
	m, err := LoadReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.bin")
	s := defaultSynth()
	if err := os.WriteFile(path, writeModel(s), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"eng_Latn", "yor_Latn", "rus_Cyrl", "swh_Latn"}
	if !slices.Equal(m.Labels(), want) {
		t.Errorf("Labels() = %v, want %v", m.Labels(), want)
	}
	info := m.Info()
	if info.Dim != 8 || info.Words != len(s.words) || info.Labels != 4 || info.Loss != LossSoftmax || info.Quantized {
		t.Errorf("Info() = %+v", info)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) error = %v, want os.ErrNotExist", err)
	}
}

// TestLoadTruncated loads prefixes of each model variant (every one through the dictionary,
// then a sample): each must fail with ErrTruncated at an offset inside the prefix, whether
// the size is known or not.
func TestLoadTruncated(t *testing.T) {
	for name, s := range synthVariants() {
		t.Run(name, func(t *testing.T) {
			data := writeModel(s)
			if _, err := LoadReader(bytes.NewReader(data)); err != nil {
				t.Fatalf("full model: %v", err)
			}
			for n := 0; n < len(data); n++ {
				if n > 600 && n%11 != 0 && n < len(data)-8 {
					continue
				}
				for _, r := range []io.Reader{bytes.NewReader(data[:n]), iotest.HalfReader(bytes.NewReader(data[:n]))} {
					_, err := LoadReader(r)
					var fe *FormatError
					if !errors.As(err, &fe) || !errors.Is(err, ErrTruncated) {
						t.Fatalf("prefix %d (%T): error %v, want a *FormatError with ErrTruncated", n, r, err)
					}
					if fe.Offset < 0 || fe.Offset > int64(n) {
						t.Fatalf("prefix %d: offset %d outside the input", n, fe.Offset)
					}
				}
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	base := writeModel(defaultSynth())
	// Offsets of fields in the header.
	const (
		offVersion = 4
		offDim     = 8
		offLoss    = 8 + 6*4
		offModel   = 8 + 7*4
		offBucket  = 8 + 8*4
		offDict    = 8 + 12*4 + 8
	)
	put32 := func(off int, v int32) func([]byte) {
		return func(b []byte) {
			b[off], b[off+1], b[off+2], b[off+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		}
	}
	tests := []struct {
		name   string
		give   func([]byte)
		want   error
		offset int64
	}{
		{"bad magic", put32(0, 12345), ErrNotFastText, 0},
		{"future version", put32(offVersion, 13), ErrUnsupported, offVersion},
		{"ancient version", put32(offVersion, 10), ErrUnsupported, offVersion},
		{"cbow model", put32(offModel, 1), ErrUnsupported, offModel},
		{"unknown loss", put32(offLoss, 9), ErrUnsupported, offLoss},
		{"zero dim", put32(offDim, 0), ErrCorrupt, offDim},
		{"negative bucket", put32(offBucket, -1), ErrCorrupt, offBucket},
		{"zero bucket with n-grams", put32(offBucket, 0), ErrCorrupt, offBucket},
		{"negative dict size", put32(offDict, -3), ErrCorrupt, offDict},
		{"dict size mismatch", put32(offDict, 11), ErrCorrupt, offDict},
		{"no labels", func(b []byte) { put32(offDict, 6)(b); put32(offDict+8, 0)(b) }, ErrCorrupt, offDict},
		{"huge dict size", func(b []byte) {
			put32(offDict, math.MaxInt32)(b)
			put32(offDict+4, math.MaxInt32-4)(b)
		}, ErrTruncated, offDict + 4*3 + 8*2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := slices.Clone(base)
			tt.give(data)
			_, err := LoadReader(bytes.NewReader(data))
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if fe.Offset != tt.offset {
				t.Errorf("offset %d, want %d (%v)", fe.Offset, tt.offset, err)
			}
		})
	}
}

func TestLoadShapeErrors(t *testing.T) {
	tests := []struct {
		name string
		give func(*synthModel)
	}{
		{"input rows short of the buckets", func(s *synthModel) { s.inputRowsPlus = -1 }},
		{"pruned dictionary with dense matrix", func(s *synthModel) { s.pruned = map[int32]int32{1: 0} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := defaultSynth()
			tt.give(&s)
			_, err := LoadReader(bytes.NewReader(writeModel(s)))
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want a *FormatError", err)
			}
		})
	}
	s := defaultSynth()
	s.quant = true
	s.pruned = map[int32]int32{1: 0, 2: 5} // row 5 does not exist
	if _, err := LoadReader(bytes.NewReader(writeModel(s))); !errors.Is(err, ErrCorrupt) {
		t.Errorf("pruned row out of range: error %v, want ErrCorrupt", err)
	}
}

// TestLoadHugeSizeNoAllocation checks that size fields claiming gigabytes cost no more
// memory than the input holds, with and without a known input length.
func TestLoadHugeSizeNoAllocation(t *testing.T) {
	s := defaultSynth()
	data := writeModel(s)
	// Offset of the input matrix rows: find it by writing a model and scanning for the shape.
	i := bytes.Index(data, []byte{byte(len(s.words) + int(s.bucket)), 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0})
	if i < 0 {
		t.Fatal("input matrix shape not found")
	}
	for _, rows := range []int64{1 << 28, math.MaxInt32} {
		bad := slices.Clone(data[:i+16])
		for b := range 8 {
			bad[i+b] = byte(rows >> (8 * b))
		}
		bad = append(bad, make([]byte, 1<<16)...) // some data, far less than claimed
		path := filepath.Join(t.TempDir(), "bad.bin")
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, mk := range []func() io.Reader{
			func() io.Reader { return bytes.NewReader(bad) },
			func() io.Reader { return iotest.OneByteReader(bytes.NewReader(bad)) },
			func() io.Reader {
				f, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { f.Close() })
				return f
			},
		} {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := LoadReader(mk())
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrTruncated) {
				t.Errorf("rows %d: error %v, want ErrTruncated", rows, err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("rows %d: allocated %d bytes for a %d-byte input", rows, alloc, len(bad))
			}
		}
	}
}

func TestPredictConcurrent(t *testing.T) {
	for name, s := range synthVariants() {
		t.Run(name, func(t *testing.T) {
			m := mustLoad(t, writeModel(s))
			texts := []string{"the maji", "ọjà дом", "", "a the a the zzz", "дом дом дом"}
			want := make([][]Prediction, len(texts))
			for i, text := range texts {
				want[i] = m.Predict(text, 3, 0)
			}
			var wg sync.WaitGroup
			for g := 0; g < 8; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for r := 0; r < 200; r++ {
						i := (g + r) % len(texts)
						if got := m.Predict(texts[i], 3, 0); !slices.Equal(got, want[i]) {
							t.Errorf("goroutine %d: %q: %v, want %v", g, texts[i], got, want[i])
							return
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}

func TestPredictKAndThreshold(t *testing.T) {
	m := mustLoad(t, writeModel(defaultSynth()))
	all := m.Predict("the maji", 0, 0)
	if len(all) != len(m.Labels()) {
		t.Fatalf("k=0 gave %d labels, want all %d", len(all), len(m.Labels()))
	}
	for k := 1; k <= len(all)+2; k++ {
		got := m.Predict("the maji", k, 0)
		if !slices.Equal(got, all[:min(k, len(all))]) {
			t.Errorf("k=%d: %v, want prefix of %v", k, got, all)
		}
	}
	thr := (all[1].Prob + all[2].Prob) / 2
	if got := m.Predict("the maji", 0, thr); !slices.Equal(got, all[:2]) {
		t.Errorf("threshold %v: %v, want %v", thr, got, all[:2])
	}
}

func TestAppendPredictAllocs(t *testing.T) {
	if raceBuild() {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	for name, s := range synthVariants() {
		m := mustLoad(t, writeModel(s))
		dst := make([]Prediction, 0, 8)
		m.AppendPredict(dst, "warm up the pool", 3, 0)
		allocs := testing.AllocsPerRun(100, func() {
			dst = m.AppendPredict(dst[:0], "the maji ọjà дом unknown words here", 3, 0)
		})
		if allocs != 0 {
			t.Errorf("%s: AppendPredict allocates %v times per call, want 0", name, allocs)
		}
	}
}

// raceBuild reports whether the test binary was built with -race.
func raceBuild() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
