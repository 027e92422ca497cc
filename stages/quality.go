package stages

import (
	"github.com/sieve-data/sieve/pipeline"
	"github.com/sieve-data/sieve/stages/quality"
)

// The four quality stage kinds. Their rules, measurements and per-language resolution live
// in package stages/quality; `sieve calibrate` (calibrate.go) derives per-language thresholds
// for them from a corpus.
var _ pipeline.Stage = (*quality.Stage)(nil)

func init() {
	newQuality := func(kind string) func(cfg any, env *pipeline.Env) (pipeline.Stage, error) {
		return func(cfg any, env *pipeline.Env) (pipeline.Stage, error) {
			return quality.New(kind, cfg, env.BaseDir)
		}
	}
	pipeline.MustRegister(quality.KindGopherQuality, pipeline.Spec{
		Summary: "Rejects documents failing Gopher's quality rules (word count, mean word length, symbols, bullets, ellipses, letters, stop words), with per-language thresholds and stop words.",
		Example: "{min_words: 50, per_language: {yor_Latn: {min_mean_word_length: 2.5}}, thresholds_file: calibrated.yaml}",
		Mode:    pipeline.Parallel,
		Config:  func() any { c := quality.DefaultGopherQualityConfig(); return &c },
		New:     newQuality(quality.KindGopherQuality),
	})
	pipeline.MustRegister(quality.KindGopherRepetition, pipeline.Spec{
		Summary: "Rejects documents with repeated lines, paragraphs or n-grams (Gopher's repetition rules), with per-language thresholds.",
		Example: "{max_dup_line_ratio: 0.3, disable: [top_2gram_char_ratio]}",
		Mode:    pipeline.Parallel,
		Config:  func() any { c := quality.DefaultGopherRepetitionConfig(); return &c },
		New:     newQuality(quality.KindGopherRepetition),
	})
	pipeline.MustRegister(quality.KindC4Quality, pipeline.Spec{
		Summary: "Applies C4's line rules (terminal punctuation, words per line, javascript, policy, citations), dropping failing lines, and rejects documents with lorem ipsum, '{' or too few sentences.",
		Example: "{line_action: drop, min_sentences: 5, per_language: {tha_Thai: {disable: [terminal_punct]}}}",
		Mode:    pipeline.Parallel,
		Config:  func() any { c := quality.DefaultC4QualityConfig(); return &c },
		New:     newQuality(quality.KindC4Quality),
	})
	pipeline.MustRegister(quality.KindFineWebQuality, pipeline.Spec{
		Summary: "Rejects documents failing FineWeb's rules (terminal-punctuation lines, short lines, duplicated line characters, newlines per word), with per-language thresholds.",
		Example: "{min_terminal_punct_line_ratio: 0.12, max_short_line_ratio: 0.67}",
		Mode:    pipeline.Parallel,
		Config:  func() any { c := quality.DefaultFineWebQualityConfig(); return &c },
		New:     newQuality(quality.KindFineWebQuality),
	})
}
