/**
 * Litmus tests in the kernel's C format (tools/memory-model/litmus-tests/*.litmus), run on
 * racelab's memory models: the parser reads the subset the small two- and three-CPU tests use,
 * builds a scenario with one thread per `Pn`, and exhaustive search collects every final state.
 *
 * Supported statements: `WRITE_ONCE(*x, v);`, `rN = READ_ONCE(*x);`, `smp_store_release(x, v);`,
 * `rN = smp_load_acquire(x);`, `rcu_assign_pointer(*x, v)` / `rN = rcu_dereference(*x)`,
 * `smp_mb();`, `smp_wmb();`, `smp_rmb();`, `spin_lock(l);`, `spin_unlock(l);`, declarations
 * `int rN;`. The `exists` clause may use `N:rK=v`, `x=v`, `/\`, `\/`, `~` and parentheses.
 * Anything else throws an Error naming the statement (the test is then out of the subset).
 */
import { resolveConfig, type AnyScenario, type Scenario } from "./scenario.js";
import { runStrategy } from "./runner.js";
import { SleepSetSearch } from "./strategies/sleep-sets.js";
import { Cell, load, loadAcquire, smp_mb, smp_rmb, smp_wmb, store, type MemoryModel } from "./memory.js";
import { sitesIn, type Site } from "./site.js";
import type { Task } from "./task.js";
import { Spinlock, spin_lock, spin_unlock } from "../linux/locks.js";

/** A value: an integer, or the address of a variable (a pointer, e.g. `rcu_assign_pointer(*y, x)`). */
type Val = number | string;

/** One parsed statement of a process, with its source `text` (the step's label). */
type Stmt =
  | { k: "store"; v: string; val: Val; release: boolean; text: string }
  | { k: "load"; r: string; v: string; viaReg: boolean; acquire: boolean; text: string }
  | { k: "nop"; text: string }
  | { k: "mb" | "wmb" | "rmb"; text: string }
  | { k: "lock" | "unlock"; l: string; text: string };

/** The parsed `exists` clause: `N:rK=v` (reg), `x=v` (var), and, or, not. */
type Cond =
  | { k: "reg"; p: number; r: string; val: Val }
  | { k: "var"; v: string; val: Val }
  | { k: "and" | "or"; a: Cond; b: Cond }
  | { k: "not"; a: Cond };

/** A parsed C litmus test (the subset described in the module comment). */
export interface Litmus {
  /** Test name, from the `C <name>` line, e.g. `MP+pooncerelease+poacquireonce`. */
  readonly name: string;
  /** The "Result:" line of the header comment (Always, Sometimes, Never), if any. */
  readonly expected: "Always" | "Sometimes" | "Never" | null;
  /** Initial values from the `{ ... }` block: an integer, or a variable's name for a pointer to it (unlisted variables start at 0). */
  readonly init: Record<string, Val>;
  /** The processes `P0`, `P1`, ... in order, each with its statements. */
  readonly procs: {
    /** `P0`, `P1`, ...: the thread name. */
    readonly name: string;
    /** The statements in program order, one step each. */
    readonly body: readonly Stmt[]
  }[];
  /** Shared variables: those of the init block, then the processes' `int *` parameters. */
  readonly vars: readonly string[];
  /** Spinlocks the processes take (`spin_lock(l)`). */
  readonly locks: readonly string[];
  /** The `exists` clause, parsed. */
  readonly exists: Cond;
  /** The `exists` clause as written in the test. */
  readonly existsText: string;
}

/** Parses a C litmus test. Throws Error for text outside the supported subset. */
export function parseLitmus(text: string): Litmus {
  const name = /^C\s+(\S+)/m.exec(text)?.[1];
  if (!name) throw new Error("litmus: missing 'C <name>' line");
  const expected = (/Result:\s*(Always|Sometimes|Never)/.exec(text)?.[1] ?? null) as Litmus["expected"];
  const noComments = text.replace(/\(\*\s[\s\S]*?\*\)/g, "").replace(/^locations\s*\[[^\]]*\]\s*$/m, "");
  const initText = /\{([^{}]*)\}/.exec(noComments.slice(noComments.indexOf(name) + name.length))?.[1] ?? "";
  const init: Record<string, Val> = {};
  const vars = new Set<string>();
  for (const m of initText.matchAll(/(?:int\s+\*?\s*)?(\w+)\s*=\s*(-?\d+|\w+)/g)) {
    init[m[1]!] = /^-?\d+$/.test(m[2]!) ? Number(m[2]) : m[2]!;
    vars.add(m[1]!);
  }
  const procs: { name: string; body: Stmt[] }[] = [];
  const locks = new Set<string>();
  for (const m of noComments.matchAll(/P(\d+)\s*\(([^)]*)\)\s*\{([\s\S]*?)\n\}/g)) {
    const params = m[2]!;
    for (const pm of params.matchAll(/(spinlock_t|int)\s*\*+\s*(\w+)/g)) (pm[1] === "spinlock_t" ? locks : vars).add(pm[2]!);
    const body: Stmt[] = [];
    for (const raw of m[3]!.split(";")) {
      const st = raw.replace(/\s+/g, " ").trim();
      if (st === "" || /^int \*?\w+(, ?\*?\w+)*$/.test(st)) continue;
      let x: RegExpExecArray | null;
      if ((x = /^(WRITE_ONCE|smp_store_release|rcu_assign_pointer)\(\s*\*?(\w+)\s*,\s*(-?\d+|\w+)\s*\)$/.exec(st)))
        body.push({
          k: "store",
          v: x[2]!,
          val: /^-?\d+$/.test(x[3]!) ? Number(x[3]) : x[3]!,
          release: x[1] !== "WRITE_ONCE",
          text: st,
        });
      else if ((x = /^(\w+) = (READ_ONCE|smp_load_acquire|rcu_dereference)\(\s*\*?(\w+)\s*\)$/.exec(st)))
        body.push({ k: "load", r: x[1]!, v: x[3]!, viaReg: /^r\d+$/.test(x[3]!), acquire: x[2] !== "READ_ONCE", text: st });
      else if (/^rcu_read_(un)?lock\(\)$/.test(st)) body.push({ k: "nop", text: st });
      else if ((x = /^smp_(mb|wmb|rmb)\(\)$/.exec(st))) body.push({ k: x[1] as "mb" | "wmb" | "rmb", text: st });
      else if ((x = /^spin_(lock|unlock)\(\s*(\w+)\s*\)$/.exec(st))) body.push({ k: x[1] as "lock" | "unlock", l: x[2]!, text: st });
      else throw new Error(`litmus ${name}: unsupported statement '${st}'`);
    }
    procs.push({ name: `P${m[1]}`, body });
  }
  if (procs.length === 0) throw new Error(`litmus ${name}: no processes`);
  const ex = /exists\s*([\s\S]*)$/.exec(noComments)?.[1]?.trim();
  if (!ex) throw new Error(`litmus ${name}: no exists clause`);
  return { name, expected, init, procs, vars: [...vars], locks: [...locks], exists: parseCond(ex, name), existsText: ex };
}

function parseCond(text: string, name: string): Cond {
  const toks = text.match(/\d+:\w+|\w+|\/\\|\\\/|~|\(|\)|=|-?\d+/g) ?? [];
  let i = 0;
  const fail = (): never => {
    throw new Error(`litmus ${name}: cannot parse exists clause '${text}'`);
  };
  const expr = (): Cond => {
    let a = term();
    while (toks[i] === "\\/") {
      i++;
      a = { k: "or", a, b: term() };
    }
    return a;
  };
  const term = (): Cond => {
    let a = factor();
    while (toks[i] === "/\\") {
      i++;
      a = { k: "and", a, b: factor() };
    }
    return a;
  };
  const factor = (): Cond => {
    const t = toks[i++] ?? fail();
    if (t === "~") return { k: "not", a: factor() };
    if (t === "(") {
      const a = expr();
      if (toks[i++] !== ")") fail();
      return a;
    }
    if (toks[i++] !== "=") fail();
    const raw = toks[i++] ?? fail();
    const val: Val = /^-?\d+$/.test(raw) ? Number(raw) : raw;
    const m = /^(\d+):(\w+)$/.exec(t);
    return m ? { k: "reg", p: Number(m[1]), r: m[2]!, val } : { k: "var", v: t, val };
  };
  const c = expr();
  if (i !== toks.length) fail();
  return c;
}

/** A litmus scenario's state: one Cell per variable, one Spinlock per lock, each process's registers. */
interface LitmusState {
  cells: Map<string, Cell<Val>>;
  locks: Map<string, Spinlock>;
  regs: Map<string, Val>[];
}

function holds(c: Cond, s: LitmusState): boolean {
  switch (c.k) {
    case "reg":
      return (s.regs[c.p]?.get(c.r) ?? 0) === c.val;
    case "var":
      return (s.cells.get(c.v)?.value ?? 0) === c.val;
    case "and":
      return holds(c.a, s) && holds(c.b, s);
    case "or":
      return holds(c.a, s) || holds(c.b, s);
    case "not":
      return !holds(c.a, s);
  }
}

/** The litmus test as a racelab scenario (one thread per Pn; the end check reports the final state). */
export function litmusScenario(lit: Litmus): Scenario<LitmusState, object> {
  const file = `tools/memory-model/litmus-tests/${lit.name}.litmus`;
  const at = sitesIn(file, "LKMM");
  const sites: Site[][] = lit.procs.map((p) => p.body.map((st) => at(p.name, st.text)));
  const src = { seed: file, author: "LKMM", date: "", subject: lit.name };
  return {
    id: `litmus-${lit.name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`,
    title: lit.name,
    summary: `litmus test ${lit.name}: exists ${lit.existsText}`,
    kernel: "tools/memory-model",
    thread: src,
    params: [],
    defaults: {},
    fixes: [{ id: "baseline", title: "as written", description: "", source: src, options: {} }],
    variants: [{ id: "default", title: "as written", description: "", options: {} }],
    setup() {
      const state: LitmusState = {
        cells: new Map(lit.vars.map((v) => [v, new Cell<Val>(v, lit.init[v] ?? 0)])),
        locks: new Map(lit.locks.map((l) => [l, new Spinlock(l)])),
        regs: lit.procs.map(() => new Map()),
      };
      return {
        state,
        threads: lit.procs.map((p, pi) => ({
          name: p.name,
          *body(t: Task, s: LitmusState) {
            for (let i = 0; i < p.body.length; i++) {
              const st = p.body[i]!;
              const site = sites[pi]![i]!;
              switch (st.k) {
                case "store":
                  yield site;
                  store(t, s.cells.get(st.v)!, st.val, st.release);
                  break;
                case "load": {
                  yield site;
                  const target = st.viaReg ? String(s.regs[pi]!.get(st.v)) : st.v;
                  const cell = s.cells.get(target);
                  if (cell === undefined) throw new Error(`${p.name}: ${st.text}: no variable '${target}'`);
                  // (A load through a register has an address dependency on the load that set it,
                  // which LKMM orders: under rmo, as if after an smp_rmb().)
                  if (st.viaReg) smp_rmb(t);
                  s.regs[pi]!.set(st.r, st.acquire ? loadAcquire(t, cell) : load(t, cell));
                  break;
                }
                case "nop":
                  yield site;
                  break;
                case "mb":
                  yield* smp_mb(t, site);
                  break;
                case "wmb":
                  yield site;
                  smp_wmb(t);
                  break;
                case "rmb":
                  yield site;
                  smp_rmb(t);
                  break;
                case "lock":
                  yield* spin_lock(t, s.locks.get(st.l)!, site);
                  break;
                case "unlock":
                  yield* spin_unlock(t, s.locks.get(st.l)!, site);
                  break;
              }
            }
          },
        })),
      };
    },
    endChecks: [
      {
        name: "final state",
        check(s, r) {
          const regs = s.regs.flatMap((m, p) => [...m.entries()].map(([k, v]) => `${p}:${k}=${v}`));
          const mem = [...s.cells.entries()].map(([k, c]) => `${k}=${c.value}`);
          r.report("invariant", `${holds(lit.exists, s) ? "exists" : "not exists"}: ${[...regs, ...mem].join(" ")}`);
        },
      },
    ],
    view: (s) => Object.fromEntries([...s.cells.entries()].map(([k, c]) => [k, c.value])),
    claims: [],
    leftOut: [],
  };
}

/** Outcome of a litmus test under one memory model. */
export interface LitmusResult {
  /** Test name. */
  readonly name: string;
  /** Memory model explored. */
  readonly model: MemoryModel;
  /** Result as the LKMM states it in the test ("Result:" line). */
  readonly expected: Litmus["expected"];
  /** Result under the model: Always, Sometimes or Never, from exhaustive exploration. */
  readonly observed: "Always" | "Sometimes" | "Never";
  /** Distinct final states, sorted. */
  readonly finalStates: string[];
  /** Executions the exhaustive search ran. */
  readonly executions: number;
  /** Whether `observed` is the LKMM's `expected`; null when the test has no "Result:" line. */
  readonly agrees: boolean | null;
  /**
   * Why they differ, when they do: the model is stronger than LKMM (an outcome LKMM allows is not
   * reached: a pass of a scenario under this model does not rule it out) or weaker (an outcome
   * LKMM forbids is reached: a racelab bug, never expected); null when they agree.
   */
  readonly note: string | null;
}

/** The note of a {@link LitmusResult} whose observed result differs from the LKMM's. */
function disagreement(model: MemoryModel, expected: Litmus["expected"], observed: LitmusResult["observed"]): string | null {
  if (expected === null || expected === observed) return null;
  if (expected === "Never" || expected === "Always")
    return `racelab's ${model} model reaches an outcome the LKMM forbids: a false alarm in any scenario that depends on it; please report it`;
  const why =
    model === "sc"
      ? "sc reorders nothing"
      : model === "tso"
        ? "tso (x86) keeps stores in order and never reorders loads; x86 forbids this outcome too, weaker CPUs do not"
        : model === "pso"
          ? "pso never reorders loads: smp_rmb(), smp_load_acquire() and rcu_dereference() add nothing"
          : "rmo reorders loads only by reading a value from before another CPU's store, keeps stores multi-copy atomic and makes lock acquires full barriers";
  return `racelab's ${model} model is stronger than the LKMM here (${why}): the outcome the LKMM allows is not reached, so a pass under ${model} does not rule it out`;
}

/** Explores every execution of the litmus test under `model`. */
export function runLitmus(lit: Litmus, model: MemoryModel): LitmusResult {
  const sc = litmusScenario(lit) as AnyScenario;
  const cfg = resolveConfig(sc, "baseline", "default", {}, model);
  const states = new Set<string>();
  let yes = 0;
  let no = 0;
  const stats = runStrategy(sc, cfg, new SleepSetSearch(), {}, (v) => {
    for (const f of v.exec.findings) {
      states.add(f.message.replace(/^(not )?exists: /, ""));
      if (f.message.startsWith("exists")) yes++;
      else no++;
    }
  });
  if (!stats.complete) throw new Error(`litmus ${lit.name}: exploration incomplete`);
  const observed = no === 0 ? "Always" : yes === 0 ? "Never" : "Sometimes";
  return {
    name: lit.name,
    model,
    expected: lit.expected,
    observed,
    finalStates: [...states].sort(),
    executions: stats.executions,
    agrees: lit.expected === null ? null : lit.expected === observed,
    note: disagreement(model, lit.expected, observed),
  };
}
