/**
 * Text forms shared by the display bundles (display.ts) and the report writers (src/report): a
 * table cell's text, the soft line breaks of a table cell in HTML, and the values a chart draws.
 * Internal: not part of racelab's public API.
 */

/**
 * A number as text: as it is, except an integer beyond 2^53 - 1, which a double only
 * approximates: `≈1.03 × 10^17` (three significant digits), never false digits.
 */
export function numberText(v: number): string {
  if (!Number.isInteger(v) || Number.isSafeInteger(v)) return String(v);
  const [m, e] = v.toExponential(2).split("e");
  return `≈${m} × 10^${Number(e)}`;
}

/** Text of one table cell: "" for null/undefined, JSON for objects, String() otherwise. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number") return numberText(v);
  if (typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (v instanceof Date) return v.toISOString();
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? String(x) : x)) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * Escaped cell text with a `<wbr>` (a line-break opportunity, invisible otherwise) after each `_`
 * and `/` inside a word and each `.` before a letter (not a decimal point), so that a narrow column
 * breaks `ext4_page_mkwrite` as `ext4_page_` / `mkwrite` rather than anywhere. Words shorter than
 * 13 characters stay whole ({@link breaksInside}).
 */
export function softBreaks(escaped: string): string {
  // A '.' between digits is a decimal point (47.45%): no break there. (An entity counts as one character.)
  return escaped.replace(/\S+/g, (w) => (breaksInside(w.replace(/&(?:[a-z]+|#\d+);/g, "x")) ? w.replace(SOFT_BREAK, "$1<wbr>") : w));
}

/**
 * Whether a word (unescaped) gets {@link softBreaks}' break opportunities: words of 13 characters
 * or more. A thread or a short function name (`acme_setup`) is not cut into `acme_` / `setup`
 * while other columns have room (new-user trial 24).
 */
export function breaksInside(word: string): boolean {
  return word.length >= 13;
}

/** Where {@link softBreaks} puts a `<wbr>`: after the captured character. */
export const SOFT_BREAK = /(?<=[A-Za-z0-9])([_/](?=[A-Za-z0-9])|\.(?=[A-Za-z]))/g;

function isScalar(v: unknown): boolean {
  return v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}

/**
 * The title of a Vega-Lite spec (a string, lines, or `{ text }`), else its description; null when
 * it has neither.
 */
export function chartTitle(spec: Record<string, unknown>): string | null {
  const t = spec["title"];
  if (typeof t === "string" && t.trim()) return t.trim();
  if (Array.isArray(t) && t.length > 0 && t.every((x) => typeof x === "string")) return t.join(" ");
  if (t && typeof t === "object" && !Array.isArray(t)) {
    const text = (t as { text?: unknown }).text;
    if (typeof text === "string" && text.trim()) return text.trim();
    if (Array.isArray(text) && text.every((x) => typeof x === "string")) return text.join(" ");
  }
  const d = spec["description"];
  if (typeof d === "string" && d.trim()) return d.trim();
  return null;
}

// A chart's values as a small text table (moved from src/report/chart-text.ts so that the
// notebook's chart text/plain and the mail print the same):
/*
 * A chart's values as a small text table, for a chart's `text/plain` in the notebook and the mail writeup: the data fields the Vega-Lite spec
 * encodes (facets, x, its offset, colour; then the quantities on x, y, y2; a text label when it
 * says more than the numbers), one row per inline data row, in the data's order. Numbers are
 * rounded to three significant digits, shown as percentages where the axis formats them so, and a
 * value a log scale was clamped to (the floor a zero is drawn at) is shown as 0.
 */

/** One encoding channel's definition, as far as the table needs it. */
interface ChannelDef {
  readonly field?: unknown;
  readonly type?: unknown;
  readonly title?: unknown;
  readonly format?: unknown;
  readonly scale?: { readonly type?: unknown; readonly domain?: unknown; readonly domainMin?: unknown } | null;
  readonly axis?: { readonly format?: unknown } | null;
}

/** Channels whose field names a row (categories), in the order their columns come. */
const KEY_CHANNELS = ["facet", "row", "column", "x", "xOffset", "y", "yOffset", "color", "fill", "stroke", "shape", "detail"] as const;
/** Channels whose field is a quantity drawn, in the order their columns come. */
const VALUE_CHANNELS = ["x", "y", "x2", "y2", "theta", "size"] as const;

/** What the table knows of one data field. */
interface FieldInfo {
  field: string;
  /** The column's header: the channel's title when the channel draws this field alone, else the field's name. */
  header: string;
  key: boolean;
  /** Shown as a percentage (the axis or the label formats it with `%`). */
  percent: boolean;
  /** The value a log scale's domain starts at: a value at or below it is drawn at the floor, shown as 0. */
  floor: number | null;
}

/** One encoding of the spec, with its layer's mark type (`rule`, `point`, ...; "" when none). */
interface Encoding {
  readonly enc: Readonly<Record<string, ChannelDef>>;
  readonly mark: string;
}

/** Every encoding of the spec and its layers (a facet's inner spec, nested layers), with the facet's fields. */
function encodings(spec: Record<string, unknown>): Encoding[] {
  const out: Encoding[] = [];
  const visit = (s: unknown) => {
    if (s === null || typeof s !== "object" || Array.isArray(s)) return;
    const o = s as Record<string, unknown>;
    const m = o["mark"];
    const mark = typeof m === "string" ? m : m !== null && typeof m === "object" && typeof (m as { type?: unknown }).type === "string" ? (m as { type: string }).type : "";
    if (o["encoding"] !== null && typeof o["encoding"] === "object") out.push({ enc: o["encoding"] as Record<string, ChannelDef>, mark });
    const facet = o["facet"];
    if (facet !== null && typeof facet === "object" && !Array.isArray(facet)) {
      const f = facet as Record<string, unknown>;
      out.push({ enc: typeof f["field"] === "string" ? { facet: f as ChannelDef } : (f as Record<string, ChannelDef>), mark: "" });
    }
    for (const k of ["layer", "concat", "hconcat", "vconcat"]) if (Array.isArray(o[k])) for (const l of o[k] as unknown[]) visit(l);
    if (o["spec"] !== undefined) visit(o["spec"]);
  };
  visit(spec);
  return out;
}

/** A channel's title as a column header: without `(log scale)`, and without a long parenthesized note. */
function title(c: ChannelDef | undefined): string | null {
  if (c === undefined || typeof c.title !== "string" || c.title.trim() === "") return null;
  const t = c.title.replace(/\s*\((log|symlog) scale\)\s*$/, "").trim();
  return t.length > 24 && / \(/.test(t) ? t.slice(0, t.indexOf(" (")) : t;
}

/** A log scale's lower end (its domain's first value, or `domainMin`), or null. */
function logFloor(c: ChannelDef | undefined): number | null {
  const s = c?.scale;
  if (s === null || s === undefined || (s.type !== "log" && s.type !== "symlog")) return null;
  if (Array.isArray(s.domain) && typeof s.domain[0] === "number") return s.domain[0];
  return typeof s.domainMin === "number" ? s.domainMin : null;
}

const isPercent = (c: ChannelDef | undefined): boolean =>
  (typeof c?.axis?.format === "string" && c.axis.format.includes("%")) || (typeof c?.format === "string" && c.format.includes("%"));

/** Three significant digits, without an exponent for the magnitudes charts have. */
function round3(v: number): string {
  if (Number.isInteger(v)) return cellText(v);
  if (Math.abs(v) >= 1000) return String(Math.round(v));
  const r = Number(v.toPrecision(3));
  return Math.abs(r) >= 1e-6 || r === 0 ? String(r) : r.toPrecision(3);
}

/** A data value as a table cell: numbers rounded (percent, the clamp floor as 0), null as `—`. */
export function chartCell(v: unknown, f: Pick<FieldInfo, "percent" | "floor"> = { percent: false, floor: null }): string {
  if (v === null || v === undefined) return "—";
  if (typeof v !== "number" || !Number.isFinite(v)) return typeof v === "object" ? "" : cellText(v);
  if (f.floor !== null && v <= f.floor * (1 + 1e-9)) return f.percent ? "0%" : "0";
  return f.percent ? `${round3(v * 100)}%` : round3(v);
}

/** A cell reads as a number (`12`, `4.5%`, `1,000`). */
const NUMBER_LIKE = /^[-+]?[\d,]*\.?\d+(e[-+]?\d+)?%?$/i;

/** Most data rows the table shows. */
export const CHART_TABLE_ROWS = 60;

/**
 * The values a Vega-Lite chart draws, as a table of the fields it encodes (see the module notes):
 * header, the first {@link CHART_TABLE_ROWS} rows as cell texts, which columns are numbers, and how
 * many rows were left out. A spec that encodes no quantity of its data gives every scalar field
 * after the encoded ones. Null when the spec has no inline data rows.
 */
export function chartTable(spec: Record<string, unknown>): { header: string[]; rows: string[][]; numeric: boolean[]; more: number } | null {
  const data = spec["data"];
  const values = data !== null && typeof data === "object" && Array.isArray((data as { values?: unknown }).values) ? (data as { values: unknown[] }).values : [];
  const rows = values.filter((v): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v));
  if (rows.length === 0) return null;
  const inData = (f: unknown): f is string => typeof f === "string" && rows.some((r) => r[f] !== undefined);
  // Marks first, then the intervals drawn as rules (their y, then y2): rate, lo, hi.
  const all = encodings(spec);
  const encs = [...all.filter((e) => e.mark !== "rule"), ...all.filter((e) => e.mark === "rule")].map((e) => e.enc);
  const fields = new Map<string, FieldInfo>();
  const add = (field: string, key: boolean, c: ChannelDef | undefined, header: string | null, sibling?: ChannelDef) => {
    const known = fields.get(field);
    if (known !== undefined) {
      if (known.header === field && header !== null) known.header = header;
      return;
    }
    fields.set(field, { field, header: header ?? field, key, percent: isPercent(c) || isPercent(sibling), floor: logFloor(c) ?? logFloor(sibling) });
  };
  // Category fields first, in channel order.
  for (const ch of KEY_CHANNELS)
    for (const e of encs) {
      const c = e[ch];
      if (c === undefined || !inData(c.field)) continue;
      if ((ch === "x" || ch === "y") && c.type === "quantitative") continue;
      if (c.type === "quantitative" && !["facet", "row", "column"].includes(ch)) continue;
      add(c.field, true, c, title(c));
    }
  // Then the quantities: a channel drawing one field is headed by its title, one drawing several by their names.
  for (const ch of VALUE_CHANNELS) {
    const drawn = encs.flatMap((e) => {
      const c = e[ch];
      if (c === undefined || !inData(c.field) || fields.get(c.field)?.key === true) return [];
      if ((ch === "x" || ch === "y") && c.type !== "quantitative") return [];
      // x2/y2 share the scale and axis of x/y.
      const sibling = ch === "x2" || ch === "y2" ? e[ch.slice(0, 1)] : undefined;
      return [{ c, sibling }];
    });
    const distinct = new Set(drawn.map((d) => d.c.field as string));
    for (const { c, sibling } of drawn) add(c.field as string, false, c, distinct.size === 1 ? title(c) : null, sibling);
  }
  // A text label: when its layer draws nothing else from the data (a count above a bar drawn at a
  // computed height), or when it says more than a number ("none in 20,000", "0 of 20,000").
  for (const e of encs) {
    const c = e["text"];
    if (c === undefined || !inData(c.field) || fields.has(c.field)) continue;
    const positions = VALUE_CHANNELS.some((ch) => inData(e[ch]?.field) && fields.has(e[ch]!.field as string) && !fields.get(e[ch]!.field as string)!.key);
    const words = rows.some((r) => r[c.field as string] !== undefined && r[c.field as string] !== null && !NUMBER_LIKE.test(cellText(r[c.field as string]).trim()));
    if (!positions || words) add(c.field, false, c, c.field === "text" ? "label" : title(c));
  }
  let shown = [...fields.values()];
  // No encoding draws a quantity from the data (a spec of a notebook's own that encodes little):
  // the encoded fields, then every other scalar field.
  if (!shown.some((f) => !f.key)) {
    const scalar = (v: unknown) => v === null || ["string", "number", "boolean"].includes(typeof v);
    shown = [
      ...shown,
      ...[...new Set(rows.flatMap((r) => Object.keys(r)))]
        .filter((k) => !fields.has(k) && rows.some((r) => r[k] !== undefined && scalar(r[k])))
        .map((k) => ({ field: k, header: k, key: !rows.some((r) => typeof r[k] === "number"), percent: false, floor: null })),
    ];
  }
  const cells = rows.slice(0, CHART_TABLE_ROWS).map((r) => shown.map((f) => chartCell(r[f.field], f).replace(/\s*\n\s*/g, " ")));
  return {
    header: shown.map((f) => f.header),
    rows: cells,
    numeric: shown.map((f, c) => !f.key && cells.every((r) => r[c] === "—" || NUMBER_LIKE.test(r[c]!))),
    more: Math.max(0, rows.length - CHART_TABLE_ROWS),
  };
}
