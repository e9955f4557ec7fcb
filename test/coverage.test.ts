/**
 * Coverage of the model's steps (CheckResult.unreachedSteps): a step that ran in no interleaving
 * though its function did is named, so that a pass resting on a branch the model never takes is
 * not silent (the vacuous pass of new-user trial 15's list). Steps of a function that never ran
 * (another variant's path, a fix's code) are not named.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  check,
  defineScenario,
  explorePart,
  mergeParts,
  getScenario,
  sitesIn,
  Mutex,
  mutex_lock,
  mutex_unlock,
  DECLARE_WAIT_QUEUE_HEAD,
  wait_event,
  wake_up,
  Cell,
  READ_ONCE,
  WRITE_ONCE,
  unreachedSites,
  siteSourceKey,
  type Task,
} from "../src/index.js";

const at = sitesIn("lib/coverage.c", "v6.12");
const LOAD = at("reader", "load flag");
const NEVER = at("reader", "flag set: the racing store");
const DONE = at("reader", "return");
const OTHER = at("other_path", "only another variant runs this");
const W = at("writer", "store");
const LOCK = at("locker", "mutex_lock(&m)");
const UNLOCK = at("locker", "mutex_unlock(&m)");
// wait_event() runs only steps derived from its site (`WAIT: condition`, `WAIT: schedule()`, ...).
const WAIT = at("waiter", "wait_event(wq, done)");
const WAITED = at("waiter", "after the wait");
const SET = at("waker", "WRITE_ONCE(done, 1)");
const WAKE = at("waker", "wake_up(&wq)");

const sc = defineScenario({
  id: "coverage-branch",
  variants: [{ id: "default" }, { id: "other", options: { other: true } }],
  options: { other: false },
  setup: (cfg) => {
    const state = { flag: 0, m: new Mutex("m"), n: 0, wq: DECLARE_WAIT_QUEUE_HEAD("wq"), done: new Cell("done", 0) };
    type S = typeof state;
    const reader = function* (t: Task, s: S) {
      if (cfg.options.other) {
        yield OTHER;
        return;
      }
      yield LOAD;
      // A branch the model never takes: the writer stores 2, the reader tests 1.
      if (s.flag === 1) {
        yield NEVER;
        s.n = 1;
      }
      yield DONE;
    };
    const writer = function* (t: Task, s: S) {
      yield W;
      s.flag = 2;
    };
    const locker = function* (t: Task, s: S) {
      yield* mutex_lock(t, s.m, LOCK);
      yield* mutex_unlock(t, s.m, UNLOCK);
    };
    const waiter = function* (t: Task, s: S) {
      yield* wait_event(t, s.wq, () => READ_ONCE(t, s.done) === 1, WAIT);
      yield WAITED;
    };
    const waker = function* (t: Task, s: S) {
      yield SET;
      WRITE_ONCE(t, s.done, 1);
      yield* wake_up(t, s.wq, WAKE);
    };
    return {
      state,
      threads: cfg.options.other ? { reader, locker, locker2: locker, waiter, waker } : { reader, writer },
    };
  },
});

test("unreachedSteps names a step of a function that ran in no interleaving, under every reduction", () => {
  for (const reduction of ["sleep-sets", "dpor", "state-caching", "none"] as const) {
    const r = check(sc, { reduction });
    assert.equal(r.verdict, "pass", reduction);
    assert.deepEqual(r.unreachedSteps, [{ fn: "reader", label: "flag set: the racing store", source: "lib/coverage.c: reader()" }], reduction);
  }
});

test("a function none of whose steps ran is not named; a primitive's derived steps count as its site's", () => {
  const r = check(sc, { variant: "other" });
  // reader's LOAD, NEVER and DONE did not run, but neither did any other step of reader():
  // another variant's path, not a branch. wait_event()'s steps are sites derived from WAIT,
  // which never runs as itself: it is not named beside WAITED.
  assert.deepEqual(r.unreachedSteps, []);
  assert.deepEqual(check(sc, {}).unreachedSteps?.map((s) => s.fn), ["reader"]);
});

test("unreachedSteps is null when the search did not cover everything, and in sampling modes", () => {
  assert.equal(check(sc, { mode: "random", runs: 50 }).unreachedSteps, null);
  assert.equal(check(sc, { mode: "pct", runs: 50 }).unreachedSteps, null);
  const cut = check(getScenario("ext4-delalloc-fallocate"), { params: { blocks: 2 }, maxExecutions: 3 });
  assert.equal(cut.verdict === "pass", false);
  assert.equal(cut.unreachedSteps, null);
});

test("shards: the merged parts name the same steps as one check", () => {
  const one = check(sc, {});
  const parts = [0, 1, 2].map((index) => explorePart(sc, { shard: { index, count: 3 } }));
  const merged = mergeParts(sc, {}, parts);
  assert.deepEqual(merged.unreachedSteps, one.unreachedSteps);
  // (Each part alone reached only some sites: the union is what counts.)
  assert.ok(parts.every((p) => Array.isArray(p.reached)));
});

test("unreachedSites() lists the unreached sites of the reached functions, in the order made", () => {
  const k = siteSourceKey;
  assert.deepEqual(
    unreachedSites(new Set([k(LOAD)])).map((s) => s.label),
    ["flag set: the racing store", "return"],
  );
  assert.deepEqual(unreachedSites(new Set([k(W)])), []);
  assert.deepEqual(unreachedSites(new Set()), []);
});

test("racelab check prints the note under the verdict, and --json carries unreachedSteps", () => {
  const dir = mkdtempSync(join(tmpdir(), "racelab-coverage-"));
  const file = join(dir, "branch.ts");
  writeFileSync(
    file,
    `import { defineScenario, sitesIn } from "racelab";
const at = sitesIn("lib/branch.c", "v6.12");
const A = at("f", "load"), B = at("f", "taken only when x == 1"), C = at("g", "store");
export default defineScenario({
  id: "branch",
  setup: () => ({
    state: { x: 0 },
    threads: {
      *t1(t, s) { yield A; if (s.x === 1) { yield B; } },
      *t2(t, s) { yield C; s.x = 2; },
    },
  }),
});
`,
  );
  const cli = join(import.meta.dirname, "..", "dist", "cli", "main.js");
  const text = spawnSync(process.execPath, [cli, "check", file], { encoding: "utf8" });
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^branch baseline\/default: pass /m);
  assert.match(
    text.stdout,
    /\n  note: 1 step ran in no interleaving though its function did: f\(\): "taken only when x == 1" \(another fix's or variant's code: give the lines only some fixes or variants run, the baseline's a fix replaces too, a sitesIn\(\) of their own; or a branch this configuration never takes: the pass says nothing about it\)\n/,
  );
  const json = spawnSync(process.execPath, [cli, "check", file, "--json"], { encoding: "utf8" });
  assert.deepEqual(JSON.parse(json.stdout).unreachedSteps, [{ fn: "f", label: "taken only when x == 1", source: "lib/branch.c: f()" }]);
});
