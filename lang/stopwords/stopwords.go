// Package stopwords holds small per-language stop-word lists: the function words (articles,
// conjunctions, prepositions, pronouns, copulas, frequent particles) that almost every
// running text in the language contains. Quality rules count them to tell prose from lists,
// menus and keyword spam (Gopher's "at least two stop words" rule, made per language).
//
// The lists are embedded files named by language label (yor_Latn.txt), one word per line,
// lower case, in NFC; "#" starts a comment line. They were written by hand for sieve from
// the languages' grammars, not extracted from any corpus; where a language is often written
// without its diacritics (Yoruba tone marks, Igbo dots) both spellings are listed. Entries in
// scripts written without spaces (Thai, Chinese, Japanese) are matched as substrings.
// `sieve calibrate` derives lists from a corpus's most frequent words instead; see README.md.
package stopwords

import (
	"embed"
	"sort"
	"strings"
	"sync"

	"github.com/sieve-data/sieve/lang"
)

//go:embed *.txt
var files embed.FS

var lists = sync.OnceValue(func() map[string][]string {
	m := map[string][]string{}
	ents, _ := files.ReadDir(".")
	for _, e := range ents {
		data, err := files.ReadFile(e.Name())
		if err != nil {
			panic(err) // embedded: cannot happen
		}
		var words []string
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			words = append(words, line)
		}
		m[strings.TrimSuffix(e.Name(), ".txt")] = words
	}
	return m
})

// For returns the list of a language given as a label ("yor_Latn") or anything lang.Lookup
// understands ("yor", "yo", "Yoruba"), and whether there is one. The caller may modify the
// returned slice.
func For(language string) ([]string, bool) {
	m := lists()
	if w, ok := m[language]; ok {
		return append([]string(nil), w...), true
	}
	if l, ok := lang.Lookup(language); ok {
		if w, ok := m[l.Label]; ok {
			return append([]string(nil), w...), true
		}
	}
	return nil, false
}

// Languages returns the labels that have a list, sorted.
func Languages() []string {
	m := lists()
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
