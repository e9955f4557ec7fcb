/**
 * Assemble the report page: one self-contained HTML file with inline CSS, no script, no external
 * URL, and a Content-Security-Policy that forbids scripts and every network load.
 */
import { escapeHtml } from "../notebook/display.js";
import type { ReportCell, ReportDocument } from "./document.js";
import type { OutputBlock } from "./outputs.js";
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
:not(pre) > code { background: var(--code-bg); padding: .05em .3em; border-radius: 3px; }
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
.omitted { color: var(--muted); font-style: italic; font-size: .85rem; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .88rem; font-variant-numeric: tabular-nums; max-width: 100%; }
/* Cells break long identifiers and paths rather than push the table past the column (on paper,
   Chromium would shrink every page to fit the widest table). */
th, td { overflow-wrap: break-word; }
caption { caption-side: top; text-align: left; font-weight: bold; padding: 0 0 .3rem; }
th, td { border: 1px solid var(--rule); padding: .25rem .6rem; text-align: left; vertical-align: top; }
thead th { background: #eef2f6; }
tbody tr:nth-child(even) td { background: #fafbfc; }
td.num { text-align: right; }
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
@media print { nav.toc { break-inside: avoid; } }
dl.provenance { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .8rem; margin: .4rem 0 0; }
dl.provenance dt { font-weight: bold; }
dl.provenance dd { margin: 0; overflow-wrap: anywhere; }
footer.report { margin-top: 2.5rem; padding-top: .5rem; border-top: 1px solid var(--rule); color: var(--muted); font-size: .8rem; }
@media print {
  html { font-size: 10.5pt; }
  table { font-size: .82rem; }
  pre, pre.racelab-pre { white-space: pre-wrap; overflow-wrap: anywhere; overflow: visible; }
  main { max-width: none; padding: 0; }
  section.code .input, pre, table, tr { break-inside: avoid; page-break-inside: avoid; }
  .input + .outputs, .input-hidden + .outputs { break-before: avoid; page-break-before: avoid; }
  details > summary { display: none; }
  a { color: inherit; }
}
`;

function renderOutput(o: OutputBlock): string {
  if (o.kind === "html") return o.html;
  const label = o.number !== undefined ? `<b>Figure ${o.number}.</b>` : "";
  const caption = o.caption ? ` ${escapeHtml(o.caption)}` : "";
  const id = o.number !== undefined ? ` id="figure-${o.number}"` : "";
  return `<figure${id}>${o.body}${label || caption ? `<figcaption>${label}${caption}</figcaption>` : ""}</figure>`;
}

/** HTML of one report cell. */
export function renderReportCell(c: ReportCell): string {
  if (c.kind === "markdown") return `<section class="cell markdown">\n${c.html}</section>`;
  const parts: string[] = [];
  if (c.code !== null) {
    const count = c.executionCount !== null ? `<span class="count">[${c.executionCount}]</span>` : "";
    const input = `<div class="input">${count}<pre><code class="language-typescript">${escapeHtml(c.code)}</code></pre></div>`;
    parts.push(c.inputHidden ? `<details class="input-hidden"><summary>Show code</summary>${input}</details>` : input);
  }
  if (c.outputs.length > 0) {
    const outs = `<div class="outputs">\n${c.outputs.map(renderOutput).join("\n")}\n</div>`;
    parts.push(c.outputsHidden ? `<details class="outputs-hidden"><summary>Show output</summary>${outs}</details>` : outs);
  }
  return `<section class="cell code" id="cell-${c.number}">\n${parts.join("\n")}\n</section>`;
}

/** The footer's provenance block: racelab, commit, Node, kernel, what was computed, the reproduce command, the notebook's SHA-256. */
function provenanceHtml(p: Provenance | null): string {
  if (p === null) return "";
  const rows: [string, string][] = [
    ["racelab", `${escapeHtml(p.racelab)}${p.commit ? ` (commit <code>${escapeHtml(p.commit.slice(0, 12))}</code>)` : ""}, Node ${escapeHtml(p.node)}${p.kernel ? `, kernel <code>${escapeHtml(p.kernel)}</code>` : ""}`],
    ...p.computed.map((c): [string, string] => ["computed", escapeHtml(c)]),
    ["reproduce", `<code>${escapeHtml(p.reproduce)}</code>`],
    ["notebook SHA-256", `<code>${escapeHtml(p.notebookSha256)}</code>`],
  ];
  return `\n<dl class="provenance">${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("")}</dl>`;
}

/**
 * The table of contents: a link to every `h2` (and `h3`, indented) of the markdown cells, in
 * order; "" when the report has fewer than three.
 */
export function tableOfContents(doc: ReportDocument): string {
  const items: string[] = [];
  for (const c of doc.cells) {
    if (c.kind !== "markdown") continue;
    for (const m of c.html.matchAll(/<h([23]) id="([^"]*)">([\s\S]*?)<\/h\1>/g))
      items.push(`<li class="toc-h${m[1]}"><a href="#${m[2]}">${m[3]!.replace(/<(?!\/?code\b)[^>]*>/g, "")}</a></li>`);
  }
  if (items.length < 3) return "";
  return `<nav class="toc"><h2 class="toc-title">Contents</h2>\n<ol>\n${items.join("\n")}\n</ol></nav>`;
}

/**
 * Assemble the whole page.
 * @returns a complete HTML document (UTF-8), with no script and no external reference.
 */
export function assembleHtml(doc: ReportDocument): string {
  const meta = [
    doc.scenario ? `<span>scenario <code>${escapeHtml(doc.scenario)}</code></span>` : "",
    doc.inReplyTo
      ? `<span>in reply to <a class="link" href="${escapeHtml(`https://lore.kernel.org/r/${encodeURIComponent(doc.inReplyTo.replace(/^<|>$/g, ""))}`)}" rel="noreferrer noopener"><code>${escapeHtml(doc.inReplyTo)}</code></a></span>`
      : "",
    `<span>${escapeHtml(doc.date)}</span>`,
  ].filter(Boolean);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="racelab">
<title>${escapeHtml(doc.title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<main>
<header class="report">
<h1>${escapeHtml(doc.title)}</h1>
<p class="meta">${meta.join("")}</p>
</header>
${tableOfContents(doc)}
${doc.cells.map(renderReportCell).join("\n")}
<footer class="report">Generated by racelab from <code>${escapeHtml(doc.source)}</code> on ${escapeHtml(doc.date)}.${provenanceHtml(doc.provenance ?? null)}</footer>
</main>
</body>
</html>
`;
}
