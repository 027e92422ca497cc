package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"
)

// StageInstance is a built stage with its place in the pipeline.
type StageInstance struct {
	Name  string
	Kind  string
	Mode  Mode
	Stage Stage
}

// Plan is everything Run needs.
type Plan struct {
	Source  Source
	Stages  []StageInstance
	Output  Sink // kept documents
	Rejects Sink // rejected documents; nil: counted in stats, not written
	// Workers for parallel stages; <= 0 means runtime.NumCPU().
	Workers   int
	BatchSize int
	// CountWords counts the words of a kept document for the per-language stats; nil uses a
	// whitespace count.
	CountWords func(string) int
	// Tokenizer, when not nil, counts the tokens of every kept document (Document.Tokens,
	// per-language tokens in the stats).
	Tokenizer *Tokenizer
	// OnProgress, when set, is called about every ProgressEvery from its own goroutine.
	OnProgress    func(Progress)
	ProgressEvery time.Duration
}

// Progress is a snapshot of a running pipeline.
type Progress struct {
	Read, Kept, Rejected  int64
	BytesDone, BytesTotal int64 // BytesTotal < 0 when unknown
	Elapsed               time.Duration
}

// ErrUnbalanced is returned when read != kept + rejected at the end of a run.
var ErrUnbalanced = errors.New("accounting mismatch: read != kept + rejected")

type batch struct {
	idx  uint64
	docs []Document
}

// Run streams every document from the source through the stages into the sinks, then
// commits the sinks. Documents travel in batches; parallel stages run on Workers
// goroutines and batches are put back in read order before any ordered stage and before the
// sinks, so the output does not depend on the number of workers. On any error, or when ctx
// is cancelled, the sinks are aborted (no partial file stays visible) and the error is
// returned with its stage and input position. Stages are closed in every case.
func Run(ctx context.Context, p *Plan) (st *Stats, err error) {
	start := time.Now()
	workers := p.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	bs := p.BatchSize
	if bs <= 0 {
		bs = 256
	}
	countWords := p.CountWords
	if countWords == nil {
		countWords = countFields
	}
	st = newStats(p.Stages)
	if p.Tokenizer != nil {
		info := p.Tokenizer.Info
		st.Tokenizer = &info
	}
	stageIdx := make(map[string]int, len(p.Stages)+1)
	stageIdx["read"] = 0
	for i, s := range p.Stages {
		stageIdx[s.Name] = i + 1
	}

	defer func() {
		for _, s := range p.Stages {
			if cerr := s.Stage.Close(context.WithoutCancel(ctx)); cerr != nil && err == nil {
				err = fmt.Errorf("stage %s: close: %w", s.Name, cerr)
			}
		}
		if err != nil {
			if p.Output != nil {
				_ = p.Output.Abort()
			}
			if p.Rejects != nil {
				_ = p.Rejects.Abort()
			}
		}
	}()

	var (
		readN, keptN, rejN atomic.Int64
		pool               = sync.Pool{New: func() any { return &batch{docs: make([]Document, 0, bs)} }}
	)
	g, gctx := errgroup.WithContext(ctx)
	chanCap := workers * 2

	// Reader: the only goroutine touching the source.
	in := make(chan *batch, chanCap)
	g.Go(func() error {
		defer close(in)
		var seq, idx uint64
		b := pool.Get().(*batch)
		b.docs = b.docs[:0]
		for {
			if len(b.docs) == cap(b.docs) {
				b.idx = idx
				idx++
				select {
				case in <- b:
				case <-gctx.Done():
					return gctx.Err()
				}
				b = pool.Get().(*batch)
				b.docs = b.docs[:0]
			}
			b.docs = b.docs[:len(b.docs)+1]
			d := &b.docs[len(b.docs)-1]
			*d = Document{}
			err := p.Source.Next(gctx, d)
			if err == io.EOF {
				b.docs = b.docs[:len(b.docs)-1]
				break
			}
			if err != nil {
				return fmt.Errorf("read: %w", err)
			}
			d.Seq = seq
			seq++
			readN.Add(1)
		}
		if len(b.docs) > 0 {
			b.idx = idx
			select {
			case in <- b:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})

	// Stage segments: runs of parallel stages on N workers, ordered stages on one goroutine.
	// An ordered stage that is a Preparer gets its Prepare step run in the parallel segment
	// before it.
	steps := make([]StageInstance, 0, len(p.Stages))
	for _, s := range p.Stages {
		if pr, ok := s.Stage.(Preparer); ok && s.Mode == Ordered {
			steps = append(steps, StageInstance{Name: s.Name, Kind: s.Kind, Mode: Parallel, Stage: prepareStage{pr}})
		}
		steps = append(steps, s)
	}
	// Count words on the workers, not on the sink goroutine.
	steps = append(steps, StageInstance{Name: "measure", Kind: "measure", Mode: Parallel, Stage: measureStage{countWords, newTokenCounters(p.Tokenizer, workers)}})
	cur := in
	for i := 0; i < len(steps); {
		j := i + 1
		if steps[i].Mode == Parallel {
			for j < len(steps) && steps[j].Mode == Parallel {
				j++
			}
		}
		seg := steps[i:j]
		out := make(chan *batch, chanCap)
		src := cur
		if seg[0].Mode == Parallel && workers > 1 {
			unordered := make(chan *batch, chanCap)
			var wg sync.WaitGroup
			for w := 0; w < workers; w++ {
				wg.Add(1)
				g.Go(func() error {
					defer wg.Done()
					return processSegment(gctx, seg, src, unordered)
				})
			}
			g.Go(func() error { wg.Wait(); close(unordered); return nil })
			g.Go(func() error { return reorder(gctx, unordered, out) })
		} else {
			g.Go(func() error { defer close(out); return processSegment(gctx, seg, src, out) })
		}
		cur = out
		i = j
	}

	// Sink: documents in Seq order, one goroutine owns both sinks and the counters.
	final := cur
	g.Go(func() error {
		for b := range final {
			for k := range b.docs {
				d := &b.docs[k]
				if d.IsRejected() {
					si, ok := stageIdx[d.Rejected.Stage]
					if !ok {
						return fmt.Errorf("%s: document rejected by unknown stage %q", d.Origin, d.Rejected.Stage)
					}
					st.countRejected(si, d)
					rejN.Add(1)
					if p.Rejects != nil {
						if err := p.Rejects.Write(gctx, d); err != nil {
							return fmt.Errorf("write rejects: %w", err)
						}
					}
					continue
				}
				st.countKept(d)
				keptN.Add(1)
				if err := p.Output.Write(gctx, d); err != nil {
					return fmt.Errorf("write output: %w", err)
				}
			}
			b.docs = b.docs[:0]
			pool.Put(b)
		}
		return gctx.Err()
	})

	// Progress reporting.
	stopProgress := make(chan struct{})
	var progressDone sync.WaitGroup
	if p.OnProgress != nil {
		every := p.ProgressEvery
		if every <= 0 {
			every = time.Second
		}
		progressDone.Add(1)
		go func() {
			defer progressDone.Done()
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-stopProgress:
					return
				case <-t.C:
					pr := Progress{Read: readN.Load(), Kept: keptN.Load(), Rejected: rejN.Load(), Elapsed: time.Since(start), BytesTotal: -1}
					if pg, ok := p.Source.(Progresser); ok {
						pr.BytesDone, pr.BytesTotal = pg.Progress()
					}
					p.OnProgress(pr)
				}
			}
		}()
	}
	err = g.Wait()
	close(stopProgress)
	progressDone.Wait()
	if err != nil {
		return st, err
	}
	if err := ctx.Err(); err != nil {
		return st, err
	}

	st.Read = readN.Load()
	st.Kept = keptN.Load()
	st.Rejected = rejN.Load()
	st.fillFunnel()
	st.Balanced = st.Read == st.Kept+st.Rejected && st.Rejected == st.RejectedTotal()
	if pg, ok := p.Source.(Progresser); ok {
		st.BytesIn, _ = pg.Progress()
	}
	for i, s := range p.Stages {
		if r, ok := s.Stage.(Reporter); ok {
			st.Stages[i+1].Extra = r.Report()
		}
	}
	st.Seconds = time.Since(start).Seconds()
	if !st.Balanced {
		return st, fmt.Errorf("%w: read %d, kept %d, rejected %d (by stage %d)", ErrUnbalanced, st.Read, st.Kept, st.Rejected, st.RejectedTotal())
	}
	if p.Rejects != nil {
		if err := p.Rejects.Commit(ctx); err != nil {
			return st, fmt.Errorf("commit rejects: %w", err)
		}
	}
	if err := p.Output.Commit(ctx); err != nil {
		return st, fmt.Errorf("commit output: %w", err)
	}
	return st, nil
}

// processSegment runs the stages of one segment over each batch from in and sends it on.
func processSegment(ctx context.Context, seg []StageInstance, in <-chan *batch, out chan<- *batch) error {
	for b := range in {
		for k := range b.docs {
			d := &b.docs[k]
			for _, s := range seg {
				if d.IsRejected() {
					break
				}
				v, err := s.Stage.Process(ctx, d)
				if err != nil {
					return fmt.Errorf("stage %s: %s: %w", s.Name, d.Origin, err)
				}
				if v.Reason != "" {
					d.Rejected = Rejection{Stage: s.Name, Reason: v.Reason, Detail: v.Detail}
				}
			}
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return ctx.Err()
}

// reorder puts batches back in index order. The number of batches it holds is bounded by
// the number in flight (channel capacities plus workers).
func reorder(ctx context.Context, in <-chan *batch, out chan<- *batch) error {
	defer close(out)
	pending := map[uint64]*batch{}
	var next uint64
	for b := range in {
		pending[b.idx] = b
		for {
			nb, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			select {
			case out <- nb:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	if len(pending) > 0 && ctx.Err() == nil {
		return fmt.Errorf("internal: %d batches left out of order", len(pending))
	}
	return ctx.Err()
}

func newStats(stages []StageInstance) *Stats {
	st := &Stats{Version: StatsVersion, Langs: map[string]LangStats{}}
	st.Stages = append(st.Stages, StageStats{Name: "read", Kind: "read", Rejected: map[string]int64{}})
	for _, s := range stages {
		st.Stages = append(st.Stages, StageStats{Name: s.Name, Kind: s.Kind, Rejected: map[string]int64{}})
	}
	return st
}

// countRejected records a document rejected at stage index si (0 = read). Stage in and
// kept counts are derived at the end (fillFunnel). It also counts the rejection under the document's language.
func (s *Stats) countRejected(si int, d *Document) {
	s.Stages[si].Rejected[d.Rejected.Reason]++
	ls := s.Langs[statsLang(d)]
	if ls.Rejected == nil {
		ls.Rejected = map[string]map[string]int64{}
		s.Langs[statsLang(d)] = ls
	}
	m := ls.Rejected[d.Rejected.Stage]
	if m == nil {
		m = map[string]int64{}
		ls.Rejected[d.Rejected.Stage] = m
	}
	m[d.Rejected.Reason]++
}

func (s *Stats) countKept(d *Document) {
	lang := statsLang(d)
	ls := s.Langs[lang]
	if ls.LengthHist == nil {
		ls.LengthHist = make([]int64, LengthBuckets)
		ls.ScoreHist = make([]int64, ScoreBuckets)
	}
	chars := utf8.RuneCountInString(d.Text)
	ls.Docs++
	ls.Chars += int64(chars)
	ls.Bytes += int64(len(d.Text))
	ls.Words += int64(d.Words)
	ls.Tokens += int64(d.Tokens)
	ls.LengthHist[LengthBucket(chars)]++
	ls.ScoreHist[ScoreBucket(d.LangScore)]++
	s.Langs[lang] = ls
}

// statsLang is the language a document counts under: its Lang, or "und" when it has none
// (the label the dataset writers use for such documents).
func statsLang(d *Document) string {
	if d.Lang == "" {
		return "und"
	}
	return d.Lang
}

func countFields(s string) int {
	n, in := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		sp := c == ' ' || c == '\n' || c == '\t' || c == '\r'
		if !sp && !in {
			n++
		}
		in = !sp
	}
	return n
}

// measureStage sets Document.Words, and Document.Tokens with a tokenizer, for the statistics.
type measureStage struct {
	countWords func(string) int
	tokens     *tokenCounters // nil: no tokenizer
}

func (m measureStage) Process(_ context.Context, d *Document) (Verdict, error) {
	if d.Words == 0 {
		d.Words = m.countWords(d.Text)
	}
	if m.tokens != nil {
		d.Tokens = m.tokens.count(d.Text)
	}
	return Keep, nil
}
func (measureStage) Close(context.Context) error { return nil }

// fillFunnel derives every stage's in and kept counts from s.Kept and the rejections: a
// document reaches stage i unless a stage before it rejected it.
func (s *Stats) fillFunnel() {
	passed := s.Kept
	for i := len(s.Stages) - 1; i >= 0; i-- {
		var rej int64
		for _, c := range s.Stages[i].Rejected {
			rej += c
		}
		s.Stages[i].Kept = passed
		s.Stages[i].In = passed + rej
		passed += rej
	}
}
