/**
 * `defineScenario()`: a race model in one call, with sensible defaults: the public API the
 * bundled scenarios use too.
 *
 * ```ts
 * import { defineScenario, sitesIn, spin_lock, spin_unlock, Spinlock } from "racelab";
 * const at = sitesIn("lib/counter.c", "v6.12");
 * const LOAD = at("counter_inc", "load"), STORE = at("counter_inc", "store");
 *
 * export default defineScenario({
 *   id: "lost-update",
 *   setup: () => ({
 *     state: { v: 0 },
 *     threads: {
 *       *cpu0(t, s) { yield LOAD; const v = s.v; yield STORE; s.v = v + 1; },
 *       *cpu1(t, s) { yield LOAD; const v = s.v; yield STORE; s.v = v + 1; },
 *     },
 *   }),
 *   endChecks: [{ name: "both increments", check: (s, r) => { if (s.v !== 2) r.report("invariant", `v = ${s.v}`); } }],
 * });
 * ```
 *
 * Everything but `id` and `setup` is optional: one fix `baseline`, one variant `default`, no
 * parameters, no claims, a state view derived from the state. Plain fields of the state are
 * tracked (see track.ts), so the example above is checked soundly without `Cell`s.
 */
import { hasFinding, summarizeCheck } from "./claims.js";
import { resolveTiming, type Timing } from "./timing.js";
import type { CheckResult } from "./check.js";
import { MEMORY_MODELS, type MemoryModel } from "./memory.js";
import { clip } from "./clip.js";
import { UsageError } from "../errors.js";
import {
  type Claim,
  type ClaimContext,
  type EndReporter,
  type Fix,
  type Model,
  type ParamSpec,
  type Scenario,
  type SourceRef,
  type ThreadSpec,
  type Variant,
} from "./scenario.js";
import type { RunConfig, ThreadBody } from "./task.js";
import { isListHead, isSelfTracked, untracked } from "./track.js";

/** A parameter in a definition: a full ParamSpec, or `{ default, min?, max?, description? }` keyed by name. */
export interface ParamDefinition {
  /** Value used when neither the variant nor `--param` sets one. */
  readonly default: number;
  /** Smallest accepted value; default 0. */
  readonly min?: number;
  /** Largest accepted value; default 1,000,000. */
  readonly max?: number;
  /** One line for `racelab list`; default: the name. */
  readonly description?: string;
}

/** A fix in a definition; only `id` is required. */
export interface FixDefinition<O> {
  /** Lowercase-hyphenated id (`--fix <id>`); `baseline` is the code before any fix. */
  readonly id: string;
  /** One line; default: the id. */
  readonly title?: string;
  /** What the fix changes, in a few sentences; default: the title. */
  readonly description?: string;
  /** The patch or message it comes from (a SourceRef, or free text such as a lore link). */
  readonly source?: SourceRef | string;
  /** Options the threads read (`cfg.options`) to take the fixed code path. */
  readonly options?: Partial<O>;
}

/** A variant in a definition; only `id` is required. */
export interface VariantDefinition<O> {
  /** Lowercase-hyphenated id (`--variant <id>`); `default` is the standard configuration. */
  readonly id: string;
  /** One line; default: the id. */
  readonly title?: string;
  /** What the variant changes, in a few sentences; default: the title. */
  readonly description?: string;
  /** Options the threads read (`cfg.options`), over the scenario's defaults; a fix's options win. */
  readonly options?: Partial<O>;
  /** Memory model the variant runs under unless one is asked for (default sc). */
  readonly memoryModel?: MemoryModel;
  /** Parameter defaults of this variant. */
  readonly params?: Readonly<Record<string, number>>;
}

/**
 * A claim in a definition: either a full Claim (with `evaluate`), or a declarative expectation
 * checked by exhaustive search: `{ id, statement, fix, variant?, params?, verdict, finding? }`
 * holds when the check's verdict is `verdict` (and, for `fail`, some finding key matches `finding`).
 */
export type ClaimDefinition =
  | (Omit<Claim, "source"> & {
      /** The message the claim is made in: a SourceRef, or free text such as a lore link; default: the scenario's `thread`. */
      readonly source?: SourceRef | string
    })
  | {
      /** Claim id, lowercase-hyphenated, unique within the scenario. */
      readonly id: string;
      /** The claim in a sentence, as the thread makes it. */
      readonly statement: string;
      /** The message it is made in: a SourceRef, or free text such as a lore link; default: the scenario's `thread`. */
      readonly source?: SourceRef | string;
      /** Fix to check. */
      readonly fix: string;
      /** Variant to check; default `default`. */
      readonly variant?: string;
      /** Parameters of the check; default: the variant's. */
      readonly params?: Record<string, number>;
      /**
       * Memory model of the check (`sc`, `tso`, `pso`, `rmo`); default: the variant's, else `sc`. For a
       * claim about a barrier: "without the smp_wmb() a reader can see the flag before the data"
       * is `{ fix: "no-wmb", memoryModel: "pso", verdict: "fail" }`.
       */
      readonly memoryModel?: MemoryModel;
      /** The verdict the claim expects of the exhaustive check. */
      readonly verdict: "pass" | "fail";
      /**
       * A finding key (`"kind: message"`), as a RegExp, tested against the whole key: anchor the
       * kind when it matters (`/^bug: use-after-free/`: refcount_t's `warning: refcount_t: addition
       * on 0; use-after-free.` matches `/use-after-free/` too). With `fail`: the check must report one that
       * matches. With `pass`: no interleaving may report one that matches, whatever else it reports
       * ("test_and_set_bit() fixes the double init", though a fix's other bug remains): the claim
       * holds when the exhaustive check is complete and no finding key matches.
       */
      readonly finding?: RegExp;
    };

/** What `setup` may return: the state and the threads, as an array of ThreadSpecs or an object keyed by thread name. */
export interface ModelDefinition<S, O> {
  /** The initial modeled state, handed to every thread (its plain fields are tracked). */
  readonly state: S;
  /**
   * The racing threads, in thread-index order (schedules number them from 0): ThreadSpecs, or an
   * object from thread name to body (or to a ThreadSpec such as `rcu_callback_thread()`, which
   * then takes the key as its name).
   */
  readonly threads: readonly ThreadSpec<S, O>[] | Readonly<Record<string, ThreadBody<S, O> | Pick<ThreadSpec<S, O>, "body" | "startNs">>>;
}

/**
 * An invariant of a {@link ScenarioDefinition}: checked after every step, e.g.
 * `{ name: "one owner", check: (s) => (s.owners > 1 ? `${s.owners} owners` : null) }`.
 */
export interface InvariantDefinition<S> {
  /** Names the invariant in findings and listings. */
  readonly name: string;
  /** The violation as a message (an `invariant` finding), or null when the state satisfies the invariant. */
  check(s: S): string | null;
}

/**
 * An end check of a {@link ScenarioDefinition}: run once all threads have finished (not after a
 * deadlock or a BUG), e.g. `{ name: "no leak", check: (s, r) => { if (s.refs !== 0)
 * r.report("warning", `${s.refs} references leaked`); } }`.
 */
export interface EndCheckDefinition<S> {
  /** Names the check in listings. */
  readonly name: string;
  /** Reports each problem of the final state with `r.report(kind, message)` (see {@link EndReporter}). */
  check(s: S, r: EndReporter): void;
}

/** The argument of {@link defineScenario}. `S` is the modeled state, `O` the options fixes and variants set. */
export interface ScenarioDefinition<S, O> {
  /** Lowercase-hyphenated id, e.g. `rcu-lookup-vs-free`. */
  readonly id: string;
  /** Default: the id. */
  readonly title?: string;
  /** A paragraph on the race, for `racelab list` and notebooks; default: the title. */
  readonly summary?: string;
  /** Kernel version modeled, e.g. `v6.12`. Default "unspecified". */
  readonly kernel?: string;
  /** The thread (message) the scenario comes from; a SourceRef or free text (a lore link). */
  readonly thread?: SourceRef | string;
  /** Numeric parameters (`--param name=value`): ParamSpecs, or definitions keyed by name. Default: none. */
  readonly params?: readonly ParamSpec[] | Readonly<Record<string, ParamDefinition>>;
  /** Option defaults (what `cfg.options` holds under `baseline`/`default`). Default `{}`. */
  readonly defaults?: O;
  /** Default: one fix, `baseline`. A `baseline` entry is added first when missing. */
  readonly fixes?: readonly FixDefinition<O>[];
  /** Default: one variant, `default`. A `default` entry is added first when missing. */
  readonly variants?: readonly VariantDefinition<O>[];
  /** Builds the initial state and the racing threads; must be deterministic (no Math.random, no clocks). */
  setup(cfg: RunConfig<O>): ModelDefinition<S, O>;
  /** Checked after every step; a non-null string is an `invariant` finding. */
  readonly invariants?: readonly InvariantDefinition<S>[];
  /** Checked once all threads have finished (not after a deadlock or a BUG). */
  readonly endChecks?: readonly EndCheckDefinition<S>[];
  /** The state as a flat table. Default: derived from the state (see {@link describeState}). */
  view?(s: S): Record<string, string | number | boolean>;
  /** The thread's claims, checked by `racelab claims` and `evaluateClaims`. Default: none. */
  readonly claims?: readonly ClaimDefinition[];
  /** What the model leaves out or simplifies, one sentence each. */
  readonly leftOut?: readonly string[];
  /**
   * Plain fields of the state that the model keeps for its own checks, not kernel memory (a count
   * of the inits made, to tell a double init), by their path under the state (`"inits"`,
   * `"dev.updates"`; an array or object there covers its elements): a tso/pso/rmo check does not
   * warn that their stores are never buffered.
   * Default: none.
   */
  readonly bookkeeping?: readonly string[];
  /**
   * Step costs of `racelab rates --mode timed` that differ from the defaults, ns (see
   * {@link Timing}: `windowNs`, `stepNs`, `atomicNs`, `sleepNs`, `spinHandoffNs`, `wakeupNs`,
   * `storeDrainNs`, `jitter`). Default: none.
   */
  readonly timing?: Partial<Timing>;
}

function checkedTiming(t: Partial<Timing>, where: string): Partial<Timing> {
  try {
    resolveTiming(t);
  } catch (e) {
    throw new UsageError(`${where}: ${(e as Error).message}`);
  }
  return Object.freeze({ ...t });
}

const ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

function sourceOf(s: SourceRef | string | undefined, fallback: string): SourceRef {
  if (s === undefined) return { seed: "", author: "", date: "", subject: fallback };
  if (typeof s === "string") return { seed: "", author: "", date: "", subject: fallback, link: s };
  return s;
}

function checkId(kind: string, id: unknown, where: string): string {
  if (typeof id !== "string" || !ID.test(id))
    throw new UsageError(`${where}: ${kind} id ${JSON.stringify(id)} must be lowercase-hyphenated (e.g. "recheck-es")`);
  return id;
}

function unique(kind: string, ids: readonly string[], where: string): void {
  if (ids.length <= 8) {
    // (No Set for a handful: setup() checks its thread names once per execution.)
    for (let j = 1; j < ids.length; j++)
      for (let m = 0; m < j; m++) if (ids[m] === ids[j]) throw new UsageError(`${where}: ${kind} '${ids[j]}' is defined twice`);
    return;
  }
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw new UsageError(`${where}: ${kind} '${id}' is defined twice`);
    seen.add(id);
  }
}

/**
 * Builds a Scenario from a definition, filling defaults and validating ids, parameters and claims.
 * Throws UsageError (one line naming the scenario and the field) for a malformed definition.
 */
export function defineScenario<S, O extends object = Record<string, never>>(def: ScenarioDefinition<S, O>): Scenario<S, O> {
  if (def === null || typeof def !== "object") throw new UsageError("defineScenario: expected an object");
  const id = checkId("scenario", def.id, "defineScenario");
  const where = `scenario ${id}`;
  if (typeof def.setup !== "function") throw new UsageError(`${where}: setup(cfg) must be a function returning { state, threads }`);
  const title = def.title ?? id;
  const thread = sourceOf(def.thread, title);

  const params: ParamSpec[] = Array.isArray(def.params)
    ? [...(def.params as readonly ParamSpec[])]
    : Object.entries((def.params ?? {}) as Record<string, ParamDefinition>).map(([name, p]) => ({
        name,
        description: p.description ?? name,
        default: p.default,
        min: p.min ?? 0,
        max: p.max ?? 1_000_000,
      }));
  for (const p of params) {
    if (!/^[a-z][a-z0-9_-]*$/i.test(p.name)) throw new UsageError(`${where}: parameter name '${p.name}' must be a word (letters, digits, _ or -)`);
    for (const k of ["default", "min", "max"] as const)
      if (!Number.isInteger(p[k])) throw new UsageError(`${where}: parameter ${p.name}: ${k} must be an integer`);
    if (p.min > p.max || p.default < p.min || p.default > p.max)
      throw new UsageError(`${where}: parameter ${p.name}: need min <= default <= max, got ${p.min} <= ${p.default} <= ${p.max}`);
  }
  unique("parameter", params.map((p) => p.name), where);

  const fixes: Fix<O>[] = (def.fixes ?? []).map((f) => ({
    id: checkId("fix", f.id, where),
    title: f.title ?? f.id,
    description: f.description ?? f.title ?? f.id,
    source: sourceOf(f.source, f.title ?? f.id),
    options: f.options ?? {},
  }));
  if (!fixes.some((f) => f.id === "baseline"))
    fixes.unshift({ id: "baseline", title: "before any fix", description: "the code as the thread discusses it", source: thread, options: {} });
  unique("fix", fixes.map((f) => f.id), where);

  const variants: Variant<O>[] = (def.variants ?? []).map((v) => ({
    id: checkId("variant", v.id, where),
    title: v.title ?? v.id,
    description: v.description ?? v.title ?? v.id,
    options: v.options ?? {},
    ...(v.memoryModel !== undefined ? { memoryModel: v.memoryModel } : {}),
    ...(v.params !== undefined ? { params: v.params } : {}),
  }));
  if (!variants.some((v) => v.id === "default"))
    variants.unshift({ id: "default", title: "default", description: "the scenario's standard configuration", options: {} });
  unique("variant", variants.map((v) => v.id), where);
  for (const v of variants)
    for (const name of Object.keys(v.params ?? {}))
      if (!params.some((p) => p.name === name)) throw new UsageError(`${where}: variant ${v.id} sets unknown parameter '${name}'`);

  const claims: Claim[] = (def.claims ?? []).map((c) => {
    checkId("claim", c.id, where);
    // A claim with no source of its own is the thread's (the scenario's `thread`, else its title).
    const source = c.source === undefined ? thread : sourceOf(c.source, c.statement);
    if ("evaluate" in c && typeof c.evaluate === "function") return { ...c, source, expected: c.expected };
    const d = c as Extract<ClaimDefinition, { verdict: string }>;
    if (!fixes.some((f) => f.id === d.fix)) throw new UsageError(`${where}: claim ${d.id} names unknown fix '${d.fix}'`);
    const variant = d.variant ?? "default";
    if (!variants.some((v) => v.id === variant)) throw new UsageError(`${where}: claim ${d.id} names unknown variant '${variant}'`);
    if (d.verdict !== "pass" && d.verdict !== "fail") throw new UsageError(`${where}: claim ${d.id}: verdict must be "pass" or "fail"`);
    const mm = d.memoryModel;
    if (mm !== undefined && !MEMORY_MODELS.includes(mm))
      throw new UsageError(`${where}: claim ${d.id}: unknown memory model '${clip(String(mm))}' (known: ${MEMORY_MODELS.join(", ")})`);
    return {
      id: d.id,
      statement: d.statement,
      source,
      expected:
        `${d.fix}/${variant}${mm === undefined || mm === "sc" ? "" : ` [${mm}]`} ` +
        `${
          d.verdict === "pass"
            ? d.finding === undefined
              ? "passes in every interleaving"
              : `reports no finding matching ${d.finding} in any interleaving`
            : `fails${d.finding ? ` with ${d.finding}` : ""}`
        }`,
      evaluate(ctx: ClaimContext) {
        const r: CheckResult = ctx.check(d.fix, variant, d.params ?? {}, mm);
        // (A pass claim with a finding: that finding is gone, other findings may remain; new-user
        // trial 14's finding on a pass claim was ignored, so the claim could not be stated.)
        const holds =
          d.verdict === "pass"
            ? r.complete && (d.finding === undefined ? r.verdict === "pass" : !hasFinding(r, d.finding))
            : r.verdict === "fail" && (d.finding === undefined || hasFinding(r, d.finding));
        return { observed: summarizeCheck(r), holds };
      },
    };
  });
  unique("claim", claims.map((c) => c.id), where);

  const setup = (cfg: RunConfig<O>): Model<S, O> => {
    const m = def.setup(cfg);
    if (m === null || typeof m !== "object" || !("state" in m) || !("threads" in m))
      throw new UsageError(`${where}: setup() must return { state, threads }`);
    const threads: ThreadSpec<S, O>[] = Array.isArray(m.threads)
      ? [...(m.threads as readonly ThreadSpec<S, O>[])]
      : Object.entries(m.threads as Record<string, ThreadBody<S, O> | Pick<ThreadSpec<S, O>, "body" | "startNs">>).map(([name, v]) =>
          v !== null && typeof v === "object" && typeof v.body === "function"
            ? { name, body: v.body, ...(v.startNs !== undefined ? { startNs: v.startNs } : {}) }
            : { name, body: v as ThreadBody<S, O> },
        );
    if (threads.length === 0) throw new UsageError(`${where}: setup() returned no threads`);
    for (const th of threads) {
      if (typeof th.body !== "function") throw new UsageError(`${where}: thread ${th.name}: body must be a generator function`);
      if (th.startNs !== undefined && !(typeof th.startNs === "number" && Number.isFinite(th.startNs) && th.startNs >= 0))
        throw new UsageError(`${where}: thread ${th.name}: startNs must be a finite number of ns >= 0, got ${String(th.startNs)}`);
    }
    unique("thread", threads.map((th) => th.name), where);
    return { state: m.state, threads };
  };

  return {
    id,
    title,
    summary: def.summary ?? title,
    kernel: def.kernel ?? "unspecified",
    thread,
    params,
    defaults: (def.defaults ?? {}) as O,
    fixes,
    variants,
    setup,
    ...(def.invariants !== undefined ? { invariants: def.invariants } : {}),
    ...(def.endChecks !== undefined ? { endChecks: def.endChecks } : {}),
    view: def.view ?? ((s: S) => describeState(s)),
    claims,
    leftOut: def.leftOut ?? [],
    ...(def.bookkeeping !== undefined && def.bookkeeping.length > 0 ? { bookkeeping: def.bookkeeping } : {}),
    ...(def.timing !== undefined ? { timing: checkedTiming(def.timing, where) } : {}),
  };
}

/**
 * A flat table of a state for display: primitive fields as they are, racelab objects through
 * their `describe()` (or `peek()`/`value`), arrays and nested plain objects flattened with
 * `a.b` / `a[0]` names, at most `depth` levels (default 3) and 60 rows. Reads record nothing.
 */
export function describeState(state: unknown, depth = 3): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  let rows = 0;
  // Where each plain object of the state is listed, so that a Cell holding a pointer to one shows
  // `&<path>` (not `[object Object]`).
  const paths = new Map<object, string>();
  const collect = (v: unknown, name: string, d: number): void => {
    v = untracked(v);
    if (v === null || typeof v !== "object" || d >= depth || paths.has(v) || isSelfTracked(v)) return;
    if (typeof (v as { peek?: unknown }).peek === "function" || typeof (v as { describe?: unknown }).describe === "function") return;
    if (name !== "") paths.set(v, name);
    // (A list_head's links point to other entries' heads, named where their entries are.)
    if (isListHead(v)) return;
    if (v instanceof Map) for (const [k, x] of v) collect(x, `${name}[${String(k)}]`, d + 1);
    else if (!(v instanceof Set))
      for (const k of Object.keys(v)) collect((v as Record<string, unknown>)[k], Array.isArray(v) ? `${name}[${k}]` : name ? `${name}.${k}` : k, d + 1);
  };
  collect(state, "", 0);
  const pointer = (x: unknown): string => {
    x = untracked(x);
    if (x === null || typeof x !== "object") return String(x);
    const at = paths.get(x);
    return at !== undefined ? `&${at}` : showValue(x);
  };
  const text = (v: unknown): string | number | boolean | undefined => {
    v = untracked(v);
    if (v === null) return "null";
    if (v === undefined) return "undefined";
    if (typeof v === "number" || typeof v === "boolean" || typeof v === "string") return v;
    if (typeof v === "bigint") return String(v);
    if (typeof v === "function") return undefined;
    const o = v as Record<string, unknown>;
    if (typeof o.describe === "function") return String((o.describe as () => unknown).call(o));
    if (typeof o.peek === "function") return pointer((o.peek as () => unknown).call(o));
    if (isSelfTracked(o) && "value" in o) return showValue(o.value);
    if (isSelfTracked(o) && typeof o.name === "string") return o.name;
    return undefined;
  };
  const walk = (v: unknown, name: string, d: number): void => {
    if (rows >= 60) return;
    const t = text(v);
    if (t !== undefined) {
      out[name] = t;
      rows++;
      return;
    }
    v = untracked(v);
    if (isListHead(v)) {
      // A list_head: where its links point (`&state.obj.node`, `&state.list` for an empty list,
      // LIST_POISON1 after list_del()), not the objects behind them.
      const l = v as { next: unknown; prev: unknown };
      out[`${name}.next`] = pointer(l.next);
      out[`${name}.prev`] = pointer(l.prev);
      rows += 2;
      return;
    }
    if (v === null || typeof v !== "object" || d >= depth) {
      if (typeof v === "object") {
        out[name] = showValue(v);
        rows++;
      }
      return;
    }
    if (v instanceof Map) {
      for (const [k, x] of v) walk(x, `${name}[${String(k)}]`, d + 1);
      return;
    }
    if (v instanceof Set) {
      out[name] = `{${[...v].map(showValue).join(", ")}}`;
      rows++;
      return;
    }
    for (const k of Object.keys(v)) walk((v as Record<string, unknown>)[k], Array.isArray(v) ? `${name}[${k}]` : name ? `${name}.${k}` : k, d + 1);
  };
  walk(state, "", 0);
  return out;
}

function showValue(v: unknown): string {
  v = untracked(v);
  if (v === null || typeof v !== "object") return String(v);
  // A named constant (LIST_POISON1): its name.
  if (Object.isFrozen(v) && typeof (v as { name?: unknown }).name === "string" && Object.keys(v).length === 1) return (v as { name: string }).name;
  if ((v as object).toString !== Object.prototype.toString) return String(v);
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? String(x) : untracked(x))).slice(0, 80);
  } catch {
    return (v as object).constructor?.name ?? "object";
  }
}

/** True when `v` looks like a Scenario (has id, fixes, variants and setup). */
export function isScenario(v: unknown): v is Scenario<unknown, unknown> {
  if (v === null || typeof v !== "object") return false;
  const s = v as Partial<Scenario<unknown, unknown>>;
  return typeof s.id === "string" && typeof s.setup === "function" && Array.isArray(s.fixes) && Array.isArray(s.variants);
}
