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
 * breaks `ext4_page_mkwrite` as `ext4_page_` / `mkwrite` rather than anywhere.
 */
export function softBreaks(escaped: string): string {
  // A '.' between digits is a decimal point (47.45%): no break there.
  return escaped.replace(SOFT_BREAK, "$1<wbr>");
}

/** Where {@link softBreaks} puts a `<wbr>`: after the captured character. */
export const SOFT_BREAK = /(?<=[A-Za-z0-9])([_/](?=[A-Za-z0-9])|\.(?=[A-Za-z]))/g;

function isScalar(v: unknown): boolean {
  return v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}

/** Most rows of a chart's values shown as text. */
export const CHART_VALUE_ROWS = 40;

/**
 * The values a Vega-Lite chart draws (its inline `data.values`), as a table: the columns that hold a
 * scalar in some row, the first {@link CHART_VALUE_ROWS} rows as values, and how many rows were left
 * out. Null when the spec has no inline rows.
 */
export function chartValues(spec: Record<string, unknown>): { columns: string[]; rows: unknown[][]; more: number } | null {
  const data = spec["data"];
  const values = data && typeof data === "object" && Array.isArray((data as { values?: unknown }).values) ? (data as { values: unknown[] }).values : [];
  const rows = values.filter((v): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v));
  if (rows.length === 0) return null;
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => rows.some((r) => isScalar(r[k])));
  return {
    columns,
    rows: rows.slice(0, CHART_VALUE_ROWS).map((r) => columns.map((k) => (isScalar(r[k]) ? r[k] : ""))),
    more: Math.max(0, rows.length - CHART_VALUE_ROWS),
  };
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
