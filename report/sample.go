package report

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/zstd"
)

// Sample is one document drawn for an audit.
type Sample struct {
	Kind   SampleKind
	Index  int64  // position among the language's documents of this kind, in file order
	ID     string // document id
	Origin string // input file:line (or file@offset) for rejects, input file for kept documents
	Stage  string // rejected: stage name
	Reason string // rejected: reason code
	Detail string // rejected: explanation
	Score  float64
	Text   string // at most maxSampleChars code points
	Chars  int    // length of the whole text in code points
	// TextSHA256 is the hex SHA-256 of the whole text: a verdict ticked for this sample is
	// carried to a later audit only while the document's text has this hash.
	TextSHA256 string
}

// SampleKind says whether a sample was kept or rejected.
type SampleKind string

// Sample kinds.
const (
	Kept     SampleKind = "kept"
	Rejected SampleKind = "rejected"
)

// maxSampleChars bounds the text an audit sample shows: enough to judge language and quality.
const maxSampleChars = 1500

// Key identifies a sample across rebuilds of the audit files.
func (s *Sample) Key() string { return string(s.Kind) + "\x00" + s.ID + "\x00" + s.Origin }

// splitmix is SplitMix64: a small generator whose output is fixed by its seed on every
// platform and Go version, so audit samples are reproducible.
type splitmix struct{ s uint64 }

func (r *splitmix) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// below returns a uniform integer in [0, n), n > 0 (Lemire's multiply-shift with rejection).
func (r *splitmix) below(n uint64) uint64 {
	hi, lo := bits.Mul64(r.next(), n)
	if lo < n {
		t := -n % n
		for lo < t {
			hi, lo = bits.Mul64(r.next(), n)
		}
	}
	return hi
}

// reservoir draws k items uniformly from a stream of unknown length (Algorithm R). Its
// choices depend only on the seed and the positions, never on the items, so the same
// positions are drawn whether a file is streamed or its rows are fetched by index.
type reservoir struct {
	k     int
	seen  int64
	rng   splitmix
	slots []int64 // stream position held by each slot
}

func newReservoir(k int, seed uint64, kind SampleKind, label string) *reservoir {
	h := xxhash.New()
	var b [8]byte
	for i := range b {
		b[i] = byte(seed >> (8 * i))
	}
	_, _ = h.Write(b[:])
	_, _ = h.WriteString(string(kind) + "\x00" + label)
	return &reservoir{k: k, rng: splitmix{h.Sum64()}}
}

// offer takes the next position of the stream and returns the slot it goes into, or -1.
func (v *reservoir) offer() int {
	i := v.seen
	v.seen++
	if v.k <= 0 {
		return -1
	}
	if i < int64(v.k) {
		v.slots = append(v.slots, i)
		return int(i)
	}
	j := v.rng.below(uint64(i + 1))
	if j < uint64(v.k) {
		v.slots[j] = i
		return int(j)
	}
	return -1
}

// positions simulates the reservoir over n items and returns the chosen positions, sorted.
func (v *reservoir) positions(n int64) []int64 {
	for v.seen < n {
		v.offer()
	}
	out := append([]int64(nil), v.slots...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// sampleSet holds the samples of one language and kind as the reservoir fills its slots.
type sampleSet struct {
	res   *reservoir
	slots []Sample
}

func (s *sampleSet) put(slot int, smp Sample) {
	for len(s.slots) <= slot {
		s.slots = append(s.slots, Sample{})
	}
	s.slots[slot] = smp
}

// sorted returns the samples in file order.
func (s *sampleSet) sorted() []Sample {
	out := append([]Sample(nil), s.slots...)
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

func truncate(text string) (string, int) {
	n := utf8.RuneCountInString(text)
	if n <= maxSampleChars {
		return text, n
	}
	i, c := 0, 0
	for i < len(text) && c < maxSampleChars {
		_, size := utf8.DecodeRuneInString(text[i:])
		i += size
		c++
	}
	return text[:i], n
}

// keptRecord is a dataset row as the JSONL writer writes it: a text record, or an
// instruction record (Instruction, Input and Output set; see instructText).
type keptRecord struct {
	ID          string  `json:"id"`
	Text        string  `json:"text"`
	Lang        string  `json:"lang"`
	LangScore   float64 `json:"lang_score"`
	Source      string  `json:"source"`
	Instruction string  `json:"instruction"`
	Input       string  `json:"input"`
	Output      string  `json:"output"`
}

// rejectRecord is a rejects row as the JSONL writer writes it.
type rejectRecord struct {
	ID     string `json:"id"`
	Stage  string `json:"stage"`
	Reason string `json:"reason"`
	Detail string `json:"detail"`
	File   string `json:"file"`
	Line   int64  `json:"line"`
	Offset int64  `json:"offset"`
	Lang   string `json:"lang"`
	Text   string `json:"text"`
}

func origin(file string, line, offset int64) string {
	if line > 0 {
		return file + ":" + strconv.FormatInt(line, 10)
	}
	return file + "@" + strconv.FormatInt(offset, 10)
}

func (r *rejectRecord) sample(idx int64) Sample {
	text, n := truncate(r.Text)
	return Sample{Kind: Rejected, Index: idx, ID: r.ID, Origin: origin(r.File, r.Line, r.Offset),
		Stage: r.Stage, Reason: r.Reason, Detail: r.Detail, Text: text, Chars: n, TextSHA256: textSHA256(r.Text)}
}

func (r *keptRecord) sample(idx int64) Sample {
	if r.Text == "" {
		r.Text = instructText(r.Instruction, r.Input, r.Output)
	}
	text, n := truncate(r.Text)
	return Sample{Kind: Kept, Index: idx, ID: r.ID, Origin: r.Source, Score: r.LangScore, Text: text, Chars: n, TextSHA256: textSHA256(r.Text)}
}

// textSHA256 is the hex SHA-256 of a document's text.
func textSHA256(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// scanKept draws k samples from the dataset files of one language (in shard order) and
// returns them with the number of rows the files hold.
func scanKept(ctx context.Context, dir string, files []string, format string, res *reservoir) ([]Sample, int64, error) {
	set := &sampleSet{res: res}
	if format == "arrow" {
		return scanKeptArrow(ctx, dir, files, set)
	}
	if format == "parquet" {
		var counts []int64
		var total int64
		for _, f := range files {
			n, err := parquetRows(filepath.Join(dir, f))
			if err != nil {
				return nil, 0, err
			}
			counts = append(counts, n)
			total += n
		}
		pos := res.positions(total)
		var base int64
		for i, f := range files {
			var want []int64
			for _, p := range pos {
				if p >= base && p < base+counts[i] {
					want = append(want, p-base)
				}
			}
			if len(want) > 0 {
				rows, err := parquetKeptRows(ctx, filepath.Join(dir, f), want)
				if err != nil {
					return nil, 0, err
				}
				for j, row := range rows {
					slot := slotOf(res, base+want[j])
					set.put(slot, row.sample(base+want[j]))
				}
			}
			base += counts[i]
		}
		return set.sorted(), total, nil
	}
	for _, f := range files {
		err := eachLine(filepath.Join(dir, f), func() bool { return res.offer() >= 0 }, func(line []byte) error {
			var rec keptRecord
			if err := json.Unmarshal(line, &rec); err != nil {
				return err
			}
			idx := res.seen - 1
			set.put(slotOf(res, idx), rec.sample(idx))
			return nil
		})
		if err != nil {
			return nil, 0, err
		}
	}
	return set.sorted(), res.seen, nil
}

// slotOf returns the slot holding stream position p.
func slotOf(res *reservoir, p int64) int {
	for i, q := range res.slots {
		if q == p {
			return i
		}
	}
	return -1
}

// scanRejects draws samples per language from the rejects file and counts its rows per
// language ("und" for rejects without one). reservoirs are created on demand by newRes.
func scanRejects(ctx context.Context, path string, newRes func(label string) *reservoir) (map[string][]Sample, map[string]int64, error) {
	sets := map[string]*sampleSet{}
	counts := map[string]int64{}
	get := func(label string) *sampleSet {
		s := sets[label]
		if s == nil {
			s = &sampleSet{res: newRes(label)}
			sets[label] = s
		}
		return s
	}
	if filepath.Ext(path) == ".parquet" {
		if err := parquetRejects(ctx, path, func(label string) (*sampleSet, int) {
			s := get(label)
			counts[label]++
			return s, s.res.offer()
		}); err != nil {
			return nil, nil, err
		}
	} else {
		err := eachLine(path, func() bool { return true }, func(line []byte) error {
			label, ok := topLevelString(line, "lang")
			var rec rejectRecord
			if !ok {
				if err := json.Unmarshal(line, &rec); err != nil {
					return err
				}
				label = rec.Lang
			}
			if label == "" {
				label = "und"
			}
			counts[label]++
			s := get(label)
			if slot := s.res.offer(); slot >= 0 {
				if ok {
					if err := json.Unmarshal(line, &rec); err != nil {
						return err
					}
				}
				s.put(slot, rec.sample(s.res.seen-1))
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	out := map[string][]Sample{}
	for label, s := range sets {
		out[label] = s.sorted()
	}
	return out, counts, nil
}

// topLevelString finds the string value of key in a flat JSON object (no nested objects, as
// the rejects writer writes them) on one line without decoding the rest: rejects carry their
// text after the language. The bytes `,"key":"` cannot occur inside a JSON string, whose
// quotes are escaped, so in a flat object the first match is the member itself.
// ok is false when the member is absent or not a plain string; the caller then decodes the
// whole line.
func topLevelString(line []byte, key string) (string, bool) {
	pat := `,"` + key + `":"`
	i := bytes.Index(line, []byte(pat))
	if i < 0 {
		return "", false
	}
	v := line[i+len(pat):]
	for j := 0; j < len(v); j++ {
		switch v[j] {
		case '"':
			return string(v[:j]), true
		case '\\':
			var s string
			end := bytes.IndexByte(v[j:], '"')
			for end >= 0 {
				if json.Unmarshal(line[i+len(pat)-1:i+len(pat)+j+end+1], &s) == nil {
					return s, true
				}
				next := bytes.IndexByte(v[j+end+1:], '"')
				if next < 0 {
					break
				}
				end += next + 1
			}
			return "", false
		}
	}
	return "", false
}

// eachLine calls want before each line of a JSONL file (zstd-compressed when it ends in
// .zst) and, when it returns true, use with the line. Lines that are not wanted are skipped
// without being held whole in memory. Errors name the file and line.
func eachLine(path string, want func() bool, use func(line []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if filepath.Ext(path) == ".zst" {
		zr, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	br := bufio.NewReaderSize(r, 1<<16)
	var buf []byte
	for lineNo := int64(1); ; lineNo++ {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) == 0 && err == io.EOF {
			return nil
		}
		wanted := want()
		buf = buf[:0]
		if wanted {
			buf = append(buf, chunk...)
		}
		for errors.Is(err, bufio.ErrBufferFull) {
			chunk, err = br.ReadSlice('\n')
			if wanted {
				buf = append(buf, chunk...)
			}
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("%s:%d: %w", path, lineNo, err)
		}
		if wanted {
			if err := use(buf); err != nil {
				return fmt.Errorf("%s:%d: %w", path, lineNo, err)
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

func parquetRows(path string) (int64, error) {
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	defer pf.Close()
	return pf.NumRows(), nil
}

// openParquet opens a Parquet file for Arrow reading and finds the columns named.
func openParquet(path string, names ...string) (*file.Reader, *pqarrow.FileReader, []int, error) {
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1024}, memory.DefaultAllocator)
	if err != nil {
		pf.Close()
		return nil, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	cols := make([]int, len(names))
	for i, n := range names {
		cols[i] = pf.MetaData().Schema.ColumnIndexByName(n)
		if cols[i] < 0 {
			pf.Close()
			return nil, nil, nil, fmt.Errorf("%s: no column %q", path, n)
		}
	}
	return pf, fr, cols, nil
}

// parquetKeptRows reads the rows at the given sorted positions of a dataset file, reading
// only the row groups that hold them.
func parquetKeptRows(ctx context.Context, path string, want []int64) ([]keptRecord, error) {
	names := []string{"id", "text", "lang_score", "source"}
	if instructionFile(path) {
		names = []string{"id", "output", "lang_score", "source", "instruction", "input"}
	}
	pf, fr, cols, err := openParquet(path, names...)
	if err != nil {
		return nil, err
	}
	defer pf.Close()
	out := make([]keptRecord, 0, len(want))
	var start int64
	w := 0
	for rg := 0; rg < pf.NumRowGroups() && w < len(want); rg++ {
		n := pf.RowGroup(rg).NumRows()
		if want[w] >= start+n {
			start += n
			continue
		}
		tbl, err := fr.ReadRowGroups(ctx, cols, []int{rg})
		if err != nil {
			return nil, fmt.Errorf("%s: row group %d: %w", path, rg, err)
		}
		for ; w < len(want) && want[w] < start+n; w++ {
			i := want[w] - start
			rec := keptRecord{
				ID:        tableString(tbl, 0, i),
				Text:      tableString(tbl, 1, i),
				LangScore: tableFloat(tbl, 2, i),
				Source:    tableString(tbl, 3, i),
			}
			if len(names) > 4 {
				rec.Text = instructText(tableString(tbl, 4, i), tableString(tbl, 5, i), rec.Text)
			}
			out = append(out, rec)
		}
		tbl.Release()
		start += n
	}
	if w < len(want) {
		return nil, fmt.Errorf("%s: row %d is past the end (%d rows)", path, want[w], start)
	}
	return out, nil
}

// parquetRejects streams a rejects Parquet file: for every row, offer gets its language and
// returns the sample set and slot it goes into (-1: not drawn); drawn rows are read whole.
func parquetRejects(ctx context.Context, path string, offer func(label string) (*sampleSet, int)) error {
	pf, fr, cols, err := openParquet(path, "lang", "id", "stage", "reason", "detail", "file", "line", "offset", "text")
	if err != nil {
		return err
	}
	defer pf.Close()
	intern := map[string]string{} // labels, copied once out of the column buffers
	for rg := 0; rg < pf.NumRowGroups(); rg++ {
		langs, err := fr.ReadRowGroups(ctx, cols[:1], []int{rg})
		if err != nil {
			return fmt.Errorf("%s: row group %d: %w", path, rg, err)
		}
		type pick struct {
			set  *sampleSet
			slot int
			row  int64
			idx  int64
		}
		var picks []pick
		for i := int64(0); i < langs.NumRows(); i++ {
			raw := rawString(langs, 0, i)
			label, ok := intern[raw]
			if !ok {
				label = strings.Clone(raw)
				intern[label] = label
			}
			if label == "" {
				label = "und"
			}
			set, slot := offer(label)
			if slot >= 0 {
				picks = append(picks, pick{set, slot, i, set.res.seen - 1})
			}
		}
		langs.Release()
		if len(picks) == 0 {
			continue
		}
		tbl, err := fr.ReadRowGroups(ctx, cols, []int{rg})
		if err != nil {
			return fmt.Errorf("%s: row group %d: %w", path, rg, err)
		}
		for _, p := range picks {
			rec := rejectRecord{
				ID: tableString(tbl, 1, p.row), Stage: tableString(tbl, 2, p.row), Reason: tableString(tbl, 3, p.row),
				Detail: tableString(tbl, 4, p.row), File: tableString(tbl, 5, p.row), Line: tableInt(tbl, 6, p.row),
				Offset: tableInt(tbl, 7, p.row), Text: tableString(tbl, 8, p.row),
			}
			p.set.put(p.slot, rec.sample(p.idx))
		}
		tbl.Release()
	}
	return nil
}

// cell finds row i of column c in a table's chunks.
func cell(tbl arrow.Table, c int, i int64) (arrow.Array, int) {
	for _, ch := range tbl.Column(c).Data().Chunks() {
		if i < int64(ch.Len()) {
			return ch, int(i)
		}
		i -= int64(ch.Len())
	}
	return nil, 0
}

// tableString returns a copy of a string cell: Arrow's Value aliases the column buffer, which
// a sample must not keep alive.
func tableString(tbl arrow.Table, c int, i int64) string {
	return strings.Clone(rawString(tbl, c, i))
}

// rawString returns a string cell aliasing the column buffer: valid while the table is.
func rawString(tbl arrow.Table, c int, i int64) string {
	a, j := cell(tbl, c, i)
	switch a := a.(type) {
	case *array.String:
		return a.Value(j)
	case *array.LargeString:
		return a.Value(j)
	case *array.Binary:
		return string(a.Value(j))
	case *array.Dictionary:
		if s, ok := a.Dictionary().(*array.String); ok {
			return s.Value(a.GetValueIndex(j))
		}
	}
	return ""
}

func tableFloat(tbl arrow.Table, c int, i int64) float64 {
	if a, j := cell(tbl, c, i); a != nil {
		if f, ok := a.(*array.Float64); ok {
			return f.Value(j)
		}
	}
	return 0
}

func tableInt(tbl arrow.Table, c int, i int64) int64 {
	if a, j := cell(tbl, c, i); a != nil {
		if n, ok := a.(*array.Int64); ok {
			return n.Value(j)
		}
	}
	return 0
}
