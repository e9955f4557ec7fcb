/**
 * One document, several writers (issue 10 §1): the report is built once from the notebook as a
 * format-neutral document (src/report/model.ts, document.ts), and the HTML writer (html.ts; the PDF
 * prints its page) and the mail writer (mail.ts) both read that document. Tables come from the
 * bundle's structure (`application/vnd.racelab.table+json`), or from the text of a notebook run
 * before that type existed; the table of contents from the document's headings.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chartBundle, preBundle, TABLE_MIME, tableBundle } from "../src/notebook/display.js";
import { buildReport } from "../src/report/document.js";
import { assembleHtml, PAGE_WIDTH_PX, tableMinWidth, tableOfContents } from "../src/report/html.js";
import { fitDiagram, mailFromDocument, MAIL_WIDTH } from "../src/report/mail.js";
import type { ReportDocument, TableBlock } from "../src/report/model.js";
import { outputBlocks } from "../src/report/outputs.js";
import { nb } from "./fixtures/make-notebook.js";

const display = (data: Record<string, unknown>) => ({ source: "show()", outputs: [{ output_type: "display_data", data, metadata: {} }] });
const withoutJson = (b: Record<string, unknown>) => Object.fromEntries(Object.entries(b).filter(([k]) => k !== TABLE_MIME));

describe("one document, two writers", () => {
  it("numbers tables and figures once: the HTML and the mail show the same numbers and captions", async () => {
    const chart = await chartBundle({ title: "rate per fix", data: { values: [{ fix: "baseline", rate: 0.47 }] }, mark: "point", encoding: { x: { field: "fix" } } });
    const doc = buildReport(
      nb([
        { cell_type: "markdown", source: "# T\n\n## Checks\n\ntext" },
        display(tableBundle([{ fix: "baseline", n: 12 }], undefined, "first caption")),
        display(tableBundle([{ a: 1 }])), // no caption: no number
        display(chart),
        // A notebook executed before the JSON existed: the same table from its text.
        display(withoutJson(tableBundle([{ fix: "recheck-es", n: 3 }], undefined, "old-style caption"))),
        display(tableBundle([{ fix: "x", n: 1 }], undefined, "third caption")),
      ]),
      "t.ipynb",
      { scenario: null },
    );
    const tables = doc.blocks.filter((b): b is TableBlock => b.kind === "table");
    assert.deepEqual(tables.map((t) => [t.number, t.caption, t.from]), [
      [1, "first caption", "json"],
      [null, null, "json"],
      [2, "old-style caption", "text"],
      [3, "third caption", "json"],
    ]);
    const html = assembleHtml(doc);
    const mail = mailFromDocument(doc);
    const text = html.replace(/<\/?span[^>]*>/g, "");
    for (const t of tables.filter((t) => t.number !== null)) {
      assert.match(text, new RegExp(`<table class="racelab-table" id="table-${t.number}"><caption( class="one-line")?><b>Table ${t.number}\\.</b> ${t.caption}</caption>`));
      assert.match(mail, new RegExp(`\\nTable ${t.number}\\. ${t.caption}:\\n`));
    }
    assert.match(html, /<figure id="figure-1">[\s\S]*<figcaption><b>Figure 1\.<\/b> rate per fix<\/figcaption>/);
    assert.match(mail, /\nFigure 1\. \[chart: rate per fix; drawn in the HTML and PDF reports; its\nvalues:\]\n\n {2}fix {7}rate\n/);
    // Change the document, not the notebook: both writers follow it.
    const renamed: ReportDocument = { ...doc, blocks: doc.blocks.map((b) => (b.kind === "table" && b.number === 2 ? { ...b, caption: "renamed in the model" } : b)) };
    assert.match(assembleHtml(renamed), /<b>Table 2\.<\/b> renamed in the model<\/caption>/);
    assert.match(mailFromDocument(renamed), /\nTable 2\. renamed in the model:\n/);
  });

  it("writes the verdict per fix from the document in both the HTML and the mail", () => {
    const doc = buildReport(nb([{ cell_type: "markdown", source: "text" }], { racelab: { scenario: "ext4-delalloc-fallocate" } }), "t.ipynb", { verdicts: true });
    assert.deepEqual(doc.verdicts?.rows.map((r) => [r.fix, r.verdict]), [["baseline", "fail"], ["recheck-es", "pass"]]);
    const replay = doc.verdicts!.rows[0]!.replay!;
    const html = assembleHtml(doc);
    assert.match(html, /<h2 id="racelab-verdicts">Verdict per fix<\/h2>/);
    assert.match(html, /<tr><td>baseline<\/td><td><b>FAIL<\/b> under sc<\/td><td>\d+ of \d+ executions explored<\/td><\/tr>/);
    assert.ok(html.includes(replay), "the replay command in the HTML");
    const mail = mailFromDocument(doc);
    assert.match(mail, /\n {2}baseline {4}FAIL under sc {2}\d+ of \d+ executions explored\n/);
    assert.ok(mail.replace(/ \\\n {6}/g, " ").includes(replay), "the same replay command in the mail");
  });

  it("names the other variants each fix fails in, and shows a counterexample of a fix that passes only in the default variant", () => {
    const ext4 = buildReport(nb([{ cell_type: "markdown", source: "text" }], { racelab: { scenario: "ext4-delalloc-fallocate" } }), "t.ipynb", { verdicts: true });
    assert.deepEqual(ext4.verdicts!.variants, ["write-vs-mkwrite", "write-vs-fallocate", "write-vs-mkwrite-no-folio-lock", "write-vs-fallocate-no-inode-lock"]);
    assert.deepEqual(
      ext4.verdicts!.rows.map((r) => [r.fix, r.failsIn]),
      [["baseline", ["write-vs-mkwrite-no-folio-lock", "write-vs-fallocate-no-inode-lock"]], ["recheck-es", []]],
    );
    const mail = mailFromDocument(ext4);
    // The memory model is named: no variant of ext4's explores store reordering.
    assert.match(mail.replace(/\n/g, " "), /every interleaving of the modeled code paths under sequential consistency \(sc; no variant of the scenario names another memory model, so this section explores no reordering: check with --memory-model tso, pso or rmo\), per fix and variant/);
    assert.match(assembleHtml(ext4).replace(/<\/?span[^>]*>/g, ""), /under sequential consistency \(sc; no variant of the scenario names another memory model, so this section explores no reordering: check with --memory-model tso, pso or rmo\)/);
    assert.match(mail, /\nIn the other variants \(write-vs-mkwrite, write-vs-fallocate,\nwrite-vs-mkwrite-no-folio-lock, write-vs-fallocate-no-inode-lock\):\n {2}baseline: fails in write-vs-mkwrite-no-folio-lock,\n {4}write-vs-fallocate-no-inode-lock\n {2}recheck-es: passes in every one\n/);
    assert.match(assembleHtml(ext4).replace(/<\/?span[^>]*>/g, ""), /<ul class="variants"><li>baseline: fails in write-vs-mkwrite-no-folio-lock, write-vs-fallocate-no-inode-lock<\/li><li>recheck-es: passes in every one<\/li><\/ul>/);
    // buffer-migrate-jbd2's baseline passes in its default variant and fails with large folios:
    // the writeup must not leave it at "pass".
    const bm = buildReport(nb([{ cell_type: "markdown", source: "text" }], { racelab: { scenario: "buffer-migrate-jbd2" } }), "t.ipynb", { verdicts: true });
    const base = bm.verdicts!.rows.find((r) => r.fix === "baseline")!;
    assert.equal(base.verdict, "pass");
    assert.deepEqual(base.failsIn, ["large-folio"]);
    assert.equal(base.findingVariant, "large-folio");
    assert.match(base.finding!, /^sleep-in-atomic: folio_mc_copy\(\) may sleep while holding bd_mapping->i_private_lock/);
    assert.match(base.replay!, /^racelab replay buffer-migrate-jbd2 --fix baseline --variant large-folio --schedule \S+$/);
    const bmMail = mailFromDocument(bm);
    assert.match(bmMail, /\nbaseline \(variant large-folio\): sleep-in-atomic: /);
    assert.match(assembleHtml(bm).replace(/<\/?span[^>]*>/g, ""), /<code>baseline<\/code> \(variant <code>large-folio<\/code>\): sleep-in-atomic: /);
  });

  it("keeps a short caption over a narrow table on one line (the table widens to it), not a long one", () => {
    const table = (caption: string, rows: string[][]) =>
      display({ [TABLE_MIME]: { caption, columns: ["state", "value"], rows, numeric: [false, false] } });
    const narrow = [["flags", "INITED"], ["hw_inits", "1"]];
    const html = (caption: string, rows: string[][]) => assembleHtml(buildReport(nb([table(caption, rows)]), "t.ipynb", { scenario: null }));
    // New-user trial 22: "Table 6. state / after 4 steps — / runnable: none" in three lines.
    assert.match(html("state after 4 steps — runnable: none", narrow), /<caption class="one-line"><b>Table 1\.<\/b> state after 4 steps — runnable: none<\/caption>/);
    // Longer than 60 % of the page: it wraps over the table as before.
    assert.match(html("x ".repeat(80).trim(), narrow), /<caption><b>Table 1\.<\/b> x x/);
    // A table wider than its caption: nothing to keep.
    assert.match(html("state", [["a long value that makes the table wider than its caption", "1"]]), /<caption><b>Table 1\.<\/b> state<\/caption>/);
  });

  it("renders a table carried only as structured JSON in both writers, escaped", () => {
    const data = { [TABLE_MIME]: { caption: "JSON <only>", columns: ["fix", "n"], rows: [["<script>alert(1)</script>", "7"], ["recheck-es", "1234"]], numeric: [false, true] } };
    const doc = buildReport(nb([display(data)]), "t.ipynb", { scenario: null });
    const html = assembleHtml(doc);
    assert.match(html, /<caption><b>Table 1\.<\/b> JSON &lt;only&gt;<\/caption><thead><tr><th>fix<\/th><th class="num">n<\/th><\/tr><\/thead>/);
    assert.match(html, /<td>&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/td><td class="num">7<\/td>/);
    assert.doesNotMatch(html, /<script>alert|output not shown/);
    const mail = mailFromDocument(doc);
    assert.match(mail, /Table 1\. JSON <only>:\n\n {2}fix {27}n\n {2}-{25} {2}-{4}\n {2}<script>alert\(1\)<\/script> {5}7\n {2}recheck-es {17}1234\n/);
  });

  it("takes a malformed table JSON for what it is not: the bundle's other forms are used", () => {
    const bundle = tableBundle([{ fix: "baseline" }], undefined, "cap");
    const [b] = outputBlocks({ output_type: "display_data", data: { ...bundle, [TABLE_MIME]: { rows: "not rows" } }, metadata: {} }, { cell: 1, collapsed: false, idPrefix: "x-" });
    assert.ok(b?.kind === "table" && b.from === "text" && b.caption === "cap");
  });

  it("gives an old notebook's table (text/html + text/plain) the same HTML as a new one's", () => {
    const rows = [{ fix: "ext4_page_mkwrite", rate: "47.55% [46.86%, 48.25%]", n: 12 }, { fix: "a<b", rate: "0% [0%, 0.019%]", n: 3 }];
    const bundle = tableBundle(rows, undefined, "Rates");
    const html = (data: Record<string, unknown>) => assembleHtml(buildReport(nb([display(data)]), "t.ipynb", { scenario: null, date: new Date(0) }));
    assert.equal(html(withoutJson(bundle)), html(bundle));
    // A table that fits the page with its words whole gets no <wbr> in them.
    assert.match(html(bundle), /<td>ext4_page_mkwrite<\/td><td class="num">47\.55% \[46\.86%, 48\.25%\]<\/td><td class="num">12<\/td>/);
  });

  it("keeps a short hyphenated fix id whole in a table too wide for whole words, where identifiers break (new-user trial 16: `wq-has-` / `sleeper`)", () => {
    const long = "deadlock: waiter waits for wake-up in schedule() (TASK_UNINTERRUPTIBLE) at schedule() (schedule())";
    const rows = [{ fix: "wq-has-sleeper", variant: "default", "memory model": "sc", verdict: "PASS", findings: `${long} ${long} ${long.replace(/ /g, "_")}` }];
    const html = assembleHtml(buildReport(nb([display(tableBundle(rows, undefined, "checks"))]), "t.ipynb", { scenario: null, date: new Date(0) }));
    assert.match(html, /<td><span class="nw">wq-has-sleeper<\/span><\/td>/);
    // (The long finding does break: after its underscores.)
    assert.match(html, /TASK_<wbr>UNINTERRUPTIBLE/);
  });

  it("builds the table of contents from the document's headings, markup and all", () => {
    const doc = buildReport(
      nb([
        { cell_type: "markdown", source: "# Title\n\n## The `i_data_sem` *race*\n\ntext\n\n## See [lore](https://lore.kernel.org/r/x@y) <b>now</b>" },
        { cell_type: "markdown", source: "### Why `udelay()` widens it\n\n## The `i_data_sem` *race*" },
      ]),
      "t.ipynb",
      { scenario: null },
    );
    const toc = tableOfContents(doc);
    assert.deepEqual([...toc.matchAll(/<li class="toc-h(\d)"><a href="#([^"]*)">(.*?)<\/a><\/li>/g)].map((m) => [m[1], m[2], m[3]]), [
      ["2", "The-i_data_sem-race", "The <code>i_data_sem</code> race"],
      ["2", "See-lore-&lt;b&gt;now&lt;/b&gt;", "See lore &lt;b&gt;now&lt;/b&gt;"],
      ["3", "Why-udelay()-widens-it", "Why <code>udelay()</code> widens it"],
      ["2", "The-i_data_sem-race-1", "The <code>i_data_sem</code> race"],
    ]);
    const html = assembleHtml(doc);
    // Every entry points at a heading of the page.
    for (const m of toc.matchAll(/href="#([^"]*)"/g)) assert.ok(html.includes(`<h2 id="${m[1]}">`) || html.includes(`<h3 id="${m[1]}">`), m[1]);
    assert.match(html, /<h2 id="The-i_data_sem-race">The <code>i_data_sem<\/code> <em>race<\/em><\/h2>/);
    assert.doesNotMatch(toc, /https:|<a [^>]*>[^<]*<a /, "no link target and no link inside a TOC link");
    // The mail gets the same headings, as text.
    assert.match(mailFromDocument(doc), /\nThe `i_data_sem` race\n-{21}\n/);
  });
});

describe("race diagrams", () => {
  // renderDiagram's layout at 100 columns: two CPU columns, the second at column 51.
  const right = (s: string) => " ".repeat(51) + s;
  const lines = [
    "filemap-folio-split baseline/default — 1 preemption",
    "replay: racelab replay filemap-folio-split --fix baseline --schedule 1x29.0x3.1x10.0x2",
    "",
    "filemap_fault" + " ".repeat(38) + "folio_split",
    "-------------" + " ".repeat(38) + "-----------",
    right("truncate_inode_partial_folio()"),
    right("// folio locked by the truncate path (caller of"),
    right("     folio_split)"),
    "xas_reload()",
    "// if (folio != xas_reload(&xas))",
    "  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
    "  invariant: filemap_get_entry() returned folio@1498 (not containing index 1499)",
    right("__folio_split()"),
    right("// xas_unlock(&xas)"),
  ];

  it("prints as a table whose head is the thread names (repeated on every page), each line a row", () => {
    const doc = buildReport(nb([display(preBundle(lines.join("\n")))]), "t.ipynb", { scenario: null });
    const d = doc.blocks.find((b) => b.kind === "diagram");
    assert.ok(d?.kind === "diagram" && d.header === 3);
    const html = assembleHtml(doc);
    assert.match(html, /<div class="racelab-diagram"><pre class="racelab-pre">filemap-folio-split baseline\/default — 1 preemption\nreplay: racelab replay [^<]*<\/pre>/);
    assert.match(html, /<table class="diagram"><thead><tr><th>filemap_fault {38}folio_split\n-{13} {38}-{11}<\/th><\/tr><\/thead><tbody>/);
    assert.match(html, /<tr><td style="--i:51"> {51}truncate_inode_partial_folio\(\)<\/td><\/tr>/);
    assert.match(html, /<tr><td>\/\/ if \(folio != xas_reload\(&amp;xas\)\)<\/td><\/tr>/);
    // Text without thread columns stays one <pre>.
    const plain = assembleHtml(buildReport(nb([display(preBundle("finding: x\nfinding: y"))]), "t.ipynb", { scenario: null }));
    assert.match(plain, /<pre class="racelab-pre">finding: x\nfinding: y<\/pre>/);
  });

  it("in the mail, a diagram wider than 75 columns keeps its columns: moved closer, steps wrapped at word ends", () => {
    const out = fitDiagram(lines, 3);
    assert.ok(out.every((l) => [...l].length <= MAIL_WIDTH), out.filter((l) => [...l].length > MAIL_WIDTH).join("\n"));
    assert.deepEqual(out.slice(0, 6), [
      "filemap-folio-split baseline/default — 1 preemption",
      "replay: racelab replay filemap-folio-split --fix baseline --schedule",
      "    1x29.0x3.1x10.0x2",
      "",
      "filemap_fault                         folio_split",
      "-------------                         -----------",
    ]);
    // The second column's steps stay in the second column (now at 38), continuations 5 further.
    assert.deepEqual(out.slice(6, 9), [
      "                                      truncate_inode_partial_folio()",
      "                                      // folio locked by the truncate path",
      "                                           (caller of folio_split)",
    ]);
    assert.deepEqual(out.slice(9, 13), [
      "xas_reload()",
      "// if (folio != xas_reload(&xas))",
      "  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
      "  invariant: filemap_get_entry() returned folio@1498 (not containing index",
    ]);
    assert.equal(out[13], "  1499)");
    assert.deepEqual(out.slice(14), ["                                      __folio_split()", "                                      // xas_unlock(&xas)"]);
    // A diagram that fits is left as it is.
    const narrow = ["CPU0          CPU1", "----          ----", "a()", "              b()"];
    assert.deepEqual(fitDiagram(narrow, 0), narrow);
  });
});

describe("landscape pages", () => {
  it("marks a table too wide for a portrait A4 page, even wrapped, for a landscape page", () => {
    const narrow = tableBundle([{ fix: "baseline", verdict: "FAIL" }], undefined, "narrow");
    const words = (n: number) => Array.from({ length: n }, (_, i) => `identifier_number_${i}`);
    const wideRow = Object.fromEntries(words(6).map((w) => [w.replace("identifier", "column"), w.replace(/_/g, "")]));
    const wide = tableBundle([wideRow], undefined, "wide");
    const doc = buildReport(nb([display(narrow), display(wide)]), "t.ipynb", { scenario: null });
    const [a, b] = doc.blocks.filter((x): x is TableBlock => x.kind === "table");
    assert.ok(tableMinWidth(a!) < PAGE_WIDTH_PX.portrait && tableMinWidth(b!) > PAGE_WIDTH_PX.portrait);
    const html = assembleHtml(doc);
    assert.match(html, /<div class="html-output table-output"><table class="racelab-table" id="table-1">/);
    assert.match(html, /<div class="html-output table-output wide"><table class="racelab-table" id="table-2">/);
    assert.match(html, /@page wide \{ size: A4 landscape; \}/);
    assert.match(html, /\.table-output\.wide \{ page: wide; \}/);
  });
});
