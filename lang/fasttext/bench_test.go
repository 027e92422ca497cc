package fasttext

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Benchmarks: BenchmarkPredict measures this package on ~1.4 KB documents;
// BenchmarkCLIPredict measures `fasttext predict` on the same model and documents (CPU time
// per document, model loading subtracted). Both need the fasttext command to train the
// models; the "dev" models also need ../shared/data/langid/dev.tsv.
//
//	go test ./lang/fasttext -run '^$' -bench 'Predict' -benchtime 2s

// benchModels caches models trained for benchmarks, so that both benchmarks of a run use
// the same model files. TestMain removes benchDir.
var (
	benchMu     sync.Mutex
	benchDir    string
	benchModels = map[string]benchModel{}
)

type benchModel struct {
	path string
	docs []string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// docLen is the target document size.
const docLen = 1400

// makeDocs joins consecutive sentences of the same language into documents of about
// docLen bytes, for every language, at several starting sentences.
func makeDocs(byLang map[string][]string, perLang int) []string {
	var docs []string
	for _, lines := range byLang {
		for d := range perLang {
			var b strings.Builder
			for i := d * 7; b.Len() < docLen; i++ {
				if b.Len() > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(lines[i%len(lines)])
			}
			docs = append(docs, b.String())
		}
	}
	return docs
}

// getBenchModel trains (once per process) the named benchmark model and its documents.
func getBenchModel(b *testing.B, name string) benchModel {
	b.Helper()
	bin := fastTextBin(b)
	benchMu.Lock()
	defer benchMu.Unlock()
	if bm, ok := benchModels[name]; ok {
		return bm
	}
	if benchDir == "" {
		d, err := os.MkdirTemp("", "fasttext-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = d
	}
	var bm benchModel
	switch name {
	case "dev-softmax":
		labels, texts := readDevTSV(b)
		bm.path = trainDevModel(b, bin, benchDir, labels, texts)
		byLang := map[string][]string{}
		for i, l := range labels {
			byLang[l] = append(byLang[l], texts[i])
		}
		bm.docs = makeDocs(byLang, 10)
	default: // "lang-<cliModels name>"
		var cm *cliModel
		for i := range cliModels {
			if "lang-"+cliModels[i].name == name {
				cm = &cliModels[i]
			}
		}
		if cm == nil {
			b.Fatalf("unknown benchmark model %s", name)
		}
		labelled, _ := readTrainSet(b)
		trainPath := filepath.Join(benchDir, "lang.train")
		writeLines(b, trainPath, labelled)
		bm.path = trainCLIModel(b, bin, benchDir, *cm, trainPath)
		byLang := map[string][]string{}
		for _, l := range labelled {
			label, text, _ := strings.Cut(l, " ")
			byLang[label] = append(byLang[label], text)
		}
		bm.docs = makeDocs(byLang, 20)
	}
	benchModels[name] = bm
	return bm
}

var benchModelNames = []string{"lang-softmax-w2", "lang-hs-w2", "lang-softmax-w2-q", "dev-softmax"}

func BenchmarkPredict(b *testing.B) {
	for _, name := range benchModelNames {
		b.Run(name, func(b *testing.B) {
			bm := getBenchModel(b, name)
			m, err := Load(bm.path)
			if err != nil {
				b.Fatal(err)
			}
			total := 0
			for _, d := range bm.docs {
				total += len(d)
			}
			b.SetBytes(int64(total / len(bm.docs)))
			b.ReportAllocs()
			dst := make([]Prediction, 0, 1)
			i := 0
			// CPU time of this thread, comparable with BenchmarkCLIPredict on a busy machine.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0 := threadCPU(b)
			for b.Loop() {
				dst = m.AppendPredict(dst[:0], bm.docs[i%len(bm.docs)], 1, 0)
				i++
			}
			perDoc := float64((threadCPU(b) - cpu0).Nanoseconds()) / float64(i)
			b.ReportMetric(perDoc, "cpu-ns/doc")
			b.ReportMetric(1e9/perDoc, "docs/s")
		})
	}
}

// BenchmarkPredictParallel runs Predict from GOMAXPROCS goroutines; compare
// -cpu 1,2 for scaling with workers (wall-clock docs/s, so only meaningful on an idle
// machine).
func BenchmarkPredictParallel(b *testing.B) {
	for _, name := range []string{"lang-softmax-w2", "dev-softmax"} {
		b.Run(name, func(b *testing.B) {
			bm := getBenchModel(b, name)
			m, err := Load(bm.path)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer() // after training the model on the first call
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				dst := make([]Prediction, 0, 1)
				for pb.Next() {
					i := next.Add(1)
					dst = m.AppendPredict(dst[:0], bm.docs[int(i)%len(bm.docs)], 1, 0)
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}

// BenchmarkCLIPredict runs `fasttext predict MODEL docs.txt` over the documents of
// BenchmarkPredict (repeated to at least 5,000 lines) and reports its CPU time per
// document, without the model loading time (measured on an empty input).
func BenchmarkCLIPredict(b *testing.B) {
	for _, name := range benchModelNames {
		b.Run(name, func(b *testing.B) {
			bm := getBenchModel(b, name)
			bin := fastTextBin(b)
			var lines []string
			for len(lines) < 5000 {
				lines = append(lines, bm.docs...)
			}
			dir := b.TempDir()
			docsPath := filepath.Join(dir, "docs.txt")
			emptyPath := filepath.Join(dir, "empty.txt")
			writeLines(b, docsPath, lines)
			writeLines(b, emptyPath, nil)
			cpu := func(input string) time.Duration {
				cmd := exec.Command(bin, "predict", bm.path, input)
				if err := cmd.Run(); err != nil {
					b.Fatal(err)
				}
				return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			}
			var work time.Duration
			runs := 0
			for b.Loop() {
				work += cpu(docsPath) - cpu(emptyPath)
				runs++
			}
			perDoc := float64(work.Nanoseconds()) / float64(runs*len(lines))
			b.ReportMetric(perDoc, "cpu-ns/doc")
			b.ReportMetric(1e9/perDoc, "docs/s")
		})
	}
}
