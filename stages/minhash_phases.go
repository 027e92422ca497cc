package stages

import (
	"context"
	"fmt"
	"os"

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
	_ pipeline.PhasedConfig = (*MinhashDedupConfig)(nil)
	_ pipeline.Phased       = (*minhashPhased)(nil)
	_ pipeline.Stage        = (*minhashFilter)(nil)
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
	return &minhashPhased{cfg: sc, keepField: c.KeepField, name: env.Name}, nil
}

type minhashPhased struct {
	cfg       minhash.ShardedConfig
	keepField string
	name      string
}

func (p *minhashPhased) ShardPhase() string { return "signatures" }

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
