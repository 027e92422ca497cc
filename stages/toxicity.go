package stages

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/sieve-data/sieve/lang"
	"github.com/sieve-data/sieve/pipeline"
	"github.com/sieve-data/sieve/stages/quality"
)

// ToxicityConfig configures the toxicity stage.
type ToxicityConfig struct {
	WordsDir        string                      `yaml:"words_dir" doc:"directory of flagged-word lists, one per language, named by label, ISO 639-3 or ISO 639-1 code (yor_Latn, yor, yo; .txt optional), one term per line as in the LDNOOBW lists; relative to the config file"`
	Languages       []string                    `yaml:"languages" doc:"languages to check (labels or codes); each must have a list in words_dir; empty = every list there"`
	MaxFlaggedRatio float64                     `yaml:"max_flagged_ratio" doc:"reject when the share of a document's words that are flagged is above this (0: any flagged word)"`
	MinFlagged      int                         `yaml:"min_flagged" doc:"and only with at least this many flagged terms"`
	PerLanguage     map[string]ToxicityOverride `yaml:"per_language" doc:"max_flagged_ratio and min_flagged by language label or code"`
	URLField        string                      `yaml:"url_field" doc:"metadata field holding the document's URL (documents without one skip the URL checks)"`
	URLBlocklist    string                      `yaml:"url_blocklist" doc:"file of blocked domains, one per line (hosts-file lines and '#' comments allowed); a domain also blocks its subdomains"`
	BannedURLWords  []string                    `yaml:"banned_url_words" doc:"reject documents whose URL holds one of these as a whole word (the URL split on non-alphanumerics, case ignored)"`
}

// ToxicityOverride holds one language's thresholds; unset fields keep the top-level value.
type ToxicityOverride struct {
	MaxFlaggedRatio *float64 `yaml:"max_flagged_ratio" doc:"as at the top level"`
	MinFlagged      *int     `yaml:"min_flagged" doc:"as at the top level"`
}

// DefaultToxicityConfig returns the defaults: a document is rejected when more than 1% of
// its words are flagged.
func DefaultToxicityConfig() ToxicityConfig {
	return ToxicityConfig{MaxFlaggedRatio: 0.01, MinFlagged: 1, URLField: "url"}
}

// Validate implements pipeline.Validator.
func (c *ToxicityConfig) Validate() []pipeline.FieldError {
	var errs []pipeline.FieldError
	add := func(f, format string, args ...any) {
		errs = append(errs, pipeline.FieldError{Field: f, Msg: fmt.Sprintf(format, args...)})
	}
	if c.WordsDir == "" && c.URLBlocklist == "" && len(c.BannedURLWords) == 0 {
		add("words_dir", "required (or url_blocklist / banned_url_words for URL checks only)")
	}
	if c.WordsDir == "" && len(c.Languages) > 0 {
		add("languages", "needs words_dir")
	}
	checkRatio := func(f string, v float64) {
		if !(v >= 0 && v <= 1) {
			add(f, "must be in 0..1, got %v", v)
		}
	}
	checkMin := func(f string, v int) {
		if v < 1 {
			add(f, "must be >= 1, got %d", v)
		}
	}
	checkRatio("max_flagged_ratio", c.MaxFlaggedRatio)
	checkMin("min_flagged", c.MinFlagged)
	for _, k := range sortedMapKeys(c.PerLanguage) {
		o := c.PerLanguage[k]
		if _, ok := lang.Lookup(k); !ok {
			add("per_language."+k, "unknown language %q", k)
		}
		if o.MaxFlaggedRatio != nil {
			checkRatio("per_language."+k+".max_flagged_ratio", *o.MaxFlaggedRatio)
		}
		if o.MinFlagged != nil {
			checkMin("per_language."+k+".min_flagged", *o.MinFlagged)
		}
	}
	for i, l := range c.Languages {
		if _, ok := lang.Lookup(l); !ok {
			add(fmt.Sprintf("languages[%d]", i), "unknown language %q", l)
		}
	}
	for i, w := range c.BannedURLWords {
		if w == "" || strings.IndexFunc(w, func(r rune) bool { return !isAlnum(r) }) >= 0 {
			add(fmt.Sprintf("banned_url_words[%d]", i), "must be letters and digits only, got %q", w)
		}
	}
	return errs
}

// Toxicity rejects documents whose share of flagged words passes a per-language threshold,
// and documents whose URL is on a domain blocklist or holds a banned word.
type Toxicity struct {
	cfg      ToxicityConfig
	lists    map[string]*flagList // by label, code and ISO 639-1 alias
	labels   []string             // list labels, sorted (for the report)
	blocked  map[string]struct{}
	banned   map[string]struct{}
	pool     sync.Pool
	checked  sync.Map // label -> *atomic.Int64
	unlisted sync.Map // label -> *atomic.Int64
}

var (
	_ pipeline.Stage    = (*Toxicity)(nil)
	_ pipeline.Reporter = (*Toxicity)(nil)
)

func init() {
	pipeline.MustRegister("toxicity", pipeline.Spec{
		Summary:      "Rejects documents with too many flagged words (per-language lists and thresholds) or a URL on a domain blocklist or with a banned word.",
		Example:      "{words_dir: lists/flagged, languages: [eng_Latn, yor_Latn], max_flagged_ratio: 0.01, url_blocklist: lists/domains.txt}",
		Mode:         pipeline.Parallel,
		ReportStatic: []string{"list_terms", "blocked_domains"},
		Config:       func() any { c := DefaultToxicityConfig(); return &c },
		New: func(cfg any, env *pipeline.Env) (pipeline.Stage, error) {
			c := *cfg.(*ToxicityConfig)
			if c.WordsDir != "" {
				c.WordsDir = env.Resolve(c.WordsDir)
			}
			if c.URLBlocklist != "" {
				c.URLBlocklist = env.Resolve(c.URLBlocklist)
			}
			return NewToxicity(c)
		},
	})
}

// NewToxicity loads the word lists and the blocklist. A language in cfg.Languages without a
// list is an error, as is an unreadable or empty list.
func NewToxicity(cfg ToxicityConfig) (*Toxicity, error) {
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("toxicity: %s: %s", errs[0].Field, errs[0].Msg)
	}
	t := &Toxicity{cfg: cfg, lists: map[string]*flagList{}}
	t.pool.New = func() any { return new(toxScratch) }
	if cfg.WordsDir != "" {
		if err := t.loadLists(); err != nil {
			return nil, err
		}
	}
	if cfg.URLBlocklist != "" {
		var err error
		if t.blocked, err = readDomainList(cfg.URLBlocklist); err != nil {
			return nil, err
		}
	}
	t.banned = map[string]struct{}{}
	for _, w := range cfg.BannedURLWords {
		t.banned[strings.ToLower(w)] = struct{}{}
	}
	return t, nil
}

// listFile finds the list of a language in dir: by label, ISO 639-3 code or ISO 639-1 code,
// with or without ".txt".
func listFile(dir string, l lang.Language) (string, []string) {
	var tried []string
	for _, name := range []string{l.Label, l.Code, l.ISO1} {
		if name == "" {
			continue
		}
		for _, ext := range []string{"", ".txt"} {
			p := filepath.Join(dir, name+ext)
			tried = append(tried, name+ext)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				return p, tried
			}
		}
	}
	return "", tried
}

func (t *Toxicity) loadLists() error {
	dir := t.cfg.WordsDir
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("toxicity: words_dir: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("toxicity: words_dir %s is not a directory", dir)
	}
	type want struct {
		l    lang.Language
		path string
	}
	var wants []want
	if len(t.cfg.Languages) > 0 {
		for _, name := range t.cfg.Languages {
			l, _ := lang.Lookup(name)
			p, tried := listFile(dir, l)
			if p == "" {
				return fmt.Errorf("toxicity: no flagged-word list for %s in %s (looked for %s)", l.Label, dir, strings.Join(tried, ", "))
			}
			wants = append(wants, want{l, p})
		}
	} else {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("toxicity: words_dir: %w", err)
		}
		for _, e := range ents {
			if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") || strings.EqualFold(e.Name(), "README.md") {
				continue
			}
			name := strings.TrimSuffix(e.Name(), ".txt")
			l, ok := lang.Lookup(name)
			if !ok {
				return fmt.Errorf("toxicity: %s: file name is not a language label or code", filepath.Join(dir, e.Name()))
			}
			wants = append(wants, want{l, filepath.Join(dir, e.Name())})
		}
		if len(wants) == 0 {
			return fmt.Errorf("toxicity: words_dir %s holds no list", dir)
		}
	}
	for _, w := range wants {
		if _, dup := t.lists[w.l.Label]; dup {
			continue
		}
		fl, err := readFlagList(w.path, w.l.Label)
		if err != nil {
			return err
		}
		for _, alias := range []string{w.l.Label, w.l.Code, w.l.ISO1} {
			if alias != "" {
				if _, taken := t.lists[alias]; !taken {
					t.lists[alias] = fl
				}
			}
		}
		t.labels = append(t.labels, w.l.Label)
	}
	sort.Strings(t.labels)
	return nil
}

// listFor returns the list of a document's language: by label, then by code.
func (t *Toxicity) listFor(label string) *flagList {
	if fl, ok := t.lists[label]; ok {
		return fl
	}
	if i := strings.IndexByte(label, '_'); i > 0 {
		return t.lists[label[:i]]
	}
	return nil
}

// thresholds returns the max ratio and min count for a language.
func (t *Toxicity) thresholds(label string) (float64, int) {
	maxRatio, minN := t.cfg.MaxFlaggedRatio, t.cfg.MinFlagged
	keys := []string{label}
	if i := strings.IndexByte(label, '_'); i > 0 {
		keys = []string{label[:i], label}
	}
	for _, k := range keys {
		if o, ok := t.cfg.PerLanguage[k]; ok {
			if o.MaxFlaggedRatio != nil {
				maxRatio = *o.MaxFlaggedRatio
			}
			if o.MinFlagged != nil {
				minN = *o.MinFlagged
			}
		}
	}
	return maxRatio, minN
}

type toxScratch struct {
	hashes []uint64
	kinds  []bool // Char token
	starts []int32
	ends   []int32
}

// Process implements pipeline.Stage.
func (t *Toxicity) Process(_ context.Context, d *pipeline.Document) (pipeline.Verdict, error) {
	if v := t.checkURL(d); !v.Kept() {
		return v, nil
	}
	if len(t.lists) == 0 {
		return pipeline.Keep, nil
	}
	fl := t.listFor(d.Lang)
	if fl == nil {
		count(&t.unlisted, d.Lang)
		return pipeline.Keep, nil
	}
	count(&t.checked, fl.label)
	sc := t.pool.Get().(*toxScratch)
	defer t.pool.Put(sc)
	m := fl.match(d.Text, sc)
	if m.matches == 0 {
		return pipeline.Keep, nil
	}
	maxRatio, minN := t.thresholds(d.Lang)
	r := float64(m.flagged) / float64(max(m.words, 1))
	if m.matches < minN || r <= maxRatio {
		return pipeline.Keep, nil
	}
	return pipeline.Rejectf("toxicity.flagged_ratio", "%s > %s (%d of %d words flagged: %s)",
		quality.FormatNum(r, false), quality.FormatNum(maxRatio, false), m.flagged, m.words, strings.Join(m.first, ", ")), nil
}

func count(m *sync.Map, key string) {
	if key == "" {
		key = "und"
	}
	v, ok := m.Load(key)
	if !ok {
		v, _ = m.LoadOrStore(key, new(atomic.Int64))
	}
	v.(*atomic.Int64).Add(1)
}

// checkURL applies the domain blocklist and the banned URL words.
func (t *Toxicity) checkURL(d *pipeline.Document) pipeline.Verdict {
	if len(t.blocked) == 0 && len(t.banned) == 0 {
		return pipeline.Keep
	}
	u, _ := d.Meta[t.cfg.URLField].(string)
	if u == "" {
		return pipeline.Keep
	}
	if len(t.blocked) > 0 {
		host := urlHost(u)
		for h := host; h != ""; {
			if _, ok := t.blocked[h]; ok {
				return pipeline.Rejectf("toxicity.url_domain", "%s (blocked: %s)", host, h)
			}
			i := strings.IndexByte(h, '.')
			if i < 0 {
				break
			}
			h = h[i+1:]
		}
	}
	if len(t.banned) > 0 {
		var buf [64]byte
		for i := 0; i < len(u); {
			j := i
			for j < len(u) && isASCIIAlnumOrHigh(u[j]) {
				j++
			}
			if j > i && j-i <= len(buf) {
				w := buf[:0]
				for k := i; k < j; k++ {
					c := u[k]
					if 'A' <= c && c <= 'Z' {
						c += 'a' - 'A'
					}
					w = append(w, c)
				}
				if _, ok := t.banned[string(w)]; ok {
					return pipeline.Rejectf("toxicity.url_word", "%q in %s", string(w), u)
				}
			}
			i = j + 1
		}
	}
	return pipeline.Keep
}

func isASCIIAlnumOrHigh(c byte) bool {
	return c >= 0x80 || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// urlHost returns the lower-cased host of a URL (scheme, user info, port, path dropped) and a
// leading "www." removed.
func urlHost(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	} else if strings.HasPrefix(u, "//") {
		u = u[2:]
	}
	if i := strings.IndexAny(u, "/?#"); i >= 0 {
		u = u[:i]
	}
	if i := strings.LastIndexByte(u, '@'); i >= 0 {
		u = u[i+1:]
	}
	if i := strings.LastIndexByte(u, ':'); i >= 0 && !strings.Contains(u[i:], "]") {
		u = u[:i]
	}
	u = strings.TrimSuffix(u, ".")
	if hasUpperASCII(u) {
		u = strings.ToLower(u)
	}
	return strings.TrimPrefix(u, "www.")
}

func hasUpperASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// readDomainList reads a blocklist: one domain per line, or hosts-file lines
// ("0.0.0.0 example.com"); "#" starts a comment; a leading "*." or "." is ignored.
func readDomainList(path string) (map[string]struct{}, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("toxicity: url_blocklist: %w", err)
	}
	defer f.Close()
	out := map[string]struct{}{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		if i := strings.IndexByte(s, '#'); i >= 0 {
			s = s[:i]
		}
		fields := strings.Fields(s)
		if len(fields) == 0 {
			continue
		}
		d := strings.ToLower(fields[len(fields)-1])
		d = strings.TrimPrefix(strings.TrimPrefix(d, "*."), ".")
		d = strings.TrimPrefix(strings.TrimSuffix(d, "."), "www.")
		if d == "" || strings.ContainsAny(d, "/ \t") || !utf8.ValidString(d) {
			return nil, fmt.Errorf("toxicity: %s:%d: %q is not a domain", path, line, fields[len(fields)-1])
		}
		out[d] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("toxicity: %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("toxicity: %s: no domain", path)
	}
	return out, nil
}

// Report implements pipeline.Reporter: documents checked per list, documents whose language
// has no list (kept unchecked), and the size of each list.
func (t *Toxicity) Report() map[string]any {
	load := func(m *sync.Map) map[string]int64 {
		out := map[string]int64{}
		m.Range(func(k, v any) bool { out[k.(string)] = v.(*atomic.Int64).Load(); return true })
		return out
	}
	terms := map[string]int{}
	for _, l := range t.labels {
		terms[l] = t.lists[l].terms
	}
	return map[string]any{"checked": load(&t.checked), "unlisted_kept": load(&t.unlisted), "list_terms": terms, "blocked_domains": len(t.blocked)}
}

// Close implements pipeline.Stage.
func (t *Toxicity) Close(context.Context) error { return nil }

// flagList matches one language's flagged terms. Terms made of words (in a script written
// with spaces) are matched on word boundaries through the hashes of their lower-cased words;
// other terms (scripts without spaces, terms holding symbols such as "a$$") are matched as
// substrings with an Aho-Corasick automaton, on word boundaries where the term begins or
// ends with a letter of a spaced script.
type flagList struct {
	label  string
	terms  int
	byHash hashIndex // n-gram hash (n in the key) -> term index
	first  hashIndex // hashes of the first words of word terms
	maxN   int
	names  []string
	subs   *acMatcher
}

// hashIndex is a read-only open-addressing map from 64-bit hashes to int32, built once.
type hashIndex struct {
	keys []uint64
	vals []int32
	mask uint64
	n    int
}

func newHashIndex(m map[uint64]int32) hashIndex {
	size := 16
	for size < 2*len(m) {
		size <<= 1
	}
	h := hashIndex{keys: make([]uint64, size), vals: make([]int32, size), mask: uint64(size - 1), n: len(m)}
	for k, v := range m {
		k = nonZero(k)
		i := mixKey(k) & h.mask
		for h.keys[i] != 0 {
			i = (i + 1) & h.mask
		}
		h.keys[i], h.vals[i] = k, v
	}
	return h
}

// get returns the value of key and whether it is there.
func (h *hashIndex) get(key uint64) (int32, bool) {
	if h.n == 0 {
		return 0, false
	}
	key = nonZero(key)
	for i := mixKey(key) & h.mask; ; i = (i + 1) & h.mask {
		switch h.keys[i] {
		case key:
			return h.vals[i], true
		case 0:
			return 0, false
		}
	}
}

func nonZero(k uint64) uint64 {
	if k == 0 {
		return 0x9e3779b97f4a7c15
	}
	return k
}

func mixKey(k uint64) uint64 { return (k ^ k>>29) * 0xbf58476d1ce4e5b9 >> 20 }

// readFlagList reads a list: one term per line, surrounding white space and empty lines
// ignored, lines starting with "#" skipped. An empty list is an error: a language that is
// configured must be checked.
func readFlagList(path, label string) (*flagList, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("toxicity: no flagged-word list for %s: %w", label, err)
		}
		return nil, fmt.Errorf("toxicity: %w", err)
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("toxicity: %s: not UTF-8", path)
	}
	fl := &flagList{label: label}
	byHash, first := map[uint64]int32{}, map[uint64]int32{}
	var subTerms []string
	var subIdx []int32
	seen := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		term := strings.ToLower(strings.Join(strings.Fields(line), " "))
		if term == "" || strings.HasPrefix(term, "#") || seen[term] {
			continue
		}
		seen[term] = true
		idx := int32(len(fl.names))
		fl.names = append(fl.names, term)
		for _, form := range uniqueForms(term) {
			if hashes, ok := wordTerm(form); ok {
				byHash[gramKey(hashes)] = idx
				first[hashes[0]] = 1
				fl.maxN = max(fl.maxN, len(hashes))
			} else {
				subTerms = append(subTerms, form)
				subIdx = append(subIdx, idx)
			}
		}
	}
	fl.byHash, fl.first = newHashIndex(byHash), newHashIndex(first)
	fl.terms = len(fl.names)
	if fl.terms == 0 {
		return nil, fmt.Errorf("toxicity: %s: the list for %s is empty", path, label)
	}
	if len(subTerms) > 0 {
		fl.subs = newACMatcher(subTerms, subIdx)
	}
	return fl, nil
}

// uniqueForms returns the NFC and NFD forms of a term (one when they are equal).
func uniqueForms(s string) []string {
	c, d := norm.NFC.String(s), norm.NFD.String(s)
	if c == d {
		return []string{c}
	}
	return []string{c, d}
}

// wordTerm returns the word hashes of a term made only of words of spaced scripts separated
// by single spaces.
func wordTerm(term string) ([]uint64, bool) {
	var hashes []uint64
	var rebuilt strings.Builder
	ok := true
	lang.EachWord(term, func(tok lang.Token) bool {
		if tok.Kind != lang.Word {
			ok = false
			return false
		}
		if rebuilt.Len() > 0 {
			rebuilt.WriteByte(' ')
		}
		rebuilt.WriteString(term[tok.Start:tok.End])
		hashes = append(hashes, quality.FoldHash(term[tok.Start:tok.End]))
		return true
	})
	return hashes, ok && len(hashes) > 0 && rebuilt.String() == term
}

const gramMul = 0x9e3779b97f4a7c15

// gramKey combines word hashes; the number of words is part of the key.
func gramKey(hashes []uint64) uint64 {
	var h uint64
	for _, x := range hashes {
		h = h*gramMul + x
	}
	return h ^ uint64(len(hashes))*0xff51afd7ed558ccd
}

// matchResult is what flagList.match found.
type matchResult struct {
	flagged int      // words covered by flagged terms
	words   int      // words of the text
	matches int      // flagged term occurrences
	first   []string // up to three distinct flagged terms, for the reject detail
}

// match finds the flagged terms of text. It does not allocate when nothing matches.
func (fl *flagList) match(text string, sc *toxScratch) (res matchResult) {
	sc.hashes, sc.kinds = sc.hashes[:0], sc.kinds[:0]
	sc.starts, sc.ends = sc.starts[:0], sc.ends[:0]
	spans := fl.subs != nil
	lang.EachWord(text, func(tok lang.Token) bool {
		sc.hashes = append(sc.hashes, quality.FoldHash(text[tok.Start:tok.End]))
		sc.kinds = append(sc.kinds, tok.Kind == lang.Char)
		if spans {
			sc.starts = append(sc.starts, int32(tok.Start))
			sc.ends = append(sc.ends, int32(tok.End))
		}
		return true
	})
	n := len(sc.hashes)
	res.words = n
	note := func(idx int32) {
		res.matches++
		name := fl.names[idx]
		if len(res.first) < 3 && !contains(res.first, name) {
			res.first = append(res.first, name)
		}
	}
	if fl.byHash.n > 0 {
		for i := 0; i < n; {
			if _, ok := fl.first.get(sc.hashes[i]); !ok || sc.kinds[i] {
				i++
				continue
			}
			var h uint64
			best, bestIdx := 0, int32(-1)
			for k := 0; k < fl.maxN && i+k < n; k++ {
				if sc.kinds[i+k] {
					break
				}
				h = h*gramMul + sc.hashes[i+k]
				if idx, ok := fl.byHash.get(h ^ uint64(k+1)*0xff51afd7ed558ccd); ok {
					best, bestIdx = k+1, idx
				}
			}
			if best == 0 {
				i++
				continue
			}
			res.flagged += best
			note(bestIdx)
			i += best
		}
	}
	if fl.subs != nil {
		fl.subs.each(text, func(start, end int, idx int32) {
			// words covered: the tokens inside [start, end), at least one
			lo := sort.Search(n, func(j int) bool { return int(sc.ends[j]) > start })
			hi := sort.Search(n, func(j int) bool { return int(sc.starts[j]) >= end })
			res.flagged += max(hi-lo, 1)
			note(idx)
		})
	}
	res.flagged = min(res.flagged, n)
	return res
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedMapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// acMatcher is an Aho-Corasick automaton over bytes, ASCII letters folded to lower case.
type acMatcher struct {
	class  [256]uint8
	nclass int
	next   []int32 // state*nclass + class -> state
	out    []int32 // term ending at the state (index into terms), or -1
	link   []int32 // nearest state on the failure chain with an output, or -1
	depth  []int32 // bytes from the root
	terms  []int32 // term index per pattern
	bounds []uint8 // per pattern: bit 0 = needs a boundary before, bit 1 = after
}

func newACMatcher(patterns []string, idx []int32) *acMatcher {
	m := &acMatcher{}
	// byte classes: every byte used by a pattern gets its own class; 0 = any other byte
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			c := lowerByte(p[i])
			if m.class[c] == 0 {
				m.nclass++
				m.class[c] = uint8(m.nclass)
			}
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		m.class[c] = m.class[c+'a'-'A']
	}
	m.nclass++
	// trie
	type node struct {
		child map[uint8]int32
	}
	nodes := []node{{child: map[uint8]int32{}}}
	m.out = []int32{-1}
	m.depth = []int32{0}
	for pi, p := range patterns {
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := m.class[lowerByte(p[i])]
			nx, ok := nodes[s].child[c]
			if !ok {
				nx = int32(len(nodes))
				nodes = append(nodes, node{child: map[uint8]int32{}})
				m.out = append(m.out, -1)
				m.depth = append(m.depth, m.depth[s]+1)
				nodes[s].child[c] = nx
			}
			s = nx
		}
		if m.out[s] < 0 {
			m.out[s] = int32(pi)
		}
		m.terms = append(m.terms, idx[pi])
		var b uint8
		if r, _ := utf8.DecodeRuneInString(p); wordRune(r) {
			b |= 1
		}
		if r, _ := utf8.DecodeLastRuneInString(p); wordRune(r) {
			b |= 2
		}
		m.bounds = append(m.bounds, b)
	}
	// breadth-first: failure links and full transitions
	n := len(nodes)
	m.next = make([]int32, n*m.nclass)
	fail := make([]int32, n)
	m.link = make([]int32, n)
	queue := []int32{0}
	m.link[0] = -1
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for c := 0; c < m.nclass; c++ {
			child, ok := nodes[s].child[uint8(c)]
			if c == 0 {
				ok = false
			}
			if !ok {
				if s == 0 {
					m.next[c] = 0
				} else {
					m.next[int(s)*m.nclass+c] = m.next[int(fail[s])*m.nclass+c]
				}
				continue
			}
			m.next[int(s)*m.nclass+c] = child
			if s == 0 {
				fail[child] = 0
			} else {
				fail[child] = m.next[int(fail[s])*m.nclass+c]
			}
			f := fail[child]
			if m.out[f] >= 0 {
				m.link[child] = f
			} else {
				m.link[child] = m.link[f]
			}
			queue = append(queue, child)
		}
	}
	return m
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// wordRune reports whether r is a letter or digit of a script written with spaces: such a
// term edge must sit on a word boundary.
func wordRune(r rune) bool {
	if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
		return false
	}
	var tok lang.TokenKind
	lang.EachWord(string(r), func(t lang.Token) bool { tok = t.Kind; return false })
	return tok == lang.Word
}

// each calls fn for every pattern occurrence in text that sits on the boundaries it needs.
func (m *acMatcher) each(text string, fn func(start, end int, term int32)) {
	s := int32(0)
	for i := 0; i < len(text); i++ {
		s = m.next[int(s)*m.nclass+int(m.class[text[i]])]
		for o := s; o >= 0; o = m.link[o] {
			p := m.out[o]
			if p < 0 {
				continue
			}
			end := i + 1
			start := end - int(m.depth[o])
			if b := m.bounds[p]; b != 0 {
				if b&1 != 0 && start > 0 {
					if r, _ := utf8.DecodeLastRuneInString(text[:start]); isAlnum(r) {
						continue
					}
				}
				if b&2 != 0 && end < len(text) {
					if r, _ := utf8.DecodeRuneInString(text[end:]); isAlnum(r) {
						continue
					}
				}
			}
			fn(start, end, m.terms[p])
		}
	}
}

// UsedFiles implements pipeline.FileUser: the word lists and the URL blocklist.
func (c *ToxicityConfig) UsedFiles() []string {
	var out []string
	for _, p := range []string{c.WordsDir, c.URLBlocklist} {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}
