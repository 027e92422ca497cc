package lang

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The open-set check asks whether a text really looks like the language a backend gave it,
// in absolute terms: backends only compare the languages they know, so text in any other
// language gets a confident wrong label (Igbo as Swahili, Kinyarwanda as Ganda). A profile
// holds a language's letters and its most frequent letter trigrams with their conditional
// log-probabilities. A text fits a language when
//
//   - at most MaxUnknown of its letters are letters the language does not use, and
//   - the mean log-probability of its trigrams under the profile, minus the mean that text of
//     the language itself is expected to score (Profile.Expect), plus a slack that shrinks
//     with the number of trigrams (FitSlack / sqrt(trigrams)), is at least MinFit.
//
// Trigrams are taken inside words, lower-cased, with Latin letters folded to their base
// letter (ọ -> o, é -> e) and combining accents dropped, so that text written with or without
// tone marks is judged alike; the letter check keeps the exact letters. The embedded profiles
// are derived from the language models of lingua-go (see profiles/README.md); BuildProfile
// makes one from plain text for any other language.

// Default open-set settings, tuned on dev.tsv (see the package tests and `sieve eval langid`).
const (
	DefaultMinFit     = -0.4
	DefaultMaxUnknown = 0.02
	// FitSlack widens the acceptance of short texts: their trigram mean is noisier.
	FitSlack = 4.0
	// logFloor is the log-probability of a trigram or letter absent from a profile.
	logFloor = -9.2103404 // log(1e-4)
	// DefaultProfileTrigrams is how many trigrams a profile keeps.
	DefaultProfileTrigrams = 3000
)

// DefaultScriptMinFit returns the default per-script minimum fits: lingua-go's models of
// the languages in these scripts fit real text less closely than its Latin-script models.
func DefaultScriptMinFit() map[string]float64 {
	return map[string]float64{"Cyrl": -1.2, "Arab": -2.0, "Deva": -2.5}
}

// Profile is the character profile of one language.
type Profile struct {
	Label    string             // language-table label, e.g. "yor_Latn"
	Source   string             // where the frequencies come from, for people
	Expect   float64            // mean trigram log-probability of text of the language itself
	Letters  map[rune]float64   // lower-case letter -> log-probability
	Trigrams map[string]float64 // folded trigram -> log P(last letter | first two)
}

// Fit is how well a text matches one profile.
type Fit struct {
	Trigrams int     // folded letter trigrams in the text
	Mean     float64 // their mean log-probability under the profile (0 when Trigrams is 0)
	Letters  int     // letters in the text
	Unknown  int     // letters the profile does not know
	// Value is Mean - Profile.Expect + FitSlack/sqrt(Trigrams): around 0 or above for text
	// of the profile's language, well below for other languages. +Inf when Trigrams is 0 or
	// the profile has no trigrams.
	Value float64
}

// UnknownShare is Unknown/Letters (0 for no letters).
func (f Fit) UnknownShare() float64 {
	if f.Letters == 0 {
		return 0
	}
	return float64(f.Unknown) / float64(f.Letters)
}

// OpenSet is the open-set check with its thresholds. The zero value is not usable; start
// from DefaultOpenSet.
type OpenSet struct {
	Profiles *ProfileSet
	MinFit   float64 // minimum Fit.Value
	// ScriptMinFit overrides MinFit for labels in some scripts (ISO 15924 code -> minimum).
	ScriptMinFit map[string]float64
	MaxUnknown   float64 // maximum share of letters unknown to the profile
}

// DefaultOpenSet returns the check with the embedded profiles and default thresholds.
func DefaultOpenSet() OpenSet {
	return OpenSet{Profiles: DefaultProfiles(), MinFit: DefaultMinFit, ScriptMinFit: DefaultScriptMinFit(), MaxUnknown: DefaultMaxUnknown}
}

// Check measures text against label's profile. checked is false when there is no profile
// for label (the check cannot say anything); otherwise ok says whether text fits.
func (o *OpenSet) Check(text, label string) (fit Fit, ok, checked bool) {
	if o.Profiles == nil {
		return Fit{}, true, false
	}
	fit, checked = o.Profiles.Fit(text, label)
	if !checked {
		return fit, true, false
	}
	return fit, o.Accepts(fit, label), true
}

// Accepts applies the thresholds to a fit of label.
func (o *OpenSet) Accepts(f Fit, label string) bool {
	return f.UnknownShare() <= o.MaxUnknown && f.Value >= o.MinFitFor(label)
}

// MinFitFor returns the minimum fit for a label: by its script, else MinFit.
func (o *OpenSet) MinFitFor(label string) float64 {
	if v, ok := o.ScriptMinFit[LabelScript(label)]; ok {
		return v
	}
	return o.MinFit
}

// ProfileSet is an immutable set of profiles indexed for scoring many languages at once.
// It is safe for concurrent use.
type ProfileSet struct {
	profiles []*Profile
	scripts  []uint8        // script-table index of each profile's script (0: any)
	index    map[string]int // label -> position in profiles
	trigrams map[uint64]postingSpan
	letters  map[rune]postingSpan
	postings []posting
	// pairs holds every posting again, keyed by (trigram or letter, profile), for Fit, which
	// needs one profile's gain per trigram: one probe instead of a map lookup and a search.
	pairs     []pairSlot
	pairShift uint
	pool      sync.Pool // *scoreScratch
}

// pairSlot is a cell of ProfileSet.pairs: key is a packed trigram, or letterKey|rune.
type pairSlot struct {
	key  uint64
	lang uint32 // emptyPair when the cell is free
	gain float32
}

const (
	emptyPair = ^uint32(0)
	letterKey = uint64(1) << 63 // packed trigrams use 63 bits
)

func pairHash(key uint64, lang int) uint64 {
	return (key ^ uint64(lang)*0x9E3779B97F4A7C15) * 0xFF51AFD7ED558CCD
}

// pairGain returns profile lang's gain for key.
func (s *ProfileSet) pairGain(key uint64, lang int) (float32, bool) {
	mask := uint64(len(s.pairs) - 1)
	for i := pairHash(key, lang) >> s.pairShift; ; i = (i + 1) & mask {
		p := &s.pairs[i]
		if p.key == key && p.lang == uint32(lang) {
			return p.gain, true
		}
		if p.lang == emptyPair {
			return 0, false
		}
	}
}

func (s *ProfileSet) buildPairs() {
	size, shift := 1, uint(64)
	for size < 2*len(s.postings)+1 {
		size <<= 1
		shift--
	}
	s.pairs = make([]pairSlot, size)
	for i := range s.pairs {
		s.pairs[i].lang = emptyPair
	}
	s.pairShift = shift
	mask := uint64(size - 1)
	put := func(key uint64, sp postingSpan) {
		for _, p := range s.postings[sp.start:sp.end] {
			i := pairHash(key, int(p.lang)) >> shift
			for s.pairs[i].lang != emptyPair {
				i = (i + 1) & mask
			}
			s.pairs[i] = pairSlot{key: key, lang: uint32(p.lang), gain: p.gain}
		}
	}
	for k, sp := range s.trigrams {
		put(k, sp)
	}
	for r, sp := range s.letters {
		put(letterKey|uint64(r), sp)
	}
}

type posting struct {
	lang uint16
	gain float32 // log-probability minus logFloor (> 0)
}

type postingSpan struct{ start, end uint32 }

type scoreScratch struct {
	tri    []float64 // per profile: summed trigram log-probability gain over the floor
	letter []float64 // per profile: the same for letters
	hits   []int32   // per profile: letters it knows
}

// NewProfileSet indexes profiles. A later profile replaces an earlier one with the same
// label.
func NewProfileSet(profiles ...*Profile) *ProfileSet {
	s := &ProfileSet{index: map[string]int{}}
	for _, p := range profiles {
		if i, dup := s.index[p.Label]; dup {
			s.profiles[i] = p
			continue
		}
		s.index[p.Label] = len(s.profiles)
		s.profiles = append(s.profiles, p)
	}
	type entry struct {
		lang uint16
		logp float64
	}
	tri := map[uint64][]entry{}
	let := map[rune][]entry{}
	for i, p := range s.profiles {
		for g, lp := range p.Trigrams {
			if k, ok := trigramKeyOf(g); ok {
				tri[k] = append(tri[k], entry{uint16(i), lp})
			}
		}
		for r, lp := range p.Letters {
			let[r] = append(let[r], entry{uint16(i), lp})
		}
	}
	s.trigrams = make(map[uint64]postingSpan, len(tri))
	s.letters = make(map[rune]postingSpan, len(let))
	add := func(es []entry) postingSpan {
		sort.Slice(es, func(i, j int) bool { return es[i].lang < es[j].lang })
		start := uint32(len(s.postings))
		for _, e := range es {
			s.postings = append(s.postings, posting{e.lang, float32(e.logp - logFloor)})
		}
		return postingSpan{start, uint32(len(s.postings))}
	}
	// Fill postings in key order so the layout does not depend on map iteration.
	keys := make([]uint64, 0, len(tri))
	for k := range tri {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		s.trigrams[k] = add(tri[k])
	}
	runes := make([]rune, 0, len(let))
	for r := range let {
		runes = append(runes, r)
	}
	sort.Slice(runes, func(i, j int) bool { return runes[i] < runes[j] })
	for _, r := range runes {
		s.letters[r] = add(let[r])
	}
	n := len(s.profiles)
	s.scripts = make([]uint8, n)
	for i, p := range s.profiles {
		s.scripts[i] = scriptIndexOfCode(LabelScript(p.Label))
	}
	s.buildPairs()
	s.pool.New = func() any {
		return &scoreScratch{tri: make([]float64, n), letter: make([]float64, n), hits: make([]int32, n)}
	}
	return s
}

// With returns a new set holding s's profiles and extra ones (which replace profiles of the
// same label).
func (s *ProfileSet) With(extra ...*Profile) *ProfileSet {
	all := append(append([]*Profile(nil), s.profiles...), extra...)
	return NewProfileSet(all...)
}

// Profile returns the profile of a label.
func (s *ProfileSet) Profile(label string) (*Profile, bool) {
	i, ok := s.index[label]
	if !ok {
		return nil, false
	}
	return s.profiles[i], true
}

// Labels lists the labels with a profile, sorted.
func (s *ProfileSet) Labels() []string {
	out := make([]string, 0, len(s.profiles))
	for _, p := range s.profiles {
		out = append(out, p.Label)
	}
	sort.Strings(out)
	return out
}

// Fit measures text against the profile of label; ok is false when there is none.
func (s *ProfileSet) Fit(text, label string) (Fit, bool) {
	i, ok := s.index[label]
	if !ok {
		return Fit{}, false
	}
	sc := s.pool.Get().(*scoreScratch)
	defer s.pool.Put(sc)
	st := s.score(text, sc, s.scripts[i], i)
	return s.fitOf(i, sc, st), true
}

// fitOf turns the accumulated gains of profile i into a Fit.
func (s *ProfileSet) fitOf(i int, sc *scoreScratch, st textStats) Fit {
	p := s.profiles[i]
	f := Fit{Trigrams: st.trigrams, Letters: st.letters, Unknown: st.letters - int(sc.hits[i])}
	if st.trigrams == 0 || len(p.Trigrams) == 0 {
		f.Value = math.Inf(1)
		if st.trigrams > 0 {
			f.Mean = (float64(st.trigrams)*logFloor + sc.tri[i]) / float64(st.trigrams)
		}
		return f
	}
	f.Mean = (float64(st.trigrams)*logFloor + sc.tri[i]) / float64(st.trigrams)
	f.Value = f.Mean - p.Expect + FitSlack/math.Sqrt(float64(st.trigrams))
	return f
}

type textStats struct {
	trigrams, letters int
}

// score tokenizes text once and accumulates, for every profile, the gain of the text's
// trigrams (sc.tri) and letters (sc.letter) over the floor, and counts the letters each
// profile knows. When script is not 0 only letters of that script (an index of the script
// table) count; others end words like punctuation does, so that a Latin name inside Russian
// text is not held against Russian. With only >= 0 just that profile's sums are kept (the
// others stay 0), equal to what scoring all of them gives it.
func (s *ProfileSet) score(text string, sc *scoreScratch, script uint8, only int) textStats {
	tab := scripts()
	clear(sc.tri)
	clear(sc.letter)
	clear(sc.hits)
	h := sc.hits
	var st textStats
	var w0, w1 rune // previous two folded letters of the current word
	n := 0          // letters in the current word so far
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		i += size
		lower, folded, kind := classifyLetter(r)
		switch kind {
		case letterSkip:
			continue
		case letterBreak:
			n = 0
			continue
		}
		if script != 0 && tab.lookup(r) != script {
			n = 0
			continue
		}
		st.letters++
		n++
		if only >= 0 {
			if g, ok := s.pairGain(letterKey|uint64(lower), only); ok {
				sc.letter[only] += float64(g)
				h[only]++
			}
			if n >= 3 {
				st.trigrams++
				if g, ok := s.pairGain(packTrigram(w0, w1, folded), only); ok {
					sc.tri[only] += float64(g)
				}
			}
			w0, w1 = w1, folded
			continue
		}
		if sp, ok := s.letters[lower]; ok {
			for _, p := range s.postings[sp.start:sp.end] {
				sc.letter[p.lang] += float64(p.gain)
				h[p.lang]++
			}
		}
		if n >= 3 {
			st.trigrams++
			if sp, ok := s.trigrams[packTrigram(w0, w1, folded)]; ok {
				for _, p := range s.postings[sp.start:sp.end] {
					sc.tri[p.lang] += float64(p.gain)
				}
			}
		}
		w0, w1 = w1, folded
	}
	return st
}

func packTrigram(a, b, c rune) uint64 {
	return uint64(a)<<42 | uint64(b)<<21 | uint64(c)
}

func trigramKeyOf(g string) (uint64, bool) {
	var rs [3]rune
	n := 0
	for _, r := range g {
		if n == 3 {
			return 0, false
		}
		rs[n] = r
		n++
	}
	if n != 3 {
		return 0, false
	}
	return packTrigram(rs[0], rs[1], rs[2]), true
}

const (
	letterYes   = iota // a letter: counted, part of a word
	letterSkip         // a combining accent: ignored, the word goes on
	letterBreak        // anything else: ends the word
)

// classifyLetter lower-cases r and folds Latin letters with diacritics to their base letter.
func classifyLetter(r rune) (lower, folded rune, kind int) {
	if r < utf8.RuneSelf {
		switch {
		case 'a' <= r && r <= 'z':
			return r, r, letterYes
		case 'A' <= r && r <= 'Z':
			return r + 32, r + 32, letterYes
		}
		return 0, 0, letterBreak
	}
	if isAccent(r) {
		return 0, 0, letterSkip
	}
	if !unicode.IsLetter(r) {
		return 0, 0, letterBreak
	}
	lower = unicode.ToLower(r)
	return lower, foldLatin(lower), letterYes
}

// isAccent reports combining marks that belong to no script (U+0300 block and friends):
// accents on Latin, Greek or Cyrillic letters. Script-specific marks (Devanagari vowel
// signs) are not accents: like lingua-go, they end a letter run.
func isAccent(r rune) bool {
	switch {
	case r >= 0x0300 && r <= 0x036F, r >= 0x1AB0 && r <= 0x1AFF, r >= 0x1DC0 && r <= 0x1DFF,
		r >= 0x20D0 && r <= 0x20FF, r >= 0xFE20 && r <= 0xFE2F:
		return true
	}
	return false
}

var (
	foldOnce  sync.Once
	foldTable []rune // index r-0xC0 for r in [0xC0, 0x2000)
)

// foldLatin maps a letter with diacritics to its base letter when it decomposes into a letter
// of the same script and accents (é -> e, ọ -> o, ŵ -> w, ё -> е, ά -> α); other runes are
// returned unchanged.
func foldLatin(r rune) rune {
	if r < 0xC0 || r >= 0x2000 {
		return r
	}
	foldOnce.Do(func() {
		foldTable = make([]rune, 0x2000-0xC0)
		for c := rune(0xC0); c < 0x2000; c++ {
			foldTable[c-0xC0] = c
			if !unicode.IsLetter(c) {
				continue
			}
			d := norm.NFD.String(string(c))
			base, size := utf8.DecodeRuneInString(d)
			if size == len(d) || !unicode.IsLetter(base) || scriptIndex(base) != scriptIndex(c) {
				continue
			}
			accentsOnly := true
			for _, m := range d[size:] {
				accentsOnly = accentsOnly && isAccent(m)
			}
			if accentsOnly {
				foldTable[c-0xC0] = base
			}
		}
	})
	return foldTable[r-0xC0]
}

// ProfileBuilder accumulates letter and trigram frequencies for one language.
type ProfileBuilder struct {
	letters      map[rune]float64
	trigrams     map[string]float64
	textTrigrams int // trigrams counted by AddText
}

// NewProfileBuilder returns an empty builder.
func NewProfileBuilder() *ProfileBuilder {
	return &ProfileBuilder{letters: map[rune]float64{}, trigrams: map[string]float64{}}
}

// AddText counts the letters and trigrams of text (any length; call it repeatedly).
func (b *ProfileBuilder) AddText(text string) {
	text = norm.NFC.String(text)
	var w [3]rune
	n := 0
	for _, r := range text {
		lower, folded, kind := classifyLetter(r)
		switch kind {
		case letterSkip:
			continue
		case letterBreak:
			n = 0
			continue
		}
		b.letters[lower]++
		w[0], w[1], w[2] = w[1], w[2], folded
		n++
		if n >= 3 {
			b.trigrams[string(w[:])]++
			b.textTrigrams++
		}
	}
}

// AddLetter adds weight to a letter (lower-cased).
func (b *ProfileBuilder) AddLetter(r rune, weight float64) {
	b.letters[unicode.ToLower(r)] += weight
}

// AddTrigram adds weight (a count or a relative frequency) to a letter trigram, folding it
// like text is folded. Trigrams that are not three letters are ignored.
func (b *ProfileBuilder) AddTrigram(g string, weight float64) {
	var w [3]rune
	n := 0
	for _, r := range g {
		_, folded, kind := classifyLetter(r)
		if kind != letterYes || n == 3 {
			return
		}
		w[n] = folded
		n++
	}
	if n == 3 {
		b.trigrams[string(w[:])] += weight
	}
}

// ErrProfileTooSmall is returned by BuildProfile when the text is too short to profile.
var ErrProfileTooSmall = errors.New("too little text for a profile: need at least 2,000 letter trigrams")

// Build makes the profile: the letters, the maxTrigrams most frequent trigrams (ties in
// string order) with their conditional log-probabilities, and the expected mean
// log-probability of the language's own text.
func (b *ProfileBuilder) Build(label, source string, maxTrigrams int) (*Profile, error) {
	if maxTrigrams <= 0 {
		maxTrigrams = DefaultProfileTrigrams
	}
	p := &Profile{Label: label, Source: source, Letters: map[rune]float64{}, Trigrams: map[string]float64{}}
	var totalLetters float64
	for _, w := range b.letters {
		totalLetters += w
	}
	for r, w := range b.letters {
		if w > 0 {
			p.Letters[r] = round2(math.Log(w / totalLetters))
		}
	}
	if len(p.Letters) == 0 {
		return nil, ErrProfileTooSmall
	}
	if len(b.trigrams) == 0 {
		return p, nil // a letters-only profile (scripts lingua-go identifies by alphabet)
	}
	type tw struct {
		g string
		w float64
	}
	var total float64
	prefix := map[string]float64{}
	all := make([]tw, 0, len(b.trigrams))
	for g, w := range b.trigrams {
		if w <= 0 {
			continue
		}
		total += w
		_, size := utf8.DecodeLastRuneInString(g)
		prefix[g[:len(g)-size]] += w
		all = append(all, tw{g, w})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].w != all[j].w {
			return all[i].w > all[j].w
		}
		return all[i].g < all[j].g
	})
	if len(all) > maxTrigrams {
		all = all[:maxTrigrams]
	}
	var expect, mass float64
	for _, t := range all {
		_, size := utf8.DecodeLastRuneInString(t.g)
		lp := round2(math.Log(t.w / prefix[t.g[:len(t.g)-size]]))
		p.Trigrams[t.g] = lp
		expect += t.w / total * lp
		mass += t.w / total
	}
	p.Expect = round4(expect + (1-mass)*logFloor)
	return p, nil
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// round2 keeps profiles small: a hundredth of a nat is far below what the check resolves.
func round2(x float64) float64 { return math.Round(x*100) / 100 }

// BuildProfile makes a profile for label from plain text in that language (UTF-8, any
// layout). A few hundred kilobytes of ordinary prose make a good profile; less than about
// 2,000 trigrams is refused.
func BuildProfile(label string, r io.Reader, source string) (*Profile, error) {
	b := NewProfileBuilder()
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadString('\n')
		b.AddText(line)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("profile %s: %w", label, err)
		}
	}
	if b.textTrigrams < 2000 {
		return nil, fmt.Errorf("profile %s: %w (got %d)", label, ErrProfileTooSmall, b.textTrigrams)
	}
	p, err := b.Build(label, source, DefaultProfileTrigrams)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", label, err)
	}
	return p, nil
}

// WriteTo writes p in the profile text format read by ReadProfiles:
//
//	# comment
//	label	yor_Latn
//	source	where the frequencies come from
//	expect	-3.1416
//	letter	a	-2.4700
//	tri	ile	-0.6200
//
// Letters and trigrams are written in code point order, so the output is reproducible.
func (p *Profile) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriter(w)
	var n int64
	put := func(parts ...string) {
		k, _ := bw.WriteString(strings.Join(parts, "\t") + "\n")
		n += int64(k)
	}
	put("label", p.Label)
	if p.Source != "" {
		put("source", strings.NewReplacer("\t", " ", "\n", " ").Replace(p.Source))
	}
	put("expect", strconv.FormatFloat(p.Expect, 'f', 4, 64))
	letters := make([]rune, 0, len(p.Letters))
	for r := range p.Letters {
		letters = append(letters, r)
	}
	sort.Slice(letters, func(i, j int) bool { return letters[i] < letters[j] })
	for _, r := range letters {
		put("letter", string(r), strconv.FormatFloat(p.Letters[r], 'f', -1, 64))
	}
	tris := make([]string, 0, len(p.Trigrams))
	for g := range p.Trigrams {
		tris = append(tris, g)
	}
	sort.Strings(tris)
	for _, g := range tris {
		put("tri", g, strconv.FormatFloat(p.Trigrams[g], 'f', -1, 64))
	}
	return n, bw.Flush()
}

// ReadProfiles reads profiles in the format WriteTo writes, several in a row (each starts
// with its label line). gzip-compressed input is recognised by its magic bytes. name is used
// in error messages, which give the line.
func ReadProfiles(r io.Reader, name string) ([]*Profile, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	var out []*Profile
	var cur *Profile
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, args...))
	}
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" || text[0] == '#' {
			continue
		}
		f := strings.Split(text, "\t")
		if f[0] == "label" {
			if len(f) != 2 || f[1] == "" {
				return nil, bad("want \"label<TAB>name\"")
			}
			cur = &Profile{Label: f[1], Letters: map[rune]float64{}, Trigrams: map[string]float64{}}
			out = append(out, cur)
			continue
		}
		if cur == nil {
			return nil, bad("%q before the first label line", f[0])
		}
		switch f[0] {
		case "source":
			if len(f) != 2 {
				return nil, bad("want \"source<TAB>text\"")
			}
			cur.Source = f[1]
		case "expect":
			if len(f) != 2 {
				return nil, bad("want \"expect<TAB>number\"")
			}
			v, err := parseLogProb(f[1])
			if err != nil {
				return nil, bad("expect: %v", err)
			}
			cur.Expect = v
		case "letter":
			if len(f) != 3 || utf8.RuneCountInString(f[1]) != 1 {
				return nil, bad("want \"letter<TAB>one letter<TAB>log-probability\"")
			}
			v, err := parseLogProb(f[2])
			if err != nil {
				return nil, bad("letter %q: %v", f[1], err)
			}
			r, _ := utf8.DecodeRuneInString(f[1])
			cur.Letters[r] = v
		case "tri":
			if len(f) != 3 || utf8.RuneCountInString(f[1]) != 3 {
				return nil, bad("want \"tri<TAB>three letters<TAB>log-probability\"")
			}
			v, err := parseLogProb(f[2])
			if err != nil {
				return nil, bad("trigram %q: %v", f[1], err)
			}
			cur.Trigrams[f[1]] = v
		default:
			return nil, bad("unknown record %q (want label, source, expect, letter or tri)", f[0])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no profile in file", name)
	}
	return out, nil
}

func parseLogProb(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || v > 0 || math.IsInf(v, 0) {
		return 0, fmt.Errorf("want a log-probability (a number <= 0), got %q", s)
	}
	return v, nil
}

// ReadProfileFile reads the profiles in a file (plain or gzip).
func ReadProfileFile(path string) ([]*Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	defer f.Close()
	return ReadProfiles(f, path)
}

//go:embed profiles/lingua.prof.gz
var embeddedProfiles []byte

var (
	defaultProfilesOnce sync.Once
	defaultProfiles     *ProfileSet
)

// DefaultProfiles returns the embedded profiles (every lingua-go language except Chinese,
// Japanese and Korean, which are told apart by script alone), parsed on first use.
func DefaultProfiles() *ProfileSet {
	defaultProfilesOnce.Do(func() {
		ps, err := ReadProfiles(bytes.NewReader(embeddedProfiles), "profiles/lingua.prof.gz")
		if err != nil {
			panic("lang: embedded profiles: " + err.Error()) // caught by the tests
		}
		defaultProfiles = NewProfileSet(ps...)
	})
	return defaultProfiles
}
