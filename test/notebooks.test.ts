// The investigation notebooks, end to end as `npm start` runs them: executed through Jupyter with
// the racelab kernel, then reported to HTML and PDF. Needs what `npm test` installs (Jupyter,
// chromium, poppler-utils, the kernel spec); a missing piece is a failure, not a skip.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { reportNotebooks } from "../src/cli/report.js";
import { runNotebooks } from "../src/cli/run.js";
import { parseMarkdown } from "../src/report/markdown.js";
import { joinText, parseNotebook } from "../src/report/notebook.js";

/** The lines of the markdown's code blocks (fenced or indented). */
function parseMarkdownTokens(md: string): string[] {
  return parseMarkdown(md).flatMap((t) => (t.type === "fence" || t.type === "code_block" ? t.content.replace(/\n$/, "").split("\n") : []));
}

const quiet = { log: () => undefined, progress: false };

describe("notebooks/ext4-delalloc-fallocate.ipynb", { timeout: 600_000 }, () => {
  let out: string;
  let executed: string;
  before(async () => {
    out = await mkdtemp(join(tmpdir(), "racelab-nb-"));
    const [res] = await runNotebooks(["notebooks/ext4-delalloc-fallocate.ipynb"], { ...quiet, outDir: out });
    assert.equal(res!.failure, null, res!.failure ? `${res!.failure.cell}: ${res!.failure.message}` : "");
    executed = res!.output;
  });
  after(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it("executes without errors, stepping the race to the kernel's warning", async () => {
    const nb = parseNotebook(await readFile(executed, "utf8"), "executed");
    const errors = nb.cells.flatMap((c) => (c.outputs ?? []).filter((o) => o.output_type === "error"));
    assert.deepEqual(errors, []);
    const text = JSON.stringify(nb.cells.map((c) => c.outputs ?? []));
    assert.match(text, /i_reserved_data_blocks \(1\) not cleared!/);
    assert.match(text, /application\/vnd\.vegalite\.v5\+json/);
  });

  it("reports to HTML with the narrative, the chart as SVG and the claims table, and to a PDF", async () => {
    const [r] = await reportNotebooks([executed], { out, html: true, pdf: true, warn: () => undefined });
    const html = await readFile(join(out, "ext4-delalloc-fallocate.html"), "utf8");
    assert.match(html, /What races, and why/);
    assert.match(html, /<svg[^>]*>[\s\S]*violating vs all interleavings per fix[\s\S]*<\/svg>/);
    assert.match(html, /claims of the thread, checked against the model/);
    assert.match(html, /holds in the model/);
    assert.match(html, /\^\^\^\^/, "the race diagram");
    assert.doesNotMatch(html, /<script/i);
    // Nothing loads from outside; links to the thread are links (a reader's click, not a load).
    assert.doesNotMatch(html, /src="https?:/i);
    assert.match(html, /in reply to <a class="link" href="https:\/\/lore\.kernel\.org\/r\/20240517124005\.347221-3-yi\.zhang%40huaweicloud\.com" rel="noreferrer noopener">/);
    const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync("pdfinfo", [join(out, "ext4-delalloc-fallocate.pdf")], { encoding: "utf8" }))![1]);
    assert.ok(pages >= 3, `PDF has ${pages} pages`);
    assert.ok(r, "one report");
    assert.deepEqual((await readdir(out)).sort(), ["ext4-delalloc-fallocate.html", "ext4-delalloc-fallocate.ipynb", "ext4-delalloc-fallocate.pdf", "ext4-delalloc-fallocate.results.jsonl", "index.html"]);
  });
});

// Every other notebook, as `npm start` runs it: executes through Jupyter with the racelab kernel
// without an error output, and reports to HTML (with its claims table and charts) and a PDF.
const others = (await readdir("notebooks")).filter((f) => f.endsWith(".ipynb") && f !== "ext4-delalloc-fallocate.ipynb").sort();
for (const file of others) {
  describe(`notebooks/${file}`, { timeout: 600_000 }, () => {
    let out: string;
    after(async () => {
      await rm(out, { recursive: true, force: true });
    });
    it("executes without errors and reports to HTML and PDF with the claims table", async () => {
      out = await mkdtemp(join(tmpdir(), "racelab-nb-"));
      const [res] = await runNotebooks([`notebooks/${file}`], { ...quiet, outDir: out });
      assert.equal(res!.failure, null, res!.failure ? `${res!.failure.cell}: ${res!.failure.message}` : "");
      const nb = parseNotebook(await readFile(res!.output, "utf8"), "executed");
      assert.deepEqual(nb.cells.flatMap((c) => (c.outputs ?? []).filter((o) => o.output_type === "error")), []);
      const meta = (nb.metadata as { racelab?: { scenario?: string; scenarios?: string[] } }).racelab;
      // A scenario's notebook names its scenario; the overview names the scenarios it compares.
      if (file === "overview.ipynb") assert.deepEqual(meta?.scenarios, ["ext4-delalloc-fallocate", "filemap-folio-split", "buffer-migrate-jbd2"]);
      else assert.equal(typeof meta?.scenario, "string");
      if (file === "overview.ipynb") {
        // Every fix of every scenario has its row; the figures come from exploring the models.
        const text = JSON.stringify(nb.cells.map((c) => c.outputs ?? []));
        assert.match(text, /exhaustive checks: the variants under which each fix fails and passes/);
        assert.match(text, /recheck-es +\d+ +none/);
        assert.match(text, /all \d+ checks explored every interleaving/);
        assert.match(text, /failure rate per fix, default variant/);
        assert.match(text, /claims of the threads, checked against the models/);
      }
      if (file === "writing-a-scenario.ipynb") {
        // The tutorial's scenarios, defined in its cells, reach the findings its prose explains.
        const text = JSON.stringify(nb.cells.map((c) => c.outputs ?? []));
        assert.match(text, /warning: refcount_t: addition on 0; use-after-free\. \(el->rc\)/);
        assert.match(text, /bug: use-after-free: search_and_reference accesses state\.head->data after kfree\(\) by rcu_do_batch/);
        assert.match(text, /inc-not-zero +default +PASS/);
        assert.match(text, /sleep-in-atomic: delete\(\) may sleep while holding list_lock/);
        assert.match(text, /baseline +default +pso +FAIL/);
        assert.match(text, /rcu-assign-pointer +default +pso +PASS/);
      }
      await reportNotebooks([res!.output], { out, html: true, pdf: true, mail: true, warn: () => undefined });
      // The mail writeup: every line at most 75 columns, but a tag or one URL or schedule alone, or
      // a line of a markdown code block (kept verbatim, indented four columns).
      const mail = await readFile(join(out, `${file.replace(/\.ipynb$/, "")}.mail.txt`), "utf8");
      const code = new Set(parseMarkdownTokens(nb.cells.filter((c) => c.cell_type === "markdown").map((c) => joinText(c.source)).join("\n\n")));
      const wide = mail.split("\n").filter((l) => [...l].length > 75 && !/^[A-Z][A-Za-z-]+: \S+$/.test(l) && !/^\s*\S+$/.test(l) && !code.has(l.replace(/^ {4}/, "")));
      assert.deepEqual(wide, []);
      if (file !== "overview.ipynb" && file !== "writing-a-scenario.ipynb") assert.match(mail, /racelab's model of this thread \(scenario /);
      const name = file.replace(/\.ipynb$/, "");
      const html = await readFile(join(out, `${name}.html`), "utf8");
      assert.match(html, /claims of the threads?, checked against the models?/);
      assert.match(html, /<svg/);
      assert.doesNotMatch(html, /<script/i);
      const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync("pdfinfo", [join(out, `${name}.pdf`)], { encoding: "utf8" }))![1]);
      assert.ok(pages >= 3, `PDF has ${pages} pages`);
    });
  });
}
