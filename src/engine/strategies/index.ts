/**
 * The strategy registry: every way racelab explores a scenario, keyed by the name `check`
 * takes (`--mode random|pct`, `--reduction sleep-sets|dpor|state-caching|none` of `--mode
 * exhaustive`), plus `timed` (`racelab rates --mode timed`), `replay` and `preemption-bound`. A new mode registers a factory here and
 * runs on the same runner (runner.ts) with the same budgets, progress and stop requests.
 */
import { UsageError } from "../../errors.js";
import type { Execution } from "../execution.js";
import { runStrategy, type Strategy } from "../runner.js";
import type { AnyScenario } from "../scenario.js";
import type { RunConfig } from "../task.js";
import { SHARD_DEPTH, type DfsOptions } from "./dfs.js";
import { SourceDporSearch } from "./dpor.js";
import { PctStrategy } from "./pct.js";
import { PreemptionBoundedSearch } from "./preemption-bound.js";
import { RandomStrategy } from "./random.js";
import { ReplayStrategy } from "./replay.js";
import { SleepSetSearch, UnreducedSearch } from "./sleep-sets.js";
import { StateCachingSearch } from "./state-caching.js";
import { TimedStrategy } from "./timed.js";
import type { Footprints } from "./persistent.js";
import { DEFAULT_TIMING, type Timing } from "../timing.js";

export { DepthFirstSearch, SHARD_DEPTH, type DfsOptions, type Frame, type Sleeper } from "./dfs.js";
export type { ScopeCell } from "../fingerprint.js";
export { SourceDporSearch } from "./dpor.js";
export { PctStrategy } from "./pct.js";
export { PreemptionBoundedSearch } from "./preemption-bound.js";
export { RandomStrategy, SamplingStrategy, seededGenerator } from "./random.js";
export { ReplayStrategy } from "./replay.js";
export { SleepSetSearch, UnreducedSearch } from "./sleep-sets.js";
export { collisionProbability, StateCachingSearch } from "./state-caching.js";
export { Footprints, seedFootprints, type StepLocks } from "./persistent.js";
export { TimedStrategy } from "./timed.js";

/** What a strategy factory gets: the options of the check that asks for it. */
export interface StrategyRequest {
  /** PRNG seed (sampling strategies). */
  readonly seed: number;
  /** Executions to make (sampling strategies); Infinity: until stopped. */
  readonly runs: number;
  /** PCT bug depth. */
  readonly pctDepth: number;
  /** Shard and split depth (shardable exhaustive strategies). */
  readonly shard?: DfsOptions["shard"];
  /** Depth of the nodes dealt to shards. */
  readonly shardDepth?: number;
  /** Probe: count the nodes at this depth, go no deeper. */
  readonly countDepth?: number;
  /** `replay`: thread and alternative of every step. */
  readonly schedule?: {
    /** Thread index of every step. */
    readonly tids: readonly number[];
    /** Alternative taken at every step. */
    readonly choices: readonly number[];
  };
  /** `preemption-bound`: the bound. */
  readonly preemptionBound?: number;
  /** `timed`: step costs and start window (default DEFAULT_TIMING). */
  readonly timing?: Timing;
  /** `state-caching`: hash the whole state after every step instead of what the step accessed. */
  readonly fullRehash?: boolean;
  /** `state-caching`: persistent sets from these footprints (persistent.ts); none when absent or null. */
  readonly footprints?: Footprints | null;
}

/** Makes a fresh strategy for one run. */
export type StrategyFactory = (req: StrategyRequest) => Strategy;

/** A registered strategy. */
interface Entry {
  readonly make: StrategyFactory;
  /** Whether `--shard` can split it (its subtrees are independent of each other). */
  readonly shardable: boolean;
}

const registry = new Map<string, Entry>([
  ["sleep-sets", { make: (r) => new SleepSetSearch(dfsPart(r)), shardable: true }],
  ["dpor", { make: () => new SourceDporSearch(), shardable: false }],
  ["state-caching", { make: (r) => new StateCachingSearch({ fullRehash: r.fullRehash === true, footprints: r.footprints ?? null }), shardable: false }],
  ["none", { make: (r) => new UnreducedSearch(dfsPart(r)), shardable: true }],
  ["random", { make: (r) => new RandomStrategy(r.seed, r.runs), shardable: false }],
  ["pct", { make: (r) => new PctStrategy(r.seed, r.pctDepth, r.runs), shardable: false }],
  ["timed", { make: (r) => new TimedStrategy(r.seed, r.timing ?? DEFAULT_TIMING, r.runs), shardable: false }],
  ["replay", { make: (r) => new ReplayStrategy(r.schedule?.tids ?? [], r.schedule?.choices ?? []), shardable: false }],
  ["preemption-bound", { make: (r) => new PreemptionBoundedSearch(r.preemptionBound ?? 0), shardable: false }],
]);

function dfsPart(r: StrategyRequest): DfsOptions {
  return { shard: r.shard, shardDepth: r.shardDepth, countDepth: r.countDepth };
}

/**
 * Registers (or replaces) the strategy named `name`. `shardable`: whether its search can be
 * dealt to shards by {@link DfsOptions.shard}. Throws UsageError for a name that is not
 * lowercase-hyphenated.
 */
export function registerStrategy(name: string, make: StrategyFactory, shardable = false): void {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new UsageError(`strategy name must be lowercase-hyphenated, got '${name}'`);
  registry.set(name, { make, shardable });
}

/** Names of the registered strategies, in registration order. */
export function strategyNames(): string[] {
  return [...registry.keys()];
}

/** A fresh strategy `name` for `req`. Throws UsageError for an unknown name. */
export function makeStrategy(name: string, req: StrategyRequest): Strategy {
  const e = registry.get(name);
  if (e === undefined) throw new UsageError(`unknown strategy '${name}' (known: ${strategyNames().join(", ")})`);
  return e.make(req);
}

/** Whether strategy `name` can be run in shards. */
export function isShardable(name: string): boolean {
  return registry.get(name)?.shardable === true;
}

/** Nodes per part wanted at the split depth of a sharded search. */
const UNITS_PER_PART = 256;

/**
 * The split depth of a search in `count` shards: the least depth with at least 256 nodes per
 * part (at most {@link SHARD_DEPTH}), found by probing the tree level by level; every part
 * computes the same.
 */
export function shardDepthFor(sc: AnyScenario, cfg: RunConfig<unknown>, name: string, count: number, req: StrategyRequest): number {
  for (let d = 1; d < SHARD_DEPTH; d++) {
    const probe = makeStrategy(name, { ...req, shard: undefined, countDepth: d });
    runStrategy(sc, cfg, probe, {}, () => false);
    const n = probe.counters.nodesAtDepth;
    if (n >= UNITS_PER_PART * count || n === 0) return d;
  }
  return SHARD_DEPTH;
}

/** Runs one execution under `strategy` (the first it makes) and returns it; `cut` when the step bound stopped it. */
export function runOne(
  sc: AnyScenario,
  cfg: RunConfig<unknown>,
  strategy: Strategy,
  opts: { trace?: boolean; maxSteps?: number } = {},
): {
  /** The execution (finished unless `cut`). */
  exec: Execution;
  /** True when the step bound stopped it. */
  cut: boolean;
} {
  let out: { exec: Execution; cut: boolean } | null = null;
  runStrategy(sc, cfg, strategy, opts, (v) => {
    out = { exec: v.exec, cut: v.cut };
    return true;
  });
  if (out === null) throw new Error(`strategy ${strategy.name} made no execution`);
  return out;
}
