package report

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkReservoirPositions draws 20 of 1,000,000 positions, as for the kept documents of
// one language in Parquet files.
func BenchmarkReservoirPositions(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		newReservoir(20, 1, Kept, "yor_Latn").positions(1_000_000)
	}
}

// BenchmarkScanRejects streams a JSONL rejects file of 20,000 ~1 KB records in 10 languages,
// drawing 20 samples per language.
func BenchmarkScanRejects(b *testing.B) {
	path := filepath.Join(b.TempDir(), "rejects.jsonl")
	var sb strings.Builder
	text := strings.Repeat("Àwọn akẹ́kọ̀ọ́ ilé-ẹ̀kọ́ gíga náà ṣe ìdánwò ìkẹyìn wọn. ", 18)
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&sb, `{"id":"d%d","stage":"length","reason":"length.too_short","detail":"x","file":"in.jsonl","line":%d,"offset":%d,"lang":"l%d_Latn","text":%q}`+"\n", i, i+1, i*1000, i%10, text)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(sb.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := scanRejects(context.Background(), path, func(label string) *reservoir { return newReservoir(20, 1, Rejected, label) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuild rebuilds the report of the test corpus (card, page, 7 audit files).
func BenchmarkBuild(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "corpus")
	runPipeline(b, testPipeline, dir, 2)
	b.ReportAllocs()
	for b.Loop() {
		if err := Build(dir); err != nil {
			b.Fatal(err)
		}
	}
}
