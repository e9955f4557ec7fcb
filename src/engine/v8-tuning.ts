/**
 * V8 tuning for racelab's searches, applied once, when the engine is loaded (the runner imports
 * this module, and the CLI imports it first of all, before its check worker starts).
 *
 * A check in a new process spends most of its time before TurboFan has compiled the engine's hot
 * functions. On the 2-core machine of the README's benchmarks, `ext4-delalloc-fallocate --fix
 * recheck-es --param blocks=3` (state caching) took 0.65 s cold against 0.19 s warm, while V8's
 * background threads compiled about 1.2 s of TurboFan code (`--trace-opt`: 207 functions,
 * `persistentSet` 73 ms, `ext4_da_map_blocks` 66 ms, ...): the hot functions waited in the
 * compile queue and ran in the interpreter meanwhile. Smaller inlining budgets make each
 * compilation cheaper, so the queue drains sooner.
 *
 * Measured on 2026-12-02 (AMD EPYC, 2 cores, Node 20.20, medians of 6 to 10 interleaved runs in
 * new processes): that cold check 650 to 715 ms with V8's defaults, 565 to 645 ms with these
 * flags (-10 to -15 %); the warm check (190 ms), blocks=4 (3.9 s) and random mode (about 85,000
 * runs/s) unchanged within the machine's noise. Also tried, no better: no TurboFan inlining at all,
 * budgets of 120/60, no escape analysis or load elimination, earlier tier-up (interrupt budget,
 * ticks), larger young generation (`--max-semi-space-size` is fixed once the heap is set up).
 *
 * The flags are process-wide (V8 has no per-module setting): code of your own in the same process
 * is compiled with the same budgets. `RACELAB_V8_TUNING=0` in the environment keeps V8's defaults.
 *
 * One more setting cannot be made from inside a process: the size of V8's pool of background
 * threads (concurrent TurboFan jobs, GC helpers), fixed when Node starts. Node's default is 4
 * threads whatever the machine; racelab's launchers start node with {@link V8_POOL_OPTION}.
 */
import v8 from "node:v8";

/**
 * The flags racelab sets: `--max-inlined-bytecode-size` (V8's default 460 bytes of bytecode per
 * inlined function) and `--max-inlined-bytecode-size-cumulative` (default 920 per optimized
 * function).
 */
export const V8_TUNING_FLAGS: readonly string[] = Object.freeze(["--max-inlined-bytecode-size=100", "--max-inlined-bytecode-size-cumulative=300"]);

/**
 * The Node option racelab's own launchers start node with: the `racelab` bin (its first line is
 * `#!/usr/bin/env -S node --v8-pool-size=0`), `npm run racelab`, `npm start`, the notebook kernel
 * (kernel/racelab-kernel) and the benchmarks' child processes. `--v8-pool-size=0` sizes V8's
 * background thread pool to Node's estimate of the machine's parallelism minus one (at least one
 * thread), instead of Node's fixed 4. On 2 cores the four threads ran several TurboFan jobs at once
 * and took the main thread's core while a new process's first check was still waiting for them.
 *
 * Measured on 2026-12-02 (the Intel Xeon machine of the README, 2 cores, Node 20.20, alternating new processes):
 * `ext4-delalloc-fallocate --fix recheck-es --param blocks=3` (state caching), the check's
 * elapsedMs in a new process, means of 8: 380 ms with Node's default pool, 342 ms with one thread;
 * `racelab check ... --json` 585 -> 535 ms wall time (6 pairs); `blocks=4` (3.0 s), the warm check
 * (about 180 ms) and a notebook run unchanged within noise; `racelab rates --workers 2` (two
 * isolates sharing the one thread) 3 to 4% slower. A process started as `node dist/cli/main.js` or
 * `node my-script.js` keeps Node's default: pass the option yourself (`node --v8-pool-size=0 ...`,
 * or `NODE_OPTIONS=--v8-pool-size=0`).
 */
export const V8_POOL_OPTION = "--v8-pool-size=0";

let applied: readonly string[] | null = null;

/**
 * Sets {@link V8_TUNING_FLAGS} with `v8.setFlagsFromString()`, once per process; returns the
 * flags set, or an empty list when `RACELAB_V8_TUNING=0` (or `false`, `off`, `no`) keeps V8's
 * defaults. Never throws: a V8 that refuses a flag keeps its default.
 */
export function applyV8Tuning(env: Readonly<Record<string, string | undefined>> = process.env): readonly string[] {
  if (applied !== null) return applied;
  const off = /^(0|false|off|no)$/i.test((env.RACELAB_V8_TUNING ?? "").trim());
  const set: string[] = [];
  if (!off)
    for (const f of V8_TUNING_FLAGS) {
      try {
        v8.setFlagsFromString(f);
        set.push(f);
      } catch {
        // (Kept at V8's default.)
      }
    }
  applied = Object.freeze(set);
  return applied;
}

/** The flags {@link applyV8Tuning} set in this process (empty before it ran, or when turned off). */
export function v8TuningApplied(): readonly string[] {
  return applied ?? [];
}

applyV8Tuning();
