package tokenizer

import (
	"hash/maphash"
	"strings"
	"unicode/utf8"
)

// Tokenizer is a loaded tokenizer.json. It is immutable and safe for concurrent use; count
// and encode through a Counter per goroutine.
type Tokenizer struct {
	name, sha256 string

	byteLevel    bool
	vocab        map[string]int32 // raw bytes for byte-level tokenizers, else the token string
	otherKeys    map[string]int32 // byte-level: vocabulary strings outside the byte alphabet
	modelSize    int              // entries of model.vocab
	merges       *mergeTable
	byteID       [256]int32 // byte-level: the token of each byte, -1 when absent
	byteTok      [256]int32 // byte fallback: the <0xNN> tokens, -1 when absent
	byteFallback bool
	unkToken     string
	unkID        int32
	fuseUnk      bool
	ignoreMerges bool

	norms []normalizer
	pre   []preStep

	added     []*AddedToken
	addedByID map[int32]*AddedToken
	rawMatch  *addedMatcher // added tokens matched in the raw text
	normMatch *addedMatcher // added tokens matched in the normalized text

	// SentencePiece-style text is one long piece per document; it can be cut before a "▁"
	// when no token could span the cut (see setupChunking).
	chunk         bool
	chunkAfter    map[rune]bool // characters after which a cut before "▁" is safe
	cutAfterASCII [utf8.RuneSelf]bool
	chunkOnBytes  bool // byte-fallback characters allow a cut too

	runeID    []int32 // SentencePiece-style: the token of each BMP character, -1 when none
	seed      maphash.Seed
	vocabBits []uint64 // filter of the vocabulary's hashes (see maybeInVocab)

	idToken   []string // vocabulary strings as written in the file, by id
	idSet     []bool
	decoders  []decStep
	decodeErr error
}

// Name is the file's base name (or "tokenizer.json" when parsed from memory).
func (t *Tokenizer) Name() string { return t.name }

// SHA256 is the hex SHA-256 of the tokenizer.json bytes.
func (t *Tokenizer) SHA256() string { return t.sha256 }

// Family describes the tokenizer: "byte-level BPE" or "SentencePiece-style BPE".
func (t *Tokenizer) Family() string {
	if t.byteLevel {
		return "byte-level BPE"
	}
	return "SentencePiece-style BPE"
}

// VocabSize is the number of token ids (vocabulary and added tokens).
func (t *Tokenizer) VocabSize() int { return len(t.idToken) }

// AddedTokens lists the added tokens in file order.
func (t *Tokenizer) AddedTokens() []AddedToken {
	out := make([]AddedToken, len(t.added))
	for i, a := range t.added {
		out[i] = *a
	}
	return out
}

const metaspace = "▁"

// setupLookups fills the tables that spare map lookups on the per-word path.
func (t *Tokenizer) setupLookups() {
	t.seed = maphash.MakeSeed()
	n := 1 << 10 // 64 bits per word; aim at 16 bits per vocabulary entry
	for n*64 < 16*len(t.vocab) && n < 1<<18 {
		n *= 2
	}
	t.vocabBits = make([]uint64, n)
	for k := range t.vocab {
		h := maphash.String(t.seed, k)
		t.vocabBits[(h>>6)&uint64(n-1)] |= 1 << (h & 63)
	}
	if t.byteLevel {
		return
	}
	t.runeID = make([]int32, 0x10000)
	for r := range t.runeID {
		t.runeID[r] = -1
	}
	for k, id := range t.vocab {
		if r, w := utf8.DecodeRuneInString(k); w == len(k) && r < 0x10000 && (r != utf8.RuneError || w > 1) {
			t.runeID[r] = id
		}
	}
}

// setupChunking decides where SentencePiece-style text may be cut before BPE without
// changing the result. A cut between a character p and a following "▁" is safe when no
// vocabulary token contains p directly followed by "▁": no merge can then join symbols
// across it (a merge produces a vocabulary token), so merging both sides apart gives what
// merging the whole does. Llama 2 has no such token at all; Gemma 3 has one, ">▁</".
func (t *Tokenizer) setupChunking() {
	if t.byteLevel || t.ignoreMerges {
		return
	}
	if _, ok := t.vocab[metaspace]; !ok {
		return
	}
	bad := map[rune]bool{}
	for tok := range t.vocab {
		for i := strings.Index(tok, metaspace); i >= 0; {
			if i > 0 {
				r, _ := utf8.DecodeLastRuneInString(tok[:i])
				bad[r] = true
			}
			j := strings.Index(tok[i+len(metaspace):], metaspace)
			if j < 0 {
				break
			}
			i += len(metaspace) + j
		}
	}
	t.chunk = true
	t.chunkAfter = map[rune]bool{}
	for tok := range t.vocab {
		if r, n := utf8.DecodeRuneInString(tok); n == len(tok) && r != utf8.RuneError && !bad[r] && tok != metaspace {
			t.chunkAfter[r] = true
			if r < utf8.RuneSelf {
				t.cutAfterASCII[r] = true
			}
		}
	}
	// A character outside the vocabulary becomes <0xNN> tokens, which end in '>'.
	t.chunkOnBytes = t.byteFallback && !bad['>']
	for r := rune(0); r < utf8.RuneSelf; r++ {
		if _, inVocab := t.vocab[string(r)]; !inVocab && t.chunkOnBytes && t.byteTok[r] >= 0 {
			t.cutAfterASCII[r] = true
		}
	}
}
