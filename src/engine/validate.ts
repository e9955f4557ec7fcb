/**
 * Input checks shared by the library and the CLI: the bounds of {@link CheckOptions}, and how
 * their error messages show a value given (short, on one line).
 */
import type { CheckOptions } from "./check.js";
import { UsageError } from "../errors.js";
import { MODES, REDUCTIONS, type Mode, type Reduction } from "./modes.js";
import { MEMORY_MODELS } from "./memory.js";
import { clip } from "./clip.js";

/** Most executions `runs` may ask for in random and pct modes (a larger count would not end). */
export const MAX_RUNS = 1_000_000_000;
/** Largest seed: seeds are taken exactly, and a double holds integers exactly up to 2^53 - 1. */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;
/** Largest PCT bug depth d (d - 1 priority change points per execution). */
export const MAX_PCT_DEPTH = 64;
/** Most unreduced executions the cross-check of an exhaustive search may sample. */
export const MAX_CROSS_CHECK = 10_000_000;

/**
 * The modes validateCheckOptions accepts: check.ts's `MODES` (both come from modes.ts).
 */
export const KNOWN_MODES: readonly Mode[] = MODES;
/** The reductions validateCheckOptions accepts: check.ts's `REDUCTIONS` (see {@link KNOWN_MODES}). */
export const KNOWN_REDUCTIONS: readonly Reduction[] = REDUCTIONS;

/** A value as an error message shows it: strings quoted and clipped, numbers as JavaScript prints them. */
export function showValue(v: unknown): string {
  if (typeof v === "string") return `'${clip(v)}'`;
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "number" || typeof v === "boolean" || v === null || v === undefined) return String(v);
  if (typeof v === "function") return "a function";
  if (typeof v === "symbol") return clip(v.toString());
  try {
    return clip(JSON.stringify(v) ?? Object.prototype.toString.call(v));
  } catch {
    return Object.prototype.toString.call(v);
  }
}

const int = (v: unknown, lo: number, hi: number): boolean => typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi;

/**
 * Throws UsageError (one line, naming the option and the value given) unless every option of
 * `opts` that is set is in range:
 * - `seed`: an integer from 0 to 2^53 - 1 ({@link MAX_SEED});
 * - `runs`: an integer from 1 to 1,000,000,000 ({@link MAX_RUNS});
 * - `pctDepth`: an integer from 1 to 64 ({@link MAX_PCT_DEPTH});
 * - `maxExecutions`: a positive integer;
 * - `crossCheck`: an integer from 0 to 10,000,000 ({@link MAX_CROSS_CHECK});
 * - `mode`, `reduction`, `memoryModel`: one of the known names;
 * - `params`: an object whose values are integers (their ranges are the scenario's, checked when
 *   the configuration is resolved);
 * - `timeLimitMs`: a positive number; `maxStates`: a positive integer;
 * - `countNaive`, `persistentSets`: booleans; `shard`: `{ index, count }` with 0 <= index < count <= 10,000;
 * - `fix`, `variant`: strings; `onProgress`, `stop`: functions.
 * Options a mode does not use are checked all the same.
 */
export function validateCheckOptions(opts: CheckOptions): void {
  if (opts === null || typeof opts !== "object") throw new UsageError(`check options must be an object, got ${showValue(opts)}`);
  const o = opts as Record<keyof CheckOptions, unknown>;
  if (o.seed !== undefined && !int(o.seed, 0, MAX_SEED))
    throw new UsageError(`seed must be an integer from 0 to 2^53 - 1 (${MAX_SEED}), got ${showValue(o.seed)}`);
  if (o.runs !== undefined && !int(o.runs, 1, MAX_RUNS))
    throw new UsageError(`runs must be an integer from 1 to 1,000,000,000, got ${showValue(o.runs)}`);
  if (o.pctDepth !== undefined && !int(o.pctDepth, 1, MAX_PCT_DEPTH))
    throw new UsageError(`pctDepth must be an integer from 1 to ${MAX_PCT_DEPTH}, got ${showValue(o.pctDepth)}`);
  if (o.maxExecutions !== undefined && !int(o.maxExecutions, 1, Number.MAX_SAFE_INTEGER))
    throw new UsageError(`maxExecutions must be a positive integer, got ${showValue(o.maxExecutions)}`);
  if (o.crossCheck !== undefined && !int(o.crossCheck, 0, MAX_CROSS_CHECK))
    throw new UsageError(`crossCheck must be an integer from 0 to 10,000,000, got ${showValue(o.crossCheck)}`);
  if (o.mode !== undefined && !(KNOWN_MODES as readonly unknown[]).includes(o.mode))
    throw new UsageError(`unknown mode ${showValue(o.mode)} (known: ${KNOWN_MODES.join(", ")})`);
  if (o.reduction !== undefined && !(KNOWN_REDUCTIONS as readonly unknown[]).includes(o.reduction))
    throw new UsageError(`unknown reduction ${showValue(o.reduction)} (known: ${KNOWN_REDUCTIONS.join(", ")})`);
  if (o.memoryModel !== undefined && !(MEMORY_MODELS as readonly unknown[]).includes(o.memoryModel))
    throw new UsageError(`unknown memory model ${showValue(o.memoryModel)} (known: ${MEMORY_MODELS.join(", ")})`);
  if (o.fix !== undefined && typeof o.fix !== "string") throw new UsageError(`fix must be a fix id (a string), got ${showValue(o.fix)}`);
  if (o.variant !== undefined && typeof o.variant !== "string")
    throw new UsageError(`variant must be a variant id (a string), got ${showValue(o.variant)}`);
  if (o.timeLimitMs !== undefined && !(typeof o.timeLimitMs === "number" && o.timeLimitMs > 0 && o.timeLimitMs <= 2 ** 31 * 1000))
    throw new UsageError(`timeLimitMs must be a positive number of milliseconds, got ${showValue(o.timeLimitMs)}`);
  if (o.maxStates !== undefined && !int(o.maxStates, 1, Number.MAX_SAFE_INTEGER))
    throw new UsageError(`maxStates must be a positive integer, got ${showValue(o.maxStates)}`);
  if (o.countNaive !== undefined && typeof o.countNaive !== "boolean")
    throw new UsageError(`countNaive must be true or false, got ${showValue(o.countNaive)}`);
  if (o.persistentSets !== undefined && typeof o.persistentSets !== "boolean")
    throw new UsageError(`persistentSets must be true or false, got ${showValue(o.persistentSets)}`);
  if (o.shard !== undefined) {
    const sh = o.shard as { index?: unknown; count?: unknown } | null;
    if (sh === null || typeof sh !== "object" || !int(sh.count, 1, 10_000) || !int(sh.index, 0, (sh.count as number) - 1))
      throw new UsageError(`shard must be { index, count } with 0 <= index < count <= 10,000, got ${showValue(o.shard)}`);
    const claims = (sh as { claims?: unknown }).claims;
    if (claims !== undefined && !(claims instanceof Int32Array))
      throw new UsageError(`shard.claims must be an Int32Array, got ${showValue(claims)}`);
  }
  if (o.counterexampleFor !== undefined && !(typeof o.counterexampleFor === "string" && o.counterexampleFor.length > 0))
    throw new UsageError(`counterexampleFor must be a non-empty string (text of a finding), got ${showValue(o.counterexampleFor)}`);
  if (o.stop !== undefined && typeof o.stop !== "function") throw new UsageError(`stop must be a function, got ${showValue(o.stop)}`);
  if (o.onProgress !== undefined && typeof o.onProgress !== "function")
    throw new UsageError(`onProgress must be a function, got ${showValue(o.onProgress)}`);
  if (o.params !== undefined) {
    if (o.params === null || typeof o.params !== "object" || Array.isArray(o.params))
      throw new UsageError(`params must be an object of name: integer, got ${showValue(o.params)}`);
    for (const [name, v] of Object.entries(o.params))
      if (!int(v, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER))
        throw new UsageError(`parameter ${clip(name)} must be an integer, got ${showValue(v)}`);
  }
}
