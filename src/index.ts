/**
 * racelab's public API: what notebooks and other tools import.
 *
 * In a tslab notebook (kernel `racelab`, started in the project root):
 * `import { Session, checkAll, showClaims } from "./dist";` in this checkout, `from "racelab"` in a
 * project that has racelab installed as a dependency.
 *
 * Where to start:
 * - Modeling a race: {@link defineScenario} (a scenario in one call), {@link sitesIn} (the kernel
 *   function, file and version of each step), {@link Task} (what a thread body gets), {@link step}
 *   (a primitive of your own), and the kernel primitives of `src/linux/` ({@link Spinlock},
 *   {@link spin_lock}, {@link RwSemaphore}, {@link Cell}, {@link READ_ONCE}, {@link refcount_t},
 *   {@link atomic_t}, {@link wait_queue_head_t}, {@link call_rcu}, {@link kmalloc}, ...), each named
 *   and behaving as in the kernel source it cites.
 * - Checking it: {@link check} and {@link CheckResult} (the JSON of `racelab check --json`),
 *   {@link replay}, {@link evaluateClaims}, {@link loadScenario} (a scenario file), {@link MemoryModel}.
 * - In a notebook: {@link checkAll}, {@link showChecks}, {@link showViolationsChart},
 *   {@link showCounterexample}, {@link showClaims}, {@link showLeftOut}, {@link Session} (stepping by
 *   hand), and the display helpers ({@link displayTable}, {@link displayChart}).
 *
 * @packageDocumentation
 */
// First: V8's inlining budgets for the search (v8-tuning.ts), before any of it is compiled.
import "./engine/v8-tuning.js";
export * from "./engine/access.js";
export * from "./engine/check.js";
export * from "./engine/define.js";
export * from "./registry.js";
export { selfTracked, holdsValues, untracked, isSelfTracked, Tracker, NEEDS_TRACKING } from "./engine/track.js";
export * from "./engine/claims.js";
export * from "./engine/execution.js";
export * from "./engine/finding.js";
export * from "./engine/memory.js";
export * from "./engine/scenario.js";
export * from "./engine/schedule.js";
export * from "./engine/runner.js";
export { V8_TUNING_FLAGS, V8_POOL_OPTION, applyV8Tuning, v8TuningApplied } from "./engine/v8-tuning.js";
export * from "./engine/strategies/index.js";
export * from "./errors.js";
export * from "./engine/site.js";
export * from "./engine/sync.js";
export * from "./engine/task.js";
export * from "./engine/trace.js";
export { countLinearizations } from "./engine/count.js";
export { getScenario, scenarios } from "./scenarios/index.js";
export * from "./notebook/display.js";
export * from "./notebook/session.js";
export * from "./notebook/views.js";
export * from "./engine/litmus.js";
export * from "./engine/rates.js";
export * from "./engine/timing.js";
export { slotTable, type XaSlotRow } from "./linux/xarray.js";
export { workedExample, type SplitIntermediateRow } from "./scenarios/filemap-folio-split/index.js";
export * from "./linux/index.js";
