package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// AddedToken is one entry of added_tokens: a token matched in the text as a whole before
// the model runs.
type AddedToken struct {
	ID         int
	Content    string
	Special    bool
	SingleWord bool // only where no word character touches it on either side
	LStrip     bool // swallows the white space on its left
	RStrip     bool // swallows the white space on its right
	Normalized bool // matched in the normalized text (else in the raw text)
}

// addedMatcher finds added tokens in a text, leftmost first and longest at a position, like
// HF's Aho-Corasick automaton with MatchKind::LeftmostLongest. It is a byte trie.
type addedMatcher struct {
	first [256]bool           // bytes that start some token
	edges map[uint64]int32    // node<<8 | byte -> child node
	term  map[int32]*addedRef // node -> token ending there
	nodes int32
}

type addedRef struct {
	tok *AddedToken
	id  int32
}

func newAddedMatcher() *addedMatcher {
	return &addedMatcher{edges: map[uint64]int32{}, term: map[int32]*addedRef{}, nodes: 1}
}

func (m *addedMatcher) add(pattern []byte, tok *AddedToken) {
	if len(pattern) == 0 {
		return
	}
	m.first[pattern[0]] = true
	node := int32(0)
	for _, b := range pattern {
		k := uint64(node)<<8 | uint64(b)
		child, ok := m.edges[k]
		if !ok {
			child = m.nodes
			m.nodes++
			m.edges[k] = child
		}
		node = child
	}
	if _, dup := m.term[node]; !dup {
		m.term[node] = &addedRef{tok: tok, id: int32(tok.ID)}
	}
}

// longest returns the end of the longest token starting at s[i], or -1.
func (m *addedMatcher) longest(s []byte, i int) (int, *addedRef) {
	if !m.first[s[i]] {
		return -1, nil
	}
	end, ref := -1, (*addedRef)(nil)
	node := int32(0)
	for j := i; j < len(s); j++ {
		child, ok := m.edges[uint64(node)<<8|uint64(s[j])]
		if !ok {
			break
		}
		node = child
		if r, ok := m.term[node]; ok {
			end, ref = j+1, r
		}
	}
	return end, ref
}

// next finds the next added token in s at or after from and returns the span it covers
// (white space included for lstrip/rstrip tokens; never before floor, the end of the
// previous match) and where the search goes on. ok is false when there is none.
func (m *addedMatcher) next(s []byte, from, floor int) (start, stop int, id int32, resume int, ok bool) {
	for i := from; i < len(s); i++ {
		for i < len(s) && !m.first[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		end, ref := m.longest(s, i)
		if end < 0 {
			continue
		}
		tok := ref.tok
		if tok.SingleWord && (endsWithWord(s[:i]) || startsWithWord(s[end:])) {
			// HF's automaton moves past a discarded match rather than retrying inside it.
			i = end - 1
			continue
		}
		start, stop = i, end
		if tok.LStrip {
			start = max(trimSpaceRight(s[:i]), floor)
		}
		if tok.RStrip {
			stop = end + spacePrefix(s[end:])
		}
		return start, stop, ref.id, stop, true
	}
	return 0, 0, 0, len(s), false
}

// isWordChar is Rust regex's \w: alphabetic (letters, letter numbers and Other_Alphabetic,
// which holds symbols such as the circled letters Ⓐ), marks, decimal digits, connector
// punctuation and the joiners; with the letters, digits and marks of Unicode 15.1 and 16.0
// (HF's regex crate is at 16.0, Go's unicode package at 15.0).
func isWordChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Nl, r) ||
		unicode.Is(unicode.Other_Alphabetic, r) || unicode.Is(unicode.Pc, r) || r == 0x200C || r == 0x200D ||
		r >= 0x897 && (unicode.Is(lettersSince15, r) || unicode.Is(numbersSince15, r) || unicode.Is(marksSince15, r))
}

// marksSince15 are the marks Unicode 15.1 and 16.0 added (found, like lettersSince15, by
// comparing every code point with HF).
var marksSince15 = &unicode.RangeTable{
	R16: []unicode.Range16{{0x897, 0x897, 1}},
	R32: []unicode.Range32{{0x10d69, 0x10d6d, 1}, {0x10efc, 0x10efc, 1}, {0x113b8, 0x113c0, 1}, {0x113c2, 0x113c5, 3},
		{0x113c7, 0x113ca, 1}, {0x113cc, 0x113d0, 1}, {0x113d2, 0x113d2, 1}, {0x113e1, 0x113e2, 1}, {0x11f5a, 0x11f5a, 1},
		{0x1611e, 0x1612f, 1}, {0x1e5ee, 0x1e5ef, 1}},
}

func endsWithWord(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	r, _ := utf8.DecodeLastRune(s)
	return isWordChar(r)
}

func startsWithWord(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	r, _ := utf8.DecodeRune(s)
	return isWordChar(r)
}

// trimSpaceRight returns where the white space at the end of s starts.
func trimSpaceRight(s []byte) int {
	for len(s) > 0 {
		r, w := utf8.DecodeLastRune(s)
		if !unicode.IsSpace(r) {
			break
		}
		s = s[:len(s)-w]
	}
	return len(s)
}

// spacePrefix returns the length of the white space at the start of s.
func spacePrefix(s []byte) int {
	n := 0
	for n < len(s) {
		r, w := utf8.DecodeRune(s[n:])
		if !unicode.IsSpace(r) {
			break
		}
		n += w
	}
	return n
}
