/**
 * The HTML writer: the report's document model (model.ts) -> one self-contained HTML page with
 * inline CSS, no script, no external URL, and a Content-Security-Policy that forbids scripts and
 * every network load. The PDF is this page printed (pdf.ts).
 *
 * The table of contents comes from the model's headings, table and figure numbers from its
 * tables and figures. Race diagrams are tables whose header (the thread names) Chromium repeats at
 * the top of every printed page the diagram runs onto; a table too wide for a portrait A4 page even
 * with its cells wrapped (estimated from its text, {@link tableMinWidth}) prints on landscape pages
 * (`@page wide`). Every text from the notebook is escaped; the only HTML taken from it is an
 * output's, sanitized when the model was built.
 */
import { breaksInside, SOFT_BREAK, softBreaks } from "../notebook/cell-text.js";
import { escapeHtml } from "../notebook/display.js";
import { inlineCode, keepHyphens, renderInline, renderTokens, shortHyphenated } from "./markdown.js";
import { exploredClause, findingWhere, groupVerdict, memoryModelClause, otherVariants, passWarnings, verdictGroups, violatingCell, type Block, type DiagramBlock, type FigureBlock, type HeadingBlock, type OutputBlock, type ReportDocument, type TableBlock, type TitleBlock, type Verdicts } from "./model.js";
import type { Provenance } from "./provenance.js";

/** The page's Content-Security-Policy: nothing loads but inline styles and data: images. */
export const REPORT_CSP =
  "default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src 'none'; " +
  "connect-src 'none'; media-src 'none'; object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'";

/** The report's stylesheet (screen and print). */
export const REPORT_CSS = `
:root { --fg: #1d1f21; --muted: #5f6368; --rule: #d0d4d9; --code-bg: #f5f7f9; --accent: #2f5f8f;
  --err: #b3261e; --err-bg: #fdf1f0; }
* { box-sizing: border-box; }
html { font-size: 15px; }
body { margin: 0; color: var(--fg); background: #fff;
  font-family: "DejaVu Sans", "Liberation Sans", "Helvetica Neue", Arial, sans-serif; line-height: 1.5; }
main { max-width: 54rem; margin: 0 auto; padding: 2rem 1.5rem 3rem; }
header.report { border-bottom: 2px solid var(--accent); margin-bottom: 1.5rem; padding-bottom: .6rem; }
header.report h1 { margin: 0 0 .3rem; font-size: 1.9rem; line-height: 1.2; }
header.report .meta { color: var(--muted); font-size: .85rem; margin: 0; }
header.report .meta span + span::before { content: " · "; }
h1, h2, h3, h4 { line-height: 1.25; margin: 1.4em 0 .5em; break-after: avoid; page-break-after: avoid; }
h2 { font-size: 1.45rem; border-bottom: 1px solid var(--rule); padding-bottom: .2rem; }
h3 { font-size: 1.2rem; }
p, ul, ol { margin: .6em 0; }
a { color: var(--accent); }
.url { color: var(--muted); font-size: .85em; overflow-wrap: anywhere; }
.link { text-decoration: underline dotted; }
code, pre, kbd, samp { font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: .86em; }
pre code { font-size: inherit; }
:not(pre) > code { background: var(--code-bg); padding: .05em .3em; border-radius: 3px; white-space: nowrap; }
/* Short inline code and hyphenated words stay on one line (no break at the hyphens of
   --memory-model or lock-check); long inline code wraps. */
:not(pre) > code.long { white-space: normal; overflow-wrap: anywhere; }
.nw { white-space: nowrap; }
pre { margin: .5em 0; padding: .6em .8em; white-space: pre-wrap; overflow-wrap: anywhere; line-height: 1.4; }
section.markdown pre, .markdown-output pre { background: var(--code-bg); border-radius: 2px; }
blockquote { margin: .8em 0; padding: .1em 1em; border-left: 3px solid var(--rule); color: var(--muted); }
section.cell { margin: 1rem 0; }
section.code .input { position: relative; background: var(--code-bg); border-left: 3px solid var(--accent); border-radius: 2px; }
section.code .input pre { margin: 0; padding-right: 3rem; }
section.code .count { position: absolute; top: .25rem; right: .5rem; color: var(--muted); font-size: .7rem;
  font-family: "DejaVu Sans Mono", monospace; }
details { margin: .4rem 0; }
details > summary { color: var(--muted); font-size: .85rem; cursor: pointer; }
.outputs { margin: .4rem 0 0; }
pre.stream, pre.text { padding-left: .8rem; border-left: 3px solid var(--rule); }
pre.stderr { background: #fff8e6; border-left-color: #e0b000; }
pre.error { background: var(--err-bg); border-left: 3px solid var(--err); color: #5c1410; }
pre.racelab-pre { white-space: pre; overflow-x: auto; overflow-wrap: normal; background: #fbfbfc;
  border: 1px solid var(--rule); font-size: .8rem; }
/* A race diagram: a lead (title, replay command), then a table whose head is the thread names. */
.racelab-diagram { margin: .5em 0; background: #fbfbfc; border: 1px solid var(--rule); padding: .6em .8em;
  font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: .8rem; line-height: 1.4; }
.racelab-diagram pre.racelab-pre { margin: 0 0 1.4em; padding: 0; border: 0; background: none; font-size: inherit; }
table.diagram { border-collapse: collapse; margin: 0; font-size: inherit; font-variant-numeric: normal; }
table.diagram th, table.diagram td { border: 0; padding: 0; background: none; font-weight: normal; white-space: pre;
  overflow-wrap: normal; height: 1.4em; }
table.diagram tbody tr:nth-child(even) td { background: none; }
.omitted { color: var(--muted); font-style: italic; font-size: .85rem; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .88rem; font-variant-numeric: tabular-nums; max-width: 100%; }
/* Cells break long identifiers and paths at word ends and at the <wbr>s after _ and / rather than
   push the table past the column; a table too wide even so prints on a landscape page. */
th, td { overflow-wrap: break-word; }
caption { caption-side: top; text-align: left; font-weight: bold; padding: 0 0 .3rem; }
caption.one-line { white-space: nowrap; }
th, td { border: 1px solid var(--rule); padding: .25rem .6rem; text-align: left; vertical-align: top; }
thead th { background: #eef2f6; }
tbody tr:nth-child(even) td { background: #fafbfc; }
td.num, th.num { text-align: right; }
figure { margin: 1rem 0; text-align: center; break-inside: avoid; page-break-inside: avoid; }
figure svg, figure img, .html-output img { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: .85rem; margin-top: .3rem; }
figcaption b { color: var(--fg); }
img { max-width: 100%; }
nav.toc { border: 1px solid var(--rule); border-radius: 3px; padding: .4rem 1rem .6rem; margin: 0 0 1.5rem; }
nav.toc h2.toc-title { font-size: 1rem; border: none; margin: .3rem 0; }
nav.toc ol { list-style: none; margin: 0; padding: 0; columns: 2; column-gap: 2rem; font-size: .9rem; }
nav.toc li.toc-h3 { padding-left: 1.2rem; font-size: .85rem; }
nav.toc a { text-decoration: none; }
section.verdicts { margin: 0 0 1.5rem; }
section.verdicts h2 { margin-top: .4rem; }
section.verdicts .finding { margin: .5em 0 0; }
section.verdicts ul.variants { margin: .3em 0 0; }
section.verdicts pre { margin: .2em 0 0; padding: .3em .6em; background: var(--code-bg); font-size: .8rem; }
dl.provenance { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .8rem; margin: .4rem 0 0; }
dl.provenance dt { font-weight: bold; }
dl.provenance dd { margin: 0; overflow-wrap: anywhere; }
footer.report { margin-top: 2.5rem; padding-top: .5rem; border-top: 1px solid var(--rule); color: var(--muted); font-size: .8rem; }
dl.provenance dd code { font-size: .95em; }
@media screen {
  .table-output, .racelab-diagram { overflow-x: auto; }
}
@page wide { size: A4 landscape; }
@media print {
  html { font-size: 10.5pt; }
  body { overflow-wrap: break-word; }
  table { font-size: .82rem; }
  pre, pre.racelab-pre { white-space: pre-wrap; overflow-wrap: break-word; overflow: visible; }
  section.code .input pre, pre.stream, pre.text, pre.error { overflow-wrap: anywhere; }
  /* Diagrams at 8pt: 100 columns fit the width of a portrait page. A longer line wraps at a word
     end, its continuation indented four columns past the line's own indentation (--i). */
  .racelab-diagram { font-size: 8pt; padding: .5em .6em; }
  table.diagram th, table.diagram td { white-space: pre-wrap; overflow-wrap: break-word; }
  table.diagram td { padding-left: calc((var(--i, 0) + 4) * 1ch); text-indent: calc((var(--i, 0) + 4) * -1ch); }
  .table-output.wide { page: wide; }
  .table-output.squeeze th, .table-output.squeeze td { overflow-wrap: anywhere; }
  main { max-width: none; padding: 0; }
  section.code .input, pre, table, tr, nav.toc { break-inside: avoid; page-break-inside: avoid; }
  /* The footer (provenance) is compact, kept whole and with what precedes it: never a page of its own. */
  footer.report { margin-top: 1.2rem; padding-top: .3rem; font-size: .72rem; line-height: 1.35;
    break-inside: avoid; page-break-inside: avoid; break-before: avoid; page-break-before: avoid; }
  main > section.cell:last-of-type { break-after: avoid; page-break-after: avoid; }
  /* Diagrams (their thread header repeats on each page) and long tables split rather than leave a
     page blank before them. */
  table.diagram, table.long { break-inside: auto; page-break-inside: auto; }
  .input + .outputs, .input-hidden + .outputs, .racelab-diagram pre.racelab-pre { break-before: avoid; page-break-before: avoid; }
  .racelab-diagram pre.racelab-pre { break-after: avoid; page-break-after: avoid; }
  details > summary { display: none; }
  a { color: inherit; }
}
`;

/* ---------- widths, for landscape pages ---------- */

/** Advance widths (units of 1/2048 em) of DejaVu Sans, the report's font, for ASCII 32..126. */
const SANS = [
  651, 821, 942, 1716, 1303, 1946, 1597, 563, 799, 799, 1024, 1716, 651, 739, 651, 690, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303, 1303,
  1303, 690, 690, 1716, 1716, 1716, 1087, 2048, 1401, 1405, 1430, 1577, 1294, 1178, 1587, 1540, 604, 604, 1343, 1141, 1767, 1532, 1612, 1235,
  1612, 1423, 1300, 1251, 1499, 1401, 2025, 1403, 1251, 1403, 799, 690, 799, 1716, 1024, 1024, 1255, 1300, 1126, 1300, 1260, 721, 1300, 1298,
  569, 569, 1186, 569, 1995, 1298, 1253, 1300, 1300, 842, 1067, 803, 1298, 1212, 1675, 1212, 1212, 1075, 1303, 690, 1303, 1716,
];
/** The same for DejaVu Sans Bold (table headers). */
const SANS_BOLD = [
  713, 934, 1067, 1716, 1425, 2052, 1786, 627, 936, 936, 1071, 1716, 778, 850, 778, 748, 1425, 1425, 1425, 1425, 1425, 1425, 1425, 1425, 1425,
  1425, 819, 819, 1716, 1716, 1716, 1188, 2048, 1585, 1561, 1503, 1700, 1399, 1399, 1681, 1714, 762, 762, 1587, 1305, 2038, 1714, 1741, 1501,
  1741, 1577, 1475, 1397, 1663, 1585, 2259, 1579, 1483, 1485, 936, 748, 936, 1716, 1024, 1024, 1382, 1466, 1214, 1466, 1389, 891, 1466, 1458,
  702, 702, 1362, 702, 2134, 1458, 1407, 1466, 1466, 1010, 1219, 979, 1458, 1335, 1892, 1321, 1335, 1192, 1458, 748, 1458, 1716,
];

/** Width of `s` in em, in DejaVu Sans (bold for a header); a character outside ASCII counts as wide as `≈`. */
function emWidth(s: string, bold: boolean): number {
  const t = bold ? SANS_BOLD : SANS;
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    w += c >= 32 && c < 127 ? t[c - 32]! : 1716;
  }
  return w / 2048;
}

/**
 * The pieces of a cell's text that a line never breaks inside: words, cut after each soft break
 * (`_`, `/`, `.` before a letter, as the HTML's `<wbr>`s) and after a hyphen between letters.
 */
function unbreakable(text: string, soft = true): string[] {
  return text
    .split(/\s+/)
    .flatMap((w) =>
      !soft || shortHyphenated(w) ? [w] : (breaksInside(w) ? w.replace(SOFT_BREAK, "$1\u0000") : w).replace(/(?<=[A-Za-z]-)(?=[A-Za-z])/g, "\u0000").split("\u0000"),
    )
    .filter((p) => p !== "");
}

/**
 * A table cell's text when its identifiers may break: at <wbr>s after _ / . , short hyphenated
 * words whole (new-user trial 16 read `wq-has-` / `sleeper` in a fix column because a long finding
 * made the table too wide), as keepHyphens() keeps them in running text.
 */
function softCell(v: string): string {
  return keepHyphens(v, softBreaks);
}

/** Printed sizes, in CSS px (1/96 in): the table font (0.82 of 10.5 pt), a cell's horizontal padding and border. */
const PRINT = { tableFontPx: 0.82 * 14, cellPaddingPx: 2 * 0.6 * 14 + 1 } as const;
/** The text width of an A4 page with the report's 15 mm side margins, in CSS px: portrait and landscape. */
export const PAGE_WIDTH_PX = { portrait: ((210 - 30) / 25.4) * 96, landscape: ((297 - 30) / 25.4) * 96 } as const;

/**
 * The narrowest a table prints, in CSS px, estimated from its text: per column, its widest piece
 * that a line does not break inside (header in bold), plus padding and borders; at least its
 * caption's widest piece. Within a few px of Chromium's own min-content width for the shipped
 * reports' tables.
 */
export function tableMinWidth(t: Pick<TableBlock, "header" | "rows"> & { caption?: string | null }, soft = true): number {
  const ncols = Math.max(t.header?.length ?? 0, ...t.rows.map((r) => r.length));
  // The caption (bold) is as wide as the table at least.
  let caption = 0;
  for (const p of unbreakable(t.caption ?? "")) caption = Math.max(caption, emWidth(p, true) * PRINT.tableFontPx);
  let total = 1;
  for (let c = 0; c < ncols; c++) {
    let w = 0;
    for (const p of unbreakable(t.header?.[c] ?? "", soft)) w = Math.max(w, emWidth(p, true));
    for (const r of t.rows) for (const p of unbreakable(r[c] ?? "", soft)) w = Math.max(w, emWidth(p, false));
    total += w * PRINT.tableFontPx + PRINT.cellPaddingPx;
  }
  return Math.max(total, caption);
}

/* ---------- blocks ---------- */

function pre(cls: string, text: string): string {
  return `<pre class="${cls}">${escapeHtml(text)}</pre>`;
}

/** Rows past which a table may split between printed pages. */
const LONG_TABLE_ROWS = 12;

/** The widest caption kept on one line over a narrower table: 60 % of the portrait page's text width. */
const ONE_LINE_CAPTION_PX = 0.6 * PAGE_WIDTH_PX.portrait;

function tableHtml(t: TableBlock): string {
  const width = tableMinWidth(t);
  // Identifiers (example_get_buf, lock-check, dev->buf) break only when the table does not fit the
  // page with its words whole: then at <wbr>s after _ / . and at hyphens, as before.
  const soft = tableMinWidth(t, false) > PAGE_WIDTH_PX.portrait - 4;
  const cell = (v: string) => (soft ? softCell(v) : keepHyphens(v));
  const cls = ["html-output", "table-output", ...(width > PAGE_WIDTH_PX.portrait - 4 ? ["wide"] : []), ...(width > PAGE_WIDTH_PX.landscape ? ["squeeze"] : [])];
  const id = t.number !== null ? ` id="table-${t.number}"` : "";
  // A long table may split between pages (rows never do, the header repeats): kept whole, it
  // would leave the rest of the page blank.
  const parts = [`<table class="racelab-table${t.rows.length > LONG_TABLE_ROWS ? " long" : ""}"${id}>`];
  if (t.caption !== null) {
    // A short caption over a narrow table stays on one line and the table widens to it (new-user
    // trial 22: "Table 6. state / after 4 steps — / runnable: none" over two narrow columns).
    const captionPx = emWidth(`${t.number !== null ? `Table ${t.number}. ` : ""}${t.caption}`, true) * PRINT.tableFontPx;
    const oneLine = captionPx <= ONE_LINE_CAPTION_PX && captionPx > tableMinWidth({ header: t.header, rows: t.rows }, soft);
    parts.push(
      `<caption${oneLine ? ' class="one-line"' : ""}>${t.number !== null ? `<b>Table ${t.number}.</b> ` : ""}${soft ? softBreaks(escapeHtml(t.caption)) : keepHyphens(t.caption)}</caption>`,
    );
  }
  if (t.header !== null) parts.push(`<thead><tr>${t.header.map((h, c) => `<th${t.numeric[c] ? ' class="num"' : ""}>${escapeHtml(h)}</th>`).join("")}</tr></thead>`);
  parts.push("<tbody>");
  for (const r of t.rows)
    parts.push(`<tr>${r.map((v, c) => (t.numeric[c] ? `<td class="num">${escapeHtml(v)}</td>` : `<td>${cell(v)}</td>`)).join("")}</tr>`);
  parts.push("</tbody></table>");
  return `<div class="${cls.join(" ")}">${parts.join("")}</div>`;
}

function figureHtml(f: FigureBlock): string {
  const body =
    f.svg !== null
      ? f.svg
      : f.image !== null
        ? `<img src="data:${f.image.mime};base64,${f.image.base64}" alt="${escapeHtml(f.text ?? "")}">`
        : "";
  const caption = f.caption ? ` ${escapeHtml(f.caption)}` : "";
  return `<figure id="figure-${f.number}">${body}<figcaption><b>Figure ${f.number}.</b>${caption}</figcaption></figure>`;
}

/** Columns of a diagram that fit the width of a portrait A4 page at 8 pt (with room to spare). */
const DIAGRAM_COLUMNS = 100;

/**
 * A diagram with thread columns: its lead lines as a block, then a table whose head is the column
 * header (repeated on every printed page the diagram runs onto), one row per line. Without
 * columns, a `<pre>`.
 */
function diagramHtml(d: DiagramBlock): string {
  if (d.header === null) return pre("racelab-pre", d.lines.join("\n"));
  const lead = d.lines.slice(0, d.header);
  while (lead.length > 0 && lead[lead.length - 1]!.trim() === "") lead.pop();
  const head = d.lines.slice(d.header, d.header + 2).join("\n");
  const rows = d.lines.slice(d.header + 2).map((l) => {
    // On paper a line too long for the page wraps under its own column (--i): at most so far in
    // that its longest word still fits the 100 columns a portrait page holds at 8 pt.
    const longest = Math.max(0, ...l.split(/\s+/).map((w) => [...w].length));
    const indent = Math.min(/^ */.exec(l)![0].length, Math.max(0, DIAGRAM_COLUMNS - 4 - longest));
    return `<tr><td${indent > 0 ? ` style="--i:${indent}"` : ""}>${escapeHtml(l)}</td></tr>`;
  });
  return (
    `<div class="racelab-diagram">${lead.length > 0 ? pre("racelab-pre", lead.join("\n")) : ""}` +
    `<table class="diagram"><thead><tr><th>${escapeHtml(head)}</th></tr></thead><tbody>\n${rows.join("\n")}\n</tbody></table></div>`
  );
}

/** HTML of one output block (a table, figure, diagram, text, HTML output, note, or markdown output). */
export function outputHtml(b: OutputBlock): string {
  switch (b.kind) {
    case "table":
      return tableHtml(b);
    case "figure":
      return figureHtml(b);
    case "diagram":
      return diagramHtml(b);
    case "text":
      return pre("text", b.text);
    case "stream":
      return pre(`stream ${b.name}`, b.text);
    case "error":
      return pre("error", b.text);
    case "html":
      return `<div class="html-output">${b.html}</div>`;
    case "note":
      return `<p class="omitted">${escapeHtml(b.text)}</p>`;
    case "prose":
      return `<div class="markdown-output">${renderTokens(b.tokens, b.attachments)}</div>`;
  }
}

function headingHtml(h: HeadingBlock): string {
  return `<h${h.level} id="${escapeHtml(h.id)}">${renderInline(h.inline)}</h${h.level}>\n`;
}

/**
 * HTML of the blocks of one cell: a markdown cell's headings and prose in a `section.markdown`; a
 * code cell's code (folded when collapsed) and its outputs (folded when collapsed) in a
 * `section.code`.
 */
export function cellHtml(blocks: readonly Block[]): string {
  const first = blocks[0]!;
  if (first.kind === "heading" || (first.kind === "prose" && first.output === null)) {
    const slugs = new Map<string, number>();
    const html = blocks.map((b) => (b.kind === "heading" ? headingHtml(b) : b.kind === "prose" ? renderTokens(b.tokens, b.attachments, slugs) : "")).join("");
    return `<section class="cell markdown">\n${html}</section>`;
  }
  const parts: string[] = [];
  const code = blocks.find((b) => b.kind === "code");
  if (code?.kind === "code") {
    const count = code.executionCount !== null ? `<span class="count">[${code.executionCount}]</span>` : "";
    const input = `<div class="input">${count}<pre><code class="language-typescript">${escapeHtml(code.source)}</code></pre></div>`;
    parts.push(code.collapsed ? `<details class="input-hidden"><summary>Show code</summary>${input}</details>` : input);
  }
  const outputs = blocks.filter((b): b is OutputBlock => b.kind !== "code" && b.kind !== "heading");
  if (outputs.length > 0) {
    const outs = `<div class="outputs">\n${outputs.map(outputHtml).join("\n")}\n</div>`;
    const collapsed = outputs.some((o) => (o.kind === "prose" ? o.output?.collapsed : o.collapsed));
    parts.push(collapsed ? `<details class="outputs-hidden"><summary>Show output</summary>${outs}</details>` : outs);
  }
  return `<section class="cell code" id="cell-${first.cell}">\n${parts.join("\n")}\n</section>`;
}

/** The blocks grouped by the cell they come from, in order. */
function byCell(blocks: readonly Block[]): Block[][] {
  const groups: Block[][] = [];
  for (const b of blocks) {
    const last = groups[groups.length - 1];
    if (last !== undefined && last[0]!.cell === b.cell) last.push(b);
    else groups.push([b]);
  }
  return groups;
}

/** A heading's inline tokens as TOC text: its text, code spans as code; links and emphasis as their text. */
function tocEntry(h: HeadingBlock): string {
  let out = "";
  for (const t of h.inline) {
    if (t.type === "text") out += escapeHtml(t.content);
    else if (t.type === "code_inline") out += inlineCode(t.content);
    else if (t.type === "softbreak" || t.type === "hardbreak") out += " ";
    else if (t.type === "image") out += escapeHtml((t.children ?? []).map((c) => c.content).join(""));
  }
  return out.trim();
}

/**
 * The table of contents: a link to every level-2 (and level-3, indented) heading of the markdown
 * cells, in order; "" when the report has fewer than three.
 */
export function tableOfContents(doc: ReportDocument): string {
  const items = doc.blocks
    .filter((b): b is HeadingBlock => b.kind === "heading" && (b.level === 2 || b.level === 3))
    .map((h) => `<li class="toc-h${h.level}"><a href="#${escapeHtml(h.id)}">${tocEntry(h)}</a></li>`);
  if (items.length < 3) return "";
  return `<nav class="toc"><h2 class="toc-title">Contents</h2>\n<ol>\n${items.join("\n")}\n</ol></nav>`;
}

/**
 * The verdict section: every fix under the default variant, the other variants each fix fails in,
 * and each failing fix's counterexample finding and replay command.
 */
function verdictsHtml(v: Verdicts | null, ofThread: boolean): string {
  if (v === null) return "";
  const several = (v.memoryModels ?? [v.memoryModel]).length > 1;
  const rows = v.rows.map(
    (r) =>
      `<tr><td>${keepHyphens(r.fix)}</td><td>${verdictGroups(r, v)
        .map((g) => `${g.verdict === "fail" ? "<b>FAIL</b>" : escapeHtml(groupVerdict(g))} under ${escapeHtml(g.models.join(", "))}`)
        .join("; ")}</td>` + `<td>${escapeHtml(violatingCell(r, v))}</td></tr>`,
  );
  const warned = v.rows.flatMap(passWarnings).map((w) => `<p class="finding">${keepHyphens(w)}</p>`);
  const others =
    v.variants.length === 0
      ? ""
      : `<p>In the other variants (${v.variants.map((x) => inlineCode(x)).join(", ")}):</p>\n<ul class="variants">` +
        v.rows.map((r) => `<li>${keepHyphens(otherVariants(r))}</li>`).join("") +
        `</ul>\n`;
  const found = v.rows
    .filter((r) => r.finding !== null)
    .map(
      (r) =>
        `<p class="finding">${inlineCode(r.fix)}${escapeHtml(findingWhere(r)).replace(/variant (\S+?)([,)])/, (_m, id: string, end: string) => `variant ${inlineCode(id)}${end}`)}: ` +
        `${keepHyphens(r.finding!)}${r.replay !== null ? "; reproduce with:" : ""}</p>${r.replay !== null ? pre("replay", r.replay) : ""}`,
    );
  return (
    `<section class="verdicts">\n<h2 id="racelab-verdicts">Verdict per fix</h2>\n` +
    `<p>racelab's model${ofThread ? " of this thread" : ""} (scenario ${inlineCode(v.scenario)}, ${keepHyphens(v.kernel)}) ${exploredClause(v)} ` +
    `of the modeled code paths ${keepHyphens(memoryModelClause(v))}, ${v.variants.length === 0 ? "per fix, when this report was made" : "per fix and variant, when this report was made; per fix under the default variant"}` +
    `${several ? " (violating: of the executions explored, per memory model in the verdict's order)" : ""}:</p>\n` +
    `<table class="racelab-table"><thead><tr><th>fix</th><th>verdict</th><th>violating</th></tr></thead><tbody>${rows.join("")}</tbody></table>\n` +
    `${warned.join("\n")}${others}${found.join("\n")}\n</section>`
  );
}

/** The footer's provenance block: racelab, commit, Node, kernel, what was computed, the reproduce command, the notebook's SHA-256. */
function provenanceHtml(p: Provenance | null): string {
  if (p === null) return "";
  const rows: [string, string][] = [
    ["racelab", `${escapeHtml(p.racelab)}${p.commit ? ` (commit ${inlineCode(p.commit.slice(0, 12))})` : ""}, Node ${escapeHtml(p.node)}${p.kernel ? `, kernel ${inlineCode(p.kernel)}` : ""}`],
    ...p.computed.map((c): [string, string] => ["computed", escapeHtml(c)]),
    ["reproduce", `${inlineCode(p.reproduce)}`],
    ["notebook SHA-256", `${inlineCode(p.notebookSha256)}`],
  ];
  return `\n<dl class="provenance">${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("")}</dl>`;
}

/** The page header: the title, the scenario, the message replied to (linked to lore), the date. */
function headerHtml(t: TitleBlock): string {
  const meta = [
    t.scenario ? `<span>scenario ${inlineCode(t.scenario)}</span>` : "",
    t.inReplyTo
      ? `<span>in reply to <a class="link" href="${escapeHtml(`https://lore.kernel.org/r/${encodeURIComponent(t.inReplyTo.replace(/^<|>$/g, ""))}`)}" rel="noreferrer noopener">${inlineCode(t.inReplyTo)}</a></span>`
      : "",
    `<span>${escapeHtml(t.date)}</span>`,
  ].filter(Boolean);
  return `<header class="report">\n<h1>${escapeHtml(t.title)}</h1>\n<p class="meta">${meta.join("")}</p>\n</header>`;
}

/**
 * Write the document as one HTML page.
 * @returns a complete HTML document (UTF-8), with no script and no external reference.
 */
export function assembleHtml(doc: ReportDocument): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="racelab">
<title>${escapeHtml(doc.title.title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<main>
${headerHtml(doc.title)}
${verdictsHtml(doc.verdicts, doc.title.thread !== null)}
${tableOfContents(doc)}
${byCell(doc.blocks).map(cellHtml).join("\n")}
<footer class="report">Generated by racelab from ${inlineCode(doc.title.source)} on ${escapeHtml(doc.title.date)}.${provenanceHtml(doc.provenance)}</footer>
</main>
</body>
</html>
`;
}
