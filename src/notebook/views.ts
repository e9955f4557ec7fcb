/**
 * What investigation notebooks show: checks of every fix and variant, the chart of violating vs
 * total interleavings per fix, the claims table. Pure builders (tables as rows, charts as
 * Vega-Lite specs) plus `show*` helpers that display them in a tslab cell.
 */
import { check, replayCounterexample, type CheckResult } from "../engine/check.js";
import { evaluateClaims, type ClaimResult } from "../engine/claims.js";
import { renderDiagram } from "../engine/trace.js";
import { getScenario } from "../scenarios/index.js";
import { displayBundle, displayChart, displayPre, tableBundle, type VegaLiteSpec } from "./display.js";

/** Exhaustive checks of every fix × variant of a scenario (fix-major order). */
export function checkAll(scenario: string, params: Record<string, number> = {}): CheckResult[] {
  const sc = getScenario(scenario);
  return sc.fixes.flatMap((f) => sc.variants.map((v) => check(sc, { fix: f.id, variant: v.id, params })));
}

/** One row per check: verdict, executions explored, interleavings in all and violating. */
export function checkRows(results: readonly CheckResult[]): Record<string, string | number>[] {
  return results.map((r) => ({
    fix: r.fix,
    variant: r.variant,
    verdict: r.verdict.toUpperCase(),
    explored: r.executions,
    interleavings: r.naiveExecutions ?? "n/a",
    violating: r.naiveViolations ?? "n/a",
    findings: Object.keys(r.findings).join("; ") || "—",
  }));
}

/**
 * A Vega-Lite spec: for each fix, all interleavings vs violating interleavings (log scale), one
 * panel per variant given (default: only `default`).
 */
export function violationsChart(results: readonly CheckResult[], variants: readonly string[] = ["default"]): VegaLiteSpec {
  const values = results
    .filter((r) => variants.includes(r.variant) && r.naiveExecutions !== null)
    .flatMap((r) => [
      { fix: r.fix, variant: r.variant, kind: "all interleavings", count: r.naiveExecutions! },
      { fix: r.fix, variant: r.variant, kind: "violating", count: r.naiveViolations ?? 0 },
    ]);
  const sc = results[0]?.scenario ?? "";
  const kinds = ["all interleavings", "violating"];
  const x = { field: "fix", type: "nominal", title: "fix", axis: { labelAngle: 0 } };
  const xOffset = { field: "kind", type: "nominal", sort: kinds };
  // Log scale: zero counts are drawn at 0.5 (below one interleaving) and labelled 0.
  const y = { field: "shown", type: "quantitative", stack: null, scale: { type: "log", domainMin: 0.5 }, title: "interleavings (log scale)" };
  const spec: VegaLiteSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: { text: `${sc}: violating vs all interleavings per fix`, fontSize: 13 },
    data: { values },
    transform: [{ calculate: "max(datum.count, 0.5)", as: "shown" }],
    width: 150 * Math.max(1, new Set(values.map((v) => v.fix)).size),
    height: 220,
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          x,
          xOffset,
          y,
          color: { field: "kind", type: "nominal", sort: kinds, scale: { domain: kinds, range: ["#8fa3b8", "#c0392b"] }, title: null },
        },
      },
      {
        mark: { type: "text", dy: -6, fontSize: 10 },
        encoding: { x, xOffset, y, text: { field: "count", type: "quantitative", format: "," } },
      },
    ],
    config: { font: "DejaVu Sans, Helvetica, Arial, sans-serif", legend: { orient: "bottom" } },
  };
  if (variants.length > 1) {
    const { data, transform, layer, ...rest } = spec as Record<string, unknown>;
    return { ...rest, data, transform, facet: { column: { field: "variant", type: "nominal", title: "variant" } }, spec: { layer, width: spec.width, height: spec.height } };
  }
  return spec;
}

/** Displays the checks table. Needs the tslab kernel. */
export function showChecks(results: readonly CheckResult[], caption = "exhaustive check of every fix and variant"): void {
  displayBundle(tableBundle(checkRows(results), undefined, caption));
}

/** Displays the violations chart (one display message: Vega-Lite + SVG + text). Needs the tslab kernel. */
export async function showViolationsChart(results: readonly CheckResult[], variants?: readonly string[]): Promise<void> {
  await displayChart(violationsChart(results, variants));
}

/** Displays the counterexample of a failing check as a race diagram. Needs the tslab kernel. */
export function showCounterexample(r: CheckResult, width = 75): void {
  if (!r.counterexample) {
    displayPre(`${r.fix}/${r.variant}: no counterexample (${r.verdict})`);
    return;
  }
  const exec = replayCounterexample(getScenario(r.scenario), r)!;
  displayPre(
    `${r.scenario} ${r.fix}/${r.variant} — schedule ${r.counterexample.schedule} ` +
      `(${r.counterexample.preemptions} preemption${r.counterexample.preemptions === 1 ? "" : "s"})\n\n` +
      renderDiagram(exec, width),
  );
}

/** Claim rows for display. */
export function claimRows(results: readonly ClaimResult[]): Record<string, string>[] {
  return results.map((c) => ({
    claim: c.statement,
    source: c.source,
    expected: c.expected,
    observed: c.observed,
    "holds in the model": c.holds ? "yes" : "NO",
  }));
}

/** Evaluates and displays a scenario's claims. Needs the tslab kernel. */
export function showClaims(scenario: string): void {
  const results: ClaimResult[] = evaluateClaims(getScenario(scenario));
  displayBundle(tableBundle(claimRows(results), undefined, `claims of the thread, checked against the model`));
}

/** Displays what a scenario's model leaves out. Needs the tslab kernel. */
export function showLeftOut(scenario: string): void {
  const sc = getScenario(scenario);
  displayBundle(tableBundle(sc.leftOut.map((l) => ({ "left out or simplified": l })), undefined, `${sc.id}: what the model leaves out`));
}
