package fasttext

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzLoad feeds corrupt and truncated model files to the loader: it must return a
// *FormatError (never panic, never allocate beyond the input), agree whether or not it knows
// the input length, and a model it accepts must predict without panicking.
func FuzzLoad(f *testing.F) {
	for _, s := range synthVariants() {
		data := writeModel(s)
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := LoadReader(bytes.NewReader(data))
		// A reader without Len: sizes are not known in advance.
		_, err2 := LoadReader(struct{ io.Reader }{bytes.NewReader(data)})
		if (err == nil) != (err2 == nil) {
			t.Fatalf("known size: %v; unknown size: %v", err, err2)
		}
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.As(err2, &fe) {
				t.Fatalf("errors %v / %v are not *FormatError", err, err2)
			}
			return
		}
		for _, text := range []string{"", "the maji", "ọjà дом zzz", "__label__eng_Latn a a a"} {
			for _, k := range []int{0, 1, 3} {
				ps := m.Predict(text, k, 0)
				if k > 0 && len(ps) > k {
					t.Fatalf("k=%d gave %d predictions", k, len(ps))
				}
			}
		}
	})
}
