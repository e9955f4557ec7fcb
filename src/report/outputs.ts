/**
 * Outputs pass: one notebook output -> an HTML block for the report.
 *
 * MIME priority for display_data / execute_result ({@link MIME_PRIORITY}): SVG first (our charts
 * carry Vega-Lite JSON + SVG + text; the JSON needs a script to draw, so it is never used), then
 * raster images, then sanitized HTML (our tables), then markdown, then plain text. Streams and
 * errors become `<pre>` blocks with ANSI escapes stripped. Everything is escaped or sanitized.
 */
import { stripVTControlCharacters } from "node:util";
import { escapeHtml, VEGALITE_MIME } from "../notebook/display.js";
import { renderMarkdown } from "./markdown.js";
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
const SILENT_MIMES = [/^application\/vnd\.jupyter\.widget/, /^application\/javascript$/, /^text\/javascript$/];

/** A rendered output. `figure` outputs get a number and caption in the figures pass. */
export type OutputBlock =
  | { kind: "figure"; body: string; caption: string | null; number?: number }
  | { kind: "html"; html: string };

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

function pre(cls: string, text: string): string {
  return `<pre class="${cls}">${escapeHtml(text.replace(/\n$/, ""))}</pre>`;
}

/** Caption of a chart: the Vega-Lite title or description, when the bundle carries the spec. */
function chartCaption(data: Record<string, unknown>): string | null {
  const spec = data[VEGALITE_MIME];
  if (!spec || typeof spec !== "object") return null;
  const s = spec as Record<string, unknown>;
  const t = s["title"];
  if (typeof t === "string" && t.trim()) return t.trim();
  if (Array.isArray(t) && t.every((x) => typeof x === "string")) return t.join(" ");
  if (t && typeof t === "object") {
    const text = (t as { text?: unknown }).text;
    if (typeof text === "string") return text;
    if (Array.isArray(text)) return text.join(" ");
  }
  if (typeof s["description"] === "string" && s["description"].trim()) return s["description"].trim();
  return null;
}

/**
 * Render one output.
 * @param idPrefix prefix for element ids of this output (unique in the document, e.g. "c3o1-").
 * @returns the block, or null when the output has nothing the report can show.
 */
export function renderOutput(output: NotebookOutput, idPrefix: string): OutputBlock | null {
  switch (output.output_type) {
    case "stream": {
      const text = cleanTerminalText(joinText(output.text));
      if (text === "") return null;
      return { kind: "html", html: pre(`stream ${output.name === "stderr" ? "stderr" : "stdout"}`, text) };
    }
    case "error": {
      const tb = (output.traceback ?? []).map((l) => cleanTerminalText(String(l))).join("\n");
      const head = `${output.ename ?? "Error"}: ${output.evalue ?? ""}`;
      return { kind: "html", html: pre("error", tb.trim() ? tb : head) };
    }
    case "display_data":
    case "execute_result": {
      const data = output.data ?? {};
      const mime = pickMime(data);
      if (mime === null) {
        const types = Object.keys(data).filter((m) => m !== VEGALITE_MIME && !SILENT_MIMES.some((r) => r.test(m)));
        if (types.length === 0) return null;
        return { kind: "html", html: `<p class="omitted">[output not shown: ${escapeHtml(types.join(", "))}]</p>` };
      }
      const value = joinText(data[mime]);
      const alt = escapeHtml(joinText(data["text/plain"]));
      switch (mime) {
        case "image/svg+xml": {
          const svg = sanitizeSvgOutput(value, idPrefix);
          if (!svg) return { kind: "html", html: '<p class="omitted">[SVG output removed by the sanitizer]</p>' };
          return { kind: "figure", body: svg, caption: chartCaption(data) };
        }
        case "image/png":
        case "image/jpeg":
        case "image/gif": {
          const b64 = value.replace(/\s+/g, "");
          if (!/^[A-Za-z0-9+/=]+$/.test(b64)) return { kind: "html", html: '<p class="omitted">[invalid image data]</p>' };
          return { kind: "figure", body: `<img src="data:${mime};base64,${b64}" alt="${alt}">`, caption: null };
        }
        case "text/html": {
          // The HTML parser's cost grows with the square of the nesting depth (a 2 MB output of
          // nested <div>s took 32 s): deeper than any table or chart needs, the text is shown instead.
          const depth = nestingDepth(value);
          if (depth > MAX_HTML_DEPTH) {
            const note = `<p class="omitted">[HTML output nested ${depth.toLocaleString("en-US")} levels deep (more than ${MAX_HTML_DEPTH}): its text is shown instead]</p>`;
            return { kind: "html", html: note + pre("text", cleanTerminalText(joinText(data["text/plain"] ?? ""))) };
          }
          return { kind: "html", html: `<div class="html-output">${sanitizeHtmlOutput(value, idPrefix)}</div>` };
        }
        case "text/markdown":
          return { kind: "html", html: `<div class="markdown-output">${renderMarkdown(value)}</div>` };
        case "text/plain":
          return { kind: "html", html: pre("text", cleanTerminalText(value)) };
      }
    }
  }
  return null;
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

/**
 * Render the outputs of a cell, merging consecutive stream outputs of the same name first (so that
 * a stream split across messages shows as one block).
 * @param prefix id prefix of the cell; output i gets `${prefix}o${i}-`.
 */
export function renderOutputs(outputs: readonly NotebookOutput[], prefix: string): OutputBlock[] {
  const merged: NotebookOutput[] = [];
  for (const o of outputs) {
    const last = merged[merged.length - 1];
    if (o.output_type === "stream" && last?.output_type === "stream" && last.name === o.name) {
      merged[merged.length - 1] = { ...last, text: joinText(last.text) + joinText(o.text) };
    } else {
      merged.push(o);
    }
  }
  const blocks: OutputBlock[] = [];
  merged.forEach((o, i) => {
    const b = renderOutput(o, `${prefix}o${i + 1}-`);
    if (b) blocks.push(b);
  });
  return blocks;
}
