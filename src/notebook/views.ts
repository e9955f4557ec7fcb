/**
 * What investigation notebooks show: checks of every fix and variant, the chart of violating vs
 * total interleavings per fix, the claims table. Pure builders (tables as rows, charts as
 * Vega-Lite specs) plus `show*` helpers that display them in a tslab cell.
 */
import { rates, type RateOptions, type RateResult } from "../engine/rates.js";
import { durationText } from "../engine/timing.js";
import { UsageError } from "../errors.js";
import { clip } from "../engine/clip.js";
import { check, replayCounterexample, type CheckResult, type Reduction } from "../engine/check.js";
import { evaluateClaims, namesSource, type ClaimResult } from "../engine/claims.js";
import { MEMORY_MODELS, type MemoryModel } from "../engine/memory.js";
import { replayCommand } from "../engine/replay-hint.js";
import { lookupScenario, type AnyScenario } from "../engine/scenario.js";
import "../registry.js";
import { renderDiagram } from "../engine/trace.js";
import { displayBundle, displayChart, displayPre, tableBundle, type VegaLiteSpec } from "./display.js";

export { replayCommand, replayCommandFor, type ReplayTarget } from "../engine/replay-hint.js";

/** Options of {@link checkAll}. */
export interface CheckAllOptions {
  /**
   * Memory models to check each fix × variant under, in this order (`sc`, `tso`, `pso`, `rmo`; see
   * memory.ts). Default: each variant's own model only (`sc` unless the variant names one).
   */
  readonly memoryModels?: readonly MemoryModel[];
  /**
   * The reduction of every check (`sleep-sets`, the default, `dpor`, `state-caching` or `none`:
   * every interleaving run, its counts the table's; see `CheckOptions.reduction`).
   */
  readonly reduction?: Reduction;
  /** Only these fixes, in this order (ids; default every fix, in the scenario's order). */
  readonly fixes?: readonly string[];
  /** Only these variants, in this order (ids; default every variant, in the scenario's order). */
  readonly variants?: readonly string[];
}

/** The ids `wanted` of `known` (every one when undefined), in `wanted`'s order; UsageError for an unknown or repeated id or none. */
function pick(what: string, known: readonly { id: string }[], wanted: readonly string[] | undefined): string[] {
  const ids = known.map((k) => k.id);
  if (wanted === undefined) return ids;
  if (wanted.length === 0) throw new UsageError(`checkAll: ${what === "fix" ? "fixes" : "variants"}: [] checks nothing (leave it out for every ${what})`);
  for (const [i, w] of wanted.entries()) {
    if (!ids.includes(w)) throw new UsageError(`checkAll: unknown ${what} '${clip(String(w))}' (known: ${ids.join(", ")})`);
    if (wanted.indexOf(w) !== i) throw new UsageError(`checkAll: ${what} '${w}' is given twice`);
  }
  return [...wanted];
}

/**
 * Exhaustive checks of every fix × variant (× memory model, with `opts.memoryModels`) of a
 * scenario (or of the fixes and variants `opts.fixes` and `opts.variants` name), in fix-major order, then variant, then memory model, counting the interleavings
 * (`countNaive`) for the tables and charts. `scenario` is a bundled
 * scenario's id or a scenario object; `params` apply to every check. Throws UsageError for an
 * unknown scenario, fix, variant or memory model, or bad params; ModelError for a broken model.
 */
export function checkAll(scenario: string | AnyScenario, params: Record<string, number> = {}, opts: CheckAllOptions = {}): CheckResult[] {
  const sc = lookupScenario(scenario);
  const models: readonly (MemoryModel | undefined)[] = opts.memoryModels ?? [undefined];
  for (const m of models)
    if (m !== undefined && !MEMORY_MODELS.includes(m))
      throw new UsageError(`unknown memory model '${String(m)}' (known: ${MEMORY_MODELS.join(", ")})`);
  const fixes = pick("fix", sc.fixes, opts.fixes);
  const variants = pick("variant", sc.variants, opts.variants);
  return fixes.flatMap((fix) =>
    variants.flatMap((variant) =>
      models.map((memoryModel) => check(sc, { fix, variant, params, memoryModel, countNaive: true, ...(opts.reduction !== undefined ? { reduction: opts.reduction } : {}) })),
    ),
  );
}

/** True when some result ran under a memory model other than `sc`. */
function anyStoreBuffers(results: readonly CheckResult[]): boolean {
  return results.some((r) => r.memoryModel !== "sc");
}

/**
 * One row per check: fix, variant, `memory model` (only when some result is not `sc`), verdict
 * (upper case), `explored` (executions the search ran) and `violating explored` (of them, those
 * with a finding: the counts the report's verdict section gives), `interleavings` and `violating
 * interleavings` (unreduced counts: `countNaive`, or the search's own without a reduction; `n/a`
 * when unknown), and the findings' `kind: message` keys.
 */
export function checkRows(results: readonly CheckResult[]): Record<string, string | number>[] {
  const whole = (r: CheckResult) => r.mode === "exhaustive" && r.reduction === "none" && r.complete;
  const withModel = anyStoreBuffers(results);
  return results.map((r) => ({
    fix: r.fix,
    variant: r.variant,
    ...(withModel ? { "memory model": r.memoryModel } : {}),
    verdict: r.verdict.toUpperCase(),
    // Of the executions the search ran, and of every interleaving (new-user trial 17 read 3 in
    // the report's verdict section and 35 here, both "violating"). Without a reduction a complete
    // search ran every interleaving: those are its own counts.
    explored: r.executions,
    "violating explored": r.violations,
    interleavings: r.naiveExecutions ?? (whole(r) ? r.executions : "n/a"),
    "violating interleavings": r.naiveViolations ?? (whole(r) ? r.violations : "n/a"),
    findings: Object.keys(r.findings).join("; ") || "—",
  }));
}

/**
 * A Vega-Lite spec: for each fix, all interleavings vs violating interleavings (a log scale when
 * some count exceeds 1,000, else a linear one from 0), one panel per variant given (default: only `default`), and one row of panels per memory model when
 * the results of those variants span more than one (a single model other than `sc` is named in
 * the title instead). Fixes in the order of `results` (the scenario's, from {@link checkAll}).
 * Results without unreduced counts (incomplete or not exhaustive) are left out.
 */
export function violationsChart(results: readonly CheckResult[], variants: readonly string[] = ["default"]): VegaLiteSpec {
  const shown = results.filter((r) => variants.includes(r.variant) && r.naiveExecutions !== null);
  const values = shown.flatMap((r) => [
    { fix: r.fix, variant: r.variant, "memory model": r.memoryModel, kind: "all interleavings", count: r.naiveExecutions! },
    { fix: r.fix, variant: r.variant, "memory model": r.memoryModel, kind: "violating", count: r.naiveViolations ?? 0 },
  ]);
  const models = MEMORY_MODELS.filter((m) => shown.some((r) => r.memoryModel === m));
  const modelNote = models.length === 1 && models[0] !== "sc" ? ` (${models[0]})` : "";
  const sc = results[0]?.scenario ?? "";
  const kinds = ["all interleavings", "violating"];
  // Fixes in the data's order (the scenario's, as checkAll runs them), not alphabetical.
  const fixes = [...new Set(values.map((v) => v.fix))];
  const width = panelWidth(fixes.length, variants.length > 1 && models.length <= 1 ? variants.length : 1);
  // Names wider than their band (about 6 px a character at the axis' 10 px font) are slanted, as
  // the rates chart's are: side by side they ran into each other (new-user trial 14).
  const slant = fixes.length > 0 && Math.max(...fixes.map((f) => f.length)) * 6 > width / fixes.length;
  const x = { field: "fix", type: "nominal", title: "fix", sort: fixes, axis: slant ? { labelAngle: -25, labelAlign: "right", labelLimit: 220 } : { labelAngle: 0 } };
  const xOffset = { field: "kind", type: "nominal", sort: kinds };
  // Log scale: zero counts are drawn at 0.5 (below one interleaving) and labelled 0. Only when the
  // counts need it: 4 to 20 interleavings on a log axis got ticks at 0.5 and 0.6 (new-user trial 22).
  const log = values.some((v) => v.count > 1000);
  const y = log
    ? { field: "shown", type: "quantitative", stack: null, scale: { type: "log", domainMin: 0.5 }, title: "interleavings (log scale)" }
    : {
        field: "shown",
        type: "quantitative",
        stack: null,
        // (Room above the tallest bar for its count, drawn upright above it.)
        scale: { domainMin: 0, domainMax: Math.max(1, ...values.map((v) => v.count)) * 1.2 },
        axis: { tickMinStep: 1, format: ",d" },
        title: "interleavings",
      };
  const spec: VegaLiteSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    // (One variant: named, so a fix that fails only in another variant is not read as passing.)
    title: { text: `${sc}: violating vs all interleavings per fix${variants.length === 1 ? `, variant ${variants[0]}` : ""}${modelNote}`, fontSize: 13 },
    data: { values },
    transform: [{ calculate: log ? "max(datum.count, 0.5)" : "datum.count", as: "shown" }],
    width,
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
        // Vertical labels above the bars: side by side they overlapped on narrow panels.
        mark: { type: "text", angle: -90, align: "left", baseline: "middle", dx: 4, fontSize: 9 },
        encoding: { x, xOffset, y, text: { field: "count", type: "quantitative", format: "," } },
      },
    ],
    config: { font: "DejaVu Sans, Helvetica, Arial, sans-serif", legend: { orient: "bottom" } },
  };
  const facet: Record<string, unknown> = {};
  if (variants.length > 1) facet.column = { field: "variant", type: "nominal", title: "variant", sort: [...variants] };
  if (models.length > 1) facet.row = { field: "memory model", type: "nominal", title: "memory model", sort: models };
  if (Object.keys(facet).length > 0) {
    const { data, transform, layer, ...rest } = spec as Record<string, unknown>;
    // Variant panels side by side while they fit the chart width, else one under the other.
    const fixes = new Set(values.map((v) => v.fix)).size;
    const stacked = models.length <= 1 && variants.length > 1 && panelWidth(fixes, variants.length) < 60 * fixes;
    if (stacked)
      return { ...rest, data, transform, facet: { field: "variant", type: "nominal", title: "variant", sort: [...variants] }, columns: 1, spec: { layer, width: panelWidth(fixes, 1), height: spec.height } };
    return { ...rest, data, transform, facet, spec: { layer, width: spec.width, height: spec.height } };
  }
  return spec;
}

/** Width of the plot area of all panels side by side, px: charts fit a 978 px notebook output area (and scale to the A4 column). */
export const CHART_WIDTH = 720;

/** A panel's width for `fixes` groups when `panels` sit side by side: 150 px a fix, less to fit {@link CHART_WIDTH}. */
function panelWidth(fixes: number, panels: number): number {
  return Math.floor(Math.min(150 * Math.max(1, fixes), CHART_WIDTH / Math.max(1, panels) - (panels > 1 ? 20 : 0)));
}

/** A subtitle as lines of at most `max` characters, split after "; " or ", " (Vega-Lite draws an array as lines). */
function subtitleLines(text: string, max = 80): string | string[] {
  if (text.length <= max) return text;
  const parts = text.split(/(?<=; |, )/);
  const lines: string[] = [];
  let line = "";
  for (const p of parts) {
    if (line !== "" && (line + p).trimEnd().length > max) {
      lines.push(line.trimEnd());
      line = "";
    }
    line += p;
  }
  if (line.trim() !== "") lines.push(line.trimEnd());
  return lines;
}

/** A rate result's scheduler as a chart or table shows it: `uniform random`, `PCT d=3`, `timed (window 1,000 ns)`. */
export function modeLabel(r: RateResult): string {
  if (r.mode === "pct") return `PCT d=${r.pctDepth}`;
  if (r.mode === "timed") return `timed (window ${(r.timing?.windowNs ?? 0).toLocaleString("en-US")} ns)`;
  return "uniform random";
}

/** The y axis of a rate chart over `rates` (each with its interval): log when the non-zero values span more than a decade. */
function rateAxis(values: readonly number[]): { log: boolean; floor: number; y: Record<string, unknown> } {
  const nonZero = values.filter((x) => x > 0);
  const lo = nonZero.length > 0 ? Math.min(...nonZero) : 1;
  const hi = nonZero.length > 0 ? Math.max(...nonZero) : 1;
  const log = hi / lo > 10;
  const floor = log ? 10 ** Math.floor(Math.log10(lo) - 1) : 0;
  // Log scale: ticks and grid lines at the decades only, from the floor to the decade above the
  // highest rate (at most 100 %).
  const top = log ? Math.min(1, 10 ** Math.ceil(Math.log10(hi))) : 1;
  const decades: number[] = [];
  if (log) for (let d = floor; d <= top * 1.0001; d *= 10) decades.push(+d.toPrecision(1));
  const y = {
    field: "rate",
    type: "quantitative",
    title: `failure rate${log ? " (log scale)" : ""}`,
    scale: log ? { type: "log", domain: [floor, top] } : { domain: [0, Math.min(1, Math.max(hi * 1.15, 0.01))] },
    axis: log ? { values: decades, format: "~%" } : { format: "~%" },
  };
  return { log, floor, y };
}

/**
 * A Vega-Lite spec: the failure rate of each fix (in the order of `results`, the scenario's order
 * for `racelab rates --all-fixes`) as a point with its 95% Wilson interval as an error bar, on a
 * log scale when the non-zero rates span more than a decade (a zero rate is then drawn at the
 * floor of the axis); a fix with no failure is a hollow marker under its interval's upper bound
 * (the subtitle says so), labelled `0 of N` with one mode; with one column per swept parameter combination when the
 * results have several, and the modes side by side (coloured) when they have several. The title
 * names the scenario, the variant, the mode and the runs.
 */
export function ratesChart(results: readonly RateResult[]): VegaLiteSpec {
  const fixes = [...new Set(results.map((r) => r.fix))];
  const label = (r: RateResult) =>
    Object.entries(r.params)
      .filter(([k, v]) => results.some((o) => o.params[k] !== v))
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
  const { floor, y } = rateAxis(results.flatMap((r) => [r.rate, r.ci95[0], r.ci95[1]]));
  const modeList = [...new Set(results.map(modeLabel))];
  const several = modeList.length > 1;
  const values = results.map((r) => ({
    fix: r.fix,
    sweep: label(r),
    mode: modeLabel(r),
    rate: Math.max(r.rate, floor),
    lo: Math.max(r.ci95[0], floor),
    hi: Math.max(r.ci95[1], floor),
    text: r.failures === 0 ? `0 of ${r.runs.toLocaleString("en-US")}` : `${(r.rate * 100).toPrecision(3)}%`,
  }));
  const first = results[0];
  const modes = modeList.join(", ");
  const runs = [...new Set(results.map((r) => r.runs.toLocaleString("en-US")))].join("/");
  const mm = first !== undefined && first.memoryModel !== "sc" ? `, ${first.memoryModel}` : "";
  const x = { field: "fix", type: "nominal", sort: fixes, title: "fix", axis: { labelAngle: fixes.some((f) => f.length > 14) ? -25 : 0, labelLimit: 220 } };
  const byMode = several ? { xOffset: { field: "mode", type: "nominal", sort: modeList } } : {};
  const color = several
    ? { color: { field: "mode", type: "nominal", sort: modeList, title: "scheduler", scale: { range: ["#c0392b", "#2c7fb8", "#7a9a01", "#8e44ad"] } } }
    : {};
  // A fix with no failure is a hollow marker (at the floor of a log axis, under its interval's upper bound).
  const zero = results.some((r) => r.failures === 0);
  const layer = [
    { mark: { type: "rule", color: "#555" }, encoding: { x, ...byMode, y: { ...y, field: "lo" }, y2: { field: "hi" } } },
    { transform: [{ filter: `datum.rate > ${floor}` }], mark: { type: "point", filled: true, size: 60, ...(several ? {} : { color: "#c0392b" }) }, encoding: { x, ...byMode, y, ...color } },
    ...(zero ? [{ transform: [{ filter: `datum.rate <= ${floor}` }], mark: { type: "point", filled: false, strokeWidth: 1.5, size: 60, ...(several ? {} : { color: "#c0392b" }) }, encoding: { x, ...byMode, y, ...color } }] : []),
    // With several modes side by side the labels would collide: the table gives the figures.
    ...(several ? [] : [{ mark: { type: "text", dx: 8, align: "left", fontSize: 10 }, encoding: { x, y, text: { field: "text" } } }]),
  ];
  const spec: VegaLiteSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: {
      text: `${first?.scenario ?? ""}: failure rate per fix`,
      subtitle: several
        ? [`variant ${first?.variant ?? "default"}${mm}, ${runs} executions per point${zero ? `; hollow: no failure${floor > 0 ? " (drawn at the axis floor)" : ""}` : ""}`, `schedulers: ${modes}; bars: 95% Wilson intervals`]
        : subtitleLines(`variant ${first?.variant ?? "default"}${mm}, ${modes} scheduler, ${runs} executions each; bars: 95% Wilson intervals${zero ? `; hollow: no failure${floor > 0 ? " (drawn at the axis floor)" : ""}` : ""}`),
      fontSize: 13,
    },
    data: { values },
    width: Math.min(CHART_WIDTH, (several ? 30 * modeList.length + 40 : 120) * Math.max(1, fixes.length)),
    height: 200,
    layer,
    config: { font: "DejaVu Sans, Helvetica, Arial, sans-serif", legend: { orient: "bottom", labelLimit: 300 } },
  };
  if (new Set(values.map((v) => v.sweep)).size > 1) {
    const { data, layer: l, title, config, $schema } = spec as Record<string, unknown>;
    const panels = new Set(values.map((v) => v.sweep)).size;
    return {
      $schema,
      title,
      config,
      data,
      facet: { column: { field: "sweep", type: "nominal", title: null, sort: [...new Set(values.map((v) => v.sweep))] } },
      spec: { layer: l, width: Math.min(spec.width as number, Math.floor(CHART_WIDTH / panels) - 20), height: spec.height },
    };
  }
  return spec;
}

/** The one parameter that takes several values across `results`, or null (none, or several vary). */
export function sweptParam(results: readonly RateResult[]): string | null {
  const first = results[0];
  if (first === undefined) return null;
  const varying = Object.keys(first.params).filter((k) => results.some((r) => r.params[k] !== first.params[k]));
  return varying.length === 1 ? varying[0]! : null;
}

/**
 * A Vega-Lite spec: the failure rate against one swept parameter (`param`, default the one that
 * varies across `results`), one line per fix (and per mode when there are several) in the order
 * of `results`, each point with its 95% Wilson interval. The x axis is logarithmic (symlog, so 0
 * stays on it) when the non-zero values span more than a decade; the y axis as in
 * {@link ratesChart}, a point with no failure hollow. Throws UsageError when no single parameter varies and `param` is not given.
 */
export function rateSweepChart(results: readonly RateResult[], param?: string): VegaLiteSpec {
  const p = param ?? sweptParam(results);
  if (p === null) throw new UsageError("rateSweepChart: the results sweep no single parameter; name it (rateSweepChart(results, \"udelay\"))");
  const { floor, y } = rateAxis(results.flatMap((r) => [r.rate, r.ci95[0], r.ci95[1]]));
  const modeList = [...new Set(results.map(modeLabel))];
  const lines = [...new Set(results.map((r) => (modeList.length > 1 ? `${r.fix}, ${modeLabel(r)}` : r.fix)))];
  const values = results.map((r) => ({
    line: modeList.length > 1 ? `${r.fix}, ${modeLabel(r)}` : r.fix,
    x: r.params[p] ?? null,
    rate: Math.max(r.rate, floor),
    lo: Math.max(r.ci95[0], floor),
    hi: Math.max(r.ci95[1], floor),
  }));
  const xs = values.map((v) => v.x).filter((v): v is number => v !== null && v > 0);
  const logX = xs.length > 0 && Math.max(...xs) / Math.min(...xs) > 10;
  const spec = lookupParamDescription(results[0]?.scenario, p);
  const ticks = [...new Set(values.map((v) => v.x).filter((v): v is number => v !== null))].sort((a, b) => a - b);
  const x = {
    field: "x",
    type: "quantitative",
    title: `${p}${spec ? ` (${spec})` : ""}`,
    scale: logX ? { type: "symlog" } : { zero: false },
    axis: { labelLimit: 260, titleLimit: 460, ...(ticks.length <= 12 ? { values: ticks, labelOverlap: "greedy" } : {}) },
  };
  const color = { field: "line", type: "nominal", sort: lines, title: null };
  const first = results[0];
  const mm = first !== undefined && first.memoryModel !== "sc" ? `, ${first.memoryModel}` : "";
  const runs = [...new Set(results.map((r) => r.runs.toLocaleString("en-US")))].join("/");
  const zero = results.some((r) => r.failures === 0);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: {
      text: `${first?.scenario ?? ""}: failure rate vs ${p}`,
      subtitle: [
        `variant ${first?.variant ?? "default"}${mm}, ${modeList.join(", ")} scheduler`,
        `${runs} executions per point; bars: 95% Wilson intervals${zero ? `; hollow: no failure${floor > 0 ? " (at the axis floor)" : ""}` : ""}`,
      ],
      fontSize: 13,
    },
    data: { values },
    width: 420,
    height: 220,
    layer: [
      { mark: { type: "line", strokeWidth: 1.5 }, encoding: { x, y, color } },
      { mark: { type: "rule" }, encoding: { x, y: { ...y, field: "lo" }, y2: { field: "hi" }, color } },
      { transform: [{ filter: `datum.rate > ${floor}` }], mark: { type: "point", filled: true, size: 40 }, encoding: { x, y, color } },
      // No failure: a hollow marker (at the floor of a log axis).
      ...(zero ? [{ transform: [{ filter: `datum.rate <= ${floor}` }], mark: { type: "point", filled: false, strokeWidth: 1.5, size: 40 }, encoding: { x, y, color } }] : []),
    ],
    config: { font: "DejaVu Sans, Helvetica, Arial, sans-serif", legend: { orient: "bottom", columns: 2, labelLimit: 300 } },
  };
}


/** A parameter's description, clipped to its first clause, for an axis title (undefined when unknown). */
function lookupParamDescription(scenario: string | undefined, param: string): string | undefined {
  if (scenario === undefined) return undefined;
  try {
    const d = lookupScenario(scenario).params.find((q) => q.name === param)?.description;
    if (d === undefined) return undefined;
    const cut = d.split(/[.;(]/)[0]!.trim();
    return cut.length > 60 ? `${cut.slice(0, 57)}...` : cut;
  } catch {
    return undefined;
  }
}

/**
 * A Vega-Lite spec comparing how fast each mode finds a failure: per fix (that failed in some
 * mode) and mode, a bar for the runs to the first failure of this seed (`firstFailure`) and a
 * tick for the expected runs, 1/rate (the mean of the geometric distribution), on a log scale. A
 * mode that found none is drawn faded and outlined in dashes at its run count (at least that
 * many runs to a failure), labelled `none in N`, so that it does not read as the slowest failure.
 */
export function firstFailureChart(results: readonly RateResult[]): VegaLiteSpec {
  const failing = new Set(results.filter((r) => r.failures > 0).map((r) => r.fix));
  const fixes = [...new Set(results.map((r) => r.fix))].filter((f) => failing.has(f));
  const modeList = [...new Set(results.map(modeLabel))];
  const values = results
    .filter((r) => failing.has(r.fix))
    .map((r) => ({
      fix: r.fix,
      mode: modeLabel(r),
      first: r.firstFailure ?? r.runs,
      expected: r.failures > 0 ? r.runs / r.failures : null,
      text: r.firstFailure === null ? `none in ${r.runs.toLocaleString("en-US")}` : r.firstFailure.toLocaleString("en-US"),
      none: r.firstFailure === null,
    }));
  const anyNone = values.some((v) => v.none);
  const top = Math.max(10, ...values.map((v) => Math.max(v.first, v.expected ?? 0)));
  const x = { field: "fix", type: "nominal", sort: fixes, title: "fix", axis: { labelAngle: fixes.some((f) => f.length > 14) ? -25 : 0, labelLimit: 220 } };
  const xOffset = { field: "mode", type: "nominal", sort: modeList };
  const color = { field: "mode", type: "nominal", sort: modeList, title: "scheduler", scale: { range: ["#c0392b", "#2c7fb8", "#7a9a01", "#8e44ad"] } };
  const scale = { type: "log", domain: [0.8, 10 ** Math.ceil(Math.log10(top) + 0.3)] };
  const base = { y2: { datum: 0.8 } };
  const first = results[0];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: {
      text: `${first?.scenario ?? ""}: runs to the first failure per scheduler`,
      subtitle: subtitleLines(
        `variant ${first?.variant ?? "default"}, seed ${first?.seed ?? 1}; bar: this seed's first failure, tick: expected runs (1/rate)` +
          (anyNone ? "; faded dashed bar: no failure in that many runs" : ""),
      ),
      fontSize: 13,
    },
    data: { values },
    width: Math.min(520, (40 * modeList.length + 40) * Math.max(1, fixes.length)),
    height: 200,
    layer: [
      {
        mark: { type: "bar", strokeWidth: 1.5 },
        encoding: {
          x,
          xOffset,
          y: { field: "first", type: "quantitative", title: "executions (log scale)", scale },
          ...base,
          color,
          // No failure found: a lower bound, not a measured first failure.
          fillOpacity: { condition: { test: "datum.none", value: 0.15 }, value: 1 },
          stroke: { condition: { test: "datum.none", field: "mode", type: "nominal", sort: modeList, scale: color.scale, legend: null }, value: null },
          strokeDash: { condition: { test: "datum.none", value: [4, 3] }, value: [1, 0] },
        },
      },
      { mark: { type: "tick", color: "#222", thickness: 2 }, encoding: { x, xOffset, y: { field: "expected", type: "quantitative", scale } } },
      { mark: { type: "text", dy: -6, fontSize: 9 }, encoding: { x, xOffset, y: { field: "first", type: "quantitative", scale }, text: { field: "text" } } },
    ],
    config: { font: "DejaVu Sans, Helvetica, Arial, sans-serif", legend: { orient: "bottom", labelLimit: 300 } },
  };
}

/** Rows of a rates table: fix (and swept parameters), runs, failures, rate with its interval, first failure, exact. */
export function rateRows(results: readonly RateResult[]): Record<string, string | number>[] {
  const swept = Object.keys(results[0]?.params ?? {}).filter((k) => results.some((r) => r.params[k] !== results[0]!.params[k]));
  const pct = (x: number) => (x === 0 ? "0%" : x >= 0.001 ? `${(x * 100).toFixed(2)}%` : `${(x * 100).toPrecision(2)}%`);
  const modes = new Set(results.map(modeLabel)).size > 1;
  const timed = results.some((r) => r.mttfHoursCi95 !== null);
  return results.map((r) => ({
    fix: r.fix,
    ...Object.fromEntries(swept.map((k) => [k, r.params[k]!])),
    ...(modes ? { scheduler: modeLabel(r) } : {}),
    executions: r.runs,
    failing: r.failures,
    "failure rate [95% CI]": `${pct(r.rate)} [${pct(r.ci95[0])}, ${pct(r.ci95[1])}]`,
    "first failure at": r.firstFailure ?? "—",
    ...(results.some((o) => o.exact !== null) ? { exact: r.exact === null ? "n/a" : pct(r.exact) } : {}),
    ...(timed ? { [`MTTF at ${results.find((o) => o.attemptsPerSecond !== null)!.attemptsPerSecond!.toPrecision(3)} attempts/s`]: mttfText(r) } : {}),
  }));
}

/** A timed result's mean time to failure as text: `7.2 h [6.1 h, 8.9 h]`, `> 1.4 h` without a failure, `—` for other modes. */
export function mttfText(r: RateResult): string {
  if (r.mttfHoursCi95 === null) return "—";
  const [lo, hi] = r.mttfHoursCi95;
  return r.mttfHours === null ? `> ${durationText(lo)}` : `${durationText(r.mttfHours)} [${durationText(lo)}, ${hi === null ? "∞" : durationText(hi)}]`;
}


/**
 * Failure rates of every fix of a scenario (in the scenario's order) under one variant: `racelab
 * rates --all-fixes` in the notebook's thread (10,000 runs by default, seed 1). Throws UsageError
 * for a bad id or option.
 */
export function ratesAll(scenario: string | AnyScenario, opts: Omit<RateOptions, "fix"> = {}): RateResult[] {
  const sc = lookupScenario(scenario);
  return sc.fixes.map((f) => rates(sc, { ...opts, fix: f.id }));
}

/** Displays the rates table ({@link rateRows}). Needs the tslab kernel. */
export function showRates(results: readonly RateResult[], caption?: string): void {
  const first = results[0];
  const how = first === undefined ? "" : `${[...new Set(results.map(modeLabel))].join(", ")} scheduler, seed ${first.seed}`;
  const variants = [...new Set(results.map((r) => r.variant))];
  const of = variants.length === 0 ? "" : `, variant${variants.length > 1 ? "s" : ""} ${variants.join(", ")}`;
  // (A rate that is not what it seems says so under its table, as `racelab rates` does.)
  const warnings = [...new Set(results.flatMap((r) => r.warnings ?? []))];
  const warned = warnings.length === 0 ? "" : warnings.map((w) => `; warning: ${w}`).join("");
  displayBundle(tableBundle(rateRows(results), undefined, (caption ?? `failure rate per fix${of}: ${how}; 95% Wilson score intervals`) + warned));
}

/**
 * Displays the rates chart as one display message (Vega-Lite + SVG + text): {@link rateSweepChart}
 * when one parameter takes more than two values, else {@link ratesChart}. Needs the tslab kernel.
 */
export async function showRatesChart(results: readonly RateResult[]): Promise<void> {
  const p = sweptParam(results);
  await displayChart(p !== null && new Set(results.map((r) => r.params[p])).size > 2 ? rateSweepChart(results, p) : ratesChart(results));
}

/** Displays {@link firstFailureChart} as one display message: Vega-Lite + SVG + text. Needs the tslab kernel. */
export async function showFirstFailureChart(results: readonly RateResult[]): Promise<void> {
  await displayChart(firstFailureChart(results));
}

/**
 * Displays the checks table ({@link checkRows}: with a `memory model` column when some result is
 * not `sc`). The default caption says "and memory model" when there is that column. Needs the
 * tslab kernel.
 */
export function showChecks(results: readonly CheckResult[], caption?: string): void {
  const what = anyStoreBuffers(results) ? "every fix, variant and memory model" : "every fix and variant";
  displayBundle(tableBundle(checkRows(results), undefined, caption ?? `exhaustive check of ${what}`));
}

/**
 * Displays the violations chart ({@link violationsChart}: one panel per variant given, one row per
 * memory model) as one display message: Vega-Lite + SVG + text. Needs the tslab kernel. Throws
 * UsageError when no result of those variants counts its interleavings (`countNaive`; checkAll()
 * counts them): the chart would be empty.
 */
export async function showViolationsChart(results: readonly CheckResult[], variants?: readonly string[]): Promise<void> {
  // (Without interleaving counts the chart is empty and vega warns into the report: new-user
  // trial 18 passed check() results made without countNaive.)
  const shown = variants ?? ["default"];
  if (!results.some((r) => shown.includes(r.variant) && r.naiveExecutions !== null))
    throw new UsageError(
      `showViolationsChart: no result of variant${shown.length === 1 ? "" : "s"} ${shown.join(", ")} counts its interleavings ` +
        `(naiveExecutions): check with countNaive: true, or use checkAll(), which counts them`,
    );
  await displayChart(violationsChart(results, variants));
}

/** Breaks a command line before its options to fit `width` columns, with shell continuations. */
function wrapCommand(cmd: string, width: number): string {
  const lines: string[] = [];
  for (const part of cmd.split(/ (?=--)/)) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last]!.length + 1 + part.length + 2 <= width) lines[last] += " " + part;
    else lines.push(last >= 0 ? "    " + part : part);
  }
  return lines.join(" \\\n");
}

/**
 * Displays the counterexample of a failing check: a header naming the configuration (with the
 * memory model when not `sc`) and the preemptions, the command that replays it
 * ({@link replayCommand}), and the race diagram at most `width` columns wide. `scenario` is the
 * scenario object when it is not a bundled one. Needs the tslab kernel.
 */
export function showCounterexample(r: CheckResult, width = 75, scenario?: AnyScenario): void {
  const mm = r.memoryModel === "sc" ? "" : ` [${r.memoryModel}]`;
  if (!r.counterexample) {
    displayPre(`${r.fix}/${r.variant}${mm}: no counterexample (${r.verdict})`);
    return;
  }
  const exec = replayCounterexample(scenario ?? lookupScenario(r.scenario), r)!;
  displayPre(
    `${r.scenario} ${r.fix}/${r.variant}${mm} — ` +
      `${r.counterexample.preemptions} preemption${r.counterexample.preemptions === 1 ? "" : "s"}\n` +
      `${wrapCommand(`replay: ${replayCommand(r, scenario)}`, width)}\n\n` +
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

/**
 * Evaluates and displays a scenario's claims (`scenario`: a bundled scenario's id or a scenario
 * object). Needs the tslab kernel.
 */
export function showClaims(scenario: string | AnyScenario): void {
  const sc = lookupScenario(scenario);
  const results: ClaimResult[] = evaluateClaims(sc);
  // A scenario that names no thread (new-user trial 22): no `source` column of dashes, no "thread".
  const threadless = !namesSource(sc.thread) && results.every((c) => c.source === "—");
  const rows =
    results.length === 0
      ? [{ claim: "(none: the scenario lists no claims)" }]
      : threadless
        ? claimRows(results).map(({ source: _source, ...rest }) => rest)
        : claimRows(results);
  displayBundle(tableBundle(rows, undefined, threadless ? "claims, checked against the model" : "claims of the thread, checked against the model"));
}

/** Displays what a scenario's model leaves out (`scenario`: an id or a scenario object). Needs the tslab kernel. */
export function showLeftOut(scenario: string | AnyScenario): void {
  const sc = lookupScenario(scenario);
  // (An empty table prints as its caption alone, one word a line on paper: say so in a row.)
  const rows = sc.leftOut.length > 0 ? sc.leftOut : ["(nothing listed: the scenario's leftOut is empty)"];
  displayBundle(tableBundle(rows.map((l) => ({ "left out or simplified": l })), undefined, `${sc.id}: what the model leaves out`));
}
