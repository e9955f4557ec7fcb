/**
 * Outputs pass: one notebook output -> typed blocks of the report's document model (model.ts).
 *
 * For display_data / execute_result, a racelab table bundle becomes a {@link TableBlock} from its
 * {@link TABLE_MIME} JSON (or, in a notebook executed before that type existed, from its
 * `text/plain`); a racelab `<pre>` bundle becomes a {@link DiagramBlock}; otherwise the MIME
 * priority ({@link MIME_PRIORITY}) picks: SVG first (a chart's Vega-Lite JSON needs a script to
 * draw, so its SVG is shown and the spec kept for the writers), then raster images, then HTML
 * (sanitized), then markdown, then plain text. Streams and errors keep their text with terminal
 * escapes removed. Untrusted HTML and SVG are sanitized here, once, for every writer.
 */
import { stripVTControlCharacters } from "node:util";
import { chartTitle } from "../notebook/cell-text.js";
import { preBundle, TABLE_MIME, VEGALITE_MIME, type VegaLiteSpec } from "../notebook/display.js";
import { parseMarkdown } from "./markdown.js";
import type { DiagramBlock, FigureBlock, OutputBlock, TableBlock } from "./model.js";
import { joinText, type NotebookOutput } from "./notebook.js";
import { sanitizeHtmlOutput, sanitizeSvgOutput } from "./sanitize.js";

/** MIME types the report renders, best first. */
export const MIME_PRIORITY = [
  "image/svg+xml",
  "image/png",
  "image/jpeg",
  "image/gif",
  "text/html",
  "text/markdown",
  "text/plain",
] as const;

/** MIME types that are known and deliberately not shown (they need scripts or widgets). */
const SILENT_MIMES = [/^application\/vnd\.jupyter\.widget/, /^application\/javascript$/, /^text\/javascript$/, /^application\/vnd\.racelab\./];

/**
 * Pick the MIME type to render from a bundle, by {@link MIME_PRIORITY}.
 * @returns the chosen type, or null when the bundle has none of them.
 */
export function pickMime(data: Record<string, unknown>): (typeof MIME_PRIORITY)[number] | null {
  for (const mime of MIME_PRIORITY) {
    const v = data[mime];
    if (typeof v === "string" || Array.isArray(v)) return mime;
  }
  return null;
}

/** Strip ANSI/VT escapes and apply carriage returns (progress bars keep their last state). */
export function cleanTerminalText(text: string): string {
  return stripVTControlCharacters(text)
    .split("\n")
    .map((line) => {
      const parts = line.replace(/\r$/, "").split("\r");
      return parts[parts.length - 1]!;
    })
    .join("\n");
}

/** Deepest nesting of HTML elements an output may have and still be rendered as HTML. */
export const MAX_HTML_DEPTH = 256;

/**
 * The deepest nesting of elements in `html`, counted in one linear pass over its tags (void
 * elements and self-closing tags do not nest; a close tag pops one level). An approximation of the
 * parser's view that never undercounts a run of open tags.
 */
export function nestingDepth(html: string): number {
  const VOID = /^(area|base|br|col|embed|hr|img|input|link|meta|param|source|track|wbr)$/i;
  let depth = 0;
  let max = 0;
  for (const m of html.matchAll(/<(\/?)([A-Za-z][\w:-]*)[^>]*?(\/?)>/g)) {
    if (m[1] === "/") depth = Math.max(0, depth - 1);
    else if (m[3] !== "/" && !VOID.test(m[2]!)) max = Math.max(max, ++depth);
  }
  return max;
}

/** Where an output sits: its cell, whether the cell's outputs are collapsed, an id prefix unique in the document. */
export interface OutputPlace {
  readonly cell: number;
  readonly collapsed: boolean;
  /** Prefix for element ids of sanitized HTML and SVG, e.g. `c3o1-`. */
  readonly idPrefix: string;
}

/** A table as `tableBundle` prints it in `text/plain` (caption, header, dashes, rows), parsed; null when it is not one. */
export function parseTextTable(text: string): { caption: string | null; header: string[]; rows: string[][] } | null {
  const lines = text.replace(/\n+$/, "").split("\n");
  const d = lines.findIndex((l) => /^-+( {2}-+)*$/.test(l));
  if (d < 1) return null;
  const spans: [number, number][] = [];
  for (const m of lines[d]!.matchAll(/-+/g)) spans.push([m.index!, m.index! + m[0].length]);
  // Columns are aligned in code points (display.ts pads by code points).
  const cut = (l: string) => {
    const cps = [...l];
    return spans.map(([a], k) => cps.slice(a, k + 1 < spans.length ? spans[k + 1]![0] : undefined).join("").trim());
  };
  return {
    caption: d >= 2 ? lines.slice(0, d - 1).join(" ").trim() : null,
    header: cut(lines[d - 1]!),
    rows: lines.slice(d + 1).filter((l) => l.trim() !== "").map(cut),
  };
}

/** Cells that read as numbers (`12`, `47.55% [46.86%, 48.25%]`, `≈1.03 × 10^17`): the mail writeup has always right-aligned these. */
const NUMBER_LIKE = /^[-+\d.,%\s[\]≈×^]*\d[-+\d.,%\s[\]≈×^]*$/;

/** Per column: every non-empty cell reads as a number, and one does. */
export function numberLikeColumns(ncols: number, rows: readonly (readonly string[])[]): boolean[] {
  return Array.from({ length: ncols }, (_, c) => {
    const cells = rows.map((r) => r[c] ?? "").filter((v) => v.trim() !== "");
    return cells.length > 0 && cells.every((v) => NUMBER_LIKE.test(v));
  });
}

/** The {@link TABLE_MIME} JSON of a bundle, checked; null when absent or malformed (then the other forms are used). */
function tableJson(v: unknown): { caption: string | null; columns: string[] | null; rows: string[][]; numeric: boolean[] } | null {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const strings = (a: unknown): a is string[] => Array.isArray(a) && a.every((x) => typeof x === "string");
  if (!(o["caption"] === null || o["caption"] === undefined || typeof o["caption"] === "string")) return null;
  if (!(o["columns"] === null || o["columns"] === undefined || strings(o["columns"]))) return null;
  if (!Array.isArray(o["rows"]) || !o["rows"].every(strings)) return null;
  const columns = (o["columns"] as string[] | null | undefined) ?? null;
  const rows = o["rows"] as string[][];
  const ncols = Math.max(columns?.length ?? 0, ...rows.map((r) => r.length));
  const numeric = Array.isArray(o["numeric"]) ? (o["numeric"] as unknown[]).map((x) => x === true) : [];
  return {
    caption: typeof o["caption"] === "string" && o["caption"] !== "" ? o["caption"] : null,
    columns: columns && columns.length > 0 ? [...columns, ...Array<string>(ncols - columns.length).fill("")] : null,
    rows: rows.map((r) => [...r, ...Array<string>(ncols - r.length).fill("")]),
    numeric: Array.from({ length: ncols }, (_, c) => numeric[c] ?? false),
  };
}

/**
 * A racelab table bundle as a table block: from its JSON, else (a notebook executed before the JSON
 * existed: `text/html` is a `racelab-table` and `text/plain` parses as one with as many rows as the
 * HTML has) from its text. Null when the bundle is not one of racelab's tables.
 */
function tableBlock(data: Record<string, unknown>, place: OutputPlace): TableBlock | null {
  const base = { kind: "table" as const, cell: place.cell, collapsed: place.collapsed, number: null };
  const json = tableJson(data[TABLE_MIME]);
  if (json !== null) {
    const like = numberLikeColumns(json.numeric.length, json.rows);
    return { ...base, caption: json.caption, header: json.columns, rows: json.rows, numeric: json.numeric.map((n, c) => n || like[c]!), from: "json" };
  }
  const html = joinText(data["text/html"]);
  if (!html.startsWith('<table class="racelab-table">')) return null;
  const t = parseTextTable(cleanTerminalText(joinText(data["text/plain"])));
  if (t === null) return null;
  // A check, not a source: the text form must have the HTML form's rows.
  const trs = html.split("<tr>").length - 1;
  if (trs !== t.rows.length + 1) return null;
  return { ...base, caption: t.caption, header: t.header, rows: t.rows, numeric: numberLikeColumns(t.header.length, t.rows), from: "text" };
}

/**
 * The index of a race diagram's column header in `lines`: a line of thread names followed by a
 * line of dashes, one run under each name. Null when there is none.
 */
export function diagramHeader(lines: readonly string[]): number | null {
  for (let i = 0; i + 1 < lines.length; i++) {
    const dashes = lines[i + 1]!;
    if (lines[i]!.trim() === "" || !/^-{3,}( +-{3,})*$/.test(dashes)) continue;
    const names = [...lines[i]!];
    if ([...dashes.matchAll(/-+/g)].every((m) => (names[m.index!] ?? " ") !== " ")) return i;
  }
  return null;
}

/** A racelab `<pre>` bundle (`preBundle`: its HTML is exactly the escaped text) as a diagram block; null otherwise. */
function diagramBlock(data: Record<string, unknown>, place: OutputPlace): DiagramBlock | null {
  if (data["text/html"] === undefined || data["text/plain"] === undefined) return null;
  const text = joinText(data["text/plain"]);
  if (joinText(data["text/html"]) !== preBundle(text)["text/html"]) return null;
  const lines = cleanTerminalText(text).replace(/\n+$/, "").split("\n");
  return { kind: "diagram", cell: place.cell, collapsed: place.collapsed, lines, header: diagramHeader(lines) };
}

/**
 * One output as blocks of the document model ([] when it has nothing to show). Figures get
 * number 0 and tables null here; document.ts numbers them in document order.
 */
export function outputBlocks(output: NotebookOutput, place: OutputPlace): OutputBlock[] {
  const at = { cell: place.cell, collapsed: place.collapsed };
  switch (output.output_type) {
    case "stream": {
      const text = cleanTerminalText(joinText(output.text)).replace(/\n$/, "");
      if (text === "") return [];
      return [{ kind: "stream", ...at, name: output.name === "stderr" ? "stderr" : "stdout", text }];
    }
    case "error": {
      const tb = (output.traceback ?? []).map((l) => cleanTerminalText(String(l))).join("\n");
      return [{ kind: "error", ...at, text: (tb.trim() ? tb : `${output.ename ?? "Error"}: ${output.evalue ?? ""}`).replace(/\n$/, "") }];
    }
    case "display_data":
    case "execute_result":
      break;
    default:
      return [];
  }
  const data = output.data ?? {};
  const table = tableBlock(data, place);
  if (table !== null) return [table];
  const diagram = diagramBlock(data, place);
  if (diagram !== null) return [diagram];
  const plain = data["text/plain"] !== undefined ? cleanTerminalText(joinText(data["text/plain"])).replace(/\n$/, "") : null;
  const mime = pickMime(data);
  if (mime === null) {
    const types = Object.keys(data).filter((m) => m !== VEGALITE_MIME && !SILENT_MIMES.some((r) => r.test(m)));
    if (types.length === 0) return [];
    return [{ kind: "note", ...at, text: `[output not shown: ${types.join(", ")}]` }];
  }
  const value = joinText(data[mime]);
  const spec = data[VEGALITE_MIME] !== null && typeof data[VEGALITE_MIME] === "object" && !Array.isArray(data[VEGALITE_MIME]) ? (data[VEGALITE_MIME] as VegaLiteSpec) : null;
  const figure = (f: Pick<FigureBlock, "svg" | "image">): FigureBlock => ({ kind: "figure", ...at, number: 0, caption: spec ? chartTitle(spec) : null, spec, text: plain, ...f });
  /** The bundle's first valid raster image, for a figure whose SVG does not survive (or as a chart's PNG). */
  const raster = (): FigureBlock["image"] => {
    for (const m of ["image/png", "image/jpeg", "image/gif"] as const) {
      if (data[m] === undefined) continue;
      const b64 = joinText(data[m]).replace(/\s+/g, "");
      if (/^[A-Za-z0-9+/=]+$/.test(b64)) return { mime: m, base64: b64 };
    }
    return null;
  };
  switch (mime) {
    case "image/svg+xml": {
      const svg = sanitizeSvgOutput(value, place.idPrefix);
      const image = raster();
      if (!svg && image === null) return [{ kind: "note", ...at, text: "[SVG output removed by the sanitizer]" }];
      return [figure({ svg: svg || null, image })];
    }
    case "image/png":
    case "image/jpeg":
    case "image/gif": {
      const b64 = value.replace(/\s+/g, "");
      if (!/^[A-Za-z0-9+/=]+$/.test(b64)) return [{ kind: "note", ...at, text: "[invalid image data]" }];
      return [figure({ svg: null, image: { mime, base64: b64 } })];
    }
    case "text/html": {
      // The HTML parser's cost grows with the square of the nesting depth (a 2 MB output of
      // nested <div>s took 32 s): deeper than any table or chart needs, the text is shown instead.
      const depth = nestingDepth(value);
      if (depth > MAX_HTML_DEPTH) {
        return [
          { kind: "note", ...at, text: `[HTML output nested ${depth.toLocaleString("en-US")} levels deep (more than ${MAX_HTML_DEPTH}): its text is shown instead]` },
          { kind: "text", ...at, text: plain ?? "" },
        ];
      }
      return [{ kind: "html", ...at, html: sanitizeHtmlOutput(value, place.idPrefix), text: plain }];
    }
    case "text/markdown":
      return [{ kind: "prose", cell: place.cell, tokens: parseMarkdown(value), attachments: null, output: { collapsed: place.collapsed } }];
    case "text/plain":
      return [{ kind: "text", ...at, text: cleanTerminalText(value).replace(/\n$/, "") }];
  }
}

/**
 * The blocks of a cell's outputs, merging consecutive stream outputs of the same name first (so
 * that a stream split across messages shows as one block).
 * @param prefix id prefix of the cell (`c3`); output i gets `${prefix}o${i}-`.
 */
export function cellOutputBlocks(outputs: readonly NotebookOutput[], cell: number, collapsed: boolean, prefix = `c${cell}`): OutputBlock[] {
  const merged: NotebookOutput[] = [];
  for (const o of outputs) {
    const last = merged[merged.length - 1];
    if (o.output_type === "stream" && last?.output_type === "stream" && last.name === o.name) {
      merged[merged.length - 1] = { ...last, text: joinText(last.text) + joinText(o.text) };
    } else {
      merged.push(o);
    }
  }
  return merged.flatMap((o, i) => outputBlocks(o, { cell, collapsed, idPrefix: `${prefix}o${i + 1}-` }));
}
