package formats

import (
	"strings"
	"testing"

	"github.com/sieve-data/sieve/pipeline"
)

// A line-based file larger than the unit size that cannot be cut (its middle is in its last
// line) is one whole unit, read with its checksum: not a byte range the manifest has no
// sha256 for.
func TestSplitInputsUncuttableFile(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("Habari ya asubuhi ", 20)
	for name, data := range map[string]string{
		"x.jsonl": `{"text": "Bore da"}` + "\n" + `{"text": "` + long + `"}` + "\n",
		"x.txt":   "Bore da\n" + long,
		"x.tsv":   "text\tid\nBore da\t1\n" + long + "\t2\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, dir, name, []byte(data))
			in := pipeline.DefaultInput()
			in.Path, in.Quoting = path, "none"
			ins := []pipeline.Input{in}
			files, err := ListInputs(ins)
			if err != nil {
				t.Fatal(err)
			}
			units, err := SplitInputs(t.Context(), files, ins, int64(len(data))/2)
			if err != nil || len(units) != 1 || !units[0].Whole() {
				t.Fatalf("units %+v (%v), want the whole file", units, err)
			}
			src := OpenUnits(files, units, ins)
			if docs, err := readDocs(t, src); err != nil || len(docs) != 2 {
				t.Fatalf("%d docs: %v", len(docs), err)
			}
			if sums := src.InputFiles(); len(sums) != 1 || sums[0].SHA256 != sha256Hex([]byte(data)) {
				t.Errorf("summary %+v, want the sha256 of the file", sums)
			}
		})
	}
}
