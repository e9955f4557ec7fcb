/**
 * Rich display for notebook cells run by the tslab kernel.
 *
 * Each helper sends ONE Jupyter `display_data` message carrying a MIME bundle, so every
 * front end picks the richest type it understands:
 *
 * - {@link displayTable}: `text/html` (escaped table) + `text/plain` (aligned columns) +
 *   {@link TABLE_MIME} (the table's caption, header and cells as JSON, for racelab's reports).
 * - {@link displayChart}: `application/vnd.vegalite.v5+json` (the spec as a JSON object, drawn
 *   live by JupyterLab), `image/svg+xml` (rendered here, headless, for classic Notebook, nbconvert
 *   and racelab reports) and `text/plain`.
 * - {@link displayPre} / {@link displayText}: monospace diagrams.
 *
 * The bundle builders ({@link tableBundle}, {@link chartBundle}, {@link preBundle}) are pure and
 * work outside Jupyter; the `display*` functions need the tslab kernel.
 *
 * How sending works: tslab's public `display.raw(type, data)` sends a bundle with a single MIME
 * type. Underneath, tslab keeps the current cell's display writer in the module
 * `tslab/dist/jupyter.js` as `lastWriteDisplayData(content, update)`, where `content` is the
 * `display_data` message content `{ data, metadata, transient }`. We find that module among the
 * loaded CommonJS modules of the kernel process and call the writer with the whole bundle.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { cellText as plainCellText, chartTable, softBreaks } from "./cell-text.js";

export { numberText } from "./cell-text.js";

/** A Jupyter MIME bundle: MIME type -> data (string, or a JSON value for `+json` types). */
export type MimeBundle = Record<string, unknown>;

/** MIME type JupyterLab renders with its built-in Vega-Lite 5 renderer. */
export const VEGALITE_MIME = "application/vnd.vegalite.v5+json";

/**
 * MIME type of a table's structure in its bundle ({@link tableBundle}): a {@link TableData} JSON
 * object. Front ends ignore it and draw the `text/html`; racelab's reports read it, so that a table
 * in the HTML, PDF and mail reports comes from its data, not from its HTML or text.
 */
export const TABLE_MIME = "application/vnd.racelab.table+json";

/** The JSON of {@link TABLE_MIME}: a table as its caption, header and rows of cell text. */
export interface TableData {
  /** The caption, or null. */
  readonly caption: string | null;
  /** Column names, or null for a table without a header row. */
  readonly columns: readonly string[] | null;
  /** The rows, each a cell text per column (as in the `text/html` form, before escaping). */
  readonly rows: readonly (readonly string[])[];
  /** Per column: every non-empty cell of it is a number (the `text/html` form right-aligns them). */
  readonly numeric: readonly boolean[];
}

/** A Vega-Lite (v5) specification as a plain JSON object. Data must be inline (`data.values`). */
export type VegaLiteSpec = Record<string, unknown>;

/** A table row: an object keyed by column name, or an array of cells in column order. */
export type TableRow = object | readonly unknown[];

/** Escape `&`, `<`, `>`, `"` and `'` so that `s` is inert text in HTML content or attributes. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) =>
    c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : "&#39;",
  );
}

function isNumeric(v: unknown): boolean {
  return typeof v === "number" || typeof v === "bigint";
}

/** An integer a double holds exactly (or a bigint): its digits can be grouped (beyond 2^53 numberText() approximates instead). */
function isWholeNumber(v: unknown): v is number | bigint {
  return typeof v === "bigint" || (typeof v === "number" && Number.isSafeInteger(v));
}

/** Display width of a string in a monospace font (code points; good enough for ASCII tables). */
function width(s: string): number {
  return [...s].length;
}

function normalizeTable(
  rows: readonly TableRow[],
  columns: readonly string[] | undefined,
): { columns: string[] | null; cells: unknown[][] } {
  if (!Array.isArray(rows)) throw new TypeError("displayTable: rows must be an array");
  const objectRows = rows.filter((r) => !Array.isArray(r)) as Readonly<Record<string, unknown>>[];
  let cols: string[] | null = columns ? [...columns] : null;
  if (!cols && objectRows.length > 0) {
    const seen = new Set<string>();
    for (const r of objectRows) for (const k of Object.keys(r)) seen.add(k);
    cols = [...seen];
  }
  const cells = rows.map((r, i) => {
    if (Array.isArray(r)) return [...(r as readonly unknown[])];
    if (r === null || typeof r !== "object") {
      throw new TypeError(`displayTable: row ${i} is neither an object nor an array`);
    }
    const o = r as Readonly<Record<string, unknown>>;
    return (cols ?? []).map((c) => o[c]);
  });
  return { columns: cols, cells };
}

/**
 * Build the MIME bundle of a table: `text/html` (all text escaped, numbers in `td.num`),
 * `text/plain` (columns aligned with spaces) and {@link TABLE_MIME} (the caption, header and cell
 * texts as JSON, for racelab's reports). In a table holding an integer of 10,000 or more, every
 * integer is printed with its thousands grouped (`8,445,206`, and `8,984` beside it); other
 * numbers print as they are (integers beyond 2^53 - 1 as `≈1.03 × 10^17`).
 *
 * @param rows objects keyed by column name, or arrays of cells in column order.
 * @param columns column names and order; default: the keys of the object rows in first-seen order.
 *   Array rows without `columns` get no header row.
 * @param caption optional caption (escaped), shown above the table.
 * @throws TypeError when `rows` is not an array or a row is neither an object nor an array.
 */
export function tableBundle(rows: readonly TableRow[], columns?: readonly string[], caption?: string): MimeBundle {
  const t = normalizeTable(rows, columns);
  const ncols = Math.max(t.columns?.length ?? 0, ...t.cells.map((r) => r.length));
  // A table that holds an integer of five digits or more groups the thousands of every integer in
  // it (8,445,206; 8,984 and 7,480 beside it, in any column: new-user trial 22 read `7480` next to
  // `10,000` as a bug): counts of interleavings are read, not decoded. Tables of smaller numbers
  // (years, line numbers, block indices) print them as they are.
  const grouping = t.cells.some((r) => r.some((v) => isWholeNumber(v) && Math.abs(Number(v)) >= 10_000));
  const cellText = (v: unknown): string => (grouping && isWholeNumber(v) ? v.toLocaleString("en-US") : plainCellText(v));
  const html: string[] = ['<table class="racelab-table">'];
  if (caption) html.push(`<caption>${escapeHtml(caption)}</caption>`);
  if (t.columns && t.columns.length > 0) {
    html.push("<thead><tr>" + t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("") + "</tr></thead>");
  }
  html.push("<tbody>");
  for (const r of t.cells) {
    const tds: string[] = [];
    for (let i = 0; i < ncols; i++) {
      const v = r[i];
      tds.push(isNumeric(v) ? `<td class="num">${escapeHtml(cellText(v))}</td>` : `<td>${softBreaks(escapeHtml(cellText(v)))}</td>`);
    }
    html.push("<tr>" + tds.join("") + "</tr>");
  }
  html.push("</tbody></table>");

  // text/plain: aligned columns, numbers right-aligned.
  const header = t.columns && t.columns.length > 0 ? t.columns : null;
  const textRows = t.cells.map((r) => Array.from({ length: ncols }, (_, i) => cellText(r[i]).replace(/\s*\n\s*/g, " ")));
  const widths = Array.from({ length: ncols }, (_, i) =>
    Math.max(header ? width(header[i] ?? "") : 0, ...textRows.map((r) => width(r[i] ?? ""))),
  );
  const pad = (s: string, w: number, right: boolean): string =>
    right ? " ".repeat(w - width(s)) + s : s + " ".repeat(w - width(s));
  const lines: string[] = [];
  if (caption) lines.push(caption);
  if (header) {
    lines.push(widths.map((w, i) => pad(header[i] ?? "", w, false)).join("  ").trimEnd());
    lines.push(widths.map((w) => "-".repeat(w)).join("  "));
  }
  t.cells.forEach((r, ri) => {
    lines.push(widths.map((w, i) => pad(textRows[ri]![i]!, w, isNumeric(r[i]))).join("  ").trimEnd());
  });
  const data: TableData = {
    caption: caption ? caption : null,
    columns: header,
    rows: t.cells.map((r) => Array.from({ length: ncols }, (_, i) => cellText(r[i]))),
    numeric: Array.from({ length: ncols }, (_, i) => t.cells.some((r) => isNumeric(r[i])) && t.cells.every((r) => isNumeric(r[i]) || plainCellText(r[i]) === "")),
  };
  return { "text/html": html.join(""), "text/plain": lines.join("\n"), [TABLE_MIME]: data };
}

/**
 * Build the MIME bundle of a monospace block: `text/html` (`<pre class="racelab-pre">`, escaped)
 * and `text/plain`.
 */
export function preBundle(text: string): MimeBundle {
  return { "text/html": `<pre class="racelab-pre">${escapeHtml(text)}</pre>`, "text/plain": text };
}

type VegaModule = typeof import("vega");

/** A vega loader that refuses every load: racelab charts render offline from inline data. */
function offlineLoader(vega: VegaModule, refused: string[]): ReturnType<VegaModule["loader"]> {
  const loader = vega.loader();
  const refuse = async (uri: string): Promise<never> => {
    refused.push(uri);
    throw new Error(`racelab charts render offline: cannot load "${uri}"; put the data inline as data.values`);
  };
  loader.load = refuse;
  loader.sanitize = refuse;
  loader.http = refuse;
  loader.file = refuse;
  return loader;
}

/** One-line description of a chart for `text/plain`. */
function chartText(spec: VegaLiteSpec): string {
  const t = spec["title"];
  const title =
    typeof t === "string"
      ? t
      : t && typeof t === "object" && typeof (t as { text?: unknown }).text === "string"
        ? (t as { text: string }).text
        : typeof spec["description"] === "string"
          ? (spec["description"] as string)
          : "";
  const head = title ? `<Vega-Lite chart: ${title}>` : "<Vega-Lite chart>";
  // The values drawn, as a text table (what a text front end or a screen reader gets): the mail's
  // table (three significant digits, rates in %, a log scale's floor as 0).
  const tab = chartTable(spec);
  if (tab === null) return head;
  const widths = tab.header.map((h, c) => Math.max(width(h), ...tab.rows.map((r) => width(r[c] ?? ""))));
  const line = (cells: readonly string[], num: readonly boolean[]) =>
    widths.map((w, c) => (num[c] ? " ".repeat(w - width(cells[c] ?? "")) + (cells[c] ?? "") : (cells[c] ?? "") + " ".repeat(w - width(cells[c] ?? "")))).join("  ").trimEnd();
  const lines = [line(tab.header, []), widths.map((w) => "-".repeat(w)).join("  "), ...tab.rows.map((r) => line(r, tab.numeric))];
  return `${head}\n${lines.join("\n")}${tab.more > 0 ? `\n... ${tab.more} more rows` : ""}`;
}

/**
 * Render a Vega-Lite spec to an SVG string, headless (no DOM, no canvas, no network, no fonts:
 * text is measured by vega's built-in estimator, so the output is deterministic).
 *
 * Element ids (clip paths, gradients) are prefixed with a hash of the spec so that several charts
 * can sit in one HTML page without their ids colliding.
 *
 * @throws Error when vega-lite cannot compile the spec, or the spec needs external data.
 */
export async function renderChartSvg(spec: VegaLiteSpec): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import("vega"), import("vega-lite")]);
  // vega tags data objects it ingests: compile a copy so the caller's spec stays untouched.
  const copy = JSON.parse(JSON.stringify(spec)) as Parameters<typeof vegaLite.compile>[0];
  const compiled = vegaLite.compile(copy).spec;
  // vega numbers clip paths and gradients with module-level counters: restart them so that the
  // same spec renders to the same SVG whatever was rendered before.
  (vega as unknown as { resetSVGDefIds?: () => void }).resetSVGDefIds?.();
  // vega logs dataflow errors (such as a refused data load) instead of rejecting: collect them.
  const errors: string[] = [];
  let level = vega.Warn;
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: readonly unknown[]) {
      errors.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(" "));
      return logger;
    },
    warn(...args: readonly unknown[]) {
      // Refused loads are reported by the error thrown below, not as a warning.
      if (level >= vega.Warn && args[0] !== "Loading failed") console.warn("vega:", ...args);
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  } as unknown as NonNullable<ConstructorParameters<VegaModule["View"]>[1]>["logger"];
  const refused: string[] = [];
  const view = new vega.View(vega.parse(compiled), { renderer: "none", loader: offlineLoader(vega, refused), logger });
  try {
    const svg = await view.toSVG();
    if (refused.length > 0) {
      throw new Error(`racelab charts render offline: cannot load "${refused[0]}"; put the data inline as data.values`);
    }
    if (errors.length > 0) throw new Error(`cannot render the chart: ${errors[0]}`);
    const prefix = "rl" + createHash("sha256").update(JSON.stringify(spec)).digest("hex").slice(0, 8) + "-";
    return svg.replace(/(\bid="|url\(#|href="#)(clip\d+|gradient_\d+)/g, `$1${prefix}$2`);
  } finally {
    view.finalize();
  }
}

/**
 * Build the MIME bundle of a chart: `application/vnd.vegalite.v5+json` (a deep copy of the spec as
 * a JSON object), `image/svg+xml` (see {@link renderChartSvg}), `image/png` (see
 * {@link renderChartPng}; for front ends that drop an untrusted notebook's SVG) and `text/plain`
 * (the title and the values drawn).
 *
 * @param spec a Vega-Lite v5 spec (plain JSON object, inline data).
 * @throws TypeError when `spec` is not a plain object or not JSON-serializable;
 *   Error when vega-lite cannot compile it or it refers to external data.
 */
export async function chartBundle(spec: VegaLiteSpec): Promise<MimeBundle> {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) {
    throw new TypeError("displayChart: the Vega-Lite spec must be a plain object");
  }
  let json: VegaLiteSpec;
  try {
    json = JSON.parse(JSON.stringify(spec)) as VegaLiteSpec;
  } catch (e) {
    throw new TypeError(`displayChart: the Vega-Lite spec is not JSON-serializable: ${(e as Error).message}`);
  }
  const svg = await renderChartSvg(json);
  const png = await renderChartPng(svg);
  return { [VEGALITE_MIME]: json, "image/svg+xml": svg, ...(png !== null ? { "image/png": png } : {}), "text/plain": chartText(json) };
}

/**
 * The chart's SVG rasterized to a PNG (base64, as Jupyter carries `image/png`) with resvg, at the
 * SVG's own size on a white background, text in DejaVu Sans from the system fonts. A front end
 * that will not show an untrusted notebook's SVG still shows the PNG. Null when resvg is not
 * available on this platform (the bundle then has no PNG).
 */
export async function renderChartPng(svg: string): Promise<string | null> {
  try {
    const { Resvg } = await import("@resvg/resvg-js");
    const png = new Resvg(svg, { background: "white", font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" } }).render().asPng();
    return Buffer.from(png).toString("base64");
  } catch {
    return null;
  }
}

/** The content of a `display_data` message as tslab's writer takes it. */
interface DisplayContent {
  data: MimeBundle;
  metadata: Record<string, unknown>;
  transient: Record<string, unknown>;
}
type DisplayWriter = (content: DisplayContent, update: boolean) => void;

const TSLAB_JUPYTER_MODULE = /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/;

/**
 * Find tslab's current display writer among the modules loaded in this process.
 * @throws Error when this process is not a tslab kernel executing a cell.
 */
function tslabWriter(): DisplayWriter {
  const req = createRequire(import.meta.url);
  for (const [file, mod] of Object.entries(req.cache)) {
    if (!mod || !TSLAB_JUPYTER_MODULE.test(file)) continue;
    const w = (mod.exports as { lastWriteDisplayData?: unknown }).lastWriteDisplayData;
    if (typeof w === "function") return w as DisplayWriter;
  }
  throw new Error(
    "racelab display: not running inside the tslab Jupyter kernel (no tslab display channel found); " +
      "build the MIME bundle with tableBundle()/chartBundle()/preBundle() instead",
  );
}

/**
 * Send one `display_data` message with the whole MIME bundle.
 * @param bundle MIME type -> data; JSON types (`+json`) take objects, others strings.
 * @param metadata optional per-MIME metadata.
 * @throws Error when not running inside the tslab kernel.
 */
export function displayBundle(bundle: MimeBundle, metadata: Record<string, unknown> = {}): void {
  tslabWriter()({ data: bundle, metadata, transient: {} }, false);
}

/**
 * Display a table (see {@link tableBundle} for the arguments) as one `text/html` + `text/plain`
 * bundle.
 * @throws TypeError for malformed rows; Error when not running inside the tslab kernel.
 */
export function displayTable(rows: readonly TableRow[], columns?: readonly string[], caption?: string): void {
  displayBundle(tableBundle(rows, columns, caption));
}

/**
 * Display a Vega-Lite chart as one bundle (see {@link chartBundle}). Rendering the SVG is
 * asynchronous: `await displayChart(spec)` in the cell, or the output may land after the cell ends.
 * @throws like {@link chartBundle}; Error when not running inside the tslab kernel.
 */
export async function displayChart(spec: VegaLiteSpec): Promise<void> {
  // Capture the writer before awaiting, so the chart lands in the cell that asked for it.
  const write = tslabWriter();
  const bundle = await chartBundle(spec);
  write({ data: bundle, metadata: {}, transient: {} }, false);
}

/** Display text as `text/plain` only (front ends show it in monospace). */
export function displayText(text: string): void {
  displayBundle({ "text/plain": text });
}

/** Display a monospace diagram (race columns, traces) as `<pre>` HTML + `text/plain`. */
export function displayPre(text: string): void {
  displayBundle(preBundle(text));
}
