package main

import (
	"embed"
	"fmt"
	"io/fs"
	"math"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The word lists are written by the sieve authors: for each language, about 300 frequent
// words, roughly most frequent first. Lines starting with '#' are comments; words are
// separated by white space and are NFC.
//
//go:embed words/*.txt
var wordFiles embed.FS

// language is one word list with what is needed to assemble sentences from it.
type language struct {
	code   string   // ISO 639-3, the word list's file name
	label  string   // sieve's label, ISO 639-3 + "_" + ISO 15924
	words  []string // in the list's order (rank 0 = most frequent)
	prob   []uint32 // alias table for Zipf sampling by rank (Vose): keep rank i when the
	alias  []uint16 // high 32 random bits are below prob[i], else take alias[i]
	stop   string   // sentence end
	comma  string   // clause separator
	ask    string   // question mark
	script string
}

// scripts maps the word lists that are not in Latin script.
var scripts = map[string]string{"amh": "Ethi"}

// zipfExponent shapes word frequencies: weight(rank) = 1/(rank+zipfOffset)^zipfExponent.
const (
	zipfExponent = 1.0
	zipfOffset   = 2.7
)

// loadLanguages parses the embedded word lists, sorted by code. It fails on a list that is
// too short, has duplicates, or is not NFC.
func loadLanguages() ([]*language, error) {
	names, err := fs.Glob(wordFiles, "words/*.txt")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var langs []*language
	for _, name := range names {
		b, err := wordFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		code := strings.TrimSuffix(path.Base(name), ".txt")
		l, err := parseWordList(code, string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		langs = append(langs, l)
	}
	return langs, nil
}

func parseWordList(code, text string) (*language, error) {
	l := &language{code: code, script: "Latn", stop: ".", comma: ",", ask: "?"}
	if s, ok := scripts[code]; ok {
		l.script = s
	}
	if l.script == "Ethi" {
		l.stop, l.comma = "።", "፣"
	}
	l.label = code + "_" + l.script
	seen := map[string]int{}
	for i, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, w := range strings.Fields(line) {
			if !utf8.ValidString(w) || !norm.NFC.IsNormalString(w) {
				return nil, fmt.Errorf("line %d: %q is not NFC UTF-8", i+1, w)
			}
			if strings.ContainsAny(w, "\"\\") {
				return nil, fmt.Errorf("line %d: %q contains a quote or backslash", i+1, w)
			}
			if prev, dup := seen[w]; dup {
				return nil, fmt.Errorf("line %d: %q already on line %d", i+1, w, prev)
			}
			seen[w] = i + 1
			l.words = append(l.words, w)
		}
	}
	if len(l.words) < 250 || len(l.words) > 1<<16 {
		return nil, fmt.Errorf("%d words, want 250 to 65536", len(l.words))
	}
	l.prob, l.alias = aliasTable(l.words)
	return l, nil
}

// aliasTable builds Vose's alias table for weights 1/(rank+zipfOffset)^zipfExponent.
func aliasTable(words []string) ([]uint32, []uint16) {
	n := len(words)
	w := make([]float64, n)
	total := 0.0
	for r := range w {
		w[r] = 1 / math.Pow(float64(r)+zipfOffset, zipfExponent)
		total += w[r]
	}
	var small, large []int
	for r := range w {
		w[r] *= float64(n) / total // mean 1
		if w[r] < 1 {
			small = append(small, r)
		} else {
			large = append(large, r)
		}
	}
	prob := make([]uint32, n)
	alias := make([]uint16, n)
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		prob[s], alias[s] = uint32(w[s]*(1<<32)), uint16(l)
		if w[l] -= 1 - w[s]; w[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, r := range append(small, large...) {
		prob[r], alias[r] = math.MaxUint32, uint16(r) // 1 up to rounding
	}
	return prob, alias
}

// word maps the low 56 of 64 random bits to a word, Zipf-distributed by rank: bits 0-23
// pick a column of the alias table, bits 24-55 choose between it and its alias. The top 8
// bits are left to the caller.
func (l *language) word(x uint64) string {
	i := (x & 0xffffff) * uint64(len(l.words)) >> 24
	if uint32(x>>24) < l.prob[i] {
		return l.words[i]
	}
	return l.words[l.alias[i]]
}
