/**
 * Incremental state hashing of the state-caching search (fingerprint.ts, issue 8): after a step,
 * only the units it changed are hashed again, and the sum stays equal to a full rehash.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  Cell,
  check,
  deadOnReturn,
  atLabel,
  labelIn,
  type Site,
  defineScenario,
  makeStrategy,
  newLoc,
  access,
  R,
  READ_ONCE,
  W,
  resolveConfig,
  runStrategy,
  scenarios,
  selfTracked,
  sitesIn,
  StateCachingSearch,
  WRITE_ONCE,
  type Task,
} from "../src/index.js";

const at = sitesIn("lib/test.c", "v6.12");
const PEEK = at("a", "peek");
const A_STORE = at("a", "WRITE_ONCE(c, 1)");
const B_LOAD = at("b", "READ_ONCE(c)");
const A_LOAD_P = at("a", "x = s->p");
const A_CMP = at("a", "if (x == s->a && s->p) s->hit = 1");
const B_STORE_P = at("b", "s->p = s->b");
const POKE = at("a", "mover->poke()");
const PEEK2 = at("b", "if (mover->peek()) BUG()");
const A_STORES = [0, 1, 2].map((i) => at("a", `WRITE_ONCE(cells[0], ${i + 1})`));
const B_STORES = [0, 1, 2].map((i) => at("b", `WRITE_ONCE(cells[1], ${i + 1})`));

test("incremental state hashes equal a full rehash after every step of every bundled configuration (sc, tso, pso, rmo)", () => {
  StateCachingSearch.verifyUpdates = true;
  try {
    let configs = 0;
    for (const sc of scenarios)
      for (const fix of sc.fixes)
        for (const v of sc.variants)
          for (const memoryModel of ["sc", "tso", "pso", "rmo"] as const) {
            // A bounded search: every step it takes is checked; the verdict is not the point here.
            const r = check(sc, { fix: fix.id, variant: v.id, memoryModel, reduction: "state-caching", maxStates: 400, crossCheckRuns: 0 });
            assert.equal(r.reduction, "state-caching", `${sc.id} ${fix.id} ${v.id} ${memoryModel}: ${r.warnings.join("; ")}`);
            configs++;
          }
    assert.ok(configs > 100, `${configs} configurations`);
  } finally {
    StateCachingSearch.verifyUpdates = false;
  }
});

/** A user's kernel object that changes a field in a step recording only a read (a model bug). */
class Sneaky {
  readonly loc: number;
  hits = 0;
  constructor() {
    this.loc = newLoc("sneaky", this);
  }
  peek(): number {
    access(this.loc, R);
    return ++this.hits;
  }
}
selfTracked(Sneaky);

test("a step that changes a kernel object behind its recorded accesses is caught by the consistency check", () => {
  const sc = defineScenario({
    id: "sneaky",
    setup: () => ({
      state: { o: new Sneaky(), c: new Cell("c", 0) },
      threads: {
        *a(t: Task, s) {
          yield PEEK;
          s.o.peek();
          yield A_STORE;
          WRITE_ONCE(t, s.c, 1);
        },
        *b(t: Task, s) {
          yield B_LOAD;
          READ_ONCE(t, s.c);
        },
      },
    }),
  });
  StateCachingSearch.verifyUpdates = true;
  try {
    assert.throws(() => check(sc, { reduction: "state-caching", crossCheckRuns: 0 }), /a step of a changed Sneaky .* behind its recorded accesses/);
  } finally {
    StateCachingSearch.verifyUpdates = false;
  }
});

test("a step rehashes only the units it changed, not the whole state", () => {
  const CELLS = 40;
  const sc = defineScenario({
    id: "many-cells",
    setup: () => ({
      state: { cells: Array.from({ length: CELLS }, (_, i) => new Cell(`c${i}`, 0)) },
      threads: {
        *a(t: Task, s) {
          for (let i = 0; i < 3; i++) {
            yield A_STORES[i]!;
            WRITE_ONCE(t, s.cells[0]!, i + 1);
          }
        },
        *b(t: Task, s) {
          for (let i = 0; i < 3; i++) {
            yield B_STORES[i]!;
            WRITE_ONCE(t, s.cells[1]!, i + 1);
          }
        },
      },
    }),
  });
  const strategy = makeStrategy("state-caching", { seed: 1, runs: Infinity, pctDepth: 3 });
  const stats = runStrategy(sc, resolveConfig(sc, "baseline", "default", {}), strategy, {}, () => {});
  const units = CELLS + 2; // the cells, the state, the array
  const hashed = strategy.counters.unitsHashed;
  // Every execution start or resume hashes every unit once; each step after that, one cell.
  const walks = stats.executions + stats.abandoned + stats.cut;
  assert.ok(hashed <= walks * units + stats.steps, `${hashed} units hashed in ${stats.steps} steps, ${walks} walks`);
  assert.ok(hashed < (stats.steps * units) / 2, `${hashed} units hashed in ${stats.steps} steps: a full rehash per step would be ${stats.steps * units}`);
  // The same final states as the unreduced search.
  const finals = (name: string) => {
    const seen = new Set<string>();
    runStrategy(sc, resolveConfig(sc, "baseline", "default", {}), makeStrategy(name, { seed: 1, runs: Infinity, pctDepth: 3 }), {}, (v) => {
      seen.add(JSON.stringify(v.exec.view()));
    });
    return [...seen].sort();
  };
  assert.deepEqual(finals("state-caching"), finals("none"));
});

test("a thread that holds an object of the state is told apart by which object, not its content (pointer comparison)", () => {
  // a and b are equal in content, and frozen (so no unit of their own: they sit inside the
  // state's hash). Thread a loads p before or after b repoints it, then compares the pointer:
  // after both steps the states are equal but for which object a holds.
  const sc = defineScenario({
    id: "which-object",
    setup: () => {
      const a = Object.freeze({ v: 1 });
      const b = Object.freeze({ v: 1 });
      return {
        state: { a, b, p: a as { readonly v: number }, hit: 0 },
        threads: {
          *a(t: Task, s) {
            yield A_LOAD_P;
            const x = s.p;
            yield A_CMP;
            // (Reading p too makes this step depend on b's store, so the sleep sets do not
            // keep b's-store-first order apart: only the state fingerprints do.)
            if (x === s.a && s.p !== null) s.hit = 1;
          },
          *b(t: Task, s) {
            yield B_STORE_P;
            s.p = s.b;
          },
        },
      };
    },
  });
  const finals = (name: string) => {
    const seen = new Set<string>();
    runStrategy(sc, resolveConfig(sc, "baseline", "default", {}), makeStrategy(name, { seed: 1, runs: Infinity, pctDepth: 3 }), {}, (v) => {
      seen.add(JSON.stringify(v.exec.view()));
    });
    return [...seen].sort();
  };
  const none = finals("none");
  assert.equal(none.length, 2, none.join(" "));
  assert.deepEqual(finals("state-caching"), none);
});

/** A kernel object whose value another object's methods change and read, recording only their own location. */
class Box {
  readonly loc: number;
  v = 0;
  constructor() {
    this.loc = newLoc("box", this);
  }
}
class Mover {
  readonly loc: number;
  constructor(readonly target: Box) {
    this.loc = newLoc("mover", this);
  }
  poke(): void {
    access(this.loc, W);
    this.target.v++;
  }
  peek(): number {
    access(this.loc, R);
    return this.target.v;
  }
}
selfTracked(Box, Mover);

test("a change no access of the step covers is found by the periodic comparison, and the search is run again hashing everything", () => {
  const sc = defineScenario({
    id: "mover",
    setup: () => {
      const box = new Box();
      return {
        state: { box, mover: new Mover(box) },
        threads: {
          *a(t: Task, s) {
            yield POKE;
            s.mover.poke();
          },
          *b(t: Task, s) {
            yield PEEK2;
            if (s.mover.peek() === 1) t.bug("saw the poke");
          },
        },
      };
    },
  });
  const every = StateCachingSearch.checkEvery;
  StateCachingSearch.checkEvery = 1;
  try {
    const r = check(sc, { reduction: "state-caching", crossCheckRuns: 0 });
    assert.equal(r.reduction, "state-caching");
    assert.ok(
      r.warnings.some((w) => /hashed the whole state after every step: a step of a changed Box/.test(w)),
      r.warnings.join("; "),
    );
    const none = check(sc, { reduction: "none" });
    assert.equal(r.verdict, none.verdict);
    assert.deepEqual(Object.keys(r.findings), Object.keys(none.findings));
  } finally {
    StateCachingSearch.checkEvery = every;
  }
  // The bundled scenarios never need it.
  const ext4 = check("ext4-delalloc-fallocate", { fix: "recheck-es", reduction: "state-caching", crossCheckRuns: 0 });
  assert.deepEqual(ext4.warnings, []);
});

test("deadOnReturn(): state caching forgets what a function read once it returns, not its value nor what its caller read", () => {
  // a: x = READ_ONCE(c0); r = f() { READ_ONCE(c1) } (r is the read's parity, or nothing); WRITE_ONCE(c2, x).
  // b: WRITE_ONCE(c1, 2); WRITE_ONCE(c0, 1).
  // What f read is dead after it: b's store to c1 before or after it leaves one state when f
  // returns nothing, two when f returns c1's value (0 or 2: both even, so parity merges them
  // too). a's own read of c0 stays live (it is stored in c2).
  const F_LOAD = at("a", "READ_ONCE(c1)");
  const A_X = at("a", "x = READ_ONCE(c0)");
  const A_END = at("a", "WRITE_ONCE(c2, x)");
  const B1 = at("b", "WRITE_ONCE(c1, 2)");
  const B0 = at("b", "WRITE_ONCE(c0, 1)");
  const make = (ret: "none" | "value" | "parity") => {
    const f = deadOnReturn(function* f(t: Task, c1: Cell<number>) {
      yield F_LOAD;
      const v = READ_ONCE(t, c1);
      return ret === "none" ? 0 : ret === "value" ? v : v % 2;
    });
    return defineScenario({
      id: `dead-on-return-${ret}`,
      setup: () => ({
        state: { c: [new Cell("c0", 0), new Cell("c1", 0), new Cell("c2", -1)] },
        threads: {
          *a(t: Task, s) {
            yield A_X;
            const x = READ_ONCE(t, s.c[0]!);
            const r = yield* f(t, s.c[1]!);
            yield A_END;
            WRITE_ONCE(t, s.c[2]!, x * 10 + r);
          },
          *b(t: Task, s) {
            yield B1;
            WRITE_ONCE(t, s.c[1]!, 2);
            yield B0;
            WRITE_ONCE(t, s.c[0]!, 1);
          },
        },
      }),
    });
  };
  const run = (ret: "none" | "value" | "parity", strategy: StateCachingSearch | "none") => {
    const sc = make(ret);
    const seen = new Set<string>();
    const s = strategy === "none" ? makeStrategy("none", { seed: 1, runs: Infinity, pctDepth: 3 }) : strategy;
    runStrategy(sc, resolveConfig(sc, "baseline", "default", {}), s, {}, (v) => {
      seen.add(JSON.stringify(v.exec.view()));
    });
    return { finals: [...seen].sort(), states: s.counters.states };
  };
  for (const ret of ["none", "value", "parity"] as const) {
    const none = run(ret, "none");
    const forget = run(ret, new StateCachingSearch());
    const keep = run(ret, new StateCachingSearch({ keepLocals: true }));
    assert.deepEqual(forget.finals, none.finals, `${ret}: every final state`);
    assert.deepEqual(keep.finals, none.finals, `${ret}: every final state (keepLocals)`);
    // Final c2 = 10x + r: x is 0 or 1 (a's read of c0 before or after b's second store), r is
    // 0 or 2 only when f returns the value it read.
    const c2 = none.finals.map((f) => (JSON.parse(f) as Record<string, string>)["c[2]"]).sort();
    assert.deepEqual(c2, ret === "value" ? ["0", "12", "2"] : ["0", "10"]);
    if (ret === "value") assert.equal(forget.states, keep.states, "a value that tells the reads apart keeps the states apart");
    else assert.ok(forget.states < keep.states, `${ret}: ${forget.states} states, ${keep.states} with keepLocals`);
  }
});

test("atLabel() outside the deadOnReturn() function it names is a model error", () => {
  const L = labelIn("g", "out");
  const STEP = at("a", "step");
  const g = deadOnReturn(function* g(t: Task) {
    yield STEP;
    atLabel(t, L);
  });
  const h = deadOnReturn(function* h(t: Task) {
    yield STEP;
    atLabel(t, L);
  });
  const make = (body: (t: Task) => Generator<Site, void, undefined>) =>
    defineScenario({ id: "label-misuse", setup: () => ({ state: { x: 0 }, threads: { *a(t: Task) { yield* body(t); } } }) });
  assert.equal(check(make((t) => g(t)), { reduction: "state-caching" }).verdict, "pass");
  for (const [body, where] of [
    [(t: Task) => h(t), "h()"],
    [function* (t: Task) { yield STEP; atLabel(t, L); }, "none"],
  ] as const) {
    const r = check(make(body), { reduction: "state-caching" });
    const msg = Object.keys(r.findings).join(" ");
    assert.match(msg, new RegExp(`atLabel\\(g: out\\) in thread a: the innermost deadOnReturn\\(\\) function it is in is ${where.replace(/[()]/g, "\\$&")}`), msg);
  }
});

test("a label in a retry loop does not merge the first pass with the one past the loop's bound (livelock still found)", () => {
  // repeat: (only the arguments live) if (READ_ONCE(c) == 0) { retry; goto repeat; }
  // c never changes: the third pass is a livelock. Without the retry count in the state, every
  // pass would be one state and state caching would stop after the first.
  const REPEAT = labelIn("wait_for_c", "repeat");
  const LOAD = at("a", "READ_ONCE(c)");
  const wait_for_c = deadOnReturn(function* wait_for_c(t: Task, c: Cell<number>) {
    for (;;) {
      atLabel(t, REPEAT);
      yield LOAD;
      if (READ_ONCE(t, c) !== 0) return;
      t.retry("wait_for_c: goto repeat", 2);
    }
  });
  const sc = defineScenario({
    id: "label-retry",
    setup: () => ({
      state: { c: new Cell("c", 0) },
      threads: {
        *a(t: Task, s) {
          yield* wait_for_c(t, s.c);
        },
      },
    }),
  });
  for (const reduction of ["none", "state-caching"] as const) {
    const r = check(sc, { reduction });
    // Found by the search itself, not only by the cross-check's unreduced samples.
    assert.deepEqual(r.warnings, [], reduction);
    assert.deepEqual(Object.keys(r.findings), ["livelock: wait_for_c: goto repeat retried more than 2 times"], `${reduction}: ${JSON.stringify(r.findings)}`);
  }
});

/** A kernel object with no location of its own, holding a unit (a Cell) and a number, as an `Inode` holds its `i_rwsem`. */
class Holder {
  readonly id = 7;
  constructor(
    readonly cell: Cell<number>,
    readonly extra: unknown,
    frozen: boolean,
  ) {
    if (frozen) Object.freeze(this);
  }
}
selfTracked(Holder);

test("a frozen kernel object inline in the state, holding only units and primitives, does not rehash its holder after every step", () => {
  const CELLS = 20;
  const STORES = [0, 1, 2, 3].map((i) => at("a", `WRITE_ONCE(cells[${i}], 1)`));
  const hashedWith = (frozen: boolean, extra: unknown) => {
    const sc = defineScenario({
      id: "inline-holder",
      setup: () => ({
        state: { cells: Array.from({ length: CELLS }, (_, i) => new Cell(`c${i}`, 0)), holder: new Holder(new Cell("h", 0), extra, frozen) },
        threads: {
          *a(t: Task, s) {
            for (let i = 0; i < 4; i++) {
              yield STORES[i]!;
              WRITE_ONCE(t, s.cells[i]!, 1);
            }
          },
        },
      }),
    });
    const strategy = makeStrategy("state-caching", { seed: 1, runs: Infinity, pctDepth: 3 });
    const stats = runStrategy(sc, resolveConfig(sc, "baseline", "default", {}), strategy, {}, () => {});
    assert.equal(stats.steps, 4);
    return strategy.counters.unitsHashed;
  };
  // One walk of every unit (the cells, the holder's cell, the array, the state), then per step the cell it wrote.
  const units = CELLS + 3;
  assert.equal(hashedWith(true, 1), units + 4);
  // Not frozen, or holding a plain object its methods could change: the state holding it is hashed again after every step.
  assert.equal(hashedWith(false, 1), units + 8);
  assert.equal(hashedWith(true, { n: 0 }), units + 8);
});

test("a frozen state is read directly: same search, no tracking proxy, and what it holds must be frozen too", () => {
  const LOAD = at("a", "x = READ_ONCE(s->cells[i])");
  const STORE = at("b", "WRITE_ONCE(s->cells[i], 1)");
  const define = (state: () => unknown) =>
    defineScenario({
      id: "frozen-state",
      setup: () => ({
        state: state() as { readonly cells: readonly Cell<number>[]; readonly n: number },
        threads: {
          *a(t: Task, s) {
            for (let i = 0; i < s.n; i++) {
              yield LOAD;
              if (READ_ONCE(t, s.cells[i]!) === 1 && i === s.n - 1) t.violated("saw the last store");
            }
          },
          *b(t: Task, s) {
            for (let i = 0; i < s.n; i++) {
              yield STORE;
              WRITE_ONCE(t, s.cells[i]!, 1);
            }
          },
        },
      }),
    });
  const cells = () => Array.from({ length: 3 }, (_, i) => new Cell(`c${i}`, 0));
  const plain = define(() => ({ cells: cells(), n: 3 }));
  const frozen = define(() => Object.freeze({ cells: Object.freeze(cells()), n: 3 }));
  // The threads get the state object itself, not a proxy of it.
  const seen: unknown[] = [];
  const probe = (sc: typeof plain) =>
    defineScenario({ id: "frozen-probe", setup: (cfg) => { const m = sc.setup(cfg); return { state: m.state, threads: { *a(_t: Task, s: unknown) { seen.push([s, m.state]); yield LOAD; } } }; } });
  check(probe(frozen), { reduction: "none" });
  check(probe(plain), { reduction: "none" });
  const [[fs, fraw], [ps, praw]] = seen as [unknown, unknown][];
  assert.equal(fs, fraw, "a frozen state reaches the threads as it is");
  assert.notEqual(ps, praw, "a plain state reaches them through the tracking proxy");
  // The same search: the cells record their own accesses either way.
  for (const reduction of ["state-caching", "sleep-sets", "dpor", "none"] as const) {
    const a = check(plain, { reduction });
    const b = check(frozen, { reduction });
    assert.equal(b.verdict, "fail", reduction);
    assert.deepEqual([b.verdict, b.executions, b.states, Object.keys(b.findings)], [a.verdict, a.executions, a.states, Object.keys(a.findings)], reduction);
    assert.deepEqual(b.warnings, [], reduction);
  }
  // A mutable object inside a frozen one would change unseen: a model error naming where it is.
  const bad = (state: () => unknown, path: RegExp) =>
    assert.throws(() => check(define(state)), (e: Error) => e.name === "ModelError" && path.test(e.message) && !e.message.includes("\n"));
  bad(() => Object.freeze({ cells: cells(), n: 3 }), /^state\.cells: a frozen object holds an object that is not frozen: .*freeze state\.cells as well/);
  bad(() => Object.freeze({ cells: Object.freeze(cells()), n: 3, stats: { hits: 0 } }), /^state\.stats: /);
  bad(() => Object.freeze({ cells: Object.freeze(cells()), n: 3, deep: Object.freeze({ m: new Map() }) }), /^state\.deep\.m: /);
  bad(() => Object.freeze({ cells: Object.freeze(cells()), n: 3, m: Object.freeze(new Map()) }), /^state\.m: a frozen Map still changes/);
  // A step that assigns a field of a frozen state is an error finding at that step.
  const assigns = defineScenario({
    id: "frozen-assign",
    setup: () => ({
      state: Object.freeze({ n: 1 }),
      threads: {
        *a(_t: Task, s: { n: number }) {
          yield STORE;
          s.n = 2;
        },
      },
    }),
  });
  const r = check(assigns, { reduction: "none" });
  assert.equal(r.verdict, "fail");
  assert.match(Object.keys(r.findings).join("\n"), /^error: a at b\(\) \(WRITE_ONCE\(s->cells\[i\], 1\)\): TypeError: Cannot assign to read only property 'n'/m);
});
