/** The exploration modes and reductions of `check` (check.ts), in a module of their own so that validate.ts can list them too. */
/**
 * How `check` explores: `exhaustive` (every interleaving up to the reduction, see
 * {@link Reduction}), `random` (uniformly random runnable thread at each step, `runs` executions)
 * or `pct` (probabilistic concurrency testing, Burckhardt et al. 2010: random priorities with
 * `pctDepth - 1` priority change points).
 */
export type Mode = "exhaustive" | "random" | "pct";
/** Every {@link Mode}, in the order the CLI lists them. */
export const MODES: readonly Mode[] = ["exhaustive", "random", "pct"];

/**
 * Reduction of the exhaustive search, each a strategy of src/engine/strategies/: `sleep-sets`
 * (default; Godefroid's sleep sets over the recorded accesses, one execution per Mazurkiewicz
 * trace), `dpor` (source-DPOR: the same executions, far fewer sleep-blocked prefixes; under pso
 * check() searches with sleep sets instead, see DPOR_PSO_WARNING), `state-caching` (sleep sets
 * with state matching: fewer executions, every final state and finding) or `none` (every
 * interleaving, for cross-checks; exponentially slower).
 */
export type Reduction = "sleep-sets" | "dpor" | "state-caching" | "none";
/** Every {@link Reduction}, default first. */
export const REDUCTIONS: readonly Reduction[] = ["sleep-sets", "dpor", "state-caching", "none"];

