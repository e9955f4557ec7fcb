/**
 * Modeling a race racelab does not ship: defineScenario(), scenario objects and files everywhere
 * a scenario id is taken, the soundness guard (tracked plain state, the cross-check against
 * unreduced sampling), and errors that point at the cause.
 */
import assert from "node:assert/strict";
import { ModelError } from "../src/errors.js";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  call_rcu,
  check,
  defineScenario,
  evaluateClaims,
  loadScenario,
  rcu_callback_thread,
  replay,
  replayCommand,
  Session,
  set_current_state,
  sitesIn,
  smp_mb,
  spin_lock,
  spin_unlock,
  Spinlock,
  TASK_UNINTERRUPTIBLE,
  UsageError,
  Cell,
  READ_ONCE,
  WRITE_ONCE,
  smp_wmb,
  type Task,
} from "../src/index.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "dist/cli/main.js");
// (Not started by npm: the commands the CLI prints then name it `node <path of main.js>`.)
const plainEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_")));
const run = (args: string[], cwd = root) => spawnSync(process.execPath, [cli, ...args], { cwd, encoding: "utf8", env: plainEnv });

const at = sitesIn("lib/test.c", "v6.12");
const A = at("a", "step");
const LOOKUP = at("obj_lookup", "if (!s->freed)");
const USE = at("obj_lookup", "obj->refs++");
const FREE = at("obj_free", "s->freed = true; obj->dead = true");

interface Obj {
  refs: number;
  dead: boolean;
}

/**
 * A check-then-use race kept in plain fields, with a few steps of padding so that the reduced
 * search has something to prune: the user thread tests `freed`, then uses the object; the free
 * path marks it freed and dead. A use of a dead object is the finding.
 */
function checkThenUse(opts: { closure: boolean }) {
  return defineScenario<{ freed: boolean; obj: Obj; pad: number[] }, Record<string, never>>({
    id: opts.closure ? "check-then-use-closure" : "check-then-use",
    setup: () => {
      // With `closure`, `freed` lives in a variable the threads close over: invisible to tracking.
      let freedOutside = false;
      const state = { freed: false, obj: { refs: 1, dead: false }, pad: [0, 0] };
      return {
        state,
        threads: {
          *user(t: Task, s) {
            for (let i = 0; i < 2; i++) {
              yield A;
              s.pad[0] = i;
            }
            yield LOOKUP;
            const freed = opts.closure ? freedOutside : s.freed;
            if (freed) return;
            yield USE;
            if (opts.closure ? freedOutside : s.obj.dead) t.bug("use of a freed object");
            s.obj.refs++;
          },
          *free(t: Task, s) {
            for (let i = 0; i < 2; i++) {
              yield A;
              s.pad[1] = i;
            }
            yield FREE;
            if (opts.closure) freedOutside = true;
            else {
              s.freed = true;
              s.obj.dead = true;
            }
          },
        },
      };
    },
  });
}

test("plain fields of the state are tracked: the reduced search finds the race, as an unreduced one does", () => {
  const sc = checkThenUse({ closure: false });
  const reduced = check(sc, { countNaive: true });
  const naive = check(sc, { reduction: "none" });
  assert.equal(naive.verdict, "fail");
  assert.equal(reduced.verdict, "fail");
  assert.deepEqual(Object.keys(reduced.findings), Object.keys(naive.findings));
  assert.ok(reduced.executions < naive.executions, `${reduced.executions} < ${naive.executions}`);
  assert.equal(reduced.naiveExecutions, naive.executions);
  assert.equal(reduced.naiveViolations, naive.violations);
  assert.equal(reduced.crossCheck?.mismatches, 0);
  assert.deepEqual(reduced.warnings, []);
  assert.equal(naive.reduction, "none");
  assert.equal(naive.crossCheck, null);
});

test("state the reduction cannot see (a variable the threads close over) is reported, never a quiet pass", () => {
  const sc = checkThenUse({ closure: true });
  const naive = check(sc, { reduction: "none" });
  assert.equal(naive.verdict, "fail", "the race is real: an unreduced search finds it");
  const r = check(sc);
  assert.notEqual(r.verdict, "pass");
  assert.equal(r.complete, false);
  assert.ok(r.crossCheck !== null && r.crossCheck.mismatches > 0, JSON.stringify(r.crossCheck));
  assert.match(r.warnings.join(" "), /reduced search missed \d+ of 200 sampled executions/);
  // Without the cross-check the reduction alone would pass: that is what the guard is for.
  const unguarded = check(sc, { crossCheck: 0 });
  assert.equal(unguarded.verdict, "pass");
});

test("naiveExecutions counts a BUG's interleavings as the unreduced search runs them: the BUG step last", () => {
  const sc = defineScenario({
    id: "bug-early",
    setup: () => ({
      state: { x: 0, y: 0 },
      threads: {
        *a(t: Task, s) {
          yield at("a", "x = 1");
          s.x = 1;
          yield at("a", "pad");
          s.y++;
          yield at("a", "pad");
          s.y++;
        },
        *b(t: Task, s) {
          yield at("b", "BUG_ON(x)");
          if (s.x === 1) t.bug("x set");
        },
      },
    }),
  });
  const reduced = check(sc, { countNaive: true });
  const naive = check(sc, { reduction: "none" });
  assert.equal(reduced.naiveExecutions, naive.executions);
  assert.equal(reduced.naiveViolations, naive.violations);
});

test("defineScenario: defaults for fixes, variants, view; validation errors name the field", () => {
  const sc = defineScenario({
    id: "tiny",
    setup: () => ({ state: { x: 0, lock: new Spinlock("l") }, threads: { *t0(t: Task, s) { yield A; s.x = 1; } } }),
  });
  assert.deepEqual(sc.fixes.map((f) => f.id), ["baseline"]);
  assert.deepEqual(sc.variants.map((v) => v.id), ["default"]);
  const s = new Session(sc);
  assert.deepEqual(s.state, { x: 0, lock: "free" });
  s.step("t0");
  assert.equal(s.state.x, 1);
  const bad: [object, RegExp][] = [
    [{ id: "Bad_Id", setup: () => null }, /scenario id "Bad_Id" must be lowercase-hyphenated/],
    [{ id: "x" }, /scenario x: setup\(cfg\) must be a function/],
    [{ id: "x", setup: () => null, fixes: [{ id: "f" }, { id: "f" }] }, /scenario x: fix 'f' is defined twice/],
    [{ id: "x", setup: () => null, params: { n: { default: 5, min: 0, max: 3 } } }, /parameter n: need min <= default <= max/],
    [{ id: "x", setup: () => null, claims: [{ id: "c", statement: "s", fix: "nope", verdict: "pass" }] }, /claim c names unknown fix 'nope'/],
  ];
  for (const [def, re] of bad) assert.throws(() => defineScenario(def as never), (e: unknown) => e instanceof UsageError && re.test(e.message));
  assert.throws(() => check(sc, { fix: "nope" }), /unknown fix 'nope' for tiny \(known: baseline\)/);
  assert.throws(() => check(sc, { variant: "nope" }), /unknown variant 'nope' for tiny/);
});

test("declarative claims are evaluated by exhaustive search", () => {
  const sc = defineScenario<{ n: number; l: Spinlock }, { locked: boolean }>({
    id: "counter",
    defaults: { locked: false },
    fixes: [{ id: "locked", options: { locked: true } }],
    setup: (cfg) => {
      function* inc(t: Task, s: { n: number; l: Spinlock }) {
        if (cfg.options.locked) yield* spin_lock(t, s.l, at("inc", "spin_lock"));
        yield at("inc", "load");
        const v = s.n;
        yield at("inc", "store");
        s.n = v + 1;
        if (cfg.options.locked) yield* spin_unlock(t, s.l, at("inc", "spin_unlock"));
      }
      return { state: { n: 0, l: new Spinlock("l") }, threads: { cpu0: inc, cpu1: inc } };
    },
    endChecks: [{ name: "n", check: (s, r) => (s.n !== 2 ? r.report("invariant", `lost update: n = ${s.n}`) : undefined) }],
    claims: [
      { id: "race", statement: "racy", fix: "baseline", verdict: "fail", finding: /lost update/ },
      { id: "lock", statement: "the lock closes it", fix: "locked", verdict: "pass" },
      { id: "wrong", statement: "a wrong claim", fix: "baseline", verdict: "pass" },
    ],
  });
  const res = evaluateClaims(sc);
  assert.deepEqual(res.map((c) => [c.id, c.holds]), [["race", true], ["lock", true], ["wrong", false]]);
  assert.match(res[0]!.observed, /^baseline\/default: fail \(\d+ violating of \d+ executions explored: invariant: lost update: n = 1\)$/);
  // A claim with no source of its own is the scenario's thread's, not its own statement; here no
  // thread is given, so none ("—": a new user's trial read the quoted title as a source).
  assert.deepEqual(res.map((c) => c.source), ["—", "—", "—"]);
});

test("a pass claim with a finding holds when no interleaving reports that finding, whatever else fails (new-user trial 14: the finding was ignored)", () => {
  // Two bugs: a lost update and, with `warn`, a warning; the lock fixes the lost update only.
  const sc = defineScenario<{ n: number; l: Spinlock }, { locked: boolean }>({
    id: "two-bugs",
    defaults: { locked: false },
    fixes: [{ id: "locked", options: { locked: true } }],
    setup: (cfg) => {
      function* inc(t: Task, s: { n: number; l: Spinlock }) {
        if (cfg.options.locked) yield* spin_lock(t, s.l, at("inc", "spin_lock"));
        yield at("inc", "load");
        const v = s.n;
        yield at("inc", "store");
        s.n = v + 1;
        if (cfg.options.locked) yield* spin_unlock(t, s.l, at("inc", "spin_unlock"));
      }
      return { state: { n: 0, l: new Spinlock("l") }, threads: { cpu0: inc, cpu1: inc } };
    },
    endChecks: [
      { name: "n", check: (s, r) => (s.n !== 2 ? r.report("invariant", `lost update: n = ${s.n}`) : undefined) },
      { name: "leak", check: (_s, r) => r.report("warning", "leak: the buffer of the first init") },
    ],
    claims: [
      { id: "lock-fixes-lost-update", statement: "the lock fixes the lost update", fix: "locked", verdict: "pass", finding: /lost update/ },
      { id: "lock-fixes-leak", statement: "the lock fixes the leak too", fix: "locked", verdict: "pass", finding: /leak/ },
      { id: "baseline-no-lost-update", statement: "no lost update without it", fix: "baseline", verdict: "pass", finding: /lost update/ },
      { id: "lock-passes", statement: "the lock passes", fix: "locked", verdict: "pass" },
    ],
  });
  const res = evaluateClaims(sc);
  assert.deepEqual(res.map((c) => [c.id, c.holds]), [["lock-fixes-lost-update", true], ["lock-fixes-leak", false], ["baseline-no-lost-update", false], ["lock-passes", false]]);
  assert.equal(res[0]!.expected, "locked/default reports no finding matching /lost update/ in any interleaving");
  assert.equal(res[3]!.expected, "locked/default passes in every interleaving");
});

test("claims name a memory model: a barrier claim is checked under the ordering it is about", () => {
  // Message passing: WRITE_ONCE(data, 1); [smp_wmb();] WRITE_ONCE(flag, 1) against
  // if (READ_ONCE(flag)) BUG_ON(READ_ONCE(data) != 1). Without the barrier only pso reorders the stores.
  const mp = at("mp_writer", "WRITE_ONCE(data, 1)");
  const mpFlag = at("mp_writer", "WRITE_ONCE(flag, 1)");
  const mpTest = at("mp_reader", "READ_ONCE(flag)");
  const mpUse = at("mp_reader", "READ_ONCE(data)");
  interface MP { data: Cell<number>; flag: Cell<number> }
  const claims = [
    { id: "sc-hides-it", statement: "fine on x86-like ordering", fix: "baseline", memoryModel: "tso", verdict: "pass" },
    { id: "pso-shows-it", statement: "needs smp_wmb() on weak ordering", fix: "baseline", memoryModel: "pso", verdict: "fail", finding: /flag before data/ },
    { id: "wmb-closes-it", statement: "smp_wmb() closes it", fix: "wmb", memoryModel: "pso", verdict: "pass" },
    { id: "default-sc", statement: "no model named: the variant's (sc)", fix: "baseline", verdict: "pass" },
  ] as const;
  const sc = defineScenario<MP, { wmb: boolean }>({
    id: "mp-claims",
    defaults: { wmb: false },
    fixes: [{ id: "wmb", options: { wmb: true } }],
    setup: (cfg) => ({
      state: { data: new Cell("data", 0), flag: new Cell("flag", 0) },
      threads: {
        *writer(t: Task, s: MP) {
          yield mp;
          WRITE_ONCE(t, s.data, 1);
          yield mpFlag;
          if (cfg.options.wmb) smp_wmb(t);
          WRITE_ONCE(t, s.flag, 1);
        },
        *reader(t: Task, s: MP) {
          yield mpTest;
          if (READ_ONCE(t, s.flag) === 0) return;
          yield mpUse;
          if (READ_ONCE(t, s.data) !== 1) t.bug("saw flag before data");
        },
      },
    }),
    claims: [...claims],
  });
  const res = evaluateClaims(sc);
  assert.deepEqual(res.map((c) => [c.id, c.holds]), claims.map((c) => [c.id, true]));
  assert.deepEqual(res.map((c) => c.expected), ["baseline/default [tso] passes in every interleaving", "baseline/default [pso] fails with /flag before data/", "wmb/default [pso] passes in every interleaving", "baseline/default passes in every interleaving"]);
  assert.match(res[1]!.observed, /^baseline\/default \[pso\]: fail /);
  assert.match(res[2]!.observed, /^wmb\/default \[pso\]: pass /);
  assert.match(res[3]!.observed, /^baseline\/default: pass /);
  // The same claim without its memory model does not hold: the model is what the claim is about.
  const bare = defineScenario<MP, { wmb: boolean }>({ ...sc, id: "mp-claims-bare", claims: [{ id: "pso-shows-it", statement: "", fix: "baseline", verdict: "fail" }] } as never);
  assert.equal(evaluateClaims(bare)[0]!.holds, false);
  assert.throws(
    () => defineScenario({ id: "bad-mm", setup: () => ({ state: {}, threads: { *a() { yield A; } } }), claims: [{ id: "c", statement: "", fix: "baseline", memoryModel: "arm64" as never, verdict: "pass" }] }),
    (e: unknown) => e instanceof UsageError && /claim c: unknown memory model 'arm64' \(known: sc, tso, pso, rmo\)/.test(e.message),
  );
});

test("a step that throws is an 'error' finding at its step, with a counterexample; the search goes on", () => {
  const sc = defineScenario({
    id: "throws",
    setup: () => ({
      state: { p: { q: 1 } as { q: number } | null },
      threads: {
        *reader(t: Task, s) {
          yield at("reader", "read p->q");
          t.say(String(s.p!.q));
        },
        *clearer(t: Task, s) {
          yield at("clearer", "p = NULL");
          s.p = null;
        },
      },
    }),
  });
  const r = check(sc);
  assert.equal(r.verdict, "fail");
  const key = Object.keys(r.findings)[0]!;
  assert.match(key, /^error: reader at reader\(\) \(read p->q\): TypeError: Cannot read properties of null/);
  assert.ok(r.counterexample);
  assert.equal(r.counterexample.steps.at(-1)!.finding, key);
});

test("model errors point at the cause: not a generator, a bare yield, a yield of a generator, no yield at all, nondeterminism", () => {
  const mk = (body: (t: Task, s: { n: number }) => unknown) =>
    defineScenario({ id: "broken", setup: () => ({ state: { n: 0 }, threads: { t0: body as never, t1: function* () { yield A; } } }) });
  assert.throws(() => check(mk(() => 1)), (e: unknown) => e instanceof ModelError && /thread t0: its body must be a generator function/.test(e.message));
  assert.throws(() => check(mk(function* () { yield; })), /thread t0 yielded nothing \(a bare `yield`\), not a Site/);
  assert.throws(
    () => check(mk(function* (t: Task, s) { yield spin_lock(t, new Spinlock("l"), A) as never; s.n = 1; })),
    /thread t0 yielded a generator \(use `yield\*` to run a primitive\)/,
  );
  assert.throws(() => check(mk(function* (t: Task, s) { s.n; })), /thread t0 finished without a step: its body never yields/);
  let calls = 0; // kept across executions: the thread does not replay the same way
  const nondet = mk(function* (t: Task, s) {
    calls++;
    yield A;
    s.n++;
    yield calls % 2 === 0 ? at("a", "even") : at("a", "odd");
    s.n++;
    yield A;
  });
  assert.throws(() => check(nondet), /nondeterministic thread t0: replaying the same schedule/);
});

test("setup() that throws is a model error naming the scenario (exit status 3 in the CLI), not a bare message", () => {
  const sc = defineScenario({
    id: "setup-throws",
    setup: (): { state: { n: number }; threads: Record<string, never> } => {
      throw new RangeError("boom in setup");
    },
  });
  // (New-user trial 11: `racelab: boom in setup`, exit status 2, as if the command line were wrong.)
  assert.throws(() => check(sc), (e: unknown) => e instanceof ModelError && e.message === "setup-throws: setup() threw RangeError: boom in setup");
});

test("a primitive called without yield* is an error finding naming its step, never a step that silently vanishes", () => {
  const LOCK = at("t0", "spin_lock(&s->lock)");
  const SET = at("t0", "set_current_state(TASK_UNINTERRUPTIBLE)");
  const mk = (forget: "spin_lock" | "set_current_state" | "smp_mb" | "spin_lock-then-smp_mb" | "none" | "before-first-yield") =>
    defineScenario({
      id: `forgot-${forget.replace(/_/g, "-")}`,
      setup: () => ({
        state: { lock: new Spinlock("s->lock"), n: 0 },
        threads: {
          *t0(t: Task, s) {
            if (forget === "before-first-yield") spin_lock(t, s.lock, LOCK);
            yield A;
            s.n++;
            if (forget === "spin_lock") spin_lock(t, s.lock, LOCK);
            else if (forget === "set_current_state") set_current_state(t, TASK_UNINTERRUPTIBLE, SET);
            else if (forget === "smp_mb") smp_mb(t, at("t0", "smp_mb()"));
            else if (forget === "spin_lock-then-smp_mb") {
              // (New-user trial 24: the step made after the forgotten one was named instead.)
              spin_lock(t, s.lock, LOCK);
              yield* smp_mb(t, at("t0", "smp_mb()"));
            } else yield* spin_lock(t, s.lock, LOCK);
            yield A;
            s.n++;
            if (forget === "none") yield* spin_unlock(t, s.lock, at("t0", "spin_unlock(&s->lock)"));
          },
        },
      }),
    });
  for (const [forget, site] of [["spin_lock", "t0() (spin_lock(&s->lock))"], ["set_current_state", "t0() (set_current_state(TASK_UNINTERRUPTIBLE))"], ["smp_mb", "t0() (smp_mb())"], ["spin_lock-then-smp_mb", "t0() (spin_lock(&s->lock))"]] as const) {
    const r = check(mk(forget));
    assert.equal(r.verdict, "fail", forget);
    const key = Object.keys(r.findings)[0]!;
    assert.equal(key, `error: t0 at a() (step): the step at ${site} was made by a primitive that never ran: call it with yield* (\`yield* spin_lock(t, lock, SITE)\`, not \`spin_lock(t, lock, SITE)\`)`);
  }
  assert.equal(check(mk("none")).verdict, "pass");
  assert.throws(() => check(mk("before-first-yield")), (e: unknown) => e instanceof ModelError && /thread t0, before its first yield: the step at t0\(\) \(spin_lock\(&s->lock\)\) was made by a primitive that never ran/.test(e.message));
});

test("counterexampleFor: the counterexample is the first execution with a matching finding; none matching is a warning, not a wrong counterexample", () => {
  const sc = defineScenario({
    id: "two-findings",
    setup: () => ({
      state: { x: 0 },
      threads: {
        *a(t: Task, s) {
          yield at("a", "if (s->x == 0)");
          if (s.x === 0) t.warn("a ran first");
          else t.bug("b ran first");
        },
        *b(t: Task, s) {
          yield at("b", "s->x = 1");
          s.x = 1;
        },
      },
    }),
  });
  const plain = check(sc);
  assert.deepEqual(Object.keys(plain.findings), ["bug: b ran first", "warning: a ran first"]);
  assert.equal(plain.counterexample?.finding, "warning: a ran first");
  const bug = check(sc, { counterexampleFor: "bug:" });
  assert.deepEqual([bug.verdict, bug.findings], [plain.verdict, plain.findings]);
  assert.equal(bug.counterexample?.finding, "bug: b ran first");
  assert.equal(replay(sc, { schedule: bug.counterexample!.schedule }).result.finding, "bug: b ran first");
  for (const reduction of ["sleep-sets", "dpor", "state-caching", "none"] as const)
    assert.equal(check(sc, { reduction, counterexampleFor: "b ran" }).counterexample?.finding, "bug: b ran first", reduction);
  const none = check(sc, { counterexampleFor: "no such finding" });
  assert.equal(none.verdict, "fail");
  assert.equal(none.counterexample, null);
  assert.ok(none.warnings.includes('no execution found has a finding matching "no such finding": no counterexample'), none.warnings.join(" | "));
  const re = check(sc, { counterexampleFor: "stale\\|done=1" });
  assert.ok(re.warnings.includes('no execution found has a finding matching "stale\\|done=1": no counterexample (the text is matched as it is, not as a regular expression)'), re.warnings.join(" | "));
  assert.throws(() => check(sc, { counterexampleFor: "" }), /counterexampleFor must be a non-empty string/);
});

test("a racelab object created inside a step is an error finding that says to create it in setup()", () => {
  const sc = defineScenario({
    id: "cell-in-step",
    setup: () => ({
      state: { c: null as unknown },
      threads: {
        *t0(t: Task, s) {
          yield at("t0", "c = new Cell()");
          s.c = new Spinlock("late");
        },
      },
    }),
  });
  const r = check(sc);
  assert.equal(r.verdict, "fail");
  assert.match(Object.keys(r.findings)[0]!, /^error: t0 at t0\(\) \(c = new Cell\(\)\): Error: late: racelab objects .* must be created in setup\(\), not inside a step/);
});

test("reading state at thread creation that another thread writes is a model error", () => {
  const sc = defineScenario({
    id: "early-read",
    setup: () => ({
      state: { n: 0 },
      threads: {
        *t0(t: Task, s) {
          const n = s.n; // before the first yield: the thread's creation, not a step
          yield A;
          t.say(String(n));
        },
        *t1(t: Task, s) {
          yield A;
          s.n = 1;
        },
      },
    }),
  });
  assert.throws(() => check(sc), /thread t0 reads state\.n before its first yield .* but t1 writes it at a\(\) \(step\): move the read after a yield/);
});

test("check, replay and claims take a scenario file; racelab new scaffolds one that checks", () => {
  // --dir is made when missing (a new user's trial: it used to be "no such folder").
  const dir = path.join(mkdtempSync(path.join(tmpdir(), "racelab-new-")), "races", "rcu");
  let r = run(["new", "my-race", "--dir", dir]);
  assert.equal(r.status, 0, r.stderr);
  const file = path.join(dir, "my-race.ts");
  const nb = JSON.parse(readFileSync(path.join(dir, "my-race.ipynb"), "utf8")) as { cells: { source: string[] }[]; metadata: { kernelspec: { name: string } } };
  assert.equal(nb.metadata.kernelspec.name, "racelab");
  assert.match(nb.cells.map((c) => c.source.join("")).join("\n"), /loadScenario\(".*my-race\.ts"\)/);
  // Refuses to overwrite.
  r = run(["new", "my-race", "--dir", dir]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^racelab: .*my-race\.ts exists \(use --force to overwrite\)\n$/);
  // The scaffold lives outside the checkout: it imports "racelab", resolved here through the
  // checkout's package "exports" by a symlinked node_modules.
  spawnSync("mkdir", ["-p", path.join(dir, "node_modules")]);
  spawnSync("ln", ["-s", root, path.join(dir, "node_modules", "racelab")]);
  r = run(["check", file, "--all-fixes", "--json"]);
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout) as { fix: string; verdict: string; counterexample: { schedule: string } | null; unreachedSteps: unknown[] }[];
  assert.deepEqual(res.map((x) => [x.fix, x.verdict]), [["baseline", "fail"], ["take-lock", "pass"]]);
  // The fix's steps have a sitesIn() factory of their own: the baseline's check does not note them
  // as unreached (it did, a new user's trial 18 asked why).
  assert.deepEqual(res.map((x) => x.unreachedSteps), [[], []]);
  r = run(["replay", file, "--fix", "baseline", "--schedule", res[0]!.counterexample!.schedule]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /lost update: count = 1/);
  r = run(["claims", file, "--json"]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as { holds: boolean }[]).map((c) => c.holds), [true, true]);
  // Text output: the counterexample line names the file, so it can be pasted.
  r = run(["check", file]);
  assert.match(r.stdout, new RegExp(`replay ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} --fix baseline`));
  // A scenario without claims says so (a new user's trial: `racelab claims` printed nothing).
  const bare = path.join(dir, "no-claims.ts");
  writeFileSync(bare, readFileSync(file, "utf8").replace(/claims: \[[^\]]*\],?/s, ""));
  r = run(["claims", bare]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^my-race: no claims \(add them to the scenario's claims: see "Modeling a new race" in the README\)\n$/);
});

test("scenario files: bad input is one line on stderr and exit status 2", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "racelab-bad-"));
  const none = path.join(dir, "none.ts");
  writeFileSync(none, "export const x = 1;\n");
  const broken = path.join(dir, "broken.ts");
  writeFileSync(broken, "export default {;\n");
  const nopkg = path.join(dir, "nopkg.ts");
  writeFileSync(nopkg, 'import x from "not-a-racelab-package";\nexport default x;\n');
  for (const [args, re] of [
    [["check", "./nope.ts"], /^racelab: scenario file not found: \.\/nope\.ts\n$/],
    [["check", none], /exports no scenario: export default defineScenario/],
    [["check", broken], /^racelab: cannot load .*broken\.ts: broken\.ts:1:17: Expected identifier but found ";"$/m],
    [["check", nopkg], /^racelab: cannot load .*nopkg\.ts: nopkg\.ts:1:15: Cannot find module 'not-a-racelab-package'/],
    [["check", "ext4-delalloc-fallocate", "--reduction", "optimal-dpor"], /argument 'optimal-dpor' is invalid/],
    [["new", "Bad_Id"], /scenario id 'Bad_Id' must be lowercase-hyphenated/],
    [["new", "my-race", "--dir", none], /^racelab: not a folder: .*none\.ts\n$/],
  ] as [string[], RegExp][]) {
    const r = run(args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  }
});

test("loadScenario: an id, an object, or a file; replay takes the object", async () => {
  const sc = checkThenUse({ closure: false });
  assert.equal(await loadScenario(sc), sc);
  assert.equal((await loadScenario("ext4-delalloc-fallocate")).id, "ext4-delalloc-fallocate");
  const r = check(sc);
  const rep = replay(sc, { schedule: r.counterexample!.schedule });
  assert.equal(rep.result.finding, r.counterexample!.finding);
  // A result's scenario id finds the object again (showCounterexample(r) needs no second argument).
  assert.equal(check("check-then-use").verdict, "fail");
});

test("a scenario file shares the running engine: its kernel objects' accesses reach the search, edits reload", async () => {
  // No package.json (CommonJS scope) and no node_modules: "racelab" is the running racelab. Until
  // 2026-11-30 the file was imported through tsx's namespaced tsImport, which loaded a second copy
  // of racelab whose locks and counters recorded accesses no search saw: the lock below gave one
  // execution instead of two, and a Counter's addReturn() race was explored only by the cross-check.
  const dir = mkdtempSync(path.join(tmpdir(), "racelab-file-"));
  writeFileSync(
    path.join(dir, "sites.ts"),
    `import { sitesIn } from "racelab";\nconst at = sitesIn("lib/x.c", "v6.12");\nexport const LOCK = at("f", "spin_lock"), UNLOCK = at("f", "spin_unlock"), A = at("f", "a"), B = at("f", "b");\n`,
  );
  const file = path.join(dir, "locked.ts");
  writeFileSync(
    file,
    `import { defineScenario, spin_lock, spin_unlock, Spinlock, Counter, type Task } from "racelab";
import { LOCK, UNLOCK, A, B } from "./sites";
export default defineScenario({
  id: "locked",
  setup: () => ({
    state: { lock: new Spinlock("x->lock"), c: new Counter("x->c") },
    threads: {
      *cpu0(t: Task, s) { yield* spin_lock(t, s.lock, LOCK); yield* spin_unlock(t, s.lock, UNLOCK); yield A; const x = s.c.addReturn(1); yield B; if (x === 2) t.violated(\`x = \${x}\`); },
      *cpu1(t: Task, s) { yield* spin_lock(t, s.lock, LOCK); yield* spin_unlock(t, s.lock, UNLOCK); yield A; s.c.addReturn(1); },
    },
  }),
});
`,
  );
  const counts = (reduction: string) => {
    const r = run(["check", file, "--reduction", reduction, "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { verdict: string; executions: number; warnings: string[] };
    return [j.verdict, j.executions, j.warnings.length];
  };
  // Traces: the two orders of the critical sections times the two orders of the addReturn() steps.
  assert.deepEqual(counts("none"), ["fail", 15, 0]);
  assert.deepEqual(counts("sleep-sets"), ["fail", 4, 0]);
  assert.deepEqual(counts("dpor"), ["fail", 4, 0]);
  // In this process (racelab from src/ under tsx) too, without the cross-check.
  const sc = await loadScenario(file);
  const r = check(sc, { reduction: "sleep-sets", crossCheck: 0 });
  assert.deepEqual([r.verdict, r.executions], ["fail", 4]);
  // Loading again bundles afresh: an edited helper is seen.
  writeFileSync(path.join(dir, "sites.ts"), readFileSync(path.join(dir, "sites.ts"), "utf8").replace(`"a"`, `"a2"`));
  const again = await loadScenario(file);
  const rep = replay(again, { schedule: check(again).counterexample!.schedule });
  assert.ok(rep.exec.trace!.some((st) => st.site.label === "a2"));
  // Replay commands (showCounterexample(), reports) name the file the scenario came from, not an
  // id that no `racelab replay` knows.
  const rc = replayCommand(check(again), again);
  assert.ok(rc.startsWith(`racelab replay ${file} --fix baseline `), rc);
  assert.ok(new Session(again).replayCommand.startsWith(`racelab replay ${file} --fix baseline `));
  // A file written for CommonJS (as tsx ran .ts files of a CommonJS package) keeps require() and
  // __dirname; a file that declares its own __dirname keeps it.
  const cjs = path.join(dir, "cjs.ts");
  writeFileSync(
    cjs,
    `import { defineScenario, sitesIn, type Task } from "racelab";\nconst path = require("node:path");\nconst A = sitesIn("lib/x.c", "v6.12")("f", path.basename(__dirname));\nexport default defineScenario({ id: "cjs", setup: () => ({ state: { x: 0 }, threads: { *a(t: Task, s: { x: number }) { yield A; s.x = 1; } } }) });\n`,
  );
  writeFileSync(
    path.join(dir, "esm.ts"),
    readFileSync(cjs, "utf8")
      .replace(`const path = require("node:path");`, `import path from "node:path";\nimport { fileURLToPath } from "node:url";\nconst __dirname = path.dirname(fileURLToPath(import.meta.url));`)
      .replace(`id: "cjs"`, `id: "esm"`),
  );
  for (const f of ["cjs.ts", "esm.ts"]) {
    const one = await loadScenario(path.join(dir, f));
    assert.equal(replay(one, { schedule: "0" }).exec.trace![0]!.site.label, path.basename(dir), f);
  }
  // A path into this checkout's src/ or dist/ is the running racelab too, not a bundled copy.
  for (const tree of ["src", "dist"]) {
    const f = path.join(dir, `by-path-${tree}.ts`);
    writeFileSync(f, readFileSync(file, "utf8").replace(`from "racelab"`, `from ${JSON.stringify(path.join(root, tree, "index.js"))}`));
    const r = check(await loadScenario(f), { reduction: "sleep-sets", crossCheck: 0 });
    assert.deepEqual([r.verdict, r.executions, r.warnings], ["fail", 4, []], tree);
  }
});

test("racelab check of a file: the replay command names the file and leaves default parameters and memory model out, for the first result as for later ones", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "racelab-replay-line-"));
  writeFileSync(
    path.join(dir, "lost.ts"),
    `import { defineScenario, sitesIn, type Task } from "racelab";
const at = sitesIn("lib/x.c", "v6.12");
const LOAD = at("inc", "v = x"), STORE = at("inc", "x = v + 1");
export default defineScenario({
  id: "lost",
  params: { incs: { default: 1, min: 1, max: 3, description: "increments per thread" } },
  fixes: [{ id: "same", options: {} }],
  setup: (cfg) => ({
    state: { x: 0 },
    threads: {
      *a(t: Task, s) { for (let i = 0; i < cfg.params.incs; i++) { yield LOAD; const v = s.x; yield STORE; s.x = v + 1; } },
      *b(t: Task, s) { for (let i = 0; i < cfg.params.incs; i++) { yield LOAD; const v = s.x; yield STORE; s.x = v + 1; } },
    },
  }),
  endChecks: [{ name: "no lost update", check: (s, r) => { if (s.x < 2) r.report("invariant", \`x = \${s.x}\`); } }],
});
`,
  );
  const r = run(["check", "./lost.ts", "--all-fixes"], dir);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split("\n").filter((l) => l.includes("counterexample ("));
  assert.equal(lines.length, 2, r.stdout);
  for (const l of lines) assert.ok(l.endsWith(` --schedule ${l.split(" --schedule ")[1]}`) && l.includes(`: node ${cli} replay ./lost.ts --fix `), l);
});

test("the threads object takes a ThreadSpec too (rcu_callback_thread()), named by its key", () => {
  const CALL = at("t", "call_rcu(&x->rcu, cb)");
  const CB = at("cb", "s->x = v");
  const sc = defineScenario<{ x: number }, Record<string, never>>({
    id: "rcu-order",
    setup: () => ({
      state: { x: 0 },
      threads: {
        *t0(t: Task, s) {
          yield* call_rcu(t, 1, function* (_ct: Task, v: number) {
            yield CB;
            s.x = v;
          }, CALL);
        },
        *t1(t: Task, s) {
          yield* call_rcu(t, 2, function* (_ct: Task, v: number) {
            yield CB;
            s.x = v;
          }, CALL);
        },
        rcu: rcu_callback_thread(),
      },
    }),
    endChecks: [{ name: "x", check: (s, r) => void (s.x === 1 && r.report("invariant", "cb1 ran last")) }],
  });
  const r = check(sc);
  assert.equal(r.verdict, "fail");
  assert.equal(r.executions, 6);
  assert.match(replay(sc, { schedule: r.counterexample!.schedule }).exec.tasks.map((t) => t.name).join(","), /^t0,t1,rcu$/);
  // RCU's state is not in the scenario's state: state caching falls back to sleep sets and says so.
  const c = check(sc, { reduction: "state-caching" });
  assert.deepEqual([c.verdict, c.reduction, c.executions, c.states], ["fail", "sleep-sets", 6, null]);
  assert.match(c.warnings.join("\n"), /^state caching is off: a step observes rcu_state\.\w+, state no fingerprint covers .*; the search used sleep sets$/m);
});

test("Session.step/back refuse negative, fractional and NaN counts; run() refuses steps left over", () => {
  const sc = defineScenario({
    id: "two-steps",
    setup: () => ({
      state: { x: 0 },
      threads: {
        *t0(t: Task, s: { x: number }) {
          yield A;
          s.x++;
          yield A;
          s.x++;
        },
      },
    }),
  });
  const s = new Session(sc);
  for (const n of [-1, NaN, 1.5, Infinity, "2" as unknown as number]) {
    assert.throws(() => s.step("t0", n), (e: unknown) => e instanceof UsageError && /^Session\.step: the number of steps must be a non-negative integer, got /.test(e.message));
    assert.throws(() => s.back(n), (e: unknown) => e instanceof UsageError && /^Session\.back: the number of steps must be a non-negative integer, got /.test(e.message));
  }
  assert.equal(s.steps, 0);
  s.step("t0", 0).step("t0", 2);
  assert.equal(s.state.x, 2);
  s.back(0);
  assert.equal(s.steps, 2);
  s.back(5);
  assert.equal(s.steps, 0);
  assert.throws(() => s.step(0.5), /no thread 0\.5/);
  assert.throws(() => s.run("0x3"), /schedule step 3: thread 0 \(t0\) cannot run: every thread has finished after step 2/);
});

test("the default state view shows a Cell holding a pointer to a state object as &<path>", async () => {
  const { describeState } = await import("../src/engine/define.js");
  const { Cell } = await import("../src/engine/memory.js");
  const obj = { field: 42 };
  const view = describeState({ priv: new Cell("dev->priv", obj), none: new Cell("dev->none", null), obj, n: new Cell("n", 3) });
  // (A new user's trial showed `[object Object]` for dev->priv.)
  assert.equal(view["priv"], "&obj");
  assert.equal(view["none"], "null");
  assert.equal(view["obj.field"], 42);
  assert.equal(view["n"], "3");
});

test("a primitive called without its site is an error finding that says so (scenario files are not type-checked)", async () => {
  const { defineScenario } = await import("../src/engine/define.js");
  const { sitesIn } = await import("../src/engine/site.js");
  const { Spinlock, spin_lock } = await import("../src/linux/locks.js");
  const A = sitesIn("lib/x.c", "v6.12")("f", "step");
  const sc = defineScenario<{ l: InstanceType<typeof Spinlock> }, object>({
    id: "no-site",
    setup: () => ({
      state: { l: new Spinlock("l") },
      threads: {
        *a(t, s) {
          yield A;
          yield* (spin_lock as unknown as (t: unknown, l: unknown) => Generator<never, void, undefined>)(t, s.l);
        },
      },
    }),
  });
  // (A new user's trial got "TypeError: Cannot read properties of undefined (reading 'fn')".)
  assert.deepEqual(Object.keys(check(sc).findings), [
    "error: a at f() (step): a: a primitive was called without its site (got undefined): its last argument is a Site from sitesIn(), e.g. yield* spin_lock(t, lock, SITE)",
  ]);
});

test("a thread that never finishes: sampled executions cut at the step bound make the result incomplete, and a replay past the bound is an error (a new user's trial)", () => {
  // while (!READ_ONCE(flag)) cpu_relax(); and nobody sets flag: a hang.
  const SPIN = at("spinner", "while (!READ_ONCE(flag)) cpu_relax()");
  function* spinner(t: Task, s: { flag: Cell<number> }) {
    for (;;) {
      yield SPIN;
      if (READ_ONCE(t, s.flag)) break;
    }
  }
  const sc = defineScenario<{ flag: Cell<number> }, Record<string, never>>({
    id: "spin-forever",
    setup: () => ({
      state: { flag: new Cell("flag", 0) },
      threads: {
        spinner,
        *other() {
          yield A;
        },
      },
    }),
  });
  // The warning names the thread that took the steps of a cut execution and the step it repeated
  // (a new user's trial: "cut at 10,000 steps" alone, after a long search of 0 executions).
  const named =
    "in a cut execution, spinner took 10,000 of the 10,000 steps, all of them at spinner() (while (!READ_ONCE(flag)) cpu_relax()): " +
    "a loop that can go round forever should call t.retry(loop, bound) each time round (past the bound, with no other thread able to make progress, " +
    "it is a livelock finding), or wait with a blocking primitive instead of spinning";
  for (const mode of ["random", "pct"] as const) {
    const r = check(sc, { mode, runs: 5 });
    assert.equal(r.verdict, "incomplete", mode);
    assert.deepEqual(r.warnings, [`5 of 5 sampled executions ran past 10,000 steps and were cut: a thread that never finishes (an unbounded loop, a livelock, a hang) or a model that needs more steps; no verdict for them; ${named}`], mode);
  }
  // Exhaustive, stopped by a time limit before any execution finished: the same diagnosis; the
  // progress reports count the executions cut.
  let cut = 0;
  const limited = check(sc, { timeLimitMs: 500, onProgress: (_done, _total, d) => void (cut = d.cut ?? 0) });
  assert.equal(limited.executions, 0);
  assert.ok(cut > 0, "progress counts the executions cut");
  assert.deepEqual(limited.warnings, [
    "the search stopped early (time limit of 500 ms): not every interleaving was covered; no execution finished, and executions run past 10,000 steps " +
      `and are cut: likely an unbounded loop or a livelock: ${named.replace("): a loop", "); a loop")}`,
  ]);
  // Exhaustive, every execution cut (one thread: one execution): the warning says none finished.
  const alone = defineScenario<{ flag: Cell<number> }, Record<string, never>>({
    id: "spin-forever-alone",
    setup: () => ({ state: { flag: new Cell("flag", 0) }, threads: { spinner } }),
  });
  const r = check(alone);
  assert.equal(r.verdict, "incomplete");
  assert.deepEqual(r.warnings, [
    "no execution finished: each one explored ran past 10,000 steps and was cut, so not every interleaving was covered: likely an unbounded loop " +
      `or a livelock: ${named.replace("): a loop", "); a loop")}`,
  ]);
  assert.throws(
    () => replay(sc, { schedule: "0x10200.1" }),
    (e: unknown) => e instanceof UsageError && /^the schedule runs past 10,000 steps, the bound on an execution's steps: the replay stopped at step 10,000/.test(e.message),
  );
});

test("the model's own code failing in a step: check exits 3 naming it, its error is the counterexample even when another finding came first, and Math.random() in a step is that error every time (new-user trial 12)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "racelab-model-error-"));
  // The waker forgets yield* on wake_up(): the waiter's deadlock (found first in exploration
  // order) is a consequence; the error names the cause.
  const forgot = path.join(dir, "forgot.ts");
  writeFileSync(
    forgot,
    `import { defineScenario, sitesIn, Cell, READ_ONCE, WRITE_ONCE, DECLARE_WAIT_QUEUE_HEAD, DEFINE_WAIT, prepare_to_wait, finish_wait, schedule, waitqueue_active, wake_up, TASK_UNINTERRUPTIBLE, type Task } from "racelab";
const at = sitesIn("kernel/sched/wait.c", "v6.12");
const S = { store: at("waker", "WRITE_ONCE(cond, 1)"), active: at("waker", "if (waitqueue_active(&wq))"), wake: at("waker", "wake_up(&wq)"), prep: at("waiter", "prepare_to_wait()"), test: at("waiter", "if (!READ_ONCE(cond))"), sched: at("waiter", "schedule()"), fin: at("waiter", "finish_wait()") };
export default defineScenario({
  id: "forgot-yield-star",
  setup: () => ({
    state: { cond: new Cell("cond", 0), wq: DECLARE_WAIT_QUEUE_HEAD("wq") },
    threads: {
      *waiter(t: Task, s) { const w = DEFINE_WAIT(t); yield* prepare_to_wait(t, s.wq, w, TASK_UNINTERRUPTIBLE, S.prep); yield S.test; if (READ_ONCE(t, s.cond) === 0) yield* schedule(t, S.sched); yield* finish_wait(t, s.wq, w, S.fin); },
      *waker(t: Task, s) { yield S.store; WRITE_ONCE(t, s.cond, 1); if (yield* waitqueue_active(t, s.wq, S.active)) wake_up(t, s.wq, S.wake); },
    },
  }),
});
`,
  );
  // (Under tso the store to cond can wait in the buffer: the lost wake-up, a deadlock, is found
  // before the execution in which waitqueue_active() sees the waiter and reaches the error.)
  const r = run(["check", forgot, "--memory-model", "tso"]);
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /^racelab: model error: waker at waker\(\) \(if \(waitqueue_active\(&wq\)\)\): the step at waker\(\) \(wake_up\(&wq\)\) was made by a primitive that never ran: call it with yield\*/);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  const lines = r.stdout.split("\n");
  assert.match(lines[1]!, /^ {2}\d+ × error: waker at waker\(\)/, "the error is listed first");
  assert.ok(lines.some((l) => /^ {2}\d+ × deadlock: waiter waits for wake-up/.test(l)), r.stdout);
  const j = JSON.parse(run(["check", forgot, "--memory-model", "tso", "--json"]).stdout) as { counterexample: { finding: string }; findings: object };
  assert.match(Object.keys(j.findings)[0]!, /^deadlock: /, "the deadlock is found first");
  assert.match(j.counterexample.finding, /^error: waker at waker\(\)/);
  // A coin in a step: a model error in every run, not pass / fail / a bad schedule by turns.
  const coin = path.join(dir, "coin.ts");
  writeFileSync(
    coin,
    `import { defineScenario, sitesIn, type Task } from "racelab";
const at = sitesIn("lib/x.c", "v6.12");
const A = at("f", "a"), B = at("f", "b");
export default defineScenario({
  id: "coin",
  setup: () => ({ state: { x: 0 }, threads: { *a(t: Task, s: { x: number }) { yield A; if (Math.random() < 0.5) yield B; s.x++; }, *b(t: Task, s: { x: number }) { yield A; s.x++; } } }),
});
`,
  );
  for (let i = 0; i < 3; i++) {
    const c = run(["check", coin]);
    assert.equal(c.status, 3, c.stderr);
    assert.match(c.stderr, /^racelab: model error: a at f\(\) \(a\): Math\.random\(\) in a step: racelab replays schedules/);
  }
  // Outside a step Math.random() is untouched.
  assert.equal(typeof Math.random(), "number");
});

test("a loop inside a step that waits for another thread (no yield in it) is an error finding naming the step, not a process that dies out of memory (new-user trial 12)", () => {
  const SPIN = at("waiter", "while (!READ_ONCE(s->cond)) ;");
  const SET = at("waker", "WRITE_ONCE(s->cond, 1)");
  const sc = defineScenario<{ cond: Cell<number> }, object>({
    id: "spin-in-a-step",
    setup: () => ({
      state: { cond: new Cell("s->cond", 0) },
      threads: {
        *waiter(t: Task, s) {
          yield SPIN;
          while (READ_ONCE(t, s.cond) === 0);
        },
        *waker(t: Task, s) {
          yield SET;
          WRITE_ONCE(t, s.cond, 1);
        },
      },
    }),
  });
  const r = check(sc, { crossCheck: 0 });
  assert.equal(r.verdict, "fail");
  assert.deepEqual(Object.keys(r.findings), [
    "error: waiter at waiter() (while (!READ_ONCE(s->cond)) ;): the step made more than 1,000,000 accesses without yielding: a loop inside a step that waits for another thread never ends (no other thread runs until the step yields); yield a site in the loop, and bound it with t.retry(loop, bound)",
  ]);
  // The waker first: the loop ends at once, no finding.
  assert.equal(check(sc, { crossCheck: 0 }).executions, 2);
});

test("a search stopped early whose executions ran past the step bound says a busy-wait multiplies the interleavings and points at t.retry() (new-user trial 12: 300 executions/s for an hour, no hint)", () => {
  const SPIN = at("waiter", "if (READ_ONCE(s->cond))");
  const SET = at("waker", "WRITE_ONCE(s->cond, 1)");
  const sc = defineScenario<{ cond: Cell<number> }, object>({
    id: "busy-wait",
    setup: () => ({
      state: { cond: new Cell("s->cond", 0) },
      threads: {
        *waiter(t: Task, s) {
          for (;;) {
            yield SPIN;
            if (READ_ONCE(t, s.cond) !== 0) break;
          }
        },
        *waker(t: Task, s) {
          yield SET;
          WRITE_ONCE(t, s.cond, 1);
        },
      },
    }),
  });
  const r = check(sc, { timeLimitMs: 1500, crossCheck: 0 });
  assert.equal(r.verdict, "incomplete");
  assert.ok(r.executions > 0);
  assert.match(
    r.warnings[0]!,
    /^the search stopped early \(time limit of 1\.5 s\): not every interleaving was covered; [\d,]+ executions? ran past 10,000 steps and (was|were) cut: a loop a thread can repeat without end \(a busy-wait\) multiplies the interleavings without bound.*t\.retry\(loop, bound\)/,
  );
});
