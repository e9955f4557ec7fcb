// Memory models in the stories (issue 7 part 4): diagrams and trace JSON name the store a
// store-buffer step makes visible; Session shows pending stores; the replay hint carries the
// configuration (--variant, --param, --memory-model); checkAll takes the memory model as a dimension.
import { test } from "node:test";
import { captureDisplays } from "./fixtures/capture-displays.js";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { check, replay, replayCounterexample, type CheckResult } from "../src/engine/check.js";
import { Cell, load, smp_wmb, store } from "../src/engine/memory.js";
import { replayCommand, replayCommandFor } from "../src/engine/replay-hint.js";
import type { Scenario, SourceRef } from "../src/engine/scenario.js";
import { sitesIn } from "../src/engine/site.js";
import type { Task } from "../src/engine/task.js";
import { renderDiagram } from "../src/engine/trace.js";
import { Session } from "../src/notebook/session.js";
import { checkAll, checkRows, showClaims, showLeftOut, violationsChart } from "../src/notebook/views.js";
import { renderChartSvg } from "../src/notebook/display.js";
import { getScenario } from "../src/scenarios/index.js";

const STATIC = "a buffered store becomes visible";
const src: SourceRef = { seed: "-", author: "-", date: "2026-01-01", subject: "-" };
const site = sitesIn("test.c", "v0");
const WRITER = site("writer", "store");
const READER = site("reader", "load");

/**
 * Message passing: the writer stores data = 1, (optionally smp_wmb,) then flag = 1; the reader
 * loads flag then data. Under pso flag = 1 may become visible first: the reader sees flag 1, data 0.
 */
function mp(wmb: boolean): Scenario<{ data: Cell<number>; flag: Cell<number>; seen: string }, object> {
  return {
    id: "mp", title: "", summary: "", kernel: "v0", thread: src, params: [], defaults: {},
    fixes: [{ id: "baseline", title: "", description: "", source: src, options: {} }],
    variants: [{ id: "default", title: "", description: "", options: {}, memoryModel: "pso" }],
    setup() {
      const state = { data: new Cell("data", 0), flag: new Cell("flag", 0), seen: "" };
      return {
        state,
        threads: [
          {
            name: "writer",
            *body(t: Task, s: typeof state) {
              yield WRITER;
              store(t, s.data, 1);
              if (wmb) smp_wmb(t);
              yield WRITER;
              store(t, s.flag, 1);
            },
          },
          {
            name: "reader",
            *body(t: Task, s: typeof state) {
              yield READER;
              const f = load(t, s.flag);
              yield READER;
              const d = load(t, s.data);
              if (f === 1 && d === 0) t.report("invariant", "reader saw flag = 1 but data = 0");
            },
          },
        ],
      };
    },
    view: (s) => ({ data: s.data.value, flag: s.flag.value }),
    claims: [],
    leftOut: [],
  };
}

test("a pso counterexample's diagram and trace JSON name the store each store-buffer step makes visible", () => {
  const sc = mp(false);
  const r = check(sc);
  assert.equal(r.memoryModel, "pso");
  assert.equal(r.verdict, "fail");
  const exec = replayCounterexample(sc, r)!;
  const diagram = renderDiagram(exec, 120);
  assert.match(diagram, /\/\/ flag = 1 becomes visible/, diagram);
  assert.doesNotMatch(diagram, new RegExp(STATIC), diagram);
  const flushes = r.counterexample!.steps.filter((s) => s.thread === "writer store buffer");
  assert.ok(flushes.length > 0);
  for (const s of flushes) {
    assert.match(s.label, /^(data|flag) = 1 becomes visible$/);
    assert.deepEqual(Object.keys(s).slice(0, 4), ["thread", "function", "label", "source"]);
    assert.equal(s.notes, undefined, "the store is the label, not repeated as a note");
  }
  assert.equal(flushes[0]!.label, "flag = 1 becomes visible", "flag overtakes data: the reordering the finding needs");

  // The same on a bundled scenario: filemap-folio-split's split under pso, its after-split folios' fields.
  const fs = getScenario("filemap-folio-split");
  const f = check(fs, { fix: "baseline", variant: "persistent-corruption", memoryModel: "pso", params: { order: 1 }, maxExecutions: 300 });
  const steps = f.counterexample!.steps.filter((s) => s.thread === "folio_split store buffer");
  assert.ok(steps.some((s) => s.label === "folio@1499.index = 1499 becomes visible"), steps.map((s) => s.label).join("\n"));
  assert.ok(steps.every((s) => s.label !== STATIC));
  assert.match(renderDiagram(replayCounterexample(fs, f)!, 200), /\/\/ folio@1499\.index = 1499 becomes visible/);
});

test("Session.state and Session.show list each CPU's pending stores under tso/pso, not under sc", () => {
  const s = new Session(mp(true));
  assert.deepEqual(s.storeBuffers, { "writer store buffer": "empty", "reader store buffer": "empty" });
  s.step("writer", 2);
  // smp_wmb() separates the two stores: ` | `.
  assert.equal(s.state["writer store buffer"], "data = 1 | flag = 1");
  assert.equal(s.state["reader store buffer"], "empty");
  assert.equal(s.state.data, 0, "the scenario's own view is still there");
  s.step("writer store buffer");
  assert.equal(s.state["writer store buffer"], "flag = 1");
  assert.equal(s.stepRows(true).at(-1)!.step, "data = 1 becomes visible");

  // show() displays the state table with those rows: capture its display messages with a
  // stand-in for tslab's display channel (display.ts finds it among the loaded modules).
  const shown = captureDisplays(() => s.show());
  assert.match(shown.at(-1)!, /state after 3 steps/);
  assert.match(shown.at(-1)!, /writer store buffer\s+flag = 1/);
  assert.match(shown.at(-1)!, /reader store buffer\s+empty/);

  const plain = new Session("ext4-delalloc-fallocate");
  assert.deepEqual(plain.storeBuffers, {});
  assert.ok(!Object.keys(plain.state).some((k) => k.endsWith("store buffer")));
  const pso = new Session("ext4-delalloc-fallocate", { memoryModel: "pso" });
  assert.equal(pso.state["ext4_page_mkwrite store buffer"], "empty");
});

const BIN = "dist/cli/main.js";
function racelab(args: readonly string[]) {
  assert.ok(existsSync(BIN), "build first (npm test builds)");
  // (Not started by npm, as a user would run it: the printed commands then say `node dist/cli/main.js`.)
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_")));
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
/** The words of a command replayCommand printed (no quoting needed for these ids). */
function words(cmd: string): string[] {
  assert.doesNotMatch(cmd, /['"\\]/);
  return cmd.split(" ");
}

test("replayCommand carries --variant, --param and --memory-model; the printed command replays the finding", () => {
  const sc = getScenario("filemap-folio-split");
  const r = check(sc, { fix: "baseline", variant: "persistent-corruption", memoryModel: "pso", params: { order: 1 }, maxExecutions: 300 });
  const ce = r.counterexample!;
  const cmd = replayCommand(r);
  assert.equal(
    cmd,
    `racelab replay filemap-folio-split --fix baseline --variant persistent-corruption --param order=1 --memory-model pso --schedule ${ce.schedule}`,
  );
  const [bin, ...args] = words(cmd);
  assert.equal(bin, "racelab");
  const out = racelab([...args, "--json"]);
  assert.equal(out.code, 0, out.stderr);
  const j = JSON.parse(out.stdout);
  assert.equal(j.memoryModel, "pso");
  assert.equal(j.finding, ce.finding);
  assert.deepEqual(j.steps, ce.steps);
  // Without the memory model the schedule names a store-buffer thread that sc does not have.
  assert.equal(racelab(args.filter((a, i) => a !== "--memory-model" && args[i - 1] !== "--memory-model")).code, 2);

  // `racelab check` prints the same command next to its counterexample.
  const printed = racelab(["check", "ext4-delalloc-fallocate", "--variant", "default", "--memory-model", "tso"]);
  assert.equal(printed.code, 0, printed.stderr);
  // (As this process ran it, so that it pastes back: `node dist/cli/main.js` here, `npx racelab` under npx.)
  const line = /counterexample \(\d+ preemptions?\): (node dist\/cli\/main\.js replay .*)$/m.exec(printed.stdout);
  assert.ok(line, printed.stdout);
  assert.match(line[1]!, /^node dist\/cli\/main\.js replay ext4-delalloc-fallocate --fix baseline --memory-model tso --schedule \S+$/);
  const again = racelab([...words(line[1]!).slice(2), "--json"]);
  assert.equal(again.code, 0, again.stderr);
  assert.notEqual(JSON.parse(again.stdout).finding, null);
});

test("replayCommandFor: defaults are left out; a variant's own model is left out only when it is sc; unknown scenarios get everything", () => {
  const base = { scenario: "filemap-folio-split", fix: "baseline", variant: "default", schedule: "0x3.1x2" } as const;
  const params = getScenario("filemap-folio-split").params.reduce<Record<string, number>>((o, p) => ({ ...o, [p.name]: p.default }), {});
  assert.equal(replayCommandFor({ ...base, params, memoryModel: "sc" }), "racelab replay filemap-folio-split --fix baseline --schedule 0x3.1x2");
  // relaxed-stores runs under pso with order=2 newOrder=1 by default: none of them is printed but pso, which is not sc.
  const relaxed = { ...base, variant: "relaxed-stores", params: { ...params, order: 2, newOrder: 1 } };
  assert.equal(replayCommandFor({ ...relaxed, memoryModel: "pso" }), "racelab replay filemap-folio-split --fix baseline --variant relaxed-stores --memory-model pso --schedule 0x3.1x2");
  // Checked under sc, the pso variant needs --memory-model sc to replay the same run.
  assert.match(replayCommandFor({ ...relaxed, memoryModel: "sc" }), /--memory-model sc --schedule/);
  // A scenario racelab does not bundle: every parameter and the model, explicitly; the reference as given.
  assert.equal(
    replayCommandFor({ scenario: "mine", fix: "baseline", variant: "default", params: { n: 2 }, memoryModel: "sc", schedule: "0x1" }, "./my race.ts"),
    "racelab replay './my race.ts' --fix baseline --param n=2 --memory-model sc --schedule 0x1",
  );
  const none: CheckResult = { ...check(getScenario("ext4-delalloc-fallocate"), { fix: "recheck-es" }) };
  assert.throws(() => replayCommand(none), /no counterexample/);
  // A scenario object supplies the defaults and the name; Session gives the command of its steps so far.
  const s = new Session(mp(false));
  s.step("writer", 2).step("writer store buffer").choose("writer store buffer", 0);
  assert.equal(s.replayCommand, `racelab replay mp --fix baseline --memory-model pso --schedule ${s.schedule}`);
  assert.match(replayCommand(check(mp(false)), mp(false)), /^racelab replay mp --fix baseline --memory-model pso --schedule \S+$/);
});

test("checkAll with memoryModels: one row per fix × variant × model, with a memory model column; the chart has a row per model", async () => {
  const results = checkAll("ext4-delalloc-fallocate", {}, { memoryModels: ["sc", "tso"] });
  const sc = getScenario("ext4-delalloc-fallocate");
  assert.equal(results.length, sc.fixes.length * sc.variants.length * 2);
  assert.deepEqual(results.slice(0, 2).map((r) => [r.fix, r.variant, r.memoryModel]), [
    ["baseline", sc.variants[0]!.id, "sc"],
    ["baseline", sc.variants[0]!.id, "tso"],
  ]);
  const rows = checkRows(results);
  assert.deepEqual(Object.keys(rows[0]!).slice(0, 4), ["fix", "variant", "memory model", "verdict"]);
  assert.deepEqual(rows.map((r) => r["memory model"]).slice(0, 4), ["sc", "tso", "sc", "tso"]);
  // Default: each variant's own model (sc here), and no memory model column.
  const plain = checkAll("ext4-delalloc-fallocate");
  assert.equal(plain.length, sc.fixes.length * sc.variants.length);
  assert.ok(!("memory model" in checkRows(plain)[0]!));
  assert.throws(() => checkAll("ext4-delalloc-fallocate", {}, { memoryModels: ["x86" as never] }), /unknown memory model 'x86'/);
  // Of the executions explored and of every interleaving, each named (new-user trial 17 read 3
  // in the verdict section and 35 here, both "violating"); without a reduction, the search's own.
  const base = rows[0]!;
  assert.equal(base["violating explored"], results[0]!.violations);
  assert.equal(base["violating interleavings"], results[0]!.naiveViolations);
  const none = checkAll("ext4-delalloc-fallocate", {}, { reduction: "none" });
  assert.ok(none.every((r) => r.reduction === "none"));
  const noneRow = checkRows(none.map((r) => ({ ...r, naiveExecutions: null, naiveViolations: null })))[0]!;
  assert.equal(noneRow.interleavings, none[0]!.executions);
  assert.equal(noneRow["violating interleavings"], none[0]!.violations);

  const chart = violationsChart(results) as Record<string, unknown>;
  assert.deepEqual((chart.facet as Record<string, { field: string }>).row!.field, "memory model");
  assert.equal((chart.facet as Record<string, unknown>).column, undefined);
  const svg = await renderChartSvg(chart);
  assert.match(svg, /tso/);
  assert.equal(violationsChart(plain).facet, undefined, "one model: no facet, as before");
  const onlyTso = violationsChart(results.filter((r) => r.memoryModel === "tso")) as { title: { text: string } };
  assert.match(onlyTso.title.text, /per fix, variant default \(tso\)$/);
  // New-user trial 13: a chart of the default variant said "per fix" only, so a fix that fails in
  // another variant read as never failing; one variant is named, several are panels.
  assert.match((violationsChart(plain) as { title: { text: string } }).title.text, /^ext4-delalloc-fallocate: violating vs all interleavings per fix, variant default$/);
  assert.doesNotMatch((violationsChart(plain, ["default", "write-vs-mkwrite"]) as { title: { text: string } }).title.text, /variant/);
});

test("the failure-rate table's caption names the variant its rates are of", async () => {
  const { ratesAll, showRates } = await import("../src/index.js");
  const rs = ratesAll("ext4-delalloc-fallocate", { runs: 50 });
  const [caption] = captureDisplays(() => showRates(rs));
  assert.match(caption!, /failure rate per fix, variant default: uniform random scheduler, seed 1; 95% Wilson score intervals/);
});

test("showLeftOut() and showClaims() of a scenario that lists none say so in a row (an empty table printed its caption one word a line)", () => {
  const shown = captureDisplays(() => {
    showLeftOut(mp(true));
    showClaims(mp(true));
  });
  assert.equal(shown.length, 2);
  assert.match(shown[0]!, /\(nothing listed: the scenario's leftOut is empty\)/);
  assert.match(shown[1]!, /\(none: the scenario lists no claims\)/);
});

test("replayCommand of a file scenario's result names its file, given the scenario or not (new-user trial 17: showCounterexample(result) printed the id)", async () => {
  const { loadScenario } = await import("../src/registry.js");
  const { check } = await import("../src/index.js");
  const sc = await loadScenario("./test/fixtures/lost-wakeup.ts");
  const r = check(sc, { memoryModel: "tso" });
  assert.equal(r.verdict, "fail");
  const withObject = replayCommand(r, sc);
  assert.match(withObject, /^racelab replay \.\/test\/fixtures\/lost-wakeup\.ts --fix baseline --memory-model tso --schedule /);
  assert.equal(replayCommand(r), withObject);
  // A bundled scenario is named by its id.
  const ext4 = check("ext4-delalloc-fallocate", {});
  assert.match(replayCommand(ext4), /^racelab replay ext4-delalloc-fallocate /);
});

test("showViolationsChart of results without interleaving counts says so instead of drawing an empty chart (new-user trial 18)", async () => {
  const { showViolationsChart } = await import("../src/notebook/views.js");
  const { check } = await import("../src/index.js");
  const r = check("ext4-delalloc-fallocate", {});
  assert.equal(r.naiveExecutions, null);
  await assert.rejects(() => showViolationsChart([r]), /showViolationsChart: no result of variant default counts its interleavings \(naiveExecutions\): check with countNaive: true, or use checkAll\(\)/);
});

test("checkAll takes the fixes and variants to check, in the order given; an unknown or repeated id is a UsageError naming the known ones", () => {
  const some = checkAll("ext4-delalloc-fallocate", {}, { fixes: ["recheck-es"], variants: ["write-vs-fallocate", "default"] });
  assert.deepEqual(
    some.map((r) => [r.fix, r.variant]),
    [
      ["recheck-es", "write-vs-fallocate"],
      ["recheck-es", "default"],
    ],
  );
  assert.deepEqual(some[1]!.findings, check(getScenario("ext4-delalloc-fallocate"), { fix: "recheck-es" }).findings);
  assert.throws(() => checkAll("ext4-delalloc-fallocate", {}, { fixes: ["recheck"] }), /^UsageError: checkAll: unknown fix 'recheck' \(known: baseline, recheck-es\)$/);
  assert.throws(() => checkAll("ext4-delalloc-fallocate", {}, { variants: ["default", "default"] }), /variant 'default' is given twice/);
  assert.throws(() => checkAll("ext4-delalloc-fallocate", {}, { fixes: [] }), /checkAll: fixes: \[\] checks nothing/);
});
