/**
 * Sleep-set search (Godefroid, "Partial-Order Methods for the Verification of Concurrent
 * Systems", LNCS 1032, 1996): the default exhaustive strategy. After an alternative is explored
 * at a node it sleeps in the sibling subtrees until a step dependent with it (over the recorded
 * accesses, access.ts) runs, so one execution is run per Mazurkiewicz trace, plus prefixes cut
 * because every enabled thread was asleep (`counters.sleepBlocked`).
 */
import { DepthFirstSearch, type DfsOptions } from "./dfs.js";

/** The `sleep-sets` reduction. Shardable (`opts.shard`). */
export class SleepSetSearch extends DepthFirstSearch {
  /** `name` is for subclasses (`dpor`, `state-caching`). */
  constructor(opts: Omit<DfsOptions, "sleepSets" | "preemptionBound"> = {}, name = "sleep-sets") {
    super(name, { ...opts, sleepSets: true });
  }
}

/** The `none` reduction: every interleaving, for cross-checks (exponentially slower). Shardable. */
export class UnreducedSearch extends DepthFirstSearch {
  constructor(opts: Omit<DfsOptions, "sleepSets" | "preemptionBound"> = {}) {
    super("none", { ...opts, sleepSets: false });
  }
}
