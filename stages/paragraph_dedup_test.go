package stages

import (
	"context"
	"strings"
	"testing"

	"github.com/sieve-data/sieve/pipeline"
)

func TestParagraphDedup(t *testing.T) {
	menu := "Home | News | Sports | Contact us today"
	footer := "Copyright 2024 Example News, all rights reserved."
	tests := []struct {
		name       string
		give       []string
		wantText   []string // "" means rejected
		wantReason []string
	}{
		{
			name: "boilerplate lines removed after the first document",
			give: []string{
				menu + "\nMvua kubwa ilinyesha jana jijini Nairobi na kusababisha mafuriko.\n" + footer,
				menu + "\nWakulima wa Kenya wanatarajia mavuno mazuri mwaka huu.\n" + strings.Replace(footer, "2024", "2025", 1),
			},
			wantText: []string{
				menu + "\nMvua kubwa ilinyesha jana jijini Nairobi na kusababisha mafuriko.\n" + footer,
				"Wakulima wa Kenya wanatarajia mavuno mazuri mwaka huu.",
			},
			wantReason: []string{"", ""},
		},
		{
			name: "document made only of seen lines is rejected",
			give: []string{
				"Ọjọ́ ayọ̀ ni òní fún gbogbo ìdílé wa.\n" + footer,
				"ọjọ́ ayọ̀ ni òní fún gbogbo ìdílé wa!\n" + footer,
			},
			wantText:   []string{"Ọjọ́ ayọ̀ ni òní fún gbogbo ìdílé wa.\n" + footer, ""},
			wantReason: []string{"", "paragraph_dedup.all_duplicate"},
		},
		{
			name:       "repeats inside one document and short lines stay",
			give:       []string{"Hello there\n" + footer + "\n" + footer, "Hello there\nA new line of text that is long enough."},
			wantText:   []string{"Hello there\n" + footer + "\n" + footer, "Hello there\nA new line of text that is long enough."},
			wantReason: []string{"", ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &ParagraphDedup{cfg: ParagraphDedupConfig{Unit: "line", MinChars: 20, MinCharsLeft: 1, Scope: "global"}, seen: map[uint64]struct{}{}}
			for i, text := range tt.give {
				d := &pipeline.Document{ID: "d", Text: text}
				v, err := s.Process(context.Background(), d)
				if err != nil {
					t.Fatal(err)
				}
				if v.Reason != tt.wantReason[i] {
					t.Fatalf("doc %d: reason %q, want %q (%s)", i, v.Reason, tt.wantReason[i], v.Detail)
				}
				if v.Kept() && d.Text != tt.wantText[i] {
					t.Errorf("doc %d: text %q, want %q", i, d.Text, tt.wantText[i])
				}
			}
		})
	}
}

func BenchmarkParagraphDedup(b *testing.B) {
	lines := make([]string, 30)
	for i := range lines {
		lines[i] = strings.Repeat("word ", 15) + string(rune('a'+i%26)) + strings.Repeat("x", i)
	}
	text := strings.Join(lines, "\n")
	s := &ParagraphDedup{cfg: ParagraphDedupConfig{Unit: "line", MinChars: 20, MinCharsLeft: 1, Scope: "global"}, seen: map[uint64]struct{}{}}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		d := &pipeline.Document{Text: text}
		_, _ = s.Process(context.Background(), d)
	}
}
