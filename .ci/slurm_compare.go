//go:build ignore

// slurm_compare checks that two sieve run directories hold the same result: the same kept
// ids in the same order (read from the Parquet or JSONL dataset files with readers
// independent of sieve's writers) and the same stats.json counts (read, kept, rejected, each
// stage's counts and reasons, each language's figures), ignoring run times and stage reports.
//
//	go run .ci/slurm_compare.go REF_DIR OTHER_DIR
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go run .ci/slurm_compare.go REF_DIR OTHER_DIR")
		os.Exit(2)
	}
	a, b := os.Args[1], os.Args[2]
	ia, err := keptIDs(a)
	check(err)
	ib, err := keptIDs(b)
	check(err)
	ok := true
	if !reflect.DeepEqual(ia, ib) {
		ok = false
		fmt.Printf("kept ids differ: %s keeps %d, %s keeps %d\n", a, len(ia), b, len(ib))
	}
	sa, err := stats(a)
	check(err)
	sb, err := stats(b)
	check(err)
	if !reflect.DeepEqual(sa, sb) {
		ok = false
		ja, _ := json.MarshalIndent(sa, "", " ")
		jb, _ := json.MarshalIndent(sb, "", " ")
		fmt.Printf("stats differ:\n%s\n%s\n", ja, jb)
	}
	if !ok {
		os.Exit(1)
	}
	fmt.Printf("same result: %d kept ids in the same order, same stats (read %v, kept %v, rejected %v)\n", len(ia), sa["read"], sa["kept"], sa["rejected"])
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func keptIDs(dir string) ([]string, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "data", "*", "*"))
	sort.Strings(files)
	var ids []string
	for _, f := range files {
		switch {
		case strings.HasSuffix(f, ".parquet"):
			fh, err := os.Open(f)
			if err != nil {
				return nil, err
			}
			st, _ := fh.Stat()
			rows, err := parquet.Read[struct {
				ID string `parquet:"id"`
			}](fh, st.Size())
			fh.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			for _, r := range rows {
				ids = append(ids, r.ID)
			}
		case strings.HasSuffix(f, ".jsonl"), strings.HasSuffix(f, ".jsonl.zst"):
			fh, err := os.Open(f)
			if err != nil {
				return nil, err
			}
			var r *bufio.Scanner
			if strings.HasSuffix(f, ".zst") {
				zr, err := zstd.NewReader(fh)
				if err != nil {
					return nil, err
				}
				defer zr.Close()
				r = bufio.NewScanner(zr)
			} else {
				r = bufio.NewScanner(fh)
			}
			r.Buffer(nil, 1<<30)
			for r.Scan() {
				var d struct{ ID string }
				if err := json.Unmarshal(r.Bytes(), &d); err != nil {
					return nil, fmt.Errorf("%s: %w", f, err)
				}
				ids = append(ids, d.ID)
			}
			fh.Close()
			if err := r.Err(); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
		}
	}
	return ids, nil
}

func stats(dir string) (map[string]any, error) {
	b, err := os.ReadFile(filepath.Join(dir, "stats.json"))
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	delete(m, "seconds")
	for _, s := range m["stages"].([]any) {
		delete(s.(map[string]any), "extra")
	}
	return m, nil
}
