/**
 * Persistent sets in the state-caching search (src/engine/strategies/persistent.ts): fewer states,
 * the same verdicts and findings as storing every state, footprints learned until they stop
 * growing, and a state cycle searched again without them. The property test
 * (reduction-property.test.ts) compares them with `--reduction none` on generated programs.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import {
  atLabel,
  Cell,
  check,
  deadOnReturn,
  defineScenario,
  Footprints,
  labelIn,
  makeStrategy,
  READ_ONCE,
  resolveConfig,
  runStrategy,
  sitesIn,
  StateCycle,
  WRITE_ONCE,
  type Task,
} from "../src/index.js";

const at = sitesIn("lib/test.c", "v6.12");

test("ext4: persistent sets store far fewer states, with the same verdict and findings", () => {
  for (const fix of ["baseline", "recheck-es"]) {
    const on = check("ext4-delalloc-fallocate", { fix, params: { blocks: 2 }, reduction: "state-caching" });
    const off = check("ext4-delalloc-fallocate", { fix, params: { blocks: 2 }, reduction: "state-caching", persistentSets: false });
    assert.equal(on.verdict, off.verdict, fix);
    assert.deepEqual(Object.keys(on.findings).sort(), Object.keys(off.findings).sort(), fix);
    assert.ok(on.complete && off.complete, fix);
    assert.deepEqual(on.warnings, [], fix);
    // Blocks 0 and 1 run one at a time where they touch nothing in common.
    assert.ok(on.states! * 3 < off.states!, `${fix}: ${on.states} states with persistent sets, ${off.states} without`);
  }
});

test("persistent sets never store a state the full search does not (a probe of a pending wait is no observation)", () => {
  // Probing the wait of the step about to run with the fingerprinter's read hook on folded the
  // probe into the thread's history: under tso and pso, 181 states where every reachable one is 180.
  for (const memoryModel of ["sc", "tso", "pso"] as const)
    for (const fix of ["baseline", "recheck-es"]) {
      const on = check("ext4-delalloc-fallocate", { fix, memoryModel, reduction: "state-caching", crossCheck: 0 });
      const off = check("ext4-delalloc-fallocate", { fix, memoryModel, reduction: "state-caching", crossCheck: 0, persistentSets: false });
      assert.ok(on.states! <= off.states!, `${fix} ${memoryModel}: ${on.states} states with persistent sets, ${off.states} without`);
    }
});

/** Two threads on disjoint cells and a third that reads both: only the reader's steps need the others' orders. */
function disjoint() {
  const A = at("a", "WRITE_ONCE(x, 1)");
  const A2 = at("a", "WRITE_ONCE(x, 2)");
  const B = at("b", "WRITE_ONCE(y, 1)");
  const B2 = at("b", "WRITE_ONCE(y, 2)");
  const C = at("c", "READ_ONCE(x) + READ_ONCE(y)");
  return defineScenario({
    id: "disjoint",
    setup: () => ({
      state: { x: new Cell("x", 0), y: new Cell("y", 0), seen: new Cell("seen", -1) },
      threads: {
        *a(t: Task, s) {
          yield A;
          WRITE_ONCE(t, s.x, 1);
          yield A2;
          WRITE_ONCE(t, s.x, 2);
        },
        *b(t: Task, s) {
          yield B;
          WRITE_ONCE(t, s.y, 1);
          yield B2;
          WRITE_ONCE(t, s.y, 2);
        },
        *c(t: Task, s) {
          yield C;
          WRITE_ONCE(t, s.seen, READ_ONCE(t, s.x) * 10 + READ_ONCE(t, s.y));
        },
      },
    }),
    view: (s) => ({ seen: s.seen.value, x: s.x.value, y: s.y.value }),
  });
}

test("footprints learned from nothing grow, the search runs again, and the last search reaches every final state", () => {
  const sc = disjoint();
  const cfg = resolveConfig(sc, "baseline", "default", {}, "sc");
  const finals = (footprints: Footprints | null) => {
    const out = new Set<string>();
    footprints?.resetGrew();
    const s = makeStrategy("state-caching", { seed: 1, runs: Infinity, pctDepth: 3, footprints });
    const stats = runStrategy(sc, cfg, s, {}, (v) => void out.add(JSON.stringify(v.exec.view())));
    assert.ok(stats.complete);
    return { out, states: s.counters.states };
  };
  const all = finals(null);
  // c reads x and y once: every pair of their values, 3 x 3.
  assert.equal(all.out.size, 9);
  const fp = new Footprints();
  const first = finals(fp);
  assert.ok(fp.grew, "a first search with no footprints learns them");
  const second = finals(fp);
  assert.ok(!fp.grew, "the second learns nothing new");
  assert.deepEqual([...second.out].sort(), [...all.out].sort());
  assert.ok(second.states < all.states, `${second.states} states with persistent sets, ${all.states} without`);
  assert.ok(first.states <= all.states);
  assert.ok(fp.reduced > 0 && fp.reduced <= fp.decisions);
  // check() seeds the footprints with sampled executions and agrees with --reduction none.
  const r = check(sc, { reduction: "state-caching" });
  const none = check(sc, { reduction: "none" });
  assert.equal(r.verdict, none.verdict);
  assert.deepEqual(r.findings, {});
  assert.deepEqual(r.warnings, []);
});

test("a state that recurs on the search path: searched again without persistent sets, the same result", () => {
  // repeat: (only the arguments live) if (READ_ONCE(c) == 0) goto repeat; -- with no retry
  // bound, a pass that reads 0 leads back to the state it started from.
  const REPEAT = labelIn("wait_for_c", "repeat");
  const LOAD = at("a", "READ_ONCE(c)");
  const STORE = at("b", "WRITE_ONCE(c, 1)");
  const OTHER = at("d", "WRITE_ONCE(e, 1)");
  const wait_for_c = deadOnReturn(function* wait_for_c(t: Task, c: Cell<number>) {
    for (;;) {
      atLabel(t, REPEAT);
      yield LOAD;
      if (READ_ONCE(t, c) !== 0) return;
    }
  });
  const sc = defineScenario({
    id: "state-cycle",
    setup: () => ({
      state: { c: new Cell("c", 0), e: new Cell("e", 0) },
      threads: {
        *a(t: Task, s) {
          yield* wait_for_c(t, s.c);
        },
        *b(t: Task, s) {
          yield STORE;
          WRITE_ONCE(t, s.c, 1);
        },
        *d(t: Task, s) {
          yield OTHER;
          WRITE_ONCE(t, s.e, 1);
        },
      },
    }),
  });
  // The strategy with persistent sets stops at the cycle...
  const cfg = resolveConfig(sc, "baseline", "default", {}, "sc");
  const fp = new Footprints();
  assert.throws(() => runStrategy(sc, cfg, makeStrategy("state-caching", { seed: 1, runs: Infinity, pctDepth: 3, footprints: fp }), {}, () => {}), StateCycle);
  // ...and check() searches again without them.
  const on = check(sc, { reduction: "state-caching", crossCheck: 0 });
  const off = check(sc, { reduction: "state-caching", crossCheck: 0, persistentSets: false });
  assert.equal(on.verdict, "pass");
  assert.equal(on.states, off.states, "the search that counts is the one without persistent sets");
  assert.deepEqual(on.findings, off.findings);
});

test("racelab check --no-persistent-sets stores every state; the verdict is the same", () => {
  const run = (...extra: string[]) => {
    const r = spawnSync(
      process.execPath,
      ["dist/cli/main.js", "check", "ext4-delalloc-fallocate", "--fix", "recheck-es", "--reduction", "state-caching", "--param", "blocks=2", "--json", ...extra],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { verdict: string; states: number };
  };
  const on = run();
  const off = run("--no-persistent-sets");
  assert.equal(on.verdict, "pass");
  assert.equal(off.verdict, "pass");
  assert.ok(on.states < off.states, `${on.states} < ${off.states}`);
  const r = spawnSync(process.execPath, ["dist/cli/main.js", "check", "ext4-delalloc-fallocate", "--mode", "random", "--runs", "10", "--no-persistent-sets"], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /--persistent-sets is ignored in random mode/);
});
