package tokenizer

// GPT-2's byte-level alphabet: each of the 256 byte values is written as one printable
// character in the vocabulary and merges of byte-level tokenizers, so that a token string
// never holds a space or a control character. Printable Latin-1 bytes stand for themselves;
// the other 68 bytes (controls, space, DEL, NBSP, soft hyphen) take the code points from
// U+0100 upwards in byte order. Space (0x20) is therefore "Ġ" (U+0120) and newline "Ċ".
var (
	byteToRune [256]rune
	runeToByte = map[rune]byte{}
)

func init() {
	next := rune(0x100)
	for b := 0; b < 256; b++ {
		if printableLatin1(b) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = next
			next++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

func printableLatin1(b int) bool {
	return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
}

// byteLevelDecode turns a vocabulary string of a byte-level tokenizer into the raw bytes it
// stands for. ok is false when the string holds a character outside the alphabet (such a
// token cannot come out of byte-level pre-tokenization).
func byteLevelDecode(s string) (out []byte, ok bool) {
	out = make([]byte, 0, len(s))
	for _, r := range s {
		b, in := runeToByte[r]
		if !in {
			return nil, false
		}
		out = append(out, b)
	}
	return out, true
}
