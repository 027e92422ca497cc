package minhash

// The files each phase writes in ShardedConfig.Dir, for callers that record them (a task
// runner's completion markers) or clear a shard before writing it again.

// SignatureDir is the directory WriteSignatures writes shard's files into.
func SignatureDir(cfg ShardedConfig, shard int) string { return sigDir(cfg.Dir, shard) }

// SignatureFiles lists the files WriteSignatures writes for shard.
func SignatureFiles(cfg ShardedConfig, shard int) []string {
	out := []string{sigsPath(cfg.Dir, shard), idsPath(cfg.Dir, shard)}
	for b := 0; b < cfg.Params.Bands; b++ {
		out = append(out, bandPath(cfg.Dir, shard, b))
	}
	return out
}

// BucketFiles lists the files BucketTask and ClusterTask write as task `task` of `tasks`:
// the pair file of each of its units and its forest.
func BucketFiles(cfg ShardedConfig, task, tasks int) []string {
	var out []string
	for u := task; u < cfg.Units(); u += tasks {
		out = append(out, pairsPath(cfg.Dir, u))
	}
	return append(out, forestPath(cfg.Dir, task))
}

// ResultFiles lists the files MergeClusters writes for numShards shards.
func ResultFiles(cfg ShardedConfig, numShards int) []string {
	out := make([]string, numShards)
	for s := range out {
		out[s] = removedPath(cfg.Dir, s)
	}
	return out
}
