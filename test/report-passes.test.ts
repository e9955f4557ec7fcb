// The report pipeline, pass by pass (src/report/*).
import assert from "node:assert/strict";
import { InputError } from "../src/errors.js";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chartBundle, tableBundle, VEGALITE_MIME } from "../src/notebook/display.js";
import { writeFileAtomic } from "../src/report/atomic.js";
import { applyCellTags } from "../src/report/cells.js";
import { buildReport, cellBlocks, numberBlocks, reportTitle } from "../src/report/document.js";
import { assembleHtml, cellHtml, outputHtml, REPORT_CSP } from "../src/report/html.js";
import type { Block, FigureBlock } from "../src/report/model.js";
import { renderMarkdown } from "../src/report/markdown.js";
import { parseNotebook, readNotebook } from "../src/report/notebook.js";
import { cleanTerminalText, outputBlocks, pickMime } from "../src/report/outputs.js";
import { sanitizeHtmlOutput, sanitizeSvgOutput } from "../src/report/sanitize.js";
import { nb } from "./fixtures/make-notebook.js";

const FIXTURE = new URL("./fixtures/executed.ipynb", import.meta.url).pathname;

const at = { cell: 1, collapsed: false, idPrefix: "p-" };

/** Every URL-bearing place in HTML: attribute values in tags, CSS url(), @import. */
function externalReferences(html: string): string[] {
  const found: string[] = [];
  for (const tag of [...html.matchAll(/<[a-zA-Z][^>]*>/g)].map((t) => t[0]))
  for (const m of tag.matchAll(/\s([\w:-]+)\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))/g)) {
    const name = m[1]!.toLowerCase();
    const value = (m[3] ?? m[4] ?? m[5] ?? "").trim();
    // A link to follow (https: or mailto: on <a>) loads nothing when the page opens.
    if (name === "href" && /^<a\s/i.test(tag) && /^(https:\/\/|mailto:)/i.test(value)) continue;
    if (name === "content" || name === "http-equiv") continue; // the CSP meta itself
    if (/^(https?:|\/\/|javascript:|file:|ftp:)/i.test(value) || /url\(\s*['"]?(?!#)/i.test(value)) found.push(`${name}=${value}`);
    if (/^(href|src|xlink:href|action|formaction|srcset|poster|background)$/.test(name) && !/^(#|data:image\/)/.test(value)) {
      found.push(`${name}=${value}`);
    }
  }
  for (const m of html.matchAll(/url\(\s*['"]?\s*(https?:|\/\/)[^)]*\)|@import/gi)) found.push(m[0]);
  return found;
}

describe("read pass (nbformat 4 shape)", () => {
  it("accepts the fixture and fills missing metadata", async () => {
    const n = await readNotebook(FIXTURE);
    assert.equal(n.nbformat, 4);
    assert.ok(n.cells.length > 5);
    const bare = parseNotebook('{"nbformat":4,"nbformat_minor":5,"cells":[{"cell_type":"markdown","source":"x"}]}', "bare");
    assert.deepEqual(bare.metadata, {});
    assert.deepEqual(bare.cells[0]!.metadata, {});
  });

  it("rejects bad input with a one-line InputError", async () => {
    const cases: [string, RegExp][] = [
      ["not json", /bad\.ipynb: not a notebook \(invalid JSON/],
      ["[]", /top level is not a JSON object/],
      ['{"nbformat":3,"cells":[]}', /not an nbformat 4 notebook \(nbformat is 3\)/],
      ['{"nbformat":4}', /"cells" is not a list/],
      ['{"nbformat":4,"cells":[{"cell_type":"code","source":7}]}', /cell 1: source is not a string/],
      ['{"nbformat":4,"cells":[{"cell_type":"widget","source":""}]}', /cell 1: unknown cell_type "widget"/],
      ['{"nbformat":4,"cells":[{"cell_type":"code","source":"","outputs":[{}]}]}', /cell 1: output 1 has no output_type/],
    ];
    for (const [text, re] of cases) {
      assert.throws(() => parseNotebook(text, "bad.ipynb"), (e: unknown) => {
        assert.ok(e instanceof InputError);
        assert.equal(e.exitCode, 2);
        assert.match(e.message, re);
        assert.ok(!e.message.includes("\n"), "one line");
        return true;
      });
    }
    await assert.rejects(readNotebook("/nonexistent/x.ipynb"), /x\.ipynb: no such file/);
    await assert.rejects(readNotebook("notes.txt"), /expected a \.ipynb file/);
  });
});

describe("tags pass", () => {
  it("drops remove-cell and raw cells, removes/hides inputs and outputs", () => {
    const out = [{ output_type: "stream", name: "stdout", text: "o" }];
    const view = applyCellTags(
      nb([
        { source: "a", outputs: out, metadata: { tags: ["remove-cell"] } },
        { source: "b", outputs: out, metadata: { tags: ["remove-input"] } },
        { source: "c", outputs: out, metadata: { tags: ["remove-output"] } },
        { source: "d", outputs: out, metadata: { tags: ["hide-input"] } },
        { source: "e", outputs: out, metadata: { tags: ["hide-output"] } },
        { source: "f", outputs: out, metadata: { jupyter: { source_hidden: true } } },
        { cell_type: "raw", source: "<script>" },
        { cell_type: "markdown", source: "# md", metadata: { tags: ["remove-cell"] } },
        { source: "", outputs: [] },
        { source: "g", outputs: [], metadata: { tags: ["remove-input"] } },
      ]),
    );
    assert.deepEqual(
      view.map((v) => [v.number, v.input, v.outputs]),
      [
        [2, "remove", "show"],
        [3, "show", "remove"],
        [4, "hide", "show"],
        [5, "show", "hide"],
        [6, "hide", "show"],
      ],
    );
  });

  it("renders hide-input code collapsed in <details>, and removed parts not at all", () => {
    const html = assembleHtml(buildReport(nb([
      { source: "SECRET_INPUT", outputs: [{ output_type: "stream", name: "stdout", text: "shown output" }], metadata: { tags: ["remove-input"] } },
      { source: "collapsed code", outputs: [], metadata: { tags: ["hide-input"] } },
      { source: "shown code", outputs: [{ output_type: "stream", name: "stdout", text: "SECRET_OUTPUT" }], metadata: { tags: ["remove-output"] } },
    ]), "t.ipynb"));
    assert.ok(!html.includes("SECRET_INPUT") && !html.includes("SECRET_OUTPUT"));
    assert.match(html, /shown output/);
    assert.match(html, /shown code/);
    assert.match(html, /<details class="input-hidden"><summary>Show code<\/summary>.*collapsed code/s);
  });
});

describe("markdown pass", () => {
  it("escapes raw HTML instead of passing it through", () => {
    const html = renderMarkdown('Hi <script>alert(1)</script> <img src=x onerror="alert(2)"> *ok*');
    assert.doesNotMatch(html, /<script|<img/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(html, /<em>ok<\/em>/);
  });

  it("keeps in-page, https: and mailto: links (the URL also in print), turns other links and external images into text", () => {
    const html = renderMarkdown("[lore](https://lore.kernel.org/r/x@y) [up](#top) <https://a.example/> ![pic](http://e.example/p.png) [js](javascript:alert(1)) [plain](http://a.example/)");
    assert.match(html, /<a class="link" href="https:\/\/lore\.kernel\.org\/r\/x@y" rel="noreferrer noopener">lore<\/a> <span class="url">&lt;https:\/\/lore\.kernel\.org\/r\/x@y&gt;<\/span>/);
    assert.match(html, /<span class="link">plain<\/span> <span class="url">&lt;http:\/\/a\.example\/&gt;<\/span>/);
    assert.match(html, /<a href="#top">up<\/a>/);
    assert.match(html, /\[image omitted: pic\]/);
    assert.deepEqual(externalReferences(html), []);
    assert.doesNotMatch(html, /href="javascript/);
  });

  it("inlines attachment images as data URIs and gives headings unique ids", () => {
    const png = "iVBORw0KGgo=";
    const html = renderMarkdown("# Results\n\n## Results\n\n![fig](attachment:f.png)", { "f.png": { "image/png": png } });
    assert.match(html, /<h1 id="Results">/);
    assert.match(html, /<h2 id="Results-1">/);
    assert.match(html, new RegExp(`<img src="data:image/png;base64,${png}" alt="fig">`));
  });
});

describe("outputs pass (MIME priority, sanitizing)", () => {
  it("prefers SVG over HTML over plain text, and never uses the Vega-Lite JSON", () => {
    assert.equal(pickMime({ "text/plain": "t", "text/html": "<b>h</b>", "image/svg+xml": "<svg/>", [VEGALITE_MIME]: {} }), "image/svg+xml");
    assert.equal(pickMime({ "text/plain": "t", "text/html": "<b>h</b>" }), "text/html");
    assert.equal(pickMime({ "text/plain": "t", "image/png": "AAAA" }), "image/png");
    assert.equal(pickMime({ "text/plain": ["a", "b"] }), "text/plain");
    assert.equal(pickMime({ [VEGALITE_MIME]: {} }), null);
  });

  it("renders a chart bundle as a figure captioned with the chart title", async () => {
    const data = await chartBundle({ title: "Rates", data: { values: [{ a: 1 }] }, mark: "point", encoding: { x: { field: "a", type: "quantitative" } } });
    const [block] = outputBlocks({ output_type: "display_data", data, metadata: {} }, at);
    assert.equal(block?.kind, "figure");
    assert.ok(block?.kind === "figure" && block.svg!.startsWith("<svg") && block.caption === "Rates" && block.spec !== null);
    assert.match(outputHtml(block), /^<figure id="figure-0"><svg/);
  });

  it("renders a table bundle as its (escaped) HTML table", () => {
    const [block] = outputBlocks({ output_type: "display_data", data: tableBundle([{ fix: "a<b" }]), metadata: {} }, at);
    assert.ok(block?.kind === "table");
    assert.match(outputHtml(block), /<table class="racelab-table"><thead><tr><th>fix<\/th><\/tr><\/thead><tbody><tr><td>a&lt;b<\/td><\/tr><\/tbody><\/table>/);
  });

  it("escapes text/plain and strips ANSI codes from streams and errors", () => {
    const [plain] = outputBlocks({ output_type: "execute_result", data: { "text/plain": "<b>1</b>" }, metadata: {} }, at);
    assert.equal(outputHtml(plain!), '<pre class="text">&lt;b&gt;1&lt;/b&gt;</pre>');
    const [err] = outputBlocks({ output_type: "error", ename: "Error", evalue: "x", traceback: ["\u001b[0;31mError\u001b[0m: x"] }, at);
    assert.equal(outputHtml(err!), '<pre class="error">Error: x</pre>');
    assert.equal(cleanTerminalText("\u001b[1;32mok\u001b[0m\nprogress 10%\rprogress 50%\rprogress 100%\n"), "ok\nprogress 100%\n");
  });

  it("strips scripts, event handlers, styles and external URLs from HTML outputs", () => {
    const html = sanitizeHtmlOutput(
      '<table onclick="x()" style="background:url(http://e/x)"><tr><td onmouseover="y()">c</td><td><a href="https://e/">l</a>' +
        '<img src="https://e/p.gif"><img src="data:image/png;base64,AAAA"></td></tr></table><script>alert(1)</script>' +
        '<style>*{background:url(http://e/b)}</style><iframe src="https://e/"></iframe><form action="https://e/"><input></form>',
      "o1-",
    );
    assert.equal(html, '<table><tr><td>c</td><td>l<img src="data:image/png;base64,AAAA" /></td></tr></table>');
  });

  it("strips scripts, handlers, foreignObject and external references from SVG, prefixing ids", () => {
    const svg = sanitizeSvgOutput(
      '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="x()" viewBox="0 0 9 9"><script>alert(1)</script>' +
        '<defs><clipPath id="c"><rect width="1" height="1"/></clipPath></defs><image href="https://e/i.png"/>' +
        '<g clip-path="url(#c)" fill="url(https://e/#g)"><rect width="9" height="9" style="fill:url(http://e/)"/></g>' +
        '<a href="javascript:x()"><text>t</text></a><foreignObject><div>leak</div></foreignObject></svg>',
      "f1-",
    );
    // sanitize-html 2.17 (htmlparser2 10; its last release for Node 20) writes SVG element names
    // in lower case, as it does attribute names (viewbox); inside <svg>, an HTML parser gives them
    // their SVG case again (the tree builder's SVG tag-name adjustment), so both render alike.
    assert.equal(
      svg.replace(/<(\/?)clippath\b/g, "<$1clipPath"),
      '<svg viewbox="0 0 9 9"><defs><clipPath id="f1-c"><rect width="1" height="1" /></clipPath></defs>' +
        '<g clip-path="url(#f1-c)"><rect width="9" height="9" /></g><text>t</text></svg>',
    );
    assert.equal(sanitizeSvgOutput("<script>alert(1)</script>", "x-"), "");
  });
});

describe("figures pass", () => {
  it("numbers figures in document order across cells", () => {
    const fig = (cell: number): FigureBlock => ({ kind: "figure", cell, collapsed: false, number: 0, caption: null, spec: null, svg: "<svg></svg>", image: null, text: null });
    const blocks: Block[] = [1, 2].flatMap((n): Block[] => [
      { kind: "code", cell: n, source: "x", executionCount: n, collapsed: false },
      fig(n),
      { kind: "html", cell: n, collapsed: false, html: "<p>t</p>", text: null },
      fig(n),
    ]);
    const numbered = numberBlocks(blocks).filter((b) => b.kind !== "code");
    assert.deepEqual(numbered.map((o) => (o.kind === "figure" ? o.number : null)), [1, null, 2, 3, null, 4]);
    const title = { title: "t", scenario: null, thread: null, inReplyTo: null, lore: null, date: "2025-01-01", source: "s" };
    const html = assembleHtml({ title, provenance: null, verdicts: null, blocks: numberBlocks(blocks) });
    assert.match(html, /<figure id="figure-4"><svg><\/svg><figcaption><b>Figure 4\.<\/b><\/figcaption><\/figure>/);
  });
});

describe("assembled page", () => {
  it("is self-contained: no script, no external URL, a CSP forbidding scripts and network", async () => {
    const n = await readNotebook(FIXTURE);
    const doc = buildReport(n, "test/fixtures/executed.ipynb", new Date("2025-03-04T05:06:07Z"));
    const html = assembleHtml(doc);
    assert.ok(!/<script/i.test(html), "no <script>");
    assert.ok(!/<[^>]*\son\w+\s*=/i.test(html), "no event handler attributes");
    assert.ok(!/<(iframe|object|embed|link|base|form|foreignObject)\b/i.test(html), "no embedding elements");
    assert.ok(html.includes("&lt;script&gt;alert('md')"), "markdown raw HTML shown as text");
    assert.deepEqual(externalReferences(html), []);
    assert.ok(!/SECRET-REMOVED/.test(html), "remove-cell/-input/-output content is gone");
    assert.ok(html.includes(`<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`));
    assert.match(REPORT_CSP, /default-src 'none'/);
    assert.match(REPORT_CSP, /script-src 'none'/);
    assert.match(html, /<title>Fixture: delalloc vs fallocate<\/title>/);
    assert.match(html, /2025-03-04/);
    assert.match(html, /<figcaption><b>Figure 1\.<\/b> Failure rate per fix<\/figcaption>/);
    assert.match(html, /<caption><b>Table 1\.<\/b> Rates<\/caption>/, "tables with a caption are numbered");
    assert.match(html, /&lt;b&gt;recheck&lt;\/b&gt;/);
    assert.match(html, /<pre class="racelab-pre">CPU0/);
  });

  it("takes the title from metadata, else the first heading, else the file name", () => {
    assert.equal(reportTitle(nb([], { racelab: { title: "Meta title" } }), "x.ipynb"), "Meta title");
    assert.equal(reportTitle(nb([{ cell_type: "markdown", source: "# Heading one\n\ntext" }]), "x.ipynb"), "Heading one");
    assert.equal(reportTitle(nb([]), "dir/name.ipynb"), "name");
    const blocks = cellBlocks(applyCellTags(nb([{ cell_type: "markdown", source: "# Same\n\nbody" }])));
    assert.deepEqual(blocks.map((b) => b.kind), ["heading", "prose"]);
    assert.match(cellHtml(blocks), /^<section class="cell markdown">\n<h1 id="Same">Same<\/h1>\n<p>body<\/p>/);
    const html = assembleHtml(buildReport(nb([{ cell_type: "markdown", source: "# Same\n\nbody" }]), "x.ipynb"));
    assert.equal(html.match(/<h1/g)?.length, 1, "the repeated title heading is dropped");
  });
});

describe("atomic write", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "racelab-atomic-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the whole file and leaves no temp file", async () => {
    await writeFileAtomic(join(dir, "sub", "a.html"), "new");
    assert.equal(await readFile(join(dir, "sub", "a.html"), "utf8"), "new");
    assert.deepEqual(await readdir(join(dir, "sub")), ["a.html"]);
  });

  it("leaves the old file intact and no partial file when writing fails", async () => {
    const target = join(dir, "b.pdf");
    await writeFile(target, "old");
    await assert.rejects(
      writeFileAtomic(target, async (tmp) => {
        await writeFile(tmp, "partial");
        throw new Error("printer on fire");
      }),
      /printer on fire/,
    );
    assert.equal(await readFile(target, "utf8"), "old");
    assert.deepEqual((await readdir(dir)).sort(), ["b.pdf", "sub"]);
    await assert.rejects(writeFileAtomic(join(dir, "c.html"), async () => { throw new Error("no data"); }));
    assert.ok(!(await readdir(dir)).includes("c.html"));
  });
});
