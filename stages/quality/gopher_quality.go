package quality

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/unicode/norm"

	"github.com/sieve-data/sieve/lang"
	"github.com/sieve-data/sieve/lang/stopwords"
	"github.com/sieve-data/sieve/pipeline"
)

// GopherQualityConfig configures gopher_quality: the document-level rules of Gopher
// (Rae et al. 2021, appendix A). Ratios of lines count non-blank lines; "words" are
// lang.EachWord tokens, so a Thai or Chinese "word" is a grapheme.
type GopherQualityConfig struct {
	MinWords             int                  `yaml:"min_words" doc:"fewest words (rule word_count)"`
	MaxWords             int                  `yaml:"max_words" doc:"most words (rule word_count)"`
	MinMeanWordLength    float64              `yaml:"min_mean_word_length" doc:"shortest mean word length in characters, combining marks not counted (rule mean_word_length)"`
	MaxMeanWordLength    float64              `yaml:"max_mean_word_length" doc:"longest mean word length (rule mean_word_length)"`
	MaxSymbolWordRatio   float64              `yaml:"max_symbol_word_ratio" doc:"most '#' per word, and most ellipses ('...', '…') per word; symbol groups count as words (rule symbol_word_ratio)"`
	MaxBulletLineRatio   float64              `yaml:"max_bullet_line_ratio" doc:"largest share of lines starting with a bullet (• - * ‣ ◦ ▪ ● ■ ► ✓ ...) (rule bullet_line_ratio)"`
	MaxEllipsisLineRatio float64              `yaml:"max_ellipsis_line_ratio" doc:"largest share of lines ending with '...' or '…' (rule ellipsis_line_ratio)"`
	MinAlphaWordRatio    float64              `yaml:"min_alpha_word_ratio" doc:"smallest share of words holding a letter, among words and stand-alone symbol groups (rule alpha_word_ratio)"`
	MinStopWords         int                  `yaml:"min_stop_words" doc:"fewest stop-word occurrences (rule stop_words)"`
	StopWords            []string             `yaml:"stop_words" doc:"top level: stop words of languages without a list of their own (Gopher's eight English words); per language: that language's list"`
	BuiltinStopWords     bool                 `yaml:"builtin_stop_words" doc:"use sieve's lists (lang/stopwords) for languages that have one and no stop_words override"`
	Disable              []string             `yaml:"disable" doc:"rules switched off: word_count, mean_word_length, symbol_word_ratio, bullet_line_ratio, ellipsis_line_ratio, alpha_word_ratio, stop_words"`
	Enable               []string             `yaml:"enable" doc:"per-language entries only: rules switched back on for that language"`
	PerLanguage          map[string]yaml.Node `yaml:"per_language" doc:"overrides by language label (yor_Latn), code (yor) or script (Thai: languages of that script without an entry): any key above; wins over thresholds_file"`
	ThresholdsFile       string               `yaml:"thresholds_file" doc:"per-language overrides written by sieve calibrate (its gopher_quality section); relative to the config file"`
}

// GopherStopWords are the stop words of the Gopher rule (English).
var GopherStopWords = []string{"the", "be", "to", "of", "and", "that", "have", "with"}

// DefaultGopherQualityConfig returns the published defaults.
func DefaultGopherQualityConfig() GopherQualityConfig {
	return GopherQualityConfig{
		MinWords: 50, MaxWords: 100000, MinMeanWordLength: 3, MaxMeanWordLength: 10,
		MaxSymbolWordRatio: 0.1, MaxBulletLineRatio: 0.9, MaxEllipsisLineRatio: 0.3,
		MinAlphaWordRatio: 0.8, MinStopWords: 2, StopWords: append([]string(nil), GopherStopWords...),
		BuiltinStopWords: true,
	}
}

// Validate implements pipeline.Validator.
func (c *GopherQualityConfig) Validate() []pipeline.FieldError {
	return defs[KindGopherQuality].validateConfig(c, true)
}

const (
	gqWordCount = iota
	gqMeanWordLength
	gqSymbolWordRatio
	gqBulletLineRatio
	gqEllipsisLineRatio
	gqAlphaWordRatio
	gqStopWords
)

// gopherSettings is a language's stop-word matcher.
type gopherSettings struct {
	words  map[uint64]struct{} // lower-cased hashes of stop words matched as whole words
	subs   []string            // stop words of scripts without spaces, counted as substrings
	source string              // where the list came from, for messages
}

func init() {
	register(&filterDef{
		kind:  KindGopherQuality,
		rules: []string{"word_count", "mean_word_length", "symbol_word_ratio", "bullet_line_ratio", "ellipsis_line_ratio", "alpha_word_ratio", "stop_words"},
		bounds: []Bound{
			{Rule: "word_count", Key: "min_words", Int: true, Hi: 1e9},
			{Rule: "word_count", Key: "max_words", Max: true, Int: true, Hi: 1e9},
			{Rule: "mean_word_length", Key: "min_mean_word_length", Hi: 1000},
			{Rule: "mean_word_length", Key: "max_mean_word_length", Max: true, Hi: 1000},
			{Rule: "symbol_word_ratio", Key: "max_symbol_word_ratio", Max: true, Hi: 1000},
			{Rule: "bullet_line_ratio", Key: "max_bullet_line_ratio", Max: true, Hi: 1},
			{Rule: "ellipsis_line_ratio", Key: "max_ellipsis_line_ratio", Max: true, Hi: 1},
			{Rule: "alpha_word_ratio", Key: "min_alpha_word_ratio", Hi: 1},
			{Rule: "stop_words", Key: "min_stop_words", Int: true, Hi: 1e9},
		},
		defaults: func() any { c := DefaultGopherQualityConfig(); return &c },
		validate: func(cfg any) []pipeline.FieldError {
			c := cfg.(*GopherQualityConfig)
			var errs []pipeline.FieldError
			for i, w := range c.StopWords {
				if strings.TrimSpace(w) == "" || !utf8.ValidString(w) {
					errs = append(errs, pipeline.FieldError{Field: fmt.Sprintf("stop_words[%d]", i), Msg: "must be a non-empty word"})
				}
			}
			return errs
		},
		extraKeys: func(cfg any) []string {
			if cfg.(*GopherQualityConfig).BuiltinStopWords {
				return stopwords.Languages()
			}
			return nil
		},
		prepare: func(cfg any, key string, set map[string]bool, st *settings) error {
			// a language's own stop words, then its builtin list, then its script's stop
			// words (pooled over the script's languages), then the top-level list
			c := cfg.(*GopherQualityConfig)
			list, source := c.StopWords, "stop_words"
			own := set["stop_words"] && !set[fromScriptKey]
			if key != "" && !isScriptKey(key) && !own && c.BuiltinStopWords {
				if w, ok := stopwords.For(key); ok {
					list, source = w, "builtin "+key
				}
			}
			if key != "" && own {
				source = "stop_words of " + key
			}
			st.gq = newGopherSettings(list, source)
			return nil
		},
		measure: measureGopherQuality,
	})
}

// newGopherSettings builds a stop-word matcher. Words are matched lower-cased, in both NFC
// and NFD so that decomposed text matches; words of scripts written without spaces are
// counted as substrings.
func newGopherSettings(list []string, source string) *gopherSettings {
	g := &gopherSettings{words: make(map[uint64]struct{}, 2*len(list)), source: source}
	for _, w := range list {
		w = strings.TrimSpace(w)
		if w == "" {
			continue
		}
		if hasSpaceless(w) {
			g.subs = append(g.subs, norm.NFC.String(w))
			continue
		}
		g.words[FoldHash(norm.NFC.String(w))] = struct{}{}
		g.words[FoldHash(norm.NFD.String(w))] = struct{}{}
	}
	return g
}

// hasSpaceless reports whether s holds a letter of a script written without spaces (a Char
// token of lang.EachWord).
func hasSpaceless(s string) bool {
	found := false
	lang.EachWord(s, func(t lang.Token) bool {
		found = t.Kind == lang.Char
		return !found
	})
	return found
}

func measureGopherQuality(w *worker, st *settings, vals []float64) {
	a := w.a
	words := a.words()
	n := len(words)
	var letters, alpha, stops int
	g := st.gq
	countStops := st.on(gqStopWords)
	for i := range words {
		wd := &words[i]
		letters += int(wd.Letters)
		if wd.Alpha {
			alpha++
		}
		if countStops && !wd.Char {
			if _, ok := g.words[wd.Hash]; ok {
				stops++
			}
		}
	}
	if countStops {
		for _, s := range g.subs {
			stops += strings.Count(a.Text, s)
		}
	}
	tokens := n + a.SymbolChunks
	vals[gqWordCount] = float64(n)
	vals[gqMeanWordLength] = ratio(letters, n)
	vals[gqSymbolWordRatio] = ratio(max(a.Hashes, a.Ellipses), tokens)
	vals[gqAlphaWordRatio] = ratio(alpha, tokens)
	vals[gqStopWords] = float64(stops)
	var bullets, ellipsisEnd int
	if st.on(gqBulletLineRatio) || st.on(gqEllipsisLineRatio) {
		for i := range a.Lines {
			l := &a.Lines[i]
			if l.Blank() {
				continue
			}
			text := a.Text[l.Start:l.End]
			r, _ := utf8.DecodeRuneInString(text)
			if isBullet(r) {
				bullets++
			}
			if strings.HasSuffix(text, "...") || strings.HasSuffix(text, "…") {
				ellipsisEnd++
			}
		}
	}
	vals[gqBulletLineRatio] = ratio(bullets, a.NonBlank)
	vals[gqEllipsisLineRatio] = ratio(ellipsisEnd, a.NonBlank)
}

// ratio returns a/b, or NaN (not measurable) when b is 0.
func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// isBullet reports whether a line starting with r is a list item.
func isBullet(r rune) bool {
	switch r {
	case '•', '‣', '◦', '⁃', '∙', '▪', '▫', '●', '○', '■', '□', '►', '▶', '➢', '➤', '✓', '✔', '☐', '☑', '-', '*':
		return true
	}
	return false
}

// UsedFiles implements pipeline.FileUser: the thresholds file written by sieve calibrate.
func (c *GopherQualityConfig) UsedFiles() []string {
	if c.ThresholdsFile == "" {
		return nil
	}
	return []string{c.ThresholdsFile}
}
