/**
 * Failure rates (issue 9, first part): Wilson intervals against published figures, agreement
 * with a probability known by hand, determinism whatever the number of workers, PCT's bound,
 * partial runs labelled, and the CLI's `racelab rates`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Cell, defineScenario, exactFailureProbability, mergeRates, rateChunks, rates, READ_ONCE, sitesIn, wilson, WRITE_ONCE, type Task } from "../src/index.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "dist/cli/main.js");
const at = sitesIn("lib/test.c", "v6.12");
const S = at("t", "step");

test("wilson: the 95% score interval matches Newcombe (1998), Table I, method 3", () => {
  const cases: [number, number, number, number][] = [
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ];
  for (const [x, n, lo, hi] of cases) {
    const [a, b] = wilson(x, n);
    assert.ok(Math.abs(a - lo) < 5e-5 && Math.abs(b - hi) < 5e-5, `${x}/${n}: [${a}, ${b}]`);
  }
  assert.deepEqual(wilson(0, 0), [0, 1]);
  assert.equal(wilson(7, 7)[1], 1);
  assert.throws(() => wilson(3, 2), RangeError);
  assert.throws(() => wilson(0.5, 2), RangeError);
});

/** T0 sets a flag in one step; T1 warns when it reads it set: under a uniform random scheduler, P = 1/2. */
const coin = defineScenario<{ c: Cell<number> }, Record<string, never>>({
  id: "test-coin",
  setup: () => ({
    state: { c: new Cell("c", 0) },
    threads: {
      *t0(t: Task, s) {
        yield S;
        WRITE_ONCE(t, s.c, 1);
      },
      *t1(t: Task, s) {
        yield S;
        if (READ_ONCE(t, s.c) === 1) t.warn("saw c == 1");
      },
    },
  }),
  view: (s) => ({ c: s.c.peek() }),
});

/**
 * T0: x = 1; x = 0 (two steps). T1 BUGs when it reads x == 1: it must run between T0's steps,
 * a bug of depth 2 (one ordering constraint beyond the first thread to run).
 */
const depth2 = defineScenario<{ x: Cell<number> }, Record<string, never>>({
  id: "test-depth2",
  setup: () => ({
    state: { x: new Cell("x", 0) },
    threads: {
      *t0(t: Task, s) {
        yield S;
        WRITE_ONCE(t, s.x, 1);
        yield S;
        WRITE_ONCE(t, s.x, 0);
      },
      *t1(t: Task, s) {
        yield S;
        if (READ_ONCE(t, s.x) === 1) t.bug("x == 1");
      },
    },
  }),
  view: (s) => ({ x: s.x.peek() }),
});

test("random mode: the interval contains a probability known by hand (1/2, and 1/4 for T1 between T0's steps)", () => {
  const r = rates(coin, { runs: 20_000, seed: 5 });
  assert.equal(r.runs, 20_000);
  assert.ok(r.ci95[0] <= 0.5 && 0.5 <= r.ci95[1], `[${r.ci95}] contains 1/2`);
  assert.deepEqual(r.kinds.map((k) => k.finding), ["warning"]);
  // T1 runs second of three steps with probability 1/2 * 1/2 = 1/4 under uniform choice.
  const d = rates(depth2, { runs: 20_000, seed: 9 });
  assert.ok(d.ci95[0] <= 0.25 && 0.25 <= d.ci95[1], `[${d.ci95}] contains 1/4`);
  assert.equal(d.firstFailure !== null && d.firstFailure >= 1, true);
});

test("the same counts whatever the number of parts (workers) and their order", () => {
  const opts = { fix: "baseline", runs: 2_500, seed: 11 } as const;
  const one = rates("ext4-delalloc-fallocate", opts);
  for (const count of [2, 3]) {
    const parts = Array.from({ length: count }, (_, index) => rateChunks("ext4-delalloc-fallocate", { ...opts, part: { index, count } })).reverse();
    const merged = mergeRates("ext4-delalloc-fallocate", opts, parts, count, 0);
    assert.deepEqual({ ...merged, elapsedMs: 0, workers: 1 }, { ...one, elapsedMs: 0 }, `${count} parts`);
  }
});

test("pct: a depth-2 bug is found at least as often as the paper's bound 1/(n k^(d-1)) says", () => {
  const r = rates(depth2, { mode: "pct", pctDepth: 2, runs: 2_000, seed: 3 });
  assert.ok(r.pctBound !== null && r.pctBound > 0);
  assert.equal(r.pctDepth, 2);
  assert.ok(r.rate >= r.pctBound!, `rate ${r.rate} >= bound ${r.pctBound}`);
  assert.equal(rates(depth2, { runs: 10 }).pctBound, null, "no bound in random mode");
});

test("a stopped run is labelled partial and counts only what ran", () => {
  const r = rates("ext4-delalloc-fallocate", { runs: 50_000, stop: () => "interrupted (test)" });
  assert.equal(r.partial, true);
  assert.equal(r.stopReason, "interrupted (test)");
  assert.ok(r.runs < 50_000 && r.runs > 0);
  assert.ok(r.ci95[0] <= r.rate && r.rate <= r.ci95[1]);
});

test("racelab rates: JSON identical for --workers 1 and 3; sweeps; bad input is one line, exit 2", () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, "rates", ...args], { encoding: "utf8" });
  const strip = (text: string) => (JSON.parse(text) as Record<string, unknown>[]).map((r) => ({ ...r, elapsedMs: 0, workers: 0 }));
  const args = ["ext4-delalloc-fallocate", "--all-fixes", "--runs", "3000", "--seed", "4", "--json"];
  const a = run(...args, "--workers", "1");
  const b = run(...args, "--workers", "3");
  assert.equal(a.status, 0, a.stderr);
  assert.deepEqual(strip(b.stdout), strip(a.stdout));
  const rs = JSON.parse(a.stdout) as { fix: string; failures: number; rate: number; ci95: number[]; exact: null; mttfHours: null; seed: number }[];
  assert.deepEqual(rs.map((r) => r.fix), ["baseline", "recheck-es"], "fixes in the order the scenario declares them");
  assert.ok(rs[0]!.failures > 0 && rs[1]!.failures === 0);
  for (const k of ["scenario", "fix", "variant", "mode", "runs", "failures", "rate", "ci95", "exact", "mttfHours", "seed", "workers", "elapsedMs"])
    assert.ok(k in rs[0]!, `JSON has ${k}`);
  const sweep = run("filemap-folio-split", "--param", "order=1,2", "--runs", "500", "--json");
  assert.equal(sweep.status, 0, sweep.stderr);
  assert.deepEqual((JSON.parse(sweep.stdout) as { params: { order: number } }[]).map((r) => r.params.order), [1, 2]);
  for (const bad of [["--param", "blocks=1,x"], ["--mode", "exhaustive"], ["--runs", "0"], ["--param", "blocks=9"]]) {
    const t = run("ext4-delalloc-fallocate", ...bad);
    assert.equal(t.status, 2, bad.join(" "));
    assert.equal(t.stderr.trim().split("\n").length, 1, t.stderr);
  }
  const text = run("ext4-delalloc-fallocate", "--runs", "2000");
  assert.match(text.stdout, /baseline\/default, random: [\d,]+ of 2,000 executions fail, [\d.]+% \[[\d.]+%, [\d.]+%\] \(95% Wilson\)/);
});

test("exact: the probability under the uniform random scheduler, and the Monte-Carlo interval contains it", () => {
  assert.equal(exactFailureProbability(coin), 0.5);
  assert.equal(exactFailureProbability(depth2), 0.25);
  const ext4 = rates("ext4-delalloc-fallocate", { runs: 20_000, seed: 2, exact: true });
  assert.ok(ext4.exact !== null && ext4.exact > 0 && ext4.exact < 1);
  assert.ok(ext4.ci95[0] <= ext4.exact! && ext4.exact! <= ext4.ci95[1], `[${ext4.ci95}] contains ${ext4.exact}`);
  assert.equal(rates("ext4-delalloc-fallocate", { fix: "recheck-es", runs: 100, exact: true }).exact, 0, "the fix: probability 0");
  assert.equal(exactFailureProbability("ext4-delalloc-fallocate", {}, 10), null, "over the limit: null");
  assert.equal(rates(coin, { runs: 10 }).exact, null, "not asked: null");
});

test("racelab check --mode pct --pct-depth d: the depth reaches PCT; out of range is one line, exit 2; ignored elsewhere with a note", () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, "check", "ext4-delalloc-fallocate", ...args], { encoding: "utf8" });
  const d1 = run("--mode", "pct", "--pct-depth", "1", "--runs", "500", "--json");
  const d3 = run("--mode", "pct", "--pct-depth", "3", "--runs", "500", "--json");
  assert.equal(d1.status, 0, d1.stderr);
  // Depth 1 has no change point: each run is one priority order, so fewer distinct outcomes.
  assert.notDeepEqual(JSON.parse(d1.stdout).findings, JSON.parse(d3.stdout).findings);
  const bad = run("--mode", "pct", "--pct-depth", "0");
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  assert.match(run("--pct-depth", "2").stderr, /--pct-depth is ignored in exhaustive mode/);
});

/** T0: a = 1; b = 1. T1 warns when it reads b == 1 and then a == 0: only a pso reordering of T0's stores allows it. */
const mp = defineScenario<{ a: Cell<number>; b: Cell<number> }, Record<string, never>>({
  id: "test-mp",
  setup: () => ({
    state: { a: new Cell("a", 0), b: new Cell("b", 0) },
    threads: {
      *w(t: Task, s) {
        yield S;
        WRITE_ONCE(t, s.a, 1);
        yield S;
        WRITE_ONCE(t, s.b, 1);
      },
      *r(t: Task, s) {
        yield S;
        const b = READ_ONCE(t, s.b);
        yield S;
        if (b === 1 && READ_ONCE(t, s.a) === 0) t.warn("b without a");
      },
    },
  }),
  view: (s) => ({ a: s.a.peek(), b: s.b.peek() }),
});

test("exact under pso: choice steps weigh 1/(alternatives) at every node, replayed or not (the interval contains it)", () => {
  assert.equal(exactFailureProbability(mp, { memoryModel: "sc" }), 0);
  const r = rates(mp, { memoryModel: "pso", runs: 40_000, seed: 3, exact: true });
  assert.ok(r.exact !== null && r.exact > 0);
  assert.ok(r.ci95[0] <= r.exact! && r.exact! <= r.ci95[1], `[${r.ci95}] contains ${r.exact}`);
});

import { configClock } from "../src/cli/program.js";

test("rates progress: each configuration's rate counts from its own start, not the command's", () => {
  const clock = configClock(1000);
  // Configuration 0 reports at 1,500 and 3,000 ms; configuration 1 starts when 0 last reported.
  assert.equal(clock(0, 1500), 500);
  assert.equal(clock(0, 3000), 2000);
  assert.equal(clock(1, 3100), 100);
  assert.equal(clock(1, 4000), 1000);
  assert.equal(clock(2, 4200), 200);
  // --exact's enumeration reports first: its time counts from the configuration's start; the
  // sampled executions' rate then counts from its last report, not across it (trial 21).
  const ex = configClock(0);
  assert.equal(ex(0, 50_000, true), 50_000);
  assert.equal(ex(0, 106_000, true), 106_000);
  assert.equal(ex(0, 107_000), 1000);
  assert.equal(ex(0, 108_000), 2000);
});

test("rates --exact reports its enumeration as progress before the sampled executions", () => {
  const seen: [number, number, number | undefined][] = [];
  const r = rates("ext4-delalloc-fallocate", { runs: 1000, exact: true, onProgress: (done, total, exact) => seen.push([done, total, exact]) });
  assert.ok(r.exact !== null);
  const enumerating = seen.filter((x) => x[2] !== undefined);
  assert.ok(enumerating.length > 0, "at least the last report of the enumeration (1.5 s of it)");
  assert.ok(enumerating.every(([done, total, n]) => done === 0 && total === 1000 && n! > 0 && n! <= 1_000_000), JSON.stringify(enumerating));
  // Then the sampled executions, without `exact`.
  assert.deepEqual(seen.at(-1), [1000, 1000, undefined]);
});

test("executions cut at the step bound are a warning on the rate, and --exact gives up at the first one (a spin without t.retry() read '0 of 10 executions fail' and --exact ran for minutes; trial 19)", () => {
  const POLL = sitesIn("lib/spin.c", "v6.12")("spin", "while (!READ_ONCE(s->go))");
  const spin = defineScenario({
    id: "spin-forever",
    setup: () => ({
      state: { go: 0, n: 0 },
      threads: {
        *a(t: Task, s: { go: number; n: number }) {
          for (;;) {
            yield POLL;
            if (s.go) break;
            s.n++;
          }
        },
        *b(t: Task, s: { go: number; n: number }) {
          for (;;) {
            yield POLL;
            if (s.go) break;
            s.n++;
          }
        },
      },
    }),
  });
  const t0 = Date.now();
  assert.equal(exactFailureProbability(spin), null);
  assert.ok(Date.now() - t0 < 10_000, `${Date.now() - t0} ms`);
  const r = rates(spin, { runs: 10 });
  assert.equal(r.failures, 0);
  assert.deepEqual(r.warnings, [
    "10 of 10 executions ran past the step bound (10,000 steps) and were cut: they count as executions that did not fail, so the rate may be too low; " +
      "a loop that can go round forever should call t.retry(loop, bound) each time round",
  ]);
  // A model whose executions end has no such warning.
  assert.deepEqual(rates("ext4-delalloc-fallocate", { runs: 100 }).warnings, []);
});
