package formats

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/sieve-data/sieve/pipeline"
)

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zstdBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	return w.EncodeAll(data, nil)
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readDocs reads src to its end or first error, closing it.
func readDocs(t testing.TB, src pipeline.Source) ([]pipeline.Document, error) {
	t.Helper()
	defer src.Close()
	var docs []pipeline.Document
	for {
		var doc pipeline.Document
		err := src.Next(context.Background(), &doc)
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return docs, err
		}
		docs = append(docs, doc)
		if len(docs) > 1e6 {
			t.Fatal("reader does not end")
		}
	}
}

func TestOpenDetectsByMagicBytes(t *testing.T) {
	content := []byte("{\"text\":\"Ẹ káàárọ̀\"}\n{\"text\":\"Habari ya asubuhi\"}\n")
	tests := []struct {
		name      string
		give      []byte
		wantCodec Codec
	}{
		{"plain.jsonl", content, CodecNone},
		{"plain-named.jsonl.gz", content, CodecNone},
		{"gzip-without-extension.jsonl", gzipBytes(t, content), CodecGzip},
		{"zstd-named-gz.jsonl.gz", zstdBytes(t, content), CodecZstd},
		{"zstd.jsonl.zst", zstdBytes(t, content), CodecZstd},
		{"empty.jsonl", nil, CodecNone},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Open(writeFile(t, dir, tt.name, tt.give))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := io.ReadAll(f)
			if err != nil {
				t.Fatal(err)
			}
			if f.Codec() != tt.wantCodec {
				t.Errorf("codec = %s, want %s", f.Codec(), tt.wantCodec)
			}
			want := content
			if tt.give == nil {
				want = nil
			}
			if !bytes.Equal(got, want) {
				t.Errorf("content = %q, want %q", got, want)
			}
			if f.Offset() != int64(len(want)) {
				t.Errorf("Offset = %d, want %d", f.Offset(), len(want))
			}
			if f.Consumed() != int64(len(tt.give)) || f.Size() != int64(len(tt.give)) {
				t.Errorf("Consumed, Size = %d, %d; want %d", f.Consumed(), f.Size(), len(tt.give))
			}
			if want := fmt.Sprintf("%x", sha256.Sum256(tt.give)); f.Sum() != want {
				t.Errorf("Sum = %s, want %s", f.Sum(), want)
			}
		})
	}
}

func TestOpenMultiMemberGzip(t *testing.T) {
	a, b := []byte("{\"text\":\"Bore da\"}\n"), []byte("{\"text\":\"Egun on\"}\n")
	data := append(gzipBytes(t, a), gzipBytes(t, b)...)
	f, err := Open(writeFile(t, t.TempDir(), "two.gz", data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if want := string(a) + string(b); string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestOpenZstdSkippableFrame(t *testing.T) {
	content := []byte("Góðan daginn\n")
	skippable := []byte{0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'x', 'y', 'z'}
	f, err := Open(writeFile(t, t.TempDir(), "skip.zst", append(skippable, zstdBytes(t, content)...)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(got, content) || f.Codec() != CodecZstd {
		t.Errorf("got %q, %v, codec %s; want %q", got, err, f.Codec(), content)
	}
}

// corpus returns n JSONL lines of varied text, so that compressed streams have several blocks.
func corpus(n int) []byte {
	var b bytes.Buffer
	words := []string{"Sawubona", "umhlaba", "Kaixo", "mundua", "Magandang", "umaga", "ọjọ́", "ilé", "ñandú", "ᏣᎳᎩ"}
	for i := range n {
		fmt.Fprintf(&b, "{\"id\":%d,\"text\":\"%s %s %d %s\"}\n", i, words[i%len(words)], words[(i*7+3)%len(words)], i*i, words[(i/3)%len(words)])
	}
	return b.Bytes()
}

func TestOpenTruncatedOrCorrupt(t *testing.T) {
	content := corpus(20000)
	gz, zs := gzipBytes(t, content), zstdBytes(t, content)
	flip := func(b []byte, at int) []byte {
		c := bytes.Clone(b)
		c[at] ^= 0xff
		return c
	}
	tests := []struct {
		name string
		give []byte
	}{
		{"gzip truncated in the middle", gz[:len(gz)/2]},
		{"gzip truncated before the trailer", gz[:len(gz)-4]},
		{"gzip header only", gz[:5]},
		{"gzip corrupt byte", flip(gz, len(gz)/2)},
		{"gzip trailing garbage", append(bytes.Clone(gz), "garbage"...)},
		{"zstd truncated in the middle", zs[:len(zs)/2]},
		{"zstd truncated at the end", zs[:len(zs)-1]},
		{"zstd magic only", zs[:4]},
		{"zstd corrupt byte", flip(zs, len(zs)/2)},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := writeFile(t, dir, fmt.Sprintf("f%d.jsonl", i), tt.give)
			f, err := Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := io.ReadAll(f)
			var re *ReadError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v (%T), want *ReadError", err, err)
			}
			if !errors.Is(err, ErrCorrupt) || re.Reason != ReasonTruncated {
				t.Errorf("err = %v, want ErrCorrupt with reason %s", err, ReasonTruncated)
			}
			if re.File != name || re.Offset != int64(len(got)) || !strings.Contains(err.Error(), name) {
				t.Errorf("err = %+v; want file %s, offset %d (bytes read)", re, name, len(got))
			}
			if !bytes.HasPrefix(content, got) && !strings.Contains(tt.name, "corrupt") {
				t.Errorf("bytes read before the error are not a prefix of the content")
			}
			if _, err2 := f.Read(make([]byte, 10)); err2 != err {
				t.Errorf("second Read = %v, want the same error", err2)
			}
		})
	}
}

type failingReader struct {
	r     io.Reader
	after int
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("input/output error")
	}
	if len(p) > f.after {
		p = p[:f.after]
	}
	n, err := f.r.Read(p)
	f.after -= n
	return n, err
}

func TestIOErrorIsNotCorrupt(t *testing.T) {
	content := corpus(5000)
	for _, give := range [][]byte{content, gzipBytes(t, content), zstdBytes(t, content)} {
		f, err := newFile("disk.jsonl", &failingReader{r: bytes.NewReader(give), after: len(give) / 2}, nil, int64(len(give)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(f)
		var re *ReadError
		if !errors.As(err, &re) || re.Reason != "" || errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "input/output error") {
			t.Errorf("%s: err = %v, want an I/O *ReadError without reason", f.Codec(), err)
		}
	}
}

func TestOpenUnsupportedAndMissing(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		give []byte
		want string
	}{
		{"a.xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0, 0, 4, 0xe6, 0xd6, 0xb4, 0x46}, "xz compression is not supported"},
		{"a.bz2", []byte("BZh91AY&SY\x00\x01"), "bzip2 compression is not supported"},
	}
	for _, tt := range tests {
		_, err := Open(writeFile(t, dir, tt.name, tt.give))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("%s: err = %v, want %q naming the file", tt.name, err, tt.want)
		}
	}
	missing := filepath.Join(dir, "nope.jsonl")
	if _, err := Open(missing); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: err = %v", err)
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: err = %v", err)
	}
}

func TestFinishReadsTheRestForTheSum(t *testing.T) {
	data := gzipBytes(t, corpus(3000))
	f, err := Open(writeFile(t, t.TempDir(), "a.gz", data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Read(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	if f.Sum() != "" {
		t.Error("Sum before the end should be empty")
	}
	if err := f.Finish(); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%x", sha256.Sum256(data)); f.Sum() != want || f.Consumed() != int64(len(data)) {
		t.Errorf("after Finish: Sum %s Consumed %d; want %s %d", f.Sum(), f.Consumed(), want, len(data))
	}
}
