// Command gen derives the embedded open-set profiles (lang/profiles/lingua.prof.gz) from the
// language models of github.com/pemistahl/lingua-go, the version in go.mod:
//
//	go run ./lang/profiles/gen
//
// For each language it reads the unigram, bigram and trigram models (relative frequencies of
// letters, and conditional probabilities of the last letter of bigrams and trigrams), turns
// the trigrams into joint frequencies P(a)·P(b|a)·P(c|ab), and builds a profile of the most
// frequent ones with lang.ProfileBuilder, exactly as a profile built from text. Chinese,
// Japanese and Korean are skipped: their scripts identify them and their letter models are
// large. Output is reproducible: the same lingua-go version gives the same bytes.
package main

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pemistahl/lingua-go"
	"github.com/pemistahl/lingua-go/serialization"
	"google.golang.org/protobuf/proto"

	"github.com/sieve-data/sieve/lang"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run() error {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}} {{.Version}}", "github.com/pemistahl/lingua-go").Output()
	if err != nil {
		return fmt.Errorf("locating lingua-go: %w", err)
	}
	dir, version, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	models := filepath.Join(dir, "language-models")

	langs := lingua.AllLanguages()
	sort.Slice(langs, func(i, j int) bool { return langs[i].String() < langs[j].String() })
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	fmt.Fprintf(zw, "# sieve open-set profiles derived from the language models of lingua-go %s\n", version)
	fmt.Fprintf(zw, "# (https://github.com/pemistahl/lingua-go, Apache License 2.0) by lang/profiles/gen.\n")
	n := 0
	for _, l := range langs {
		if l == lingua.Chinese || l == lingua.Japanese || l == lingua.Korean {
			continue
		}
		entry, ok := lang.Lookup(strings.ToLower(l.IsoCode639_3().String()))
		if !ok {
			return fmt.Errorf("lingua language %s (%s) is not in the language table", l, l.IsoCode639_3())
		}
		iso1 := strings.ToLower(l.IsoCode639_1().String())
		uni, err := load(models, iso1, "unigrams")
		if err != nil {
			return err
		}
		bi, err := load(models, iso1, "bigrams")
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		tri, err := load(models, iso1, "trigrams")
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		b := lang.NewProfileBuilder()
		for g, p := range uni {
			for _, r := range g {
				b.AddLetter(r, p)
			}
		}
		for g, p := range tri {
			rs := []rune(g)
			joint := uni[string(rs[0])] * bi[string(rs[:2])] * p
			if joint > 0 {
				b.AddTrigram(g, joint)
			}
		}
		source := fmt.Sprintf("lingua-go %s %s models", version, l)
		prof, err := b.Build(entry.Label, source, lang.DefaultProfileTrigrams)
		if err != nil {
			return fmt.Errorf("%s: %w", l, err)
		}
		if _, err := prof.WriteTo(zw); err != nil {
			return err
		}
		n++
	}
	if err := zw.Close(); err != nil {
		return err
	}
	path := filepath.Join("lang", "profiles", "lingua.prof.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gen: wrote %d profiles to %s (%d bytes)\n", n, path, buf.Len())
	return nil
}

// load reads one lingua model: n-gram -> probability.
func load(models, iso1, name string) (map[string]float64, error) {
	path := filepath.Join(models, iso1, name+".pb.bin.zip")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil || len(z.File) != 1 {
		return nil, fmt.Errorf("%s: not a one-file zip: %v", path, err)
	}
	f, err := z.File[0].Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	raw, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var m serialization.SerializableLanguageModel
	if err := proto.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make(map[string]float64, m.TotalNgrams)
	for _, set := range m.NgramSets {
		for _, g := range set.Ngrams {
			out[g] = set.Probability
		}
	}
	return out, nil
}
