package stages

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	"github.com/sieve-data/sieve/formats"
	"github.com/sieve-data/sieve/pipeline"
)

// DecontaminateConfig configures the decontaminate stage.
type DecontaminateConfig struct {
	References   []DecontReference `yaml:"references" doc:"evaluation sets whose text must not be in the output: a list of {path, format, text_fields, ...}, read like inputs"`
	NGram        int               `yaml:"ngram" doc:"words per n-gram (13 as GPT-3 and NeMo Curator; datatrove uses 12)"`
	MinNGram     int               `yaml:"min_ngram" doc:"a reference text of fewer than ngram words but at least this many is matched whole (NeMo Curator: 8); shorter ones are not matched; set to ngram to match full n-grams only"`
	CharNGram    int               `yaml:"char_ngram" doc:"n-gram length in characters (graphemes) for text in scripts written without spaces (Thai, Lao, Khmer, Myanmar, Tibetan, Chinese, Japanese)"`
	MinCharNGram int               `yaml:"min_char_ngram" doc:"as min_ngram, in characters, for those scripts"`
	MinOverlap   int               `yaml:"min_overlap" doc:"distinct reference n-grams a document must share to be rejected"`
	Fields       []string          `yaml:"fields" doc:"instruction records: turns checked: prompt (user), response (assistant), system, messages (every turn); a text record is checked whole"`
	// FoldDiacritics matches text with and without the accents and tone marks of Latin,
	// Greek and Cyrillic letters alike.
	FoldDiacritics bool `yaml:"fold_diacritics" doc:"also match copies written without accents or tone marks (Yoruba, Vietnamese, ... text online often lacks them): Latin, Greek and Cyrillic letters count as their base letter"`
}

// DecontReference is one entry of references: files read through the input readers.
type DecontReference struct {
	Path       string            `yaml:"path" doc:"file, directory or glob, relative to the config file"`
	Format     string            `yaml:"format" doc:"auto | jsonl | text | csv | tsv | parquet | arrow"`
	TextFields []string          `yaml:"text_fields" doc:"fields (jsonl; dotted paths reach into objects) or columns holding reference text, each matched on its own; a field may hold a list of texts; default [text]"`
	TextMode   string            `yaml:"text_mode" doc:"text files: line (a reference text per line, the default) | paragraph | file"`
	Columns    []string          `yaml:"columns" doc:"csv/tsv without a header row: the column names"`
	Delimiter  string            `yaml:"delimiter" doc:"csv/tsv field separator"`
	Quoting    string            `yaml:"quoting" doc:"csv/tsv: csv | none"`
	Adapter    string            `yaml:"adapter" doc:"instruction records (alpaca | sharegpt | messages | pairs | mapping): every user and assistant turn is reference text"`
	Fields     map[string]string `yaml:"fields" doc:"adapter: the record's field for each part, as for inputs"`
}

// Turn selections of DecontaminateConfig.Fields.
const (
	decontPrompt   = "prompt"
	decontResponse = "response"
	decontSystem   = "system"
	decontMessages = "messages"
)

// DefaultDecontaminateConfig returns the defaults: 13-word n-grams (25 graphemes in scripts
// without spaces), short reference texts of 8 or more words matched whole, one shared
// n-gram rejects, every turn of an instruction record checked.
func DefaultDecontaminateConfig() DecontaminateConfig {
	return DecontaminateConfig{NGram: 13, MinNGram: 8, CharNGram: 25, MinCharNGram: 15, MinOverlap: 1, Fields: []string{decontMessages}}
}

// input returns the reader configuration of a reference entry. Per-record problems come
// back as pre-rejected documents so the stage can tell an empty text (skipped) from a
// broken record (an error).
func (r *DecontReference) input() pipeline.Input {
	in := pipeline.DefaultInput()
	in.Path = r.Path
	if r.Format != "" {
		in.Format = r.Format
	}
	if len(r.TextFields) > 0 {
		in.TextField = r.TextFields[0]
	}
	if r.TextMode != "" {
		in.TextMode = r.TextMode
	}
	in.Columns, in.Delimiter, in.Quoting = r.Columns, r.Delimiter, r.Quoting
	in.Adapter, in.Fields = r.Adapter, r.Fields
	return in
}

// Validate implements pipeline.Validator.
func (c *DecontaminateConfig) Validate() []pipeline.FieldError {
	var errs []pipeline.FieldError
	add := func(f, format string, args ...any) {
		errs = append(errs, pipeline.FieldError{Field: f, Msg: fmt.Sprintf(format, args...)})
	}
	if len(c.References) == 0 {
		add("references", "required: at least one file of evaluation data, e.g. [{path: benchmarks/flores_yor.devtest.txt}]")
	}
	for i := range c.References {
		errs = append(errs, c.References[i].validate(fmt.Sprintf("references[%d].", i))...)
	}
	if c.NGram < 2 || c.NGram > maxGramLen {
		add("ngram", "must be in 2..%d, got %d", maxGramLen, c.NGram)
	} else if c.MinNGram < 1 || c.MinNGram > c.NGram {
		add("min_ngram", "must be in 1..ngram (%d), got %d", c.NGram, c.MinNGram)
	}
	if c.CharNGram < 2 || c.CharNGram > maxGramLen {
		add("char_ngram", "must be in 2..%d, got %d", maxGramLen, c.CharNGram)
	} else if c.MinCharNGram < 1 || c.MinCharNGram > c.CharNGram {
		add("min_char_ngram", "must be in 1..char_ngram (%d), got %d", c.CharNGram, c.MinCharNGram)
	}
	if c.MinOverlap < 1 {
		add("min_overlap", "must be >= 1, got %d", c.MinOverlap)
	}
	if len(c.Fields) == 0 {
		add("fields", "must name at least one of prompt, response, system, messages")
	}
	for i, f := range c.Fields {
		switch f {
		case decontPrompt, decontResponse, decontSystem, decontMessages:
		default:
			add(fmt.Sprintf("fields[%d]", i), "must be one of prompt, response, system, messages; got %q", f)
		}
	}
	return errs
}

func (r *DecontReference) validate(prefix string) []pipeline.FieldError {
	var errs []pipeline.FieldError
	add := func(f, format string, args ...any) {
		errs = append(errs, pipeline.FieldError{Field: prefix + f, Msg: fmt.Sprintf(format, args...)})
	}
	in := r.input()
	for _, fe := range in.Validate() {
		if fe.Field == "text_field" {
			fe.Field = "text_fields"
		}
		add(fe.Field, "%s", fe.Msg)
	}
	if in.Format != formats.FormatAuto {
		if _, ok := pipeline.LookupReader(in.Format); !ok {
			add("format", "unknown format %q; valid: auto, %s", in.Format, strings.Join(pipeline.ReaderNames(), ", "))
		}
	}
	if r.Adapter != "" && len(r.TextFields) > 0 {
		add("text_fields", "not with an adapter: every user and assistant turn of its records is reference text")
	}
	for j, f := range r.TextFields {
		if f == "" || slices.Index(r.TextFields, f) < j {
			add(fmt.Sprintf("text_fields[%d]", j), "want a distinct, non-empty field name, got %q", f)
		}
	}
	return errs
}

// Decontaminate rejects documents that share n-grams with evaluation data (benchmark test
// splits), as GPT-3, NeMo Curator's task decontamination and datatrove's n-gram
// decontamination do. The reference n-grams are read once, at start-up, into a sorted
// table of 64-bit keys; checking a document hashes its n-grams and looks each one up.
type Decontaminate struct {
	cfg     DecontaminateConfig
	grams   gramTable[uint32] // n-gram key -> index into items of the first text holding it
	anchors gramTable[uint64] // key of the first min units of short texts -> their lengths (bit L-min)
	pow     []uint64
	modes   [2]decontMode // word units, grapheme units
	roles   uint8         // instruction turns checked (roleBit)
	items   []refItem
	files   []string // reference files, as read
	labels  []string // field labels of items
	refs    []refStats
	pool    sync.Pool

	partial    atomic.Int64   // documents kept with fewer than min_overlap shared n-grams
	rejectedBy []atomic.Int64 // rejected documents by file of their first match
}

// decontMode is the n-gram length of one kind of text and what the references hold of it.
type decontMode struct {
	n, min int
	full   bool // some reference n-grams of n units
	short  bool // some reference texts of min..n-1 units, matched whole
}

// refItem is one reference text: where it was read.
type refItem struct {
	file, label int32
	pos         pipeline.Position
}

// refStats describes what one references entry held.
type refStats struct {
	Path     string          `json:"path"`
	Files    []refFileReport `json:"files"`
	Texts    int64           `json:"texts"`       // texts indexed (n-grams or whole)
	NGrams   int64           `json:"ngrams"`      // n-grams of ngram (char_ngram) units, repeats included
	Whole    int64           `json:"whole_texts"` // texts of min_ngram..ngram-1 units, matched whole
	TooShort int64           `json:"too_short"`   // texts below min_ngram units: not matched
	Empty    int64           `json:"empty"`       // empty records or fields
}

type refFileReport struct {
	Path    string `json:"path"`
	SHA256  string `json:"sha256"`
	Records int64  `json:"records"`
}

type decontScratch struct {
	unitScratch
	matched []int32 // indexes into grams of every match, repeats included
}

// decontMatch is the first match found in a document.
type decontMatch struct {
	first   int    // index into grams, -1 before any match
	excerpt string // the document's words that matched it
}

var (
	_ pipeline.Stage    = (*Decontaminate)(nil)
	_ pipeline.Reporter = (*Decontaminate)(nil)
)

func init() {
	pipeline.MustRegister("decontaminate", pipeline.Spec{
		Summary:      "Rejects documents sharing n-grams with evaluation data (benchmark test splits: FLORES, Belebele, AfriQA...), as GPT-3 / NeMo Curator / datatrove decontamination; 13 words, or 25 characters in scripts without spaces.",
		Example:      "{references: [{path: bench/flores_yor.devtest.txt}, {path: bench/afriqa_yor_test.jsonl, text_fields: [question, answer]}], ngram: 13, min_overlap: 1}",
		Mode:         pipeline.Parallel,
		ReportStatic: []string{"references", "distinct_ngrams", "reference_texts", "index_bytes", "bytes_per_ngram"},
		Config:       func() any { c := DefaultDecontaminateConfig(); return &c },
		New: func(cfg any, env *pipeline.Env) (pipeline.Stage, error) {
			return NewDecontaminate(*cfg.(*DecontaminateConfig), env.BaseDir)
		},
	})
}

// roleBit maps an instruction turn's role to a bit of Decontaminate.roles.
func roleBit(role string) uint8 {
	switch role {
	case pipeline.RoleUser:
		return 1
	case pipeline.RoleAssistant:
		return 2
	case pipeline.RoleSystem:
		return 4
	}
	return 0
}

// NewDecontaminate reads every reference file (paths relative to baseDir) and builds the
// n-gram table. A missing or unreadable file, a broken record, a field that is not there and
// references that hold nothing long enough to match are errors naming the file.
func NewDecontaminate(cfg DecontaminateConfig, baseDir string) (*Decontaminate, error) {
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("decontaminate: %s: %s", errs[0].Field, errs[0].Msg)
	}
	d := &Decontaminate{cfg: cfg, pow: gramPowers()}
	d.modes[0] = decontMode{n: cfg.NGram, min: cfg.MinNGram}
	d.modes[1] = decontMode{n: cfg.CharNGram, min: cfg.MinCharNGram}
	for _, f := range cfg.Fields {
		switch f {
		case decontPrompt:
			d.roles |= roleBit(pipeline.RoleUser)
		case decontResponse:
			d.roles |= roleBit(pipeline.RoleAssistant)
		case decontSystem:
			d.roles |= roleBit(pipeline.RoleSystem)
		case decontMessages:
			d.roles |= roleBit(pipeline.RoleUser) | roleBit(pipeline.RoleAssistant) | roleBit(pipeline.RoleSystem)
		}
	}
	tab := unitFolds()
	if cfg.FoldDiacritics {
		tab = unitFoldsNoMarks()
	}
	d.pool.New = func() any { sc := new(decontScratch); sc.tab = tab; return sc }
	b := &decontBuilder{d: d, grams: gramSet{chunk: gramChunk}, fileIdx: map[string]int32{}, labelIdx: map[string]int32{}, anchors: map[uint64]uint64{}}
	b.sc.tab = tab
	for i := range cfg.References {
		if err := b.read(i, &cfg.References[i], baseDir); err != nil {
			return nil, fmt.Errorf("decontaminate: references[%d]: %w", i, err)
		}
	}
	if b.grams.empty() {
		return nil, fmt.Errorf("decontaminate: the references hold no text of %d words (%d characters in scripts without spaces) or more: nothing to match", cfg.MinNGram, cfg.MinCharNGram)
	}
	if m0, m1 := &d.modes[0], &d.modes[1]; m0.n == m1.n && m0.min == m1.min {
		// scan then checks text with words in mode 0 only: it must look for both kinds
		m0.full, m0.short = m0.full || m1.full, m0.short || m1.short
		m1.full, m1.short = m0.full, m0.short
	}
	d.grams = b.grams.table()
	akeys := make([]uint64, 0, len(b.anchors))
	for k := range b.anchors {
		akeys = append(akeys, k)
	}
	slices.Sort(akeys)
	masks := make([]uint64, len(akeys))
	for i, k := range akeys {
		masks[i] = b.anchors[k]
	}
	d.anchors = newGramTable(akeys, masks)
	d.rejectedBy = make([]atomic.Int64, len(d.files))
	return d, nil
}

// decontBuilder gathers the reference n-grams.
type decontBuilder struct {
	d        *Decontaminate
	sc       unitScratch
	grams    gramSet
	anchors  map[uint64]uint64
	fileIdx  map[string]int32
	labelIdx map[string]int32
	err      error // too many texts
}

// read adds the texts of one references entry.
func (b *decontBuilder) read(i int, ref *DecontReference, baseDir string) error {
	in := ref.input()
	paths, err := formats.ExpandInputs(&in, baseDir)
	if err != nil {
		return err
	}
	files := make([]formats.InputFile, 0, len(paths))
	for _, p := range paths {
		format, err := formats.FormatFor(p, in.Format)
		if err != nil {
			return err
		}
		fieldless := format == "text" || format == "warc"
		if in.Adapter != "" && fieldless {
			return fmt.Errorf("%s: adapter %s needs records with fields (jsonl, parquet, arrow, csv, tsv), not %s", p, in.Adapter, format)
		}
		if len(ref.TextFields) > 0 && fieldless {
			return fmt.Errorf("%s: text_fields needs records with fields (jsonl, parquet, arrow, csv, tsv), not %s", p, format)
		}
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		size := st.Size()
		if !st.Mode().IsRegular() {
			size = -1
		}
		files = append(files, formats.InputFile{Path: p, Format: format, Input: &in, Size: size})
	}
	rs := refStats{Path: ref.Path}
	src := formats.OpenInputs(files)
	defer src.Close()
	ctx := context.Background()
	fields := ref.TextFields
	if len(fields) == 0 {
		fields = []string{""} // the reader's text; no label in reject details
	}
	for {
		var doc pipeline.Document
		err := src.Next(ctx, &doc)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if in.Adapter != "" && conversationProblem(doc.Rejected.Reason) {
			// the turns are reference text all the same (a test split without answers)
			turns, err := formats.AdapterTurns(&in, doc.Meta)
			if err != nil {
				return fmt.Errorf("%s: %w", doc.Origin, err)
			}
			doc.Rejected, doc.Instruction = pipeline.Rejection{}, &pipeline.Instruction{Messages: turns}
		}
		if err := b.record(&doc, fields, &rs); err != nil {
			return err
		}
		if b.err != nil {
			return b.err
		}
	}
	for _, f := range src.Files() {
		rs.Files = append(rs.Files, refFileReport{Path: f.Path, SHA256: f.SHA256, Records: f.Records})
	}
	b.d.refs = append(b.d.refs, rs)
	return nil
}

// conversationProblem reports whether an adapter rejected a record for what its turns hold
// or their order (pipeline.Instruction.Problem), not because its fields make no turns.
func conversationProblem(reason string) bool {
	switch reason {
	case formats.ReasonAdapterEmptyOutput, formats.ReasonAdapterEmptyPrompt, formats.ReasonAdapterNoAssistant, formats.ReasonAdapterRoleOrder:
		return true
	}
	return false
}

// record adds the texts of one reference record.
func (b *decontBuilder) record(doc *pipeline.Document, fields []string, rs *refStats) error {
	file := b.intern(b.fileIdx, &b.d.files, doc.Origin.File)
	textDone := false // the first field: the reader's text, unless it could not take it
	if doc.IsRejected() {
		switch doc.Rejected.Reason {
		case formats.ReasonEmptyText, formats.ReasonAdapterEmptyOutput, formats.ReasonAdapterEmptyPrompt:
			rs.Empty++
			if len(fields) == 1 || doc.Instruction != nil {
				return nil
			}
			textDone = true
		case formats.ReasonMissingText:
			// a first field holding a list of texts: the reader leaves it in Meta
			if _, ok := pipeline.LookupField(doc.Meta, fields[0]); !ok || fields[0] == "" {
				return fmt.Errorf("%s: %s (%s)", doc.Origin, doc.Rejected.Detail, doc.Rejected.Reason)
			}
		default:
			return fmt.Errorf("%s: %s (%s)", doc.Origin, doc.Rejected.Detail, doc.Rejected.Reason)
		}
	} else if doc.Instruction == nil {
		b.text(doc.Text, file, fields[0], doc.Origin, rs)
		textDone = true
	}
	if in := doc.Instruction; in != nil {
		for k, m := range in.Messages {
			if m.Role == pipeline.RoleSystem {
				continue
			}
			b.text(m.Content, file, fmt.Sprintf("%s turn %d", m.Role, k+1), doc.Origin, rs)
		}
		return nil
	}
	for j, f := range fields {
		if j == 0 && textDone {
			continue
		}
		v, ok := pipeline.LookupField(doc.Meta, f)
		if !ok {
			return fmt.Errorf("%s: no field %q (text_fields[%d])", doc.Origin, f, j)
		}
		switch v := v.(type) {
		case nil:
			rs.Empty++
		case string:
			b.text(v, file, f, doc.Origin, rs)
		case []any:
			for k, e := range v {
				s, ok := e.(string)
				if !ok && e != nil {
					return fmt.Errorf("%s: field %q: element %d is %T, want text", doc.Origin, f, k, e)
				}
				b.text(s, file, f, doc.Origin, rs)
			}
		default:
			return fmt.Errorf("%s: field %q is %T, want text or a list of texts", doc.Origin, f, v)
		}
	}
	return nil
}

func (b *decontBuilder) intern(idx map[string]int32, list *[]string, s string) int32 {
	i, ok := idx[s]
	if !ok {
		i = int32(len(*list))
		*list = append(*list, s)
		idx[s] = i
	}
	return i
}

// text adds the n-grams of one reference text: every window of n units when it has n or
// more; the whole text, and an anchor on its first min units, when it has min..n-1 units.
func (b *decontBuilder) text(text string, file int32, label string, pos pipeline.Position, rs *refStats) {
	sc := &b.sc
	sc.units(text)
	units := len(sc.hashes)
	if units == 0 {
		rs.Empty++
		return
	}
	mode := &b.d.modes[0]
	if sc.charMode() {
		mode = &b.d.modes[1]
	}
	if units < mode.min {
		rs.TooShort++
		return
	}
	if uint64(len(b.d.items)) == math.MaxUint32 {
		b.err = fmt.Errorf("%s: more than %d reference texts", pos, uint64(math.MaxUint32))
		return
	}
	item := uint32(len(b.d.items))
	b.d.items = append(b.d.items, refItem{file: file, label: b.intern(b.labelIdx, &b.d.labels, label), pos: pos})
	rs.Texts++
	if units >= mode.n {
		mode.full = true
		for i := 0; i+mode.n <= units; i++ {
			b.grams.add(sc.window(i, mode.n, b.d.pow), item)
		}
		rs.NGrams += int64(units - mode.n + 1)
		return
	}
	mode.short = true
	rs.Whole++
	b.grams.add(sc.window(0, units, b.d.pow), item)
	b.anchors[sc.window(0, mode.min, b.d.pow)] |= 1 << (units - mode.min)
}

// Process implements pipeline.Stage. It allocates nothing for a document that shares no
// n-gram with the references.
func (d *Decontaminate) Process(_ context.Context, doc *pipeline.Document) (pipeline.Verdict, error) {
	sc := d.pool.Get().(*decontScratch)
	defer d.pool.Put(sc)
	sc.matched = sc.matched[:0]
	m := decontMatch{first: -1}
	if in := doc.Instruction; in != nil {
		for _, msg := range in.Messages {
			if d.roles&roleBit(msg.Role) != 0 {
				d.scan(msg.Content, sc, &m)
			}
		}
	} else {
		d.scan(doc.Text, sc, &m)
	}
	if m.first < 0 {
		return pipeline.Keep, nil
	}
	slices.Sort(sc.matched)
	shared := len(slices.Compact(sc.matched))
	if shared < d.cfg.MinOverlap {
		d.partial.Add(1)
		return pipeline.Keep, nil
	}
	it := d.items[d.grams.vals[m.first]]
	d.rejectedBy[it.file].Add(1)
	label := d.labels[it.label]
	if label != "" {
		label = " (" + label + ")"
	}
	plural := "s"
	if shared == 1 {
		plural = ""
	}
	return pipeline.Rejectf("decontaminate.overlap", "%d reference n-gram%s shared (min_overlap %d); first from %s%s at %q",
		shared, plural, d.cfg.MinOverlap, it.pos, label, m.excerpt), nil
}

// scan looks up every n-gram of text and notes the matches in sc and m. The first match
// of a text is the one that starts first in it (the full n-gram before a short text at the
// same place); m keeps that of the first text with a match.
func (d *Decontaminate) scan(text string, sc *decontScratch, m *decontMatch) {
	sc.units(text)
	units := len(sc.hashes)
	var active [2]*decontMode
	if sc.words > 0 {
		active[0] = &d.modes[0]
	}
	if sc.chars > 0 && (active[0] == nil || d.modes[1].n != d.modes[0].n || d.modes[1].min != d.modes[0].min) {
		active[1] = &d.modes[1]
	}
	best, bestAt, bestN := -1, 0, 0
	note := func(idx, i, n int) {
		sc.matched = append(sc.matched, int32(idx))
		if best < 0 || i < bestAt {
			best, bestAt, bestN = idx, i, n
		}
	}
	for _, md := range active {
		if md == nil {
			continue
		}
		if md.full {
			for i := 0; i+md.n <= units; i++ {
				if idx := d.grams.find(sc.window(i, md.n, d.pow)); idx >= 0 {
					note(idx, i, md.n)
				}
			}
		}
		if !md.short {
			continue
		}
		for i := 0; i+md.min <= units; i++ {
			a := d.anchors.find(sc.window(i, md.min, d.pow))
			if a < 0 {
				continue
			}
			for mask := d.anchors.vals[a]; mask != 0; mask &= mask - 1 {
				n := md.min + bits.TrailingZeros64(mask)
				if i+n > units {
					break
				}
				if idx := d.grams.find(sc.window(i, n, d.pow)); idx >= 0 {
					note(idx, i, n)
				}
			}
		}
	}
	if best >= 0 && m.first < 0 {
		m.first = best
		m.excerpt = excerpt(text[sc.starts[bestAt]:sc.ends[bestAt+bestN-1]], 120)
	}
}

// excerpt returns a copy of s cut to at most max bytes on a rune boundary.
func excerpt(s string, max int) string {
	if len(s) <= max {
		return strings.Clone(s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Report implements pipeline.Reporter: what each references entry held (with the sha256 of
// each file, so an audit can tell which version of a benchmark was used), the size of the
// n-gram table, and rejections by the file of their first match.
func (d *Decontaminate) Report() map[string]any {
	by := map[string]int64{}
	for i := range d.rejectedBy {
		if n := d.rejectedBy[i].Load(); n > 0 {
			by[d.files[i]] = n
		}
	}
	n := len(d.grams.keys) + len(d.anchors.keys)
	bytes := d.grams.bytes() + d.anchors.bytes() + int64(cap(d.items))*int64(unsafe.Sizeof(refItem{}))
	return map[string]any{
		"references":       d.refs,
		"distinct_ngrams":  len(d.grams.keys),
		"reference_texts":  len(d.items),
		"index_bytes":      bytes,
		"bytes_per_ngram":  float64(bytes) / float64(max(n, 1)),
		"partial_kept":     d.partial.Load(),
		"rejected_by_file": by,
	}
}

// Close implements pipeline.Stage.
func (d *Decontaminate) Close(context.Context) error { return nil }

// UsedFiles implements pipeline.FileUser: the reference sets.
func (c *DecontaminateConfig) UsedFiles() []string {
	out := make([]string, 0, len(c.References))
	for _, r := range c.References {
		out = append(out, r.Path)
	}
	return out
}
