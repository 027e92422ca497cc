package stages

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/sieve-data/sieve/lang"
	"github.com/sieve-data/sieve/pipeline"
)

// LengthConfig bounds a document's size. Zero maximums mean "no limit".
type LengthConfig struct {
	MinChars int `yaml:"min_chars" doc:"fewest characters (Unicode code points) kept"`
	MaxChars int `yaml:"max_chars" doc:"most characters kept; 0 = no limit"`
	MinWords int `yaml:"min_words" doc:"fewest words kept (language-aware word segmentation)"`
	MaxWords int `yaml:"max_words" doc:"most words kept; 0 = no limit"`
}

// Validate implements pipeline.Validator.
func (c *LengthConfig) Validate() []pipeline.FieldError {
	var errs []pipeline.FieldError
	for _, f := range []struct {
		name string
		v    int
	}{{"min_chars", c.MinChars}, {"max_chars", c.MaxChars}, {"min_words", c.MinWords}, {"max_words", c.MaxWords}} {
		if f.v < 0 {
			errs = append(errs, pipeline.FieldError{Field: f.name, Msg: fmt.Sprintf("must be >= 0, got %d", f.v)})
		}
	}
	if c.MaxChars > 0 && c.MaxChars < c.MinChars {
		errs = append(errs, pipeline.FieldError{Field: "max_chars", Msg: fmt.Sprintf("must be >= min_chars (%d) or 0, got %d", c.MinChars, c.MaxChars)})
	}
	if c.MaxWords > 0 && c.MaxWords < c.MinWords {
		errs = append(errs, pipeline.FieldError{Field: "max_words", Msg: fmt.Sprintf("must be >= min_words (%d) or 0, got %d", c.MinWords, c.MaxWords)})
	}
	return errs
}

// Length rejects documents outside character and word bounds.
type Length struct{ cfg LengthConfig }

var _ pipeline.Stage = (*Length)(nil)

func init() {
	pipeline.MustRegister("length", pipeline.Spec{
		Summary: "Rejects documents with too few or too many characters or words.",
		Example: "{min_chars: 50, max_chars: 100000, min_words: 10}",
		Mode:    pipeline.Parallel,
		Config:  func() any { return &LengthConfig{MinChars: 1} },
		New: func(cfg any, _ *pipeline.Env) (pipeline.Stage, error) {
			return &Length{cfg: *cfg.(*LengthConfig)}, nil
		},
	})
}

// Process implements pipeline.Stage.
func (s *Length) Process(_ context.Context, d *pipeline.Document) (pipeline.Verdict, error) {
	c := &s.cfg
	if c.MinChars > 0 || c.MaxChars > 0 {
		n := utf8.RuneCountInString(d.Text)
		if n < c.MinChars {
			return pipeline.Rejectf("length.too_few_chars", "%d chars < min %d", n, c.MinChars), nil
		}
		if c.MaxChars > 0 && n > c.MaxChars {
			return pipeline.Rejectf("length.too_many_chars", "%d chars > max %d", n, c.MaxChars), nil
		}
	}
	if c.MinWords > 0 || c.MaxWords > 0 {
		n := lang.CountWords(d.Text)
		if n < c.MinWords {
			return pipeline.Rejectf("length.too_few_words", "%d words < min %d", n, c.MinWords), nil
		}
		if c.MaxWords > 0 && n > c.MaxWords {
			return pipeline.Rejectf("length.too_many_words", "%d words > max %d", n, c.MaxWords), nil
		}
	}
	return pipeline.Keep, nil
}

// Close implements pipeline.Stage.
func (s *Length) Close(context.Context) error { return nil }
