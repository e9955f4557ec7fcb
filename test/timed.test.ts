/**
 * The timed mode (issue 9): a discrete-event simulation in nanoseconds. Its rates are checked
 * against probabilities computed by hand from the start window and the step costs, a wider
 * injected delay on a window the model has gives a higher rate, spinning and sleeping waiters
 * resume after their own latencies, the mean time to failure follows the rate, results do not
 * depend on the number of parts, and the CLI takes `--mode timed`, `--timing` and
 * `--attempts-per-second`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  complete,
  DECLARE_COMPLETION,
  defineScenario,
  mergeRates,
  Mutex,
  mutex_lock,
  mutex_unlock,
  rateChunks,
  rates,
  resolveTiming,
  sitesIn,
  spin_lock,
  spin_unlock,
  Spinlock,
  udelay,
  wait_for_completion_timeout,
  type Task,
} from "../src/index.js";
import { mttfHours } from "../src/engine/timing.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "dist/cli/main.js");
const at = sitesIn("lib/test.c", "v6.12");
const LOAD = at("inc", "v = x");
const STORE = at("inc", "x = v + 1");
const DELAY = at("inc", "udelay(delay)");
const INC = at("inc_atomic", "x++");

/**
 * cpu0 loads x, busy-waits `delay` ns (param, as ns of ndelay), stores x + 1; cpu1 increments x in
 * one step. Every step costs 0 ns and jitter is 0, so with start offsets u0, u1 uniform in
 * [0, W): the update is lost iff u0 < u1 < u0 + delay, probability d/W - d^2/(2 W^2) for
 * d = delay <= W (and 1/2 for d >= W).
 */
const lost = defineScenario<{ x: number }, Record<string, never>>({
  id: "test-timed-lost-update",
  params: { delay: { description: "ns between cpu0's load and store", default: 0, min: 0, max: 1_000_000 } },
  timing: { windowNs: 1000, stepNs: 0, atomicNs: 0, sleepNs: 0, jitter: 0 },
  setup: (cfg) => ({
    state: { x: 0 },
    threads: {
      *cpu0(t: Task, s) {
        yield LOAD;
        const v = s.x;
        yield* udelay(t, cfg.params.delay! / 1000, DELAY);
        yield STORE;
        s.x = v + 1;
      },
      *cpu1(t: Task, s) {
        yield INC;
        s.x++;
      },
    },
  }),
  endChecks: [{ name: "no lost update", check: (s, r) => (s.x !== 2 ? r.report("invariant", `x = ${s.x}`) : undefined) }],
});

const byHand = (d: number, w: number) => (d >= w ? 0.5 : d / w - (d * d) / (2 * w * w));

test("timed: the rate of a lost update matches the probability computed from the window and the delay", () => {
  for (const delay of [0, 200, 500, 1000, 5000]) {
    const r = rates(lost, { mode: "timed", runs: 20_000, params: { delay } });
    const p = byHand(delay, 1000);
    if (p === 0) assert.equal(r.failures, 0, `delay ${delay}`);
    else assert.ok(r.ci95[0] <= p && p <= r.ci95[1], `delay ${delay} ns: ${p} outside [${r.ci95[0]}, ${r.ci95[1]}]`);
  }
});

test("timed: a wider injected delay gives a higher rate (intervals apart); interleaving modes do not see it", () => {
  const narrow = rates(lost, { mode: "timed", runs: 20_000, params: { delay: 100 } });
  const wide = rates(lost, { mode: "timed", runs: 20_000, params: { delay: 800 } });
  assert.ok(narrow.ci95[1] < wide.ci95[0], `${narrow.rate} vs ${wide.rate}`);
  const a = rates(lost, { mode: "random", runs: 5000, params: { delay: 100 } });
  const b = rates(lost, { mode: "random", runs: 5000, params: { delay: 800 } });
  assert.equal(a.failures, b.failures);
});

test("timed: a site's costNs sets its step's cost (a 1 ms load step makes the update lost whenever cpu1 starts later)", () => {
  const SLOW = at("inc", "v = x (slow)", { costNs: 1e6 });
  const sc = defineScenario<{ x: number }, Record<string, never>>({
    id: "test-timed-site-cost",
    timing: { windowNs: 1000, jitter: 0 },
    setup: () => ({
      state: { x: 0 },
      threads: {
        *cpu0(t: Task, s) {
          yield SLOW;
          const v = s.x;
          yield STORE;
          s.x = v + 1;
        },
        *cpu1(t: Task, s) {
          yield INC;
          s.x++;
        },
      },
    }),
    endChecks: [{ name: "no lost update", check: (s, r) => (s.x !== 2 ? r.report("invariant", `x = ${s.x}`) : undefined) }],
  });
  const r = rates(sc, { mode: "timed", runs: 10_000 });
  assert.ok(r.ci95[0] <= 0.5 && 0.5 <= r.ci95[1], `${r.rate}`);
  assert.throws(() => at("f", "bad", { costNs: -1 }), RangeError);
});

/**
 * cpu0 takes the lock at once and holds it for 100 ns; cpu1 tries 10 ns after the start and
 * waits; an observer looks at 1,000 ns whether cpu1 got in. A spinning cpu1 gets in 50 ns after
 * the release (spinHandoffNs); a sleeping one 5,000 ns after it (wakeupNs): the observer sees it
 * in only with the spinlock.
 */
function handoff(sleeping: boolean) {
  const A = at("owner", "lock"), CS = at("owner", "critical section", { costNs: 100 }), U = at("owner", "unlock");
  const PRE = at("waiter", "before the lock", { costNs: 10 }), L = at("waiter", "lock"), IN = at("waiter", "in"), WU = at("waiter", "unlock");
  const WAIT = at("observer", "wait", { costNs: 1000 }), LOOK = at("observer", "look");
  return defineScenario<{ spin: Spinlock; m: Mutex; inside: boolean }, Record<string, never>>({
    id: sleeping ? "test-timed-mutex" : "test-timed-spin",
    timing: { windowNs: 1, jitter: 0 },
    setup: () => ({
      state: { spin: new Spinlock("spin"), m: new Mutex("m"), inside: false },
      threads: {
        *owner(t: Task, s) {
          if (sleeping) yield* mutex_lock(t, s.m, A);
          else yield* spin_lock(t, s.spin, A);
          yield CS;
          if (sleeping) yield* mutex_unlock(t, s.m, U);
          else yield* spin_unlock(t, s.spin, U);
        },
        *waiter(t: Task, s) {
          yield PRE;
          if (sleeping) yield* mutex_lock(t, s.m, L);
          else yield* spin_lock(t, s.spin, L);
          yield IN;
          s.inside = true;
          if (sleeping) yield* mutex_unlock(t, s.m, WU);
          else yield* spin_unlock(t, s.spin, WU);
        },
        *observer(t: Task, s) {
          yield WAIT;
          yield LOOK;
          if (!s.inside) t.warn("the waiter is not in yet at 1 µs");
        },
      },
    }),
  });
}

test("timed: a spinning waiter gets the lock a hand-off after the release, a sleeping one after a wake-up", () => {
  const spin = rates(handoff(false), { mode: "timed", runs: 200 });
  const mutex = rates(handoff(true), { mode: "timed", runs: 200 });
  assert.equal(spin.failures, 0);
  assert.equal(mutex.failures, 200);
  // A faster wake-up (500 ns) lets the sleeper in before the observer looks.
  const fast = rates(handoff(true), { mode: "timed", runs: 200, timing: { wakeupNs: 500 } });
  assert.equal(fast.failures, 0);
});

/**
 * The device answers after `answer` ns (a udelay, then complete()); the driver waits with a
 * timeout of `timeout` ns: it times out (the finding) exactly when the answer comes later than the
 * timeout, whatever the start offsets in a window of 1 ns.
 */
function commandTimeout(timeoutNs: number, windowNs = 1, deviceStartNs?: number) {
  const t_ = sitesIn("drivers/misc/test.c", "v6.12");
  const WORK = t_("device", "udelay(answer)");
  const DONE = t_("device", "complete(&cmd_done)");
  const WAIT = t_("driver", "wait_for_completion_timeout(&cmd_done, timeout)");
  return defineScenario<{ done: ReturnType<typeof DECLARE_COMPLETION> }, Record<string, never>>({
    id: `test-timed-completion-timeout-${timeoutNs}-${windowNs}-${deviceStartNs === undefined ? "drawn" : deviceStartNs < 0 ? "bad" : deviceStartNs}`,
    timing: { windowNs, stepNs: 0, atomicNs: 0, sleepNs: 0, wakeupNs: 0, jitter: 0 },
    setup: () => ({
      state: { done: DECLARE_COMPLETION("cmd_done") },
      threads: {
        device: {
          *body(t: Task, s) {
            yield* udelay(t, 50, WORK);
            yield* complete(t, s.done, DONE);
          },
          startNs: deviceStartNs,
        },
        *driver(t: Task, s) {
          if ((yield* wait_for_completion_timeout(t, s.done, timeoutNs, WAIT)) === 0) t.violated("timed out");
        },
      },
    }),
  });
}

test("timed: wait_for_completion_timeout() times out only when the complete() comes after the timeout; the other modes see both", () => {
  assert.equal(rates(commandTimeout(10_000), { mode: "timed", runs: 200 }).failures, 200, "a 10 µs timeout before a 50 µs answer");
  assert.equal(rates(commandTimeout(1_000_000), { mode: "timed", runs: 200 }).failures, 0, "a 1 ms timeout after a 50 µs answer");
  const random = rates(commandTimeout(1_000_000), { mode: "random", runs: 400 });
  assert.ok(random.failures > 0 && random.failures < 400, `random mode: the timer may fire at any point (${random.failures} of 400)`);
  // A 200 ms window delays the device too, past the driver's 1 ms timeout in about half the runs;
  // a device there from the start (startNs: 0) answers at 50 µs whenever the driver comes (new-user trial 25).
  const drawn = rates(commandTimeout(1_000_000, 200_000_000), { mode: "timed", runs: 400 }).failures;
  assert.ok(drawn > 100 && drawn < 300, `device start drawn from the window: ${drawn} of 400`);
  assert.equal(rates(commandTimeout(1_000_000, 200_000_000, 0), { mode: "timed", runs: 400 }).failures, 0);
  assert.throws(() => rates(commandTimeout(1_000_000, 1, -1), { mode: "timed", runs: 1 }), /thread device: startNs must be a finite number of ns >= 0, got -1/);
});

test("timed: the mean time to failure is 1/(rate x attempts/s), with its interval; null without a failure", () => {
  const r = rates(lost, { mode: "timed", runs: 10_000, params: { delay: 500 }, attemptsPerSecond: 128 / 86400 });
  assert.ok(r.mttfHours !== null && Math.abs(r.mttfHours - 1 / (r.rate * (128 / 86400)) / 3600) < 1e-9);
  assert.ok(r.mttfHoursCi95 !== null && r.mttfHoursCi95[0] < r.mttfHours && r.mttfHours < r.mttfHoursCi95[1]!);
  assert.equal(r.attemptsPerSecond, 128 / 86400);
  assert.equal(r.timing?.windowNs, 1000);
  const none = rates(lost, { mode: "timed", runs: 1000 });
  assert.equal(none.mttfHours, null);
  assert.equal(none.mttfHoursCi95?.[1], null);
  assert.equal(mttfHours(0.5, 2), 1 / 3600);
  const random = rates(lost, { mode: "random", runs: 100 });
  assert.equal(random.mttfHours, null);
  assert.equal(random.timing, null);
  assert.throws(() => rates(lost, { mode: "timed", attemptsPerSecond: 0 }), /attemptsPerSecond/);
  assert.throws(() => rates(lost, { mode: "timed", timing: { jitter: 2 } }), /jitter/);
  assert.throws(() => resolveTiming({ nope: 1 } as never), /unknown timing 'nope'/);
  assert.throws(() => defineScenario({ id: "bad-timing", timing: { windowNs: 0 }, setup: () => ({ state: {}, threads: [] }) }), /windowNs/);
});

test("timed: the same counts whatever the number of parts", () => {
  const opts = { mode: "timed" as const, runs: 6000, params: { delay: 300 } };
  const one = rates(lost, opts);
  const parts = [2, 0, 1].map((index) => rateChunks(lost, { ...opts, part: { index, count: 3 } }));
  const merged = mergeRates(lost, opts, parts, 3, 0);
  assert.deepEqual({ ...merged, elapsedMs: 0, workers: 1 }, { ...one, elapsedMs: 0 });
});

test("racelab rates --mode random,pct,timed: runs to first failure per mode; --timing and --attempts-per-second; bad input exit 2", () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, "rates", ...args], { encoding: "utf8" });
  const text = run("ext4-delalloc-fallocate", "--mode", "random,pct,timed", "--runs", "2000", "--quiet");
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /runs to first failure \(expected: 1\/rate\) per mode: random \/ pct \/ timed/);
  assert.match(text.stdout, /, timed: [\d,]+ of 2,000 executions fail/);
  assert.match(text.stdout, /mean time to failure at 1 racing attempt\/s: /);
  const json = run("ext4-delalloc-fallocate", "--mode", "timed", "--runs", "1000", "--timing", "windowNs=5000", "--timing", "jitter=0.1", "--attempts-per-second", "0.5", "--json");
  assert.equal(json.status, 0, json.stderr);
  const [r] = JSON.parse(json.stdout) as { mode: string; timing: { windowNs: number; jitter: number }; attemptsPerSecond: number; mttfHours: number | null }[];
  assert.equal(r!.mode, "timed");
  assert.equal(r!.timing.windowNs, 5000);
  assert.equal(r!.timing.jitter, 0.1);
  assert.equal(r!.attemptsPerSecond, 0.5);
  for (const bad of [["--mode", "timed,bogus"], ["--mode", "timed", "--timing", "windowNs=0"], ["--mode", "timed", "--timing", "foo=1"], ["--mode", "timed", "--attempts-per-second", "0"]]) {
    const b = run("ext4-delalloc-fallocate", ...bad);
    assert.equal(b.status, 2, bad.join(" "));
    assert.equal(b.stderr.trim().split("\n").length, 1, b.stderr);
  }
  const noted = run("ext4-delalloc-fallocate", "--runs", "1000", "--timing", "windowNs=5", "--quiet");
  assert.equal(noted.status, 0);
  assert.match(noted.stderr, /--timing and --attempts-per-second are ignored without --mode timed/);
});

test("charts: rate vs a swept parameter, modes side by side, runs to first failure per mode; all render to SVG", async () => {
  const { rateSweepChart, firstFailureChart, ratesChart, sweptParam, renderChartSvg, rateRows } = await import("../src/index.js");
  const sweep = [0, 100, 400, 800].map((delay) => rates(lost, { mode: "timed", runs: 2000, params: { delay } }));
  assert.equal(sweptParam(sweep), "delay");
  const s = rateSweepChart(sweep) as { data: { values: { x: number; rate: number }[] }; encoding?: unknown; layer: unknown[]; title: { text: string } };
  assert.deepEqual(s.data.values.map((v) => v.x), [0, 100, 400, 800]);
  assert.ok(s.data.values[3]!.rate > s.data.values[1]!.rate, "the rates the chart draws are the results'");
  assert.match(s.title.text, /failure rate vs delay/);
  assert.throws(() => rateSweepChart([sweep[0]!]), /sweep no single parameter/);
  const modes = (["random", "pct", "timed"] as const).map((mode) => rates(lost, { mode, runs: 2000, params: { delay: 400 } }));
  const m = ratesChart(modes) as { data: { values: { mode: string }[] }; layer: { encoding: Record<string, unknown> }[] };
  assert.deepEqual(m.data.values.map((v) => v.mode), ["uniform random", "PCT d=3", "timed (window 1,000 ns)"]);
  assert.ok("xOffset" in m.layer[1]!.encoding && "color" in m.layer[1]!.encoding);
  const f = firstFailureChart(modes) as { data: { values: { mode: string; first: number; expected: number | null }[] } };
  for (const [i, v] of f.data.values.entries()) {
    assert.equal(v.first, modes[i]!.firstFailure);
    assert.equal(v.expected, modes[i]!.runs / modes[i]!.failures);
  }
  const rows = rateRows(modes);
  assert.ok("scheduler" in rows[0]! && Object.keys(rows[2]!).some((k) => k.startsWith("MTTF at")));
  // A mode that found no failure is a faded, dashed lower bound (new-user trial 24 read it as the slowest failure).
  const nf = firstFailureChart([modes[0]!, { ...modes[2]!, failures: 0, firstFailure: null }]) as {
    data: { values: { none: boolean; text: string }[] };
    layer: { encoding: Record<string, unknown> }[];
    title: { subtitle: string[] };
  };
  assert.deepEqual(nf.data.values.map((v) => v.none), [false, true]);
  assert.equal(nf.data.values[1]!.text, "none in 2,000");
  assert.ok("fillOpacity" in nf.layer[0]!.encoding && "strokeDash" in nf.layer[0]!.encoding);
  assert.match(nf.title.subtitle.join(" "), /faded dashed bar: no failure in that many runs/);
  for (const spec of [s, m, f, nf]) assert.match(await renderChartSvg(spec as never), /^<svg[\s\S]*<\/svg>\s*$/);
});

test("charts fit a 978 px notebook output area: wide fix sets and variant panels shrink or stack, long subtitles wrap", async () => {
  const { violationsChart, ratesChart, renderChartSvg, checkAll, CHART_WIDTH } = await import("../src/index.js");
  const width = async (spec: unknown) => Number(/width="(\d+)"/.exec(await renderChartSvg(spec as never))![1]);
  const fm = checkAll("filemap-folio-split");
  assert.ok((await width(violationsChart(fm, ["default", "persistent-corruption"]))) <= 900);
  const four = violationsChart(fm, ["default", "persistent-corruption", "uniform-split", "folio-lock-lookup"]) as { columns?: number };
  assert.equal(four.columns, 1, "four variant panels stack");
  assert.ok((await width(four)) <= 900);
  const many = ["a", "b", "c", "d", "e", "f"].map((fix) => ({ ...rates(lost, { mode: "random", runs: 200, params: { delay: 400 } }), fix }));
  const spec = ratesChart(many) as { width: number; title: { subtitle: unknown } };
  assert.ok(spec.width <= CHART_WIDTH);
  assert.ok(Array.isArray(spec.title.subtitle) || String(spec.title.subtitle).length <= 80);
});

test("timed under tso: a drain time no plain step outlasts is a warning on the rate (the lost wake-up ran 0 times; new-user trial 16)", async () => {
  const { loadScenario } = await import("../src/registry.js");
  const sc = await loadScenario(path.join(root, "test/fixtures/lost-wakeup.ts"));
  const tso = rates(sc, { mode: "timed", memoryModel: "tso", runs: 2000 });
  assert.equal(tso.failures, 0);
  assert.equal(tso.warnings.length, 1);
  assert.match(tso.warnings[0]!, /^under tso, a buffered store becomes visible 20 ns after it is made \(storeDrainNs\), before its CPU's next plain step can start \(stepNs 50 ns × \(1 − jitter 0.5\) = 25 ns at the soonest\)/);
  // A drain that outlasts a step: the window opens, the rate is no longer 0, and no warning.
  const slow = rates(sc, { mode: "timed", memoryModel: "tso", runs: 2000, timing: { storeDrainNs: 100 } });
  assert.ok(slow.failures > 0, `${slow.failures} failures`);
  assert.deepEqual(slow.warnings, []);
  // sc and the sampling modes: nothing to warn of.
  assert.deepEqual(rates(sc, { mode: "timed", runs: 200 }).warnings, []);
  assert.deepEqual(rates(sc, { mode: "random", memoryModel: "tso", runs: 200 }).warnings, []);
  const text = spawnSync(process.execPath, [cli, "rates", "test/fixtures/lost-wakeup.ts", "--mode", "timed", "--memory-model", "tso", "--runs", "500"], { cwd: root, encoding: "utf8" });
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /\n  warning: under tso, a buffered store becomes visible 20 ns/);
});
