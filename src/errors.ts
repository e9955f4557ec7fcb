/**
 * Every error class racelab throws on purpose, in one module.
 *
 * - {@link UsageError}: bad usage or bad input (unknown id, bad parameter, malformed schedule,
 *   option out of range). The CLI prints its one-line message and exits 2.
 * - {@link InputError}: bad input to the report and run commands (missing file, not a notebook);
 *   a UsageError, so one `instanceof UsageError` covers both.
 * - {@link ModelError}: a model's own code is wrong (a thread that is not deterministic, a misuse
 *   the library detects). Fix the model; the CLI exits 1.
 * - {@link UnhashableState}: internal to the state-caching search (a read no fingerprint
 *   covers); check() catches it and searches with sleep sets instead, with a warning.
 * - {@link StaleStateHash}: internal to the state-caching search (a step changed an object
 *   without an access on that object's locations, so hashing only what a step accessed missed
 *   it); check() catches it and searches again rehashing the whole state after every step.
 */

/** Thrown for bad user input (unknown id, bad parameter, malformed schedule): CLI exit status 2. */
export class UsageError extends Error {
  /** `"UsageError"` (or a subclass's name). */
  override name = "UsageError";
  /** Exit status the CLI uses for this error. */
  readonly exitCode: number = 2;
}

/** Bad input to `racelab report` / `racelab run` (missing file, not a notebook, unknown option): exit status 2. */
export class InputError extends UsageError {
  /** Always `"InputError"`. */
  override name = "InputError";
}

/** Thrown when a model's own code fails (a bug in racelab's model, not a finding). */
export class ModelError extends Error {
  /** Always `"ModelError"`. */
  override readonly name = "ModelError";
}

/** Thrown by the state-caching search when a step reads a location no fingerprint covers. */
export class UnhashableState extends Error {
  /** Always `"UnhashableState"`. */
  override readonly name = "UnhashableState";
  constructor(
    /** Name of the location read (`newLoc(name)` without an owner). */
    readonly location: string,
  ) {
    super(`location ${location} has no owner (newLoc(name) without \`this\`): its value cannot be hashed`);
  }
}

/**
 * Thrown by the state-caching search with persistent sets when a state recurs on the current path
 * (the state graph has a cycle, around which persistent sets could postpone a thread forever);
 * check() then searches again without persistent sets.
 */
export class StateCycle extends Error {
  /** Always `"StateCycle"`. */
  override readonly name = "StateCycle";
  constructor(
    /** Steps around the cycle. */
    readonly length: number,
  ) {
    super(`a state recurs after ${length} steps`);
  }
}

/**
 * Thrown by the state-caching search when its periodic comparison of the incrementally updated
 * state hash with a full rehash finds a difference: a step changed an object without recording
 * an access on that object's own locations.
 */
export class StaleStateHash extends Error {
  /** Always `"StaleStateHash"`. */
  override readonly name = "StaleStateHash";
  constructor(
    /** The thread whose step it was. */
    readonly thread: string,
    /** What changed (`state`, a tracker name, or a class name with its unit number). */
    readonly object: string,
  ) {
    super(`a step of ${thread} changed ${object} without an access on its own locations`);
  }
}
