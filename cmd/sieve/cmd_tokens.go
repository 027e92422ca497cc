package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/sieve-data/sieve/lang"
	"github.com/sieve-data/sieve/lang/tokenizer"
	"github.com/sieve-data/sieve/pipeline"
)

func init() {
	extraCommands = append(extraCommands, tokensCommand)
	pipeline.RegisterTokenizerLoader(loadTokenizer)
}

// loadTokenizer loads coverage.tokenizer for the runner.
func loadTokenizer(path string) (*pipeline.Tokenizer, error) {
	t, err := tokenizer.Load(path)
	if err != nil {
		return nil, err
	}
	return &pipeline.Tokenizer{
		Info:       pipeline.TokenizerInfo{File: filepath.ToSlash(filepath.Clean(path)), SHA256: t.SHA256(), Family: t.Family()},
		NewCounter: func() func(string) int { return t.NewCounter().Count },
	}, nil
}

func tokensCommand() *cli.Command {
	return &cli.Command{
		Name:      "tokens",
		Usage:     "count (or list) the tokens of each line under a Hugging Face tokenizer.json",
		ArgsUsage: "[FILE|-]",
		Description: "Prints, for each input line, its number of tokens, or with --ids the token ids separated by spaces,\n" +
			"as Hugging Face tokenizers' encode(line, add_special_tokens=False) gives them (no BOS/EOS). With --json\n" +
			"each line is a JSON string, so a text can hold newlines. --summary prints lines, words, tokens,\n" +
			"tokens per word (fertility) and speed to stderr. Byte-level BPE (GPT-2, Llama 3, Qwen 2) and\n" +
			"SentencePiece-style BPE (Llama 2, Mistral, Gemma) files are supported; others are refused.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "tokenizer", Aliases: []string{"t"}, Required: true, Usage: "tokenizer.json `FILE`"},
			&cli.BoolFlag{Name: "ids", Usage: "print token ids instead of counts"},
			&cli.BoolFlag{Name: "json", Usage: "each input line is a JSON string literal"},
			&cli.BoolFlag{Name: "summary", Usage: "print totals and tokens per word to stderr"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return cli.Exit("give at most one input file (or - for stdin)", 2)
			}
			tok, err := tokenizer.Load(c.String("tokenizer"))
			if err != nil {
				return cli.Exit("--tokenizer: "+err.Error(), 2)
			}
			var in io.Reader = os.Stdin
			name := "stdin"
			if p := c.Args().First(); p != "" && p != "-" {
				f, err := os.Open(p)
				if err != nil {
					return cli.Exit(err.Error(), 2)
				}
				defer f.Close()
				in, name = f, p
			}
			return countTokens(c, tok, in, name)
		},
	}
}

func countTokens(c *cli.Context, tok *tokenizer.Tokenizer, in io.Reader, name string) error {
	counter := tok.NewCounter()
	ids, jsonLines := c.Bool("ids"), c.Bool("json")
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 1<<20), 256<<20)
	w := bufio.NewWriter(c.App.Writer)
	defer w.Flush()
	var lines, bytes, words, tokens int64
	var buf []int
	var out []byte
	start := time.Now()
	for line := int64(1); sc.Scan(); line++ {
		if b := sc.Bytes(); !utf8.Valid(b) {
			at := 0
			for r, n := utf8.DecodeRune(b); r != utf8.RuneError || n > 1; r, n = utf8.DecodeRune(b[at:]) {
				at += n
			}
			return cli.Exit(fmt.Sprintf("%s:%d: invalid UTF-8 at byte %d of the line (Hugging Face tokenizers encode text, not bytes)", name, line, at), 1)
		}
		text := sc.Text()
		if jsonLines {
			if err := json.Unmarshal(sc.Bytes(), &text); err != nil {
				return cli.Exit(fmt.Sprintf("%s:%d: not a JSON string: %v", name, line, err), 1)
			}
		}
		out = out[:0]
		if ids {
			buf = counter.Encode(buf[:0], text)
			for i, id := range buf {
				if i > 0 {
					out = append(out, ' ')
				}
				out = strconv.AppendInt(out, int64(id), 10)
			}
			tokens += int64(len(buf))
		} else {
			n := counter.Count(text)
			out = strconv.AppendInt(out, int64(n), 10)
			tokens += int64(n)
		}
		out = append(out, '\n')
		if _, err := w.Write(out); err != nil {
			return err
		}
		lines++
		bytes += int64(len(text))
		if c.Bool("summary") {
			words += int64(lang.CountWords(text))
		}
	}
	if err := sc.Err(); err != nil {
		return cli.Exit(fmt.Sprintf("%s: %v", name, err), 1)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if c.Bool("summary") {
		secs := time.Since(start).Seconds()
		fertility := 0.0
		if words > 0 {
			fertility = float64(tokens) / float64(words)
		}
		fmt.Fprintf(c.App.ErrWriter, "%s (%s, sha256 %s): %d lines, %d bytes, %d words, %d tokens, %.3f tokens/word, %.2f bytes/token, %.1f MB/s\n",
			tok.Name(), tok.Family(), tok.SHA256()[:12], lines, bytes, words, tokens, fertility,
			float64(bytes)/max(float64(tokens), 1), float64(bytes)/1e6/max(secs, 1e-9))
	}
	return nil
}
