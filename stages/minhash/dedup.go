package minhash

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
)

// DedupOptions configures a streaming Deduper.
type DedupOptions struct {
	Params Params
	// Verify keeps a candidate (a document sharing a band) only when the estimated Jaccard
	// similarity of the two signatures is at least Threshold.
	Verify    bool
	Threshold float64
	// SpillDir holds the temporary (unlinked) files for band keys, signatures and ids; ""
	// keeps them in memory.
	SpillDir string
}

// Match is the outcome of adding one document.
type Match struct {
	Doc        uint32  // number given to the document (insertion order)
	Duplicate  bool    // an earlier document shares a band (and passed verification)
	Of         uint32  // the earliest such document
	OfID       string  // its id
	Similarity float64 // estimated Jaccard similarity with Of
	Cluster    uint32  // first document of the cluster (the one kept)
	ClusterID  string  // its id
	Candidates int     // distinct earlier documents sharing a band, verified or not
}

// Deduper is the single-machine streaming near-duplicate detector. Documents are added in
// read order; a document is a duplicate when it shares a band key with an earlier document
// (the earliest that had that key; with Verify, only if their estimated similarity reaches
// the threshold). Every document's new band keys are indexed, duplicates included, so chains
// of near-duplicates stay in one cluster (union-find, the root being the first document).
// The kept set is exactly the set of documents with no such earlier match, which the sharded
// phases reproduce. A Deduper is not safe for concurrent use.
type Deduper struct {
	opt  DedupOptions
	k    int
	idx  *Index
	sigs *spill // per document: k uint64 signature values, then uint64 id offset<<16 | id length
	ids  *spill

	parent map[uint32]uint32 // union-find over documents in clusters of 2 or more
	size   map[uint32]uint32 // root -> size, for clusters of 2 or more

	rec     []byte
	other   []uint64
	idBuf   []byte
	dups    int64
	checked int64
	refused int64
}

// NewDeduper returns an empty streaming deduper.
func NewDeduper(opt DedupOptions) (*Deduper, error) {
	if err := opt.Params.Validate(); err != nil {
		return nil, err
	}
	if opt.Verify && !(opt.Threshold > 0 && opt.Threshold <= 1) {
		return nil, fmt.Errorf("minhash: verification threshold must be in (0, 1], got %v", opt.Threshold)
	}
	idx, err := NewIndex(opt.Params.Bands, opt.SpillDir)
	if err != nil {
		return nil, err
	}
	sigs, err := newSpill(opt.SpillDir, "sieve-minhash-sigs-*")
	if err != nil {
		idx.Close()
		return nil, err
	}
	ids, err := newSpill(opt.SpillDir, "sieve-minhash-ids-*")
	if err != nil {
		idx.Close()
		sigs.Close()
		return nil, err
	}
	k := opt.Params.NumHashes()
	return &Deduper{
		opt: opt, k: k, idx: idx, sigs: sigs, ids: ids,
		parent: map[uint32]uint32{}, size: map[uint32]uint32{},
		rec: make([]byte, k*8+8), other: make([]uint64, k),
	}, nil
}

// Add indexes one document (its signature and band keys, as Hasher computes them) and says
// whether it duplicates an earlier one. sig and keys are not retained.
func (d *Deduper) Add(id string, sig, keys []uint64) (Match, error) {
	if len(sig) != d.k || len(keys) != d.opt.Params.Bands {
		return Match{}, fmt.Errorf("minhash: signature of %d values and %d band keys, want %d and %d", len(sig), len(keys), d.k, d.opt.Params.Bands)
	}
	var cands [64]uint32
	nc := 0
	var newMask uint64
	for b, key := range keys {
		doc, ok, err := d.idx.Lookup(b, key)
		if err != nil {
			return Match{}, err
		}
		if !ok {
			newMask |= 1 << b
			continue
		}
		seen := false
		for _, c := range cands[:nc] {
			if c == doc {
				seen = true
				break
			}
		}
		if !seen {
			cands[nc] = doc
			nc++
		}
	}
	m := Match{Candidates: nc}
	accepted := cands[:0:nc]
	if nc > 0 {
		cs := cands[:nc]
		slices.Sort(cs)
		for _, c := range cs {
			if err := d.readSig(c, d.other); err != nil {
				return Match{}, err
			}
			sim := Similarity(sig, d.other)
			d.checked++
			if d.opt.Verify && sim < d.opt.Threshold {
				d.refused++
				continue
			}
			if len(accepted) == 0 {
				m.Of, m.Similarity = c, sim
			}
			accepted = append(accepted, c)
		}
	}
	doc, err := d.idx.Add(keys, newMask)
	if err != nil {
		return Match{}, err
	}
	m.Doc = doc
	if err := d.writeSig(id, sig); err != nil {
		return Match{}, err
	}
	if len(accepted) == 0 {
		m.Cluster = doc
		m.ClusterID = id
		return m, nil
	}
	d.dups++
	m.Duplicate = true
	for _, c := range accepted {
		d.union(c, doc)
	}
	m.Cluster = d.find(doc)
	if m.OfID, err = d.ID(m.Of); err != nil {
		return Match{}, err
	}
	if m.Cluster == m.Of {
		m.ClusterID = m.OfID
	} else if m.ClusterID, err = d.ID(m.Cluster); err != nil {
		return Match{}, err
	}
	return m, nil
}

func (d *Deduper) writeSig(id string, sig []uint64) error {
	if len(id) > 0xFFFF {
		id = id[:0xFFFF]
	}
	off, err := d.ids.Append([]byte(id))
	if err != nil {
		return err
	}
	r := d.rec[:0]
	for _, v := range sig {
		r = binary.LittleEndian.AppendUint64(r, v)
	}
	r = binary.LittleEndian.AppendUint64(r, uint64(off)<<16|uint64(len(id)))
	_, err = d.sigs.Append(r)
	return err
}

func (d *Deduper) readSig(doc uint32, dst []uint64) error {
	r := d.rec[:d.k*8]
	if err := d.sigs.ReadAt(r, int64(doc)*int64(d.k*8+8)); err != nil {
		return err
	}
	for i := range dst {
		dst[i] = binary.LittleEndian.Uint64(r[i*8:])
	}
	return nil
}

// ID returns the id of an added document.
func (d *Deduper) ID(doc uint32) (string, error) {
	var ref [8]byte
	if err := d.sigs.ReadAt(ref[:], int64(doc)*int64(d.k*8+8)+int64(d.k*8)); err != nil {
		return "", err
	}
	v := binary.LittleEndian.Uint64(ref[:])
	n := int(v & 0xFFFF)
	if cap(d.idBuf) < n {
		d.idBuf = make([]byte, n)
	}
	b := d.idBuf[:n]
	if err := d.ids.ReadAt(b, int64(v>>16)); err != nil {
		return "", err
	}
	return string(b), nil
}

func (d *Deduper) find(x uint32) uint32 {
	root := x
	for {
		p, ok := d.parent[root]
		if !ok || p == root {
			break
		}
		root = p
	}
	for x != root {
		p := d.parent[x]
		d.parent[x] = root
		x = p
	}
	return root
}

// union joins the clusters of a and b; the root is the smaller document number.
func (d *Deduper) union(a, b uint32) {
	ra, rb := d.find(a), d.find(b)
	if ra == rb {
		return
	}
	if rb < ra {
		ra, rb = rb, ra
	}
	sa, sb := d.clusterSize(ra), d.clusterSize(rb)
	d.parent[rb] = ra
	if _, ok := d.parent[ra]; !ok {
		d.parent[ra] = ra
	}
	delete(d.size, rb)
	d.size[ra] = sa + sb
}

func (d *Deduper) clusterSize(root uint32) uint32 {
	if s, ok := d.size[root]; ok {
		return s
	}
	return 1
}

// ClusterSize returns the current size of the cluster of an added document.
func (d *Deduper) ClusterSize(doc uint32) int { return int(d.clusterSize(d.find(doc))) }

// Clusters calls fn for every cluster of two or more documents, by root, in root order.
func (d *Deduper) Clusters(fn func(root uint32, size int) error) error {
	roots := make([]uint32, 0, len(d.size))
	for r := range d.size {
		roots = append(roots, r)
	}
	sort.Slice(roots, func(i, j int) bool { return roots[i] < roots[j] })
	for _, r := range roots {
		if err := fn(r, int(d.size[r])); err != nil {
			return err
		}
	}
	return nil
}

// Stats are a Deduper's figures.
type Stats struct {
	Docs             int     `json:"docs"`
	Duplicates       int64   `json:"duplicates"`
	Clusters         int     `json:"clusters"` // clusters of two or more documents
	LargestCluster   int     `json:"largest_cluster"`
	CandidatePairs   int64   `json:"candidate_pairs"`
	RefusedByVerify  int64   `json:"refused_by_verification"`
	IndexEntries     int     `json:"index_entries"`
	IndexBytes       int64   `json:"index_bytes"`
	IndexBytesPerDoc float64 `json:"index_bytes_per_doc"`
	ClusterBytes     int64   `json:"cluster_bytes_estimate"`
	SpillBytes       int64   `json:"spill_bytes"`
	SpillInMemory    bool    `json:"spill_in_memory"`
	Rebuilds         int     `json:"index_rebuilds"`
}

// Stats returns the current figures. IndexBytes counts the LSH tables and spill buffers;
// ClusterBytes estimates the union-find maps (which grow with the duplicates only);
// SpillBytes are the band keys, signatures and ids written to the spill (on disk unless
// SpillDir is "").
func (d *Deduper) Stats() Stats {
	s := Stats{
		Docs: d.idx.Len(), Duplicates: d.dups, Clusters: len(d.size), CandidatePairs: d.checked,
		RefusedByVerify: d.refused, IndexEntries: d.idx.Entries(), IndexBytes: d.idx.MemBytes(),
		ClusterBytes:  int64(len(d.parent)+len(d.size)) * 24,
		SpillBytes:    d.idx.SpillBytes() + d.sigs.Len() + d.ids.Len(),
		SpillInMemory: d.opt.SpillDir == "", Rebuilds: d.idx.Rebuilds(),
	}
	if s.Docs > 0 {
		s.IndexBytesPerDoc = float64(s.IndexBytes) / float64(s.Docs)
	}
	for _, n := range d.size {
		s.LargestCluster = max(s.LargestCluster, int(n))
	}
	return s
}

// Close releases the spills.
func (d *Deduper) Close() error {
	err := d.idx.Close()
	if e := d.sigs.Close(); err == nil {
		err = e
	}
	if e := d.ids.Close(); err == nil {
		err = e
	}
	return err
}

// Root returns the first document of the cluster of an added document.
func (d *Deduper) Root(doc uint32) uint32 { return d.find(doc) }
