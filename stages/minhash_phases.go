package stages

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/sieve-data/sieve/pipeline"
	"github.com/sieve-data/sieve/stages/minhash"
)

// minhash_dedup in task mode: the library phases of stages/minhash wired as a
// pipeline.Phased stage.
//
//	signatures (input pass, N tasks)  minhash.WriteSignatures, shard = task
//	buckets    (min(N, units) tasks)  minhash.BucketTask, then ClusterTask of the same units
//	clusters   (1 task)               minhash.MergeClusters
//	filter     (input pass, N tasks)  minhashFilter: ShardFilter.Decision per document
//
// With keep: first the kept set is the streaming stage's on the same input, whatever N.

var (
	_ pipeline.PhasedConfig  = (*MinhashDedupConfig)(nil)
	_ pipeline.Phased        = (*minhashPhased)(nil)
	_ pipeline.ShardPreparer = (*minhashPhased)(nil)
	_ pipeline.Stage         = (*minhashFilter)(nil)
)

// ExecMode implements pipeline.PhasedConfig.
func (c *MinhashDedupConfig) ExecMode() string {
	if c.Mode == "" {
		return pipeline.ModeAuto
	}
	return c.Mode
}

// Phased implements pipeline.PhasedConfig.
func (c *MinhashDedupConfig) Phased(env *pipeline.Env, dir string) (pipeline.Phased, error) {
	sc, err := c.Sharded(dir)
	if err != nil {
		return nil, err
	}
	h, err := minhash.NewHasher(sc.Params)
	if err != nil {
		return nil, err
	}
	p := &minhashPhased{cfg: sc, keepField: c.KeepField, name: env.Name}
	p.signers.New = func() any { return &minhash.Signer{H: h, Sh: minhash.NewShingler(sc.Shingle)} }
	p.sigs.New = func() any { return &mhShardSig{sig: make([]uint64, sc.Params.NumHashes())} }
	return p, nil
}

type minhashPhased struct {
	cfg       minhash.ShardedConfig
	keepField string
	name      string
	signers   sync.Pool // *minhash.Signer
	sigs      sync.Pool // *mhShardSig
}

func (p *minhashPhased) ShardPhase() string { return "signatures" }

// mhShardSig is a signature computed by PrepareShard, carried in Document.Scratch.
type mhShardSig struct {
	sig      []uint64
	shingles int
}

// PrepareShard implements pipeline.ShardPreparer: signatures are computed on the workers.
func (p *minhashPhased) PrepareShard(_ context.Context, d *pipeline.Document) error {
	sg := p.signers.Get().(*minhash.Signer)
	ss := p.sigs.Get().(*mhShardSig)
	ss.shingles = sg.Sign(d.Text, d.Script, ss.sig)
	p.signers.Put(sg)
	d.Scratch = ss
	return nil
}

func (p *minhashPhased) WriteShard(ctx context.Context, shard int, run func(emit func(*pipeline.Document) error) error) ([]string, error) {
	if err := os.RemoveAll(minhash.SignatureDir(p.cfg, shard)); err != nil {
		return nil, err
	}
	_, err := minhash.WriteSignatures(p.cfg, shard, func(emit func(minhash.ShardDoc) error) error {
		return run(func(d *pipeline.Document) error {
			sd := minhash.ShardDoc{ID: d.ID, Text: d.Text, Script: d.Script, Lang: d.Lang}
			if p.cfg.Keep == minhash.KeepMaxMeta {
				sd.KeepValue = MinhashKeepValue(d, p.keepField)
			}
			ss, ok := d.Scratch.(*mhShardSig)
			if ok {
				sd.Signature, sd.Shingles = ss.sig, ss.shingles
				d.Scratch = nil
				defer p.sigs.Put(ss)
			}
			return emit(sd)
		})
	})
	if err != nil {
		return nil, err
	}
	return minhash.SignatureFiles(p.cfg, shard), nil
}

func (p *minhashPhased) Phases(shards, tasks int) []pipeline.GlobalPhase {
	bt := max(1, min(tasks, p.cfg.Units()))
	return []pipeline.GlobalPhase{
		{Name: "buckets", Tasks: bt, Run: func(ctx context.Context, task int) ([]string, error) {
			if err := minhash.BucketTask(p.cfg, shards, task, bt); err != nil {
				return nil, err
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := minhash.ClusterTask(p.cfg, task, bt); err != nil {
				return nil, err
			}
			return minhash.BucketFiles(p.cfg, task, bt), nil
		}},
		{Name: "clusters", Tasks: 1, Run: func(context.Context, int) ([]string, error) {
			if err := minhash.MergeClusters(p.cfg, shards, bt); err != nil {
				return nil, err
			}
			return minhash.ResultFiles(p.cfg, shards), nil
		}},
	}
}

func (p *minhashPhased) Filter(shard int) (pipeline.Stage, error) {
	sf, err := minhash.OpenFilter(p.cfg, shard)
	if err != nil {
		return nil, err
	}
	return &minhashFilter{sf: sf}, nil
}

// minhashFilter decides each document of a shard from the clusters phase's result; it sees
// the documents in the order the signatures pass did. Verdicts and metadata are the
// streaming stage's, except that minhash_cluster_size is the final size of the cluster.
type minhashFilter struct {
	sf  *minhash.ShardFilter
	pos int
}

func (f *minhashFilter) Process(_ context.Context, d *pipeline.Document) (pipeline.Verdict, error) {
	dec, err := f.sf.Decision(f.pos)
	f.pos++
	if err != nil {
		return pipeline.Keep, fmt.Errorf("minhash_dedup: %w", err)
	}
	cluster := dec.ClusterID
	if cluster == "" {
		cluster = d.ID
	}
	d.SetMeta("minhash_cluster", cluster)
	if dec.Removed {
		return pipeline.Rejectf("minhash_dedup.near_duplicate", "near-duplicate of %s (estimated Jaccard %.2f; cluster %s)", dec.OfID, dec.Similarity, dec.ClusterID), nil
	}
	d.SetMeta("minhash_cluster_size", int64(dec.ClusterSize))
	return pipeline.Keep, nil
}

func (f *minhashFilter) Close(context.Context) error { return f.sf.Close() }
