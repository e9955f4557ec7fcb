import type { RunConfig, ThreadBody } from "./task.js";
import type { FindingKind } from "./finding.js";
import type { CheckResult } from "./check.js";
import { MEMORY_MODELS, type MemoryModel } from "./memory.js";

/** Where a fix, variant or claim comes from: a seed message (or commit). */
export interface SourceRef {
  /** Seed file in shared/seeds, e.g. `002_33cfda33f14e83de.txt`. */
  readonly seed: string;
  readonly author: string;
  /** Date of the message, ISO `YYYY-MM-DD`. */
  readonly date: string;
  readonly subject: string;
  /** lore link or commit id, when known. */
  readonly link?: string;
  /** The sentence of the message the item rests on. */
  readonly quote?: string;
}

/** A numeric scenario parameter (`--param name=value`). */
export interface ParamSpec {
  readonly name: string;
  readonly description: string;
  readonly default: number;
  readonly min: number;
  readonly max: number;
}

/** A proposed fix: a named variant of the code, citing the patch or message it comes from. */
export interface Fix<O> {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly source: SourceRef;
  /** Options the threads read to take the fixed code path. */
  readonly options: Partial<O>;
}

/** A configuration of the scenario (which code paths race, sizes, hypotheses). */
export interface Variant<O> {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly options: Partial<O>;
  /** Memory model the variant runs under unless one is asked for explicitly (default sc). */
  readonly memoryModel?: MemoryModel;
  /** Parameter defaults of the variant (over the scenario's; `--param` overrides both). */
  readonly params?: Readonly<Record<string, number>>;
}

export interface ThreadSpec<S, O> {
  /** Thread name: the kernel entry point it models, e.g. `ext4_page_mkwrite`. */
  readonly name: string;
  readonly body: ThreadBody<S, O>;
}

/** What `setup` returns: the initial modeled state and the racing threads. */
export interface Model<S, O> {
  readonly state: S;
  readonly threads: readonly ThreadSpec<S, O>[];
}

/** Reports end-check findings. */
export interface EndReporter {
  report(kind: FindingKind, message: string): void;
}

/** A claim made in the thread, as an executable check against the model. */
export interface Claim {
  readonly id: string;
  /** The claim in a sentence, as the thread makes it. */
  readonly statement: string;
  readonly source: SourceRef;
  /** What the thread expects the model to show. */
  readonly expected: string;
  /** Explores the model and says what it observed and whether the claim holds in the model. */
  evaluate(ctx: ClaimContext): { observed: string; holds: boolean };
}

/** What a claim may run: exhaustive checks of this scenario. */
export interface ClaimContext {
  check(fix: string, variant: string, params?: Record<string, number>): CheckResult;
}

/**
 * A race scenario: everything about one mailing-list thread.
 * `S` is the modeled state, `O` the options fixes and variants set.
 */
export interface Scenario<S, O> {
  readonly id: string;
  readonly title: string;
  readonly summary: string;
  /** Kernel version modeled, e.g. `v6.9`. */
  readonly kernel: string;
  /** The seed thread. */
  readonly thread: SourceRef;
  readonly params: readonly ParamSpec[];
  readonly defaults: O;
  readonly fixes: readonly Fix<O>[];
  readonly variants: readonly Variant<O>[];
  /** Builds the initial state and threads; must be deterministic. */
  setup(cfg: RunConfig<O>): Model<S, O>;
  /** Checked after every step; a non-null string is an `invariant` finding. */
  readonly invariants?: readonly { readonly name: string; check(s: S): string | null }[];
  /** Checked once all threads have finished (not after a deadlock or a BUG). */
  readonly endChecks?: readonly { readonly name: string; check(s: S, r: EndReporter): void }[];
  /** The state as a flat table for display after each step. */
  view(s: S): Record<string, string | number | boolean>;
  readonly claims: readonly Claim[];
  /** What the model leaves out or simplifies, each a sentence. */
  readonly leftOut: readonly string[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyScenario = Scenario<any, any>;

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
    throw new UsageError(`scenario '${ref}': no registry loaded; pass the scenario object`);
  }
  try {
    return lookup(ref);
  } catch (e) {
    if (mine !== undefined && e instanceof UsageError) return mine;
    throw e;
  }
}

/** Thrown for bad user input (unknown id, bad parameter, malformed schedule): CLI exit status 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
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
    throw new UsageError(`unknown memory model '${memoryModel}' (known: ${MEMORY_MODELS.join(", ")})`);
  const f = sc.fixes.find((x) => x.id === fix);
  if (!f) throw new UsageError(`unknown fix '${fix}' for ${sc.id} (known: ${sc.fixes.map((x) => x.id).join(", ")})`);
  const v = sc.variants.find((x) => x.id === variant);
  if (!v)
    throw new UsageError(`unknown variant '${variant}' for ${sc.id} (known: ${sc.variants.map((x) => x.id).join(", ")})`);
  const resolved: Record<string, number> = {};
  for (const p of sc.params) resolved[p.name] = p.default;
  Object.assign(resolved, v.params ?? {});
  for (const [name, value] of Object.entries(params)) {
    const spec = sc.params.find((p) => p.name === name);
    if (!spec)
      throw new UsageError(
        `unknown parameter '${name}' for ${sc.id} (known: ${sc.params.map((p) => p.name).join(", ") || "none"})`,
      );
    if (!Number.isInteger(value) || value < spec.min || value > spec.max)
      throw new UsageError(`parameter ${name}=${value} out of range: an integer from ${spec.min} to ${spec.max}`);
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
