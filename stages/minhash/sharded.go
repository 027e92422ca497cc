package minhash

import (
	"bufio"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
)

// The sharded mode runs near-duplicate removal as four phases that exchange files in a work
// directory, each phase split into tasks that can run as an array job:
//
//  1. WriteSignatures (one task per input shard): signatures, ids and keep values of the
//     shard's documents, and per band its (band key, document) records sorted by key.
//  2. BucketTask (task i of N): merges, for its units (a band and a range of band keys),
//     the sorted records of every shard and writes the pairs (later document, earliest
//     document with the same band key), verified by estimated Jaccard when asked.
//  3. ClusterTask (task i of N) reduces the pairs of its units to a spanning forest and to
//     each document's earliest match; MergeClusters (one task) joins the forests, which are
//     much smaller than the pairs, into clusters and writes per shard which documents are
//     removed and the cluster of every clustered document.
//  4. OpenFilter (one per shard): what the filter pass needs to drop the removed documents
//     while re-reading the shard.
//
// A document is named by its reference: shard<<32 | position in the shard, which orders
// documents as a reader going through the shards in order sees them. With keep "first" the
// removed set is exactly the streaming Deduper's: a document is removed when it shares a
// band key with an earlier document (the earliest with that key) that passes verification.
// With keep "longest" or "max_meta" every cluster (connected component) keeps one document,
// the one with the highest keep value (the earliest on ties).
//
// Every file starts with a 16-byte header (magic "SVMH", kind, version) and ends with a
// footer holding the payload length and an xxhash64 of header and payload; readers check
// both and name the file in errors. Files are written under a temporary name and renamed.

// Keep says which document of a cluster the sharded mode keeps.
type Keep uint8

const (
	KeepFirst   Keep = iota // no earlier near-duplicate (the streaming rule)
	KeepLongest             // most characters in the cluster
	KeepMaxMeta             // highest ShardDoc.KeepValue in the cluster
)

// ShardedConfig configures every phase; all tasks of a run must use the same values.
type ShardedConfig struct {
	Dir       string // work directory shared by the phases
	Params    Params
	Shingle   ShingleOptions
	Verify    bool
	Threshold float64
	Keep      Keep
	// PerLanguage salts band keys with the document language, so that documents of
	// different languages are never near-duplicates.
	PerLanguage bool
	// RangesPerBand splits each band's key space for the bucket phase; units = Bands *
	// RangesPerBand. 0 means 1.
	RangesPerBand int
}

func (c *ShardedConfig) ranges() int { return max(1, c.RangesPerBand) }

// Units is the number of bucket units (band and key range) the tasks share.
func (c *ShardedConfig) Units() int { return c.Params.Bands * c.ranges() }

// ShardDoc is one document given to WriteSignatures.
type ShardDoc struct {
	ID, Text  string
	Script    string  // ISO 15924 when known; "" detects it
	Lang      string  // for PerLanguage
	KeepValue float64 // for KeepMaxMeta
	// Signature, when not nil, is the document's signature (Params.NumHashes values) as
	// Signer.Sign computes it, with Shingles its return value: callers that sign documents
	// in parallel hand it over instead of having WriteSignatures sign Text again.
	Signature []uint64
	Shingles  int
}

const (
	fileMagic   = "SVMH"
	fileVersion = 1
	headerSize  = 16
	footerSize  = 16
)

func sigDir(dir string, shard int) string {
	return filepath.Join(dir, "signatures", fmt.Sprintf("%05d", shard))
}
func bandPath(dir string, shard, band int) string {
	return filepath.Join(sigDir(dir, shard), fmt.Sprintf("band-%03d.bin", band))
}
func sigsPath(dir string, shard int) string { return filepath.Join(sigDir(dir, shard), "sigs.bin") }
func idsPath(dir string, shard int) string  { return filepath.Join(sigDir(dir, shard), "ids.bin") }
func pairsPath(dir string, unit int) string {
	return filepath.Join(dir, "pairs", fmt.Sprintf("unit-%05d.bin", unit))
}
func forestPath(dir string, task int) string {
	return filepath.Join(dir, "forest", fmt.Sprintf("task-%05d.bin", task))
}
func removedPath(dir string, shard int) string {
	return filepath.Join(dir, "result", fmt.Sprintf("shard-%05d.bin", shard))
}

// checkedWriter writes header, payload and footer to a temporary file renamed on Close.
type checkedWriter struct {
	f    *os.File
	w    *bufio.Writer
	h    *xxhash.Digest
	n    int64
	path string
	buf  [8]byte
}

func createChecked(path, kind string) (*checkedWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return nil, err
	}
	cw := &checkedWriter{f: f, w: bufio.NewWriterSize(f, 1<<20), h: xxhash.New(), path: path}
	var hdr [headerSize]byte
	copy(hdr[:4], fileMagic)
	copy(hdr[4:8], fmt.Sprintf("%-4s", kind))
	binary.LittleEndian.PutUint32(hdr[8:], fileVersion)
	cw.write(hdr[:])
	cw.n = 0
	return cw, nil
}

func (c *checkedWriter) write(p []byte) {
	c.w.Write(p) // errors surface at Flush in Close
	c.h.Write(p)
	c.n += int64(len(p))
}

func (c *checkedWriter) u64(v uint64) {
	binary.LittleEndian.PutUint64(c.buf[:], v)
	c.write(c.buf[:])
}

func (c *checkedWriter) Close() error {
	var ftr [footerSize]byte
	binary.LittleEndian.PutUint64(ftr[:8], uint64(c.n))
	binary.LittleEndian.PutUint64(ftr[8:], c.h.Sum64())
	c.w.Write(ftr[:])
	err := c.w.Flush()
	if err == nil {
		err = c.f.Sync()
	}
	if cerr := c.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(c.f.Name(), c.path)
	}
	if err != nil {
		os.Remove(c.f.Name())
		return fmt.Errorf("minhash: write %s: %w", c.path, err)
	}
	return nil
}

func (c *checkedWriter) Abort() { c.f.Close(); os.Remove(c.f.Name()) }

// checkedFile is a verified file opened for reading its payload.
type checkedFile struct {
	f    *os.File
	path string
	size int64 // payload bytes
}

// openChecked opens path, checks header and footer and the checksum of the whole file.
func openChecked(path, kind string) (*checkedFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("minhash: %w", err)
	}
	fail := func(format string, args ...any) (*checkedFile, error) {
		f.Close()
		return nil, fmt.Errorf("minhash: %s: %s", path, fmt.Sprintf(format, args...))
	}
	st, err := f.Stat()
	if err != nil {
		return fail("%v", err)
	}
	if st.Size() < headerSize+footerSize {
		return fail("truncated (%d bytes)", st.Size())
	}
	var hdr [headerSize]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return fail("%v", err)
	}
	if string(hdr[:4]) != fileMagic || string(hdr[4:8]) != fmt.Sprintf("%-4s", kind) {
		return fail("not a %s file", kind)
	}
	if v := binary.LittleEndian.Uint32(hdr[8:]); v != fileVersion {
		return fail("version %d, want %d", v, fileVersion)
	}
	var ftr [footerSize]byte
	if _, err := f.ReadAt(ftr[:], st.Size()-footerSize); err != nil {
		return fail("%v", err)
	}
	n := int64(binary.LittleEndian.Uint64(ftr[:8]))
	if n != st.Size()-headerSize-footerSize {
		return fail("payload of %d bytes, footer says %d (truncated?)", st.Size()-headerSize-footerSize, n)
	}
	h := xxhash.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, headerSize+n)); err != nil {
		return fail("%v", err)
	}
	if h.Sum64() != binary.LittleEndian.Uint64(ftr[8:]) {
		return fail("checksum mismatch")
	}
	return &checkedFile{f: f, path: path, size: n}, nil
}

func (c *checkedFile) ReadAt(p []byte, off int64) error {
	if off < 0 || off+int64(len(p)) > c.size {
		return fmt.Errorf("minhash: %s: read beyond payload", c.path)
	}
	if _, err := c.f.ReadAt(p, headerSize+off); err != nil {
		return fmt.Errorf("minhash: %s: %w", c.path, err)
	}
	return nil
}

func (c *checkedFile) Section() *io.SectionReader {
	return io.NewSectionReader(c.f, headerSize, c.size)
}
func (c *checkedFile) Close() error { return c.f.Close() }

// Signatures file record: k signature values, keep value (float64 bits), flags (1 = has
// shingles).
func sigRecSize(p Params) int { return p.NumHashes()*8 + 16 }

// ShardSummary describes what WriteSignatures wrote.
type ShardSummary struct {
	Docs, Indexed int
}

// WriteSignatures is phase 1 for one input shard: src calls emit for every document of the
// shard in read order. The records of each band are held in memory (16 bytes per document
// and band) and sorted before they are written, so a shard should fit that budget.
func WriteSignatures(cfg ShardedConfig, shard int, src func(emit func(ShardDoc) error) error) (ShardSummary, error) {
	var sum ShardSummary
	if shard < 0 || shard > math.MaxInt32 {
		return sum, fmt.Errorf("minhash: shard %d out of range", shard)
	}
	h, err := NewHasher(cfg.Params)
	if err != nil {
		return sum, err
	}
	s := &Signer{H: h, Sh: NewShingler(cfg.Shingle)}
	k := cfg.Params.NumHashes()
	sigW, err := createChecked(sigsPath(cfg.Dir, shard), "SIGS")
	if err != nil {
		return sum, err
	}
	defer sigW.Abort()
	type rec struct{ key, ref uint64 }
	bands := make([][]rec, cfg.Params.Bands)
	var ids []byte
	var idOff []uint64
	sig := make([]uint64, k)
	keys := make([]uint64, cfg.Params.Bands)
	err = src(func(d ShardDoc) error {
		pos := uint64(sum.Docs)
		if pos > math.MaxUint32 {
			return fmt.Errorf("minhash: shard %d has more than %d documents", shard, uint64(math.MaxUint32))
		}
		ref := uint64(shard)<<32 | pos
		var n int
		if d.Signature != nil {
			if len(d.Signature) != k {
				return fmt.Errorf("minhash: document %q: signature of %d values, want %d", d.ID, len(d.Signature), k)
			}
			copy(sig, d.Signature)
			n = d.Shingles
		} else {
			n = s.Sign(d.Text, d.Script, sig)
		}
		for _, v := range sig {
			sigW.u64(v)
		}
		kv := d.KeepValue
		if cfg.Keep == KeepLongest {
			kv = float64(utf8.RuneCountInString(d.Text))
		}
		sigW.u64(math.Float64bits(kv))
		flags := uint64(0)
		if n > 0 {
			flags = 1
			var salt uint64
			if cfg.PerLanguage {
				salt = xxhash.Sum64String(d.Lang) | 1
			}
			h.BandKeys(sig, salt, keys)
			for b, key := range keys {
				bands[b] = append(bands[b], rec{key, ref})
			}
			sum.Indexed++
		}
		sigW.u64(flags)
		idOff = append(idOff, uint64(len(ids)))
		ids = append(ids, d.ID...)
		sum.Docs++
		return nil
	})
	if err != nil {
		return sum, err
	}
	if err := sigW.Close(); err != nil {
		return sum, err
	}
	idW, err := createChecked(idsPath(cfg.Dir, shard), "IDS")
	if err != nil {
		return sum, err
	}
	idW.u64(uint64(len(idOff)))
	for _, o := range idOff {
		idW.u64(o)
	}
	idW.u64(uint64(len(ids)))
	idW.write(ids)
	if err := idW.Close(); err != nil {
		return sum, err
	}
	for b, rs := range bands {
		slices.SortFunc(rs, func(x, y rec) int {
			if c := cmp.Compare(x.key, y.key); c != 0 {
				return c
			}
			return cmp.Compare(x.ref, y.ref)
		})
		w, err := createChecked(bandPath(cfg.Dir, shard, b), "BAND")
		if err != nil {
			return sum, err
		}
		for _, r := range rs {
			w.u64(r.key)
			w.u64(r.ref)
		}
		if err := w.Close(); err != nil {
			return sum, err
		}
		bands[b] = nil
	}
	return sum, nil
}

// sigReader reads signature records of the shards by reference.
type sigReader struct {
	cfg   *ShardedConfig
	files map[int]*checkedFile
	buf   []byte
}

func newSigReader(cfg *ShardedConfig) *sigReader {
	return &sigReader{cfg: cfg, files: map[int]*checkedFile{}, buf: make([]byte, sigRecSize(cfg.Params))}
}

func (r *sigReader) read(ref uint64, sig []uint64) (keep float64, err error) {
	shard := int(ref >> 32)
	f, ok := r.files[shard]
	if !ok {
		if f, err = openChecked(sigsPath(r.cfg.Dir, shard), "SIGS"); err != nil {
			return 0, err
		}
		r.files[shard] = f
	}
	rs := int64(len(r.buf))
	if err := f.ReadAt(r.buf, int64(uint32(ref))*rs); err != nil {
		return 0, err
	}
	for i := range sig {
		sig[i] = binary.LittleEndian.Uint64(r.buf[i*8:])
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(r.buf[len(sig)*8:])), nil
}

func (r *sigReader) Close() {
	for _, f := range r.files {
		f.Close()
	}
}

// bandCursor streams the records of one unit from one shard's band file.
type bandCursor struct {
	r        *bufio.Reader
	left     int64 // records left in the unit's key range, or until the end
	key, ref uint64
	unit     uint64
	ranges   uint64
	f        *checkedFile
}

func (c *bandCursor) next() bool {
	if c.left == 0 {
		return false
	}
	var b [16]byte
	if _, err := io.ReadFull(c.r, b[:]); err != nil {
		return false
	}
	c.left--
	c.key = binary.LittleEndian.Uint64(b[:8])
	c.ref = binary.LittleEndian.Uint64(b[8:])
	return fastrange(c.key, c.ranges) == c.unit
}

type cursorHeap []*bandCursor

func (h cursorHeap) Len() int { return len(h) }
func (h cursorHeap) Less(i, j int) bool {
	if h[i].key != h[j].key {
		return h[i].key < h[j].key
	}
	return h[i].ref < h[j].ref
}
func (h cursorHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)   { *h = append(*h, x.(*bandCursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// BucketTask is phase 2, task `task` of `tasks`: for every unit u with u % tasks == task it
// merges the band records of all numShards shards and writes the unit's pair file. Each
// pair is (document, earliest document sharing the band key) with their estimated Jaccard
// similarity; with Verify, pairs below the threshold are left out.
func BucketTask(cfg ShardedConfig, numShards, task, tasks int) error {
	if tasks < 1 || task < 0 || task >= tasks {
		return fmt.Errorf("minhash: bucket task %d of %d", task, tasks)
	}
	sr := newSigReader(&cfg)
	defer sr.Close()
	k := cfg.Params.NumHashes()
	sa, sb := make([]uint64, k), make([]uint64, k)
	for u := task; u < cfg.Units(); u += tasks {
		band, rng := u/cfg.ranges(), uint64(u%cfg.ranges())
		var h cursorHeap
		var files []*checkedFile
		closeAll := func() {
			for _, f := range files {
				f.Close()
			}
		}
		for s := 0; s < numShards; s++ {
			f, err := openChecked(bandPath(cfg.Dir, s, band), "BAND")
			if err != nil {
				closeAll()
				return err
			}
			files = append(files, f)
			n := f.size / 16
			// first record of the unit's key range (fastrange is monotone in the key)
			var kb [8]byte
			lo, hi := int64(0), n
			for lo < hi {
				mid := (lo + hi) / 2
				if err := f.ReadAt(kb[:], mid*16); err != nil {
					closeAll()
					return err
				}
				if fastrange(binary.LittleEndian.Uint64(kb[:]), uint64(cfg.ranges())) < rng {
					lo = mid + 1
				} else {
					hi = mid
				}
			}
			sec := io.NewSectionReader(f.f, headerSize+lo*16, (n-lo)*16)
			c := &bandCursor{r: bufio.NewReaderSize(sec, 64<<10), left: n - lo, unit: rng, ranges: uint64(cfg.ranges()), f: f}
			if c.next() {
				h = append(h, c)
			}
		}
		heap.Init(&h)
		w, err := createChecked(pairsPath(cfg.Dir, u), "PAIR")
		if err != nil {
			closeAll()
			return err
		}
		var curKey, first uint64
		loaded := uint64(math.MaxUint64) // reference whose signature is in sa
		have := false
		for h.Len() > 0 {
			c := h[0]
			key, ref := c.key, c.ref
			if c.next() {
				heap.Fix(&h, 0)
			} else {
				heap.Pop(&h)
			}
			if !have || key != curKey {
				curKey, first, have = key, ref, true
				continue
			}
			if first != loaded {
				if _, err := sr.read(first, sa); err != nil {
					w.Abort()
					closeAll()
					return err
				}
				loaded = first
			}
			if _, err := sr.read(ref, sb); err != nil {
				w.Abort()
				closeAll()
				return err
			}
			sim := Similarity(sa, sb)
			if cfg.Verify && sim < cfg.Threshold {
				continue
			}
			w.u64(ref)
			w.u64(first)
			w.u64(math.Float64bits(sim))
		}
		closeAll()
		if err := w.Close(); err != nil {
			return err
		}
	}
	return nil
}

// forest is a union-find over document references with the earliest match of each
// document that has an earlier near-duplicate.
type forest struct {
	parent map[uint64]uint64
	best   map[uint64]match
}

type match struct {
	of  uint64
	sim float64
}

func newForest() *forest { return &forest{parent: map[uint64]uint64{}, best: map[uint64]match{}} }

func (f *forest) find(x uint64) uint64 {
	root := x
	for {
		p, ok := f.parent[root]
		if !ok || p == root {
			break
		}
		root = p
	}
	for x != root {
		p := f.parent[x]
		f.parent[x] = root
		x = p
	}
	return root
}

func (f *forest) union(a, b uint64) {
	ra, rb := f.find(a), f.find(b)
	if ra == rb {
		return
	}
	if rb < ra {
		ra, rb = rb, ra
	}
	f.parent[rb] = ra
	if _, ok := f.parent[ra]; !ok {
		f.parent[ra] = ra
	}
}

func (f *forest) addMatch(doc, of uint64, sim float64) {
	if m, ok := f.best[doc]; !ok || of < m.of {
		f.best[doc] = match{of, sim}
	}
}

// readRecords calls fn for every record of n uint64 values in a checked file.
func readRecords(path, kind string, n int, fn func(v []uint64) error) error {
	f, err := openChecked(path, kind)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f.Section(), 1<<20)
	buf := make([]byte, 8*n)
	v := make([]uint64, n)
	for {
		if _, err := io.ReadFull(r, buf); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("minhash: %s: %w", path, err)
		}
		for i := range v {
			v[i] = binary.LittleEndian.Uint64(buf[i*8:])
		}
		if err := fn(v); err != nil {
			return err
		}
	}
}

// ClusterTask is phase 3a, task `task` of `tasks`: it joins the pairs of units u with
// u % tasks == task and writes a spanning forest (each clustered document with its local
// root) and each document's earliest match.
func ClusterTask(cfg ShardedConfig, task, tasks int) error {
	if tasks < 1 || task < 0 || task >= tasks {
		return fmt.Errorf("minhash: cluster task %d of %d", task, tasks)
	}
	f := newForest()
	for u := task; u < cfg.Units(); u += tasks {
		err := readRecords(pairsPath(cfg.Dir, u), "PAIR", 3, func(v []uint64) error {
			f.union(v[0], v[1])
			f.addMatch(v[0], v[1], math.Float64frombits(v[2]))
			return nil
		})
		if err != nil {
			return err
		}
	}
	w, err := createChecked(forestPath(cfg.Dir, task), "FRST")
	if err != nil {
		return err
	}
	docs := make([]uint64, 0, len(f.parent))
	for d := range f.parent {
		docs = append(docs, d)
	}
	slices.Sort(docs)
	for _, d := range docs {
		m, ok := f.best[d]
		w.u64(d)
		w.u64(f.find(d))
		if ok {
			w.u64(m.of)
			w.u64(math.Float64bits(m.sim))
		} else {
			w.u64(math.MaxUint64)
			w.u64(0)
		}
	}
	return w.Close()
}

// Result record kinds in the per-shard result files.
const (
	resultRemoved = 1
	resultKept    = 2
)

// MergeClusters is phase 3b (one task): it joins the forests of the `tasks` cluster tasks
// and writes, for each of the numShards shards, the removed documents (with the document
// they duplicate, the estimated similarity and their cluster) and the kept documents that
// belong to a cluster (with its size).
func MergeClusters(cfg ShardedConfig, numShards, tasks int) error {
	f := newForest()
	for t := 0; t < tasks; t++ {
		err := readRecords(forestPath(cfg.Dir, t), "FRST", 4, func(v []uint64) error {
			f.union(v[0], v[1])
			if v[2] != math.MaxUint64 {
				f.addMatch(v[0], v[2], math.Float64frombits(v[3]))
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	members := map[uint64][]uint64{} // root -> documents, in order
	docs := make([]uint64, 0, len(f.parent))
	for d := range f.parent {
		docs = append(docs, d)
	}
	slices.Sort(docs)
	for _, d := range docs {
		r := f.find(d)
		members[r] = append(members[r], d)
	}
	type result struct {
		kind          uint64
		of            uint64
		sim           float64
		cluster, size uint64
	}
	res := map[uint64]result{}
	sr := newSigReader(&cfg)
	defer sr.Close()
	k := cfg.Params.NumHashes()
	sa, sb := make([]uint64, k), make([]uint64, k)
	for root, ms := range members {
		size := uint64(len(ms))
		if cfg.Keep == KeepFirst {
			for _, d := range ms {
				if m, ok := f.best[d]; ok {
					res[d] = result{resultRemoved, m.of, m.sim, root, size}
				} else {
					res[d] = result{resultKept, 0, 0, root, size}
				}
			}
			continue
		}
		keeper, best := ms[0], math.Inf(-1)
		for _, d := range ms {
			kv, err := sr.read(d, sa)
			if err != nil {
				return err
			}
			if kv > best {
				keeper, best = d, kv
			}
		}
		if _, err := sr.read(keeper, sa); err != nil {
			return err
		}
		for _, d := range ms {
			if d == keeper {
				res[d] = result{resultKept, 0, 0, keeper, size}
				continue
			}
			if _, err := sr.read(d, sb); err != nil {
				return err
			}
			res[d] = result{resultRemoved, keeper, Similarity(sa, sb), keeper, size}
		}
	}
	byShard := make([][]uint64, numShards)
	for d := range res {
		s := int(d >> 32)
		if s >= numShards {
			return fmt.Errorf("minhash: document of shard %d in a run of %d shards", s, numShards)
		}
		byShard[s] = append(byShard[s], d)
	}
	for s := 0; s < numShards; s++ {
		slices.Sort(byShard[s])
		w, err := createChecked(removedPath(cfg.Dir, s), "RSLT")
		if err != nil {
			return err
		}
		for _, d := range byShard[s] {
			r := res[d]
			w.u64(d)
			w.u64(r.kind)
			w.u64(r.of)
			w.u64(math.Float64bits(r.sim))
			w.u64(r.cluster)
			w.u64(r.size)
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
	return nil
}

// Decision is what the filter pass does with one document.
type Decision struct {
	Removed     bool
	OfID        string  // removed: the document it duplicates (earliest match, or the keeper)
	Similarity  float64 // removed: estimated Jaccard similarity with OfID
	ClusterID   string  // id of the cluster's first document (keep first) or keeper
	ClusterSize int     // final size of the cluster; 1 for a document in no cluster
}

// ShardFilter answers Decision for the documents of one shard (phase 4).
type ShardFilter struct {
	shard   int
	results map[uint32][5]uint64
	ids     map[int]*idReader
	cfg     ShardedConfig
}

// OpenFilter loads the phase 3 result of one shard. Memory grows with the shard's
// clustered documents only.
func OpenFilter(cfg ShardedConfig, shard int) (*ShardFilter, error) {
	sf := &ShardFilter{shard: shard, results: map[uint32][5]uint64{}, ids: map[int]*idReader{}, cfg: cfg}
	err := readRecords(removedPath(cfg.Dir, shard), "RSLT", 6, func(v []uint64) error {
		sf.results[uint32(v[0])] = [5]uint64{v[1], v[2], v[3], v[4], v[5]}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sf, nil
}

// Decision returns the verdict for the document at position pos of the shard.
func (sf *ShardFilter) Decision(pos int) (Decision, error) {
	r, ok := sf.results[uint32(pos)]
	if !ok {
		return Decision{ClusterSize: 1}, nil
	}
	d := Decision{Removed: r[0] == resultRemoved, ClusterSize: int(r[4])}
	var err error
	if d.ClusterID, err = sf.id(r[3]); err != nil {
		return d, err
	}
	if d.Removed {
		d.Similarity = math.Float64frombits(r[2])
		if d.OfID, err = sf.id(r[1]); err != nil {
			return d, err
		}
	}
	return d, nil
}

// Removed returns how many documents of the shard are removed.
func (sf *ShardFilter) Removed() int {
	n := 0
	for _, r := range sf.results {
		if r[0] == resultRemoved {
			n++
		}
	}
	return n
}

func (sf *ShardFilter) id(ref uint64) (string, error) {
	s := int(ref >> 32)
	r, ok := sf.ids[s]
	if !ok {
		var err error
		if r, err = openIDs(idsPath(sf.cfg.Dir, s)); err != nil {
			return "", err
		}
		sf.ids[s] = r
	}
	return r.get(uint32(ref))
}

// Close releases the id files.
func (sf *ShardFilter) Close() error {
	for _, r := range sf.ids {
		r.f.Close()
	}
	return nil
}

type idReader struct {
	f *checkedFile
	n uint64
}

func openIDs(path string) (*idReader, error) {
	f, err := openChecked(path, "IDS")
	if err != nil {
		return nil, err
	}
	var b [8]byte
	if err := f.ReadAt(b[:], 0); err != nil {
		f.Close()
		return nil, err
	}
	return &idReader{f: f, n: binary.LittleEndian.Uint64(b[:])}, nil
}

// get returns the id of the document at pos. Layout: n, n offsets, total length, bytes.
func (r *idReader) get(pos uint32) (string, error) {
	if uint64(pos) >= r.n {
		return "", fmt.Errorf("minhash: %s: no document %d", r.f.path, pos)
	}
	var b [16]byte // offsets[pos] and offsets[pos+1] (the total length for the last one)
	if err := r.f.ReadAt(b[:], 8+int64(pos)*8); err != nil {
		return "", err
	}
	lo, hi := binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])
	if hi < lo || hi-lo > 1<<20 {
		return "", fmt.Errorf("minhash: %s: bad id offsets", r.f.path)
	}
	s := make([]byte, hi-lo)
	if err := r.f.ReadAt(s, 8+int64(r.n+1)*8+int64(lo)); err != nil {
		return "", err
	}
	return string(s), nil
}
