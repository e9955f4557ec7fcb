import type { Timing } from "./timing.js";
import { UsageError } from "../errors.js";
import type { RunConfig, ThreadBody } from "./task.js";
import type { FindingKind } from "./finding.js";
import type { CheckResult } from "./check.js";
import { MEMORY_MODELS, type MemoryModel } from "./memory.js";
import { clip } from "./clip.js";

/** Where a fix, variant or claim comes from: a seed message (or commit). */
export interface SourceRef {
  /** Seed file in shared/seeds, e.g. `002_33cfda33f14e83de.txt`; empty for a source outside the seeds (a commit, another thread). */
  readonly seed: string;
  /** Author of the message or commit, as in its From: line without the address. */
  readonly author: string;
  /** Date of the message, ISO `YYYY-MM-DD`. */
  readonly date: string;
  /** Subject line of the message (or the commit title). */
  readonly subject: string;
  /** lore link or commit id, when known. */
  readonly link?: string;
  /** The sentence of the message the item rests on. */
  readonly quote?: string;
}

/** A numeric scenario parameter (`--param name=value`). */
export interface ParamSpec {
  /** Parameter name, as in `--param name=value` and `cfg.params[name]`. */
  readonly name: string;
  /** One line for `racelab list`. */
  readonly description: string;
  /** Value used when neither the variant nor `--param` sets one. */
  readonly default: number;
  /** Smallest accepted value (an integer). */
  readonly min: number;
  /** Largest accepted value (an integer). */
  readonly max: number;
}

/** A proposed fix: a named variant of the code, citing the patch or message it comes from. */
export interface Fix<O> {
  /** Lowercase-hyphenated id (`--fix <id>`); `baseline` is the code before any fix. */
  readonly id: string;
  /** One line. */
  readonly title: string;
  /** What the fix changes, in a few sentences. */
  readonly description: string;
  /** The patch or message the fix comes from. */
  readonly source: SourceRef;
  /** Options the threads read to take the fixed code path. */
  readonly options: Partial<O>;
}

/** A configuration of the scenario (which code paths race, sizes, hypotheses). */
export interface Variant<O> {
  /** Lowercase-hyphenated id (`--variant <id>`); `default` is the standard configuration. */
  readonly id: string;
  /** One line. */
  readonly title: string;
  /** What the variant changes, in a few sentences. */
  readonly description: string;
  /** Options the threads read (`cfg.options`), over the scenario's defaults; a fix's options win. */
  readonly options: Partial<O>;
  /** Memory model the variant runs under unless one is asked for explicitly (default sc). */
  readonly memoryModel?: MemoryModel;
  /** Parameter defaults of the variant (over the scenario's; `--param` overrides both). */
  readonly params?: Readonly<Record<string, number>>;
}

/** One racing thread of a model: its name and its body. */
export interface ThreadSpec<S, O> {
  /** Thread name: the kernel entry point it models, e.g. `ext4_page_mkwrite`. */
  readonly name: string;
  /** Generator function run by the thread: each `yield site` starts one atomic step. */
  readonly body: ThreadBody<S, O>;
  /**
   * The `timed` mode only: the thread starts at this offset, ns (finite, >= 0), instead of at one
   * drawn uniformly from [0, windowNs): a device that is there from the start (`startNs: 0`) is
   * not delayed when a wide window spreads the other threads' arrivals (new-user trial 25). The
   * other modes ignore it.
   */
  readonly startNs?: number;
}

/** What `setup` returns: the initial modeled state and the racing threads. */
export interface Model<S, O> {
  /** The initial modeled state, handed to every thread. */
  readonly state: S;
  /** The racing threads, in thread-index order (schedules number them from 0). */
  readonly threads: readonly ThreadSpec<S, O>[];
}

/** Reports end-check findings. */
export interface EndReporter {
  /** Adds a finding of this kind to the execution (an `invariant`, a `warning`, ...). */
  report(kind: FindingKind, message: string): void;
}

/** A claim made in the thread, as an executable check against the model. */
export interface Claim {
  /** Claim id, lowercase-hyphenated, unique within the scenario. */
  readonly id: string;
  /** The claim in a sentence, as the thread makes it. */
  readonly statement: string;
  /** The message the claim is made in. */
  readonly source: SourceRef;
  /** What the thread expects the model to show. */
  readonly expected: string;
  /** Explores the model and says what it observed and whether the claim holds in the model. */
  evaluate(ctx: ClaimContext): {
    /** What the model showed, in a sentence. */
    observed: string;
    /** Whether the claim holds in the model. */
    holds: boolean
  };
}

/** What a claim may run: exhaustive checks of this scenario. */
export interface ClaimContext {
  /**
   * Exhaustive check of this scenario under one fix and variant (results are cached per
   * evaluation), under `memoryModel` (default: the variant's, else `sc`), so that a claim about
   * barriers can name the ordering it is about (`ctx.check("no-wmb", "default", {}, "pso")`).
   * Throws UsageError for an unknown fix, variant, parameter or memory model.
   */
  check(fix: string, variant: string, params?: Record<string, number>, memoryModel?: MemoryModel): CheckResult;
}

/**
 * A race scenario: everything about one mailing-list thread.
 * `S` is the modeled state, `O` the options fixes and variants set.
 */
export interface Scenario<S, O> {
  /** Lowercase-hyphenated id, e.g. `ext4-delalloc-fallocate`. */
  readonly id: string;
  /** One line. */
  readonly title: string;
  /** A paragraph on the race. */
  readonly summary: string;
  /** Kernel version modeled, e.g. `v6.9`. */
  readonly kernel: string;
  /** The seed thread. */
  readonly thread: SourceRef;
  /** Numeric parameters (`--param name=value`). */
  readonly params: readonly ParamSpec[];
  /** Option defaults: `cfg.options` under `baseline`/`default`, before a variant's and a fix's options. */
  readonly defaults: O;
  /** Proposed fixes, `baseline` first. */
  readonly fixes: readonly Fix<O>[];
  /** Configurations, `default` first. */
  readonly variants: readonly Variant<O>[];
  /** Builds the initial state and threads; must be deterministic. */
  setup(cfg: RunConfig<O>): Model<S, O>;
  /** Checked after every step; a non-null string is an `invariant` finding. */
  readonly invariants?: readonly {
    /** Names the invariant in findings and listings. */
    readonly name: string;
    /** The violation as a message, or null when the state satisfies the invariant. */
    check(s: S): string | null
  }[];
  /** Checked once all threads have finished (not after a deadlock or a BUG). */
  readonly endChecks?: readonly {
    /** Names the check in listings. */
    readonly name: string;
    /** Reports each problem of the final state with `r.report(kind, message)`. */
    check(s: S, r: EndReporter): void
  }[];
  /** The state as a flat table for display after each step. */
  view(s: S): Record<string, string | number | boolean>;
  /** The thread's claims, each an executable check against the model. */
  readonly claims: readonly Claim[];
  /** What the model leaves out or simplifies, each a sentence. */
  readonly leftOut: readonly string[];
  /** Plain fields the model keeps for its own checks (paths under the state): no plain-field warning names them. */
  readonly bookkeeping?: readonly string[];
  /** Step costs of the `timed` mode that differ from the defaults (timing.ts), ns. */
  readonly timing?: Partial<Timing>;
}

/** A scenario of any state and options type: what functions that take any scenario accept. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyScenario = Scenario<any, any>;

const files = new WeakMap<object, string>();

/**
 * Records that `sc` was loaded from the file `ref` (as the caller named it, e.g. `./my-race.ts`;
 * `loadScenario()` does this), so that replay commands name the file rather than an id that no
 * `racelab replay` knows.
 */
export function setScenarioFile(sc: AnyScenario, ref: string): void {
  files.set(sc, ref);
}

/** The file `sc` was loaded from ({@link setScenarioFile}), or undefined (bundled, or made in place). */
export function scenarioFileOf(sc: AnyScenario): string | undefined {
  return files.get(sc);
}

let lookup: ((id: string) => AnyScenario) | null = null;

/** Installs the function that turns a scenario id into a scenario (the registry does this). */
export function setScenarioLookup(f: (id: string) => AnyScenario): void {
  lookup = f;
}

const seen = new Map<string, AnyScenario>();

/**
 * A scenario object as is (remembered by id, so a result's `scenario` id finds it again), or the
 * scenario with this id: a bundled one, else the last scenario object seen with that id. Throws
 * UsageError for an unknown id or a value that is not a scenario.
 */
export function lookupScenario(ref: AnyScenario | string): AnyScenario {
  if (typeof ref !== "string") {
    if (ref === null || typeof ref !== "object" || typeof (ref as AnyScenario).setup !== "function")
      throw new UsageError("expected a scenario object (from defineScenario()) or a scenario id");
    seen.set(ref.id, ref);
    return ref;
  }
  const mine = seen.get(ref);
  if (lookup === null) {
    if (mine !== undefined) return mine;
    throw new UsageError(`scenario '${clip(ref)}': no registry loaded; pass the scenario object`);
  }
  try {
    return lookup(ref);
  } catch (e) {
    if (mine !== undefined && e instanceof UsageError) return mine;
    throw e;
  }
}


/**
 * True when `sc` is the scenario the installed registry gives for its id (racelab ships it), not
 * merely one seen by {@link lookupScenario} (defined in a notebook or loaded from a file).
 */
export function isRegisteredScenario(sc: AnyScenario): boolean {
  if (lookup === null) return false;
  try {
    return lookup(sc.id) === sc;
  } catch {
    return false;
  }
}

/** Resolves fix, variant and params into a RunConfig. Throws UsageError for unknown ids or bad params. */
export function resolveConfig<O>(
  sc: Scenario<unknown, O>,
  fix: string,
  variant: string,
  params: Record<string, number> = {},
  memoryModelAsked?: MemoryModel,
): RunConfig<O> {
  const memoryModel = memoryModelAsked ?? sc.variants.find((x) => x.id === variant)?.memoryModel ?? "sc";
  if (!MEMORY_MODELS.includes(memoryModel))
    throw new UsageError(`unknown memory model '${clip(String(memoryModel))}' (known: ${MEMORY_MODELS.join(", ")})`);
  const f = sc.fixes.find((x) => x.id === fix);
  if (!f) throw new UsageError(`unknown fix '${clip(String(fix))}' for ${sc.id} (known: ${sc.fixes.map((x) => x.id).join(", ")})`);
  const v = sc.variants.find((x) => x.id === variant);
  if (!v)
    throw new UsageError(`unknown variant '${clip(String(variant))}' for ${sc.id} (known: ${sc.variants.map((x) => x.id).join(", ")})`);
  const resolved: Record<string, number> = {};
  for (const p of sc.params) resolved[p.name] = p.default;
  Object.assign(resolved, v.params ?? {});
  for (const [name, value] of Object.entries(params)) {
    const spec = sc.params.find((p) => p.name === name);
    if (!spec)
      throw new UsageError(
        `unknown parameter '${clip(name)}' for ${sc.id} (known: ${sc.params.map((p) => p.name).join(", ") || "none"})`,
      );
    if (!Number.isInteger(value) || value < spec.min || value > spec.max)
      throw new UsageError(`parameter ${name}=${clip(String(value))} out of range: an integer from ${spec.min} to ${spec.max}`);
    resolved[name] = value;
  }
  return {
    fix,
    variant,
    params: resolved,
    options: { ...sc.defaults, ...v.options, ...f.options },
    memoryModel,
  };
}
