/**
 * Step costs for the `timed` mode (a discrete-event simulation in nanoseconds, see
 * strategies/timed.ts): how long a step takes by kind, how long a waiter takes to notice that
 * it may go on, and the window the threads start in.
 *
 * The defaults are orders of magnitude for a current x86-64 server core, not measurements of any
 * machine: a step of kernel C between two modeled points (a few dozen instructions and a cache
 * miss or two) 50 ns; a locked instruction or lock operation (a sleeping lock taken at once too)
 * 30 ns; a step that may sleep (`cond_resched()`, a GFP_KERNEL allocation) 500 ns; a spinning waiter sees a release after a
 * cache-line transfer, 50 ns; a sleeping waiter runs again after a wake-up and a context switch,
 * 5 µs. A scenario overrides them (`defineScenario({ timing })`), a site overrides its own step
 * (`sitesIn(...)(fn, label, { costNs })`), a run overrides them again (`--timing name=value`).
 */
import { UsageError } from "../errors.js";
import { showValue } from "./validate.js";

/** Costs and windows of the timed mode, all in nanoseconds except `jitter`. */
export interface Timing {
  /** Each thread starts at an offset drawn uniformly from [0, windowNs), ns. Default 1,000. */
  readonly windowNs: number;
  /** A plain step (no lock, no barrier, no sleep), ns. Default 50. */
  readonly stepNs: number;
  /** A step with a full barrier (a lock operation, a value-returning atomic), ns. Default 30. */
  readonly atomicNs: number;
  /** A step that may sleep but does not wait for an object (`might_sleep()`, `cond_resched()`, a GFP_KERNEL allocation), ns. Default 500. */
  readonly sleepNs: number;
  /** A spinning waiter (spinlock, bit spin, `wait_until`) runs this long after the step that let it go, ns. Default 50. */
  readonly spinHandoffNs: number;
  /** A sleeping waiter (rw_semaphore, mutex, folio lock, schedule()) runs this long after its wake-up, ns. Default 5,000. */
  readonly wakeupNs: number;
  /** A buffered store becomes visible this long after it was made (tso/pso store buffers), ns. Default 20. */
  readonly storeDrainNs: number;
  /** Each step's cost is multiplied by a factor drawn uniformly from [1 - jitter, 1 + jitter]; 0 to 1. Default 0.5. */
  readonly jitter: number;
}

/** The default {@link Timing}. */
export const DEFAULT_TIMING: Timing = Object.freeze({
  windowNs: 1000,
  stepNs: 50,
  atomicNs: 30,
  sleepNs: 500,
  spinHandoffNs: 50,
  wakeupNs: 5000,
  storeDrainNs: 20,
  jitter: 0.5,
});

/** The names of the {@link Timing} fields, in declaration order. */
export const TIMING_FIELDS = Object.keys(DEFAULT_TIMING) as (keyof Timing)[];

/** Most nanoseconds a timing value may be: one hour. */
export const MAX_TIMING_NS = 3.6e12;

/**
 * The timing of a run: the defaults, then the scenario's, then the run's own. Throws UsageError
 * (one line) for an unknown field or a value out of range (ns: 0 to one hour; jitter: 0 to 1;
 * windowNs at least 1).
 */
export function resolveTiming(...layers: (Partial<Timing> | undefined)[]): Timing {
  const out: Record<string, number> = { ...DEFAULT_TIMING };
  for (const layer of layers) {
    if (layer === undefined) continue;
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      if (!(TIMING_FIELDS as string[]).includes(k)) throw new UsageError(`unknown timing '${k}' (known: ${TIMING_FIELDS.join(", ")})`);
      const max = k === "jitter" ? 1 : MAX_TIMING_NS;
      const min = k === "windowNs" ? 1 : 0;
      if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max)
        throw new UsageError(`timing ${k} must be a number from ${min} to ${k === "jitter" ? 1 : "3.6e12 (one hour in ns)"}, got ${showValue(v)}`);
      out[k] = v;
    }
  }
  return Object.freeze(out) as unknown as Timing;
}

/**
 * Mean time to failure in hours for a failure probability `p` per attempt and `attemptsPerSecond`
 * attempts: 1 / (p · attempts/s) / 3600; null when p is 0 (no failure seen: unbounded).
 */
export function mttfHours(p: number, attemptsPerSecond: number): number | null {
  return p > 0 ? 1 / (p * attemptsPerSecond) / 3600 : null;
}

/** Hours as a short duration: `42 s`, `3.5 min`, `7.2 h`, `12 days`, `3.4 years`. */
export function durationText(h: number): string {
  const sec = h * 3600;
  if (sec < 60) return `${+sec.toPrecision(2)} s`;
  if (sec < 3600) return `${+(sec / 60).toPrecision(2)} min`;
  if (h < 48) return `${+h.toPrecision(2)} h`;
  if (h < 24 * 730) return `${+(h / 24).toPrecision(2)} days`;
  return `${+(h / 24 / 365.25).toPrecision(2)} years`;
}
