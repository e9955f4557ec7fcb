/**
 * Charts of a report keep the scenario's fix order (the table beside them does), and a fix with no
 * failure is drawn distinctly on a rates chart (a hollow marker, said in the subtitle), not as a
 * filled point at the log axis's floor that reads as a tiny rate.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { rates, type RateResult } from "../src/engine/rates.js";
import { chartBundle } from "../src/notebook/display.js";
import { checkAll, ratesChart, rateSweepChart, violationsChart } from "../src/notebook/views.js";

type Layer = { transform?: { filter: string }[]; mark: { type: string; filled?: boolean }; encoding: Record<string, { field?: string; sort?: unknown }> };
const layers = (spec: Record<string, unknown>): Layer[] => ((spec["layer"] ?? (spec["spec"] as Record<string, unknown>)["layer"]) as Layer[]);
const subtitle = (spec: Record<string, unknown>) => [(spec["title"] as { subtitle: string | string[] }).subtitle].flat().join(" ");

test("the violations chart orders fixes as the scenario (and the checks table) does, not alphabetically", () => {
  // The scenario's fixes renamed so that its order (baseline first) is not the alphabetical one.
  const results = checkAll("ext4-delalloc-fallocate").map((r) => ({ ...r, fix: r.fix === "baseline" ? "zz-baseline" : r.fix }));
  const order = [...new Set(results.map((r) => r.fix))];
  assert.notDeepEqual(order, [...order].sort(), "the scenario's order is not alphabetical");
  const spec = violationsChart(results) as Record<string, unknown>;
  for (const l of layers(spec)) assert.deepEqual(l.encoding["x"]!.sort, order);
});

test("the violations chart slants fix names wider than their band, which ran into each other side by side (new-user trial 14)", () => {
  const short = violationsChart(checkAll("ext4-delalloc-fallocate")) as Record<string, unknown>;
  for (const l of layers(short)) assert.equal((l.encoding["x"]!.axis as { labelAngle: number }).labelAngle, 0);
  const long = violationsChart(checkAll("buffer-migrate-jbd2").filter((r) => r.variant === "bs-2048"), ["bs-2048"]) as Record<string, unknown>;
  for (const l of layers(long)) assert.deepEqual(l.encoding["x"]!.axis, { labelAngle: -25, labelAlign: "right", labelLimit: 220 });
});

test("the violations chart is on a log scale only when some count exceeds 1,000 (4 to 20 interleavings got ticks at 0.5 and 0.6; trial 22)", async () => {
  const r0 = checkAll("ext4-delalloc-fallocate")[0]!;
  const small = [{ ...r0, fix: "baseline", naiveExecutions: 20, naiveViolations: 18 }, { ...r0, fix: "fixed", naiveExecutions: 4, naiveViolations: 0 }];
  const yOf = (spec: Record<string, unknown>) => layers(spec)[0]!.encoding["y"] as { scale: { type?: string }; title: string };
  assert.equal(yOf(violationsChart(small) as Record<string, unknown>).scale.type, undefined);
  assert.equal(yOf(violationsChart(small) as Record<string, unknown>).title, "interleavings");
  const large = [{ ...r0, fix: "baseline", naiveExecutions: 21_000, naiveViolations: 0 }, { ...r0, fix: "fixed", naiveExecutions: 4, naiveViolations: 0 }];
  assert.equal(yOf(violationsChart(large) as Record<string, unknown>).scale.type, "log");
  const svg = String((await chartBundle(violationsChart(small) as never))["image/svg+xml"]);
  assert.ok(svg.includes(">20<") || svg.includes(">20 <") || /<text[^>]*>20<\/text>/.test(svg), "a linear axis up to 20");
});

test("a rates chart draws a fix with no failure as a hollow marker and says so", async () => {
  const sc = "ext4-delalloc-fallocate";
  const results: RateResult[] = (["random", "pct"] as const).flatMap((mode) => ["baseline", "recheck-es"].map((fix) => rates(sc, { fix, mode, runs: 300, seed: 1 })));
  assert.ok(results.some((r) => r.failures === 0) && results.some((r) => r.failures > 0));
  for (const spec of [ratesChart(results), ratesChart(results.filter((r) => r.mode === "random"))] as Record<string, unknown>[]) {
    const points = layers(spec).filter((l) => l.mark.type === "point");
    const hollow = points.filter((l) => l.mark.filled === false);
    const filled = points.filter((l) => l.mark.filled === true);
    assert.equal(hollow.length, 1);
    assert.equal(filled.length, 1);
    // The hollow layer draws exactly the zero-failure rows, the filled one the others.
    const values = (spec["data"] as { values: { rate: number; fix: string }[] }).values;
    const floor = Math.min(...values.map((v) => v.rate));
    assert.match(hollow[0]!.transform![0]!.filter, /^datum\.rate <= /);
    assert.equal(Number(hollow[0]!.transform![0]!.filter.replace("datum.rate <= ", "")), floor);
    assert.match(subtitle(spec), /hollow: no failure \(drawn at the axis floor\)/);
    const svg = String((await chartBundle(spec as never))["image/svg+xml"]);
    assert.ok(svg.includes("<svg"), "renders");
  }
  // Without a zero there is no hollow layer and no note.
  const failing = ratesChart(results.filter((r) => r.failures > 0)) as Record<string, unknown>;
  assert.equal(layers(failing).filter((l) => l.mark.filled === false).length, 0);
  assert.doesNotMatch(subtitle(failing), /hollow/);
  // The sweep chart: the same.
  const sweep = [1, 2].flatMap((b) => results.filter((r) => r.mode === "random").map((r) => ({ ...r, params: { ...r.params, blocks: b } })));
  const sw = rateSweepChart(sweep, "blocks") as Record<string, unknown>;
  assert.equal(layers(sw).filter((l) => l.mark.type === "point" && l.mark.filled === false).length, 1);
  assert.match(subtitle(sw), /hollow: no failure/);
});
