package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
)

// sliceSource yields documents from a slice; an entry with Rejected set is a read reject.
type sliceSource struct {
	docs []Document
	i    int
}

func (s *sliceSource) Next(_ context.Context, d *Document) error {
	if s.i >= len(s.docs) {
		return io.EOF
	}
	*d = s.docs[s.i]
	s.i++
	return nil
}
func (s *sliceSource) Close() error { return nil }

type memSink struct {
	ids       []string
	committed bool
	aborted   bool
	failAt    int
}

func (m *memSink) Write(_ context.Context, d *Document) error {
	if m.failAt > 0 && len(m.ids)+1 == m.failAt {
		return errors.New("disk full")
	}
	m.ids = append(m.ids, d.ID+"|"+d.Rejected.Reason)
	return nil
}
func (m *memSink) Commit(context.Context) error { m.committed = true; return nil }
func (m *memSink) Abort() error                 { m.aborted = true; return nil }

// modStage rejects documents whose number is divisible by mod.
type modStage struct {
	mod   int
	calls atomic.Int64
}

func (s *modStage) Process(_ context.Context, d *Document) (Verdict, error) {
	s.calls.Add(1)
	var n int
	fmt.Sscanf(d.ID, "d%d", &n)
	if n%s.mod == 0 {
		return Rejectf(fmt.Sprintf("mod%d.divisible", s.mod), "%d %% %d == 0", n, s.mod), nil
	}
	return Keep, nil
}
func (s *modStage) Close(context.Context) error { return nil }

// firstSeen is an ordered stage that rejects a text seen before; it fails if documents
// arrive out of order.
type firstSeen struct {
	seen    map[string]bool
	lastSeq int64
}

func (s *firstSeen) Process(_ context.Context, d *Document) (Verdict, error) {
	if int64(d.Seq) <= s.lastSeq {
		return Keep, fmt.Errorf("out of order: %d after %d", d.Seq, s.lastSeq)
	}
	s.lastSeq = int64(d.Seq)
	if s.seen[d.Text] {
		return Rejectf("first.dup", "seen"), nil
	}
	s.seen[d.Text] = true
	return Keep, nil
}
func (s *firstSeen) Close(context.Context) error { return nil }

func makeDocs(n int) []Document {
	docs := make([]Document, n)
	for i := range docs {
		docs[i] = Document{ID: fmt.Sprintf("d%d", i), Text: fmt.Sprintf("text %d", i%97)}
		if i%50 == 7 {
			docs[i].Reject("read", "read.invalid_json", "bad")
		}
	}
	return docs
}

func runOnce(t *testing.T, workers, batch int, docs []Document) (*Stats, *memSink, *memSink) {
	t.Helper()
	out, rej := &memSink{}, &memSink{}
	p := &Plan{
		Source: &sliceSource{docs: docs},
		Stages: []StageInstance{
			{Name: "mod3", Kind: "mod", Mode: Parallel, Stage: &modStage{mod: 3}},
			{Name: "first", Kind: "first", Mode: Ordered, Stage: &firstSeen{seen: map[string]bool{}, lastSeq: -1}},
			{Name: "mod5", Kind: "mod", Mode: Parallel, Stage: &modStage{mod: 5}},
		},
		Output: out, Rejects: rej, Workers: workers, BatchSize: batch,
	}
	st, err := Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return st, out, rej
}

func TestRunDeterministicAcrossWorkers(t *testing.T) {
	docs := makeDocs(5000)
	st1, out1, rej1 := runOnce(t, 1, 7, docs)
	for _, w := range []int{2, 4, 8} {
		st, out, rej := runOnce(t, w, 7, docs)
		if !reflect.DeepEqual(out.ids, out1.ids) || !reflect.DeepEqual(rej.ids, rej1.ids) {
			t.Fatalf("workers=%d: output differs from workers=1", w)
		}
		st.Seconds, st1.Seconds = 0, 0
		if !reflect.DeepEqual(st, st1) {
			t.Fatalf("workers=%d: stats differ:\n%+v\n%+v", w, st, st1)
		}
	}
	if !out1.committed || !rej1.committed {
		t.Error("sinks not committed")
	}
	// Independent expectation for the accounting.
	var wantKept, wantRead int64
	seen := map[string]bool{}
	reasons := map[string]int64{}
	for i, d := range docs {
		wantRead++
		switch {
		case d.IsRejected():
			reasons["read.invalid_json"]++
		case i%3 == 0:
			reasons["mod3.divisible"]++
		case seen[d.Text]:
			reasons["first.dup"]++
		case i%5 == 0:
			seen[d.Text] = true
			reasons["mod5.divisible"]++
		default:
			seen[d.Text] = true
			wantKept++
		}
	}
	if st1.Read != wantRead || st1.Kept != wantKept || !st1.Balanced {
		t.Errorf("read %d kept %d balanced %v; want read %d kept %d", st1.Read, st1.Kept, st1.Balanced, wantRead, wantKept)
	}
	got := map[string]int64{}
	for _, s := range st1.Stages {
		for r, c := range s.Rejected {
			got[r] += c
		}
	}
	if !reflect.DeepEqual(got, reasons) {
		t.Errorf("rejections %v, want %v", got, reasons)
	}
	if st1.Stages[1].In != wantRead-reasons["read.invalid_json"] {
		t.Errorf("stage mod3 in = %d", st1.Stages[1].In)
	}
	if int64(len(out1.ids)) != st1.Kept || int64(len(rej1.ids)) != st1.Rejected {
		t.Errorf("sinks saw %d kept, %d rejected", len(out1.ids), len(rej1.ids))
	}
}

func TestRunStageErrorAbortsSinks(t *testing.T) {
	out, rej := &memSink{}, &memSink{}
	p := &Plan{
		Source:  &sliceSource{docs: []Document{{ID: "d1", Origin: Position{File: "in.jsonl", Line: 1}}, {ID: "d2", Text: "x", Origin: Position{File: "in.jsonl", Line: 2}}}},
		Stages:  []StageInstance{{Name: "boom", Kind: "boom", Mode: Parallel, Stage: failing{}}},
		Output:  out,
		Rejects: rej,
		Workers: 4,
	}
	_, err := Run(context.Background(), p)
	if err == nil || !strings.Contains(err.Error(), "stage boom: in.jsonl:2: model broken") {
		t.Fatalf("error %v does not name stage and position", err)
	}
	if !out.aborted || !rej.aborted || out.committed {
		t.Errorf("sinks not aborted: %+v %+v", out, rej)
	}
}

type failing struct{}

func (failing) Process(_ context.Context, d *Document) (Verdict, error) {
	if d.Text == "x" {
		return Keep, errors.New("model broken")
	}
	return Keep, nil
}
func (failing) Close(context.Context) error { return nil }

func TestRunSinkErrorAndCancel(t *testing.T) {
	out := &memSink{failAt: 10}
	p := &Plan{Source: &sliceSource{docs: makeDocs(100)}, Output: out, Workers: 2, BatchSize: 4}
	if _, err := Run(context.Background(), p); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("want disk full, got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out2 := &memSink{}
	_, err := Run(ctx, &Plan{Source: &sliceSource{docs: makeDocs(100)}, Output: out2, Workers: 2})
	if !errors.Is(err, context.Canceled) || !out2.aborted {
		t.Fatalf("cancel: err %v aborted %v", err, out2.aborted)
	}
}

// countSource yields n small documents without allocating per document.
type countSource struct{ n, i int }

func (s *countSource) Next(_ context.Context, d *Document) error {
	if s.i >= s.n {
		return io.EOF
	}
	s.i++
	d.ID = "doc"
	d.Text = "a small document of some words"
	return nil
}
func (s *countSource) Close() error { return nil }

type nullSink struct{}

func (nullSink) Write(context.Context, *Document) error { return nil }
func (nullSink) Commit(context.Context) error           { return nil }
func (nullSink) Abort() error                           { return nil }

// BenchmarkEngineNoop measures the engine's cost per document with one no-op stage.
func BenchmarkEngineNoop(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			const perRun = 200000
			b.ReportAllocs()
			for b.Loop() {
				p := &Plan{Source: &countSource{n: perRun}, Stages: []StageInstance{{Name: "nop", Kind: "nop", Mode: Parallel, Stage: nopStage{}}}, Output: nullSink{}, Workers: workers, CountWords: func(string) int { return 1 }}
				if _, err := Run(context.Background(), p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perRun), "ns/doc")
		})
	}
}
