package main

import (
	"os"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// parquetIDs reads the id column with parquet-go, an implementation independent of the
// arrow-go writer.
func parquetIDs(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	type row struct {
		ID string `parquet:"id"`
	}
	rows, err := parquet.Read[row](f, st.Size())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if int64(len(rows)) != pf.NumRows() {
		t.Fatalf("%s: read %d rows of %d", path, len(rows), pf.NumRows())
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids
}
