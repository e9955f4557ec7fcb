// Executes fixture notebooks through Jupyter (nbclient) with the racelab kernel (tslab), the way
// `racelab run` does. Needs Debian's python3-nbclient/jupyter-client, the built package (dist/)
// and the registered kernel (kernel/install.sh): `npm test` (scripts/test.sh) sets all of these
// up, so a missing piece is a failure here, not a skip.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { reportNotebooks } from "../src/cli/report.js";
import { runCommand, runNotebooks } from "../src/cli/run.js";
import { TABLE_MIME, VEGALITE_MIME } from "../src/notebook/display.js";
import { parseNotebook, type NotebookOutput } from "../src/report/notebook.js";

const quiet = { log: () => undefined, progress: false };

describe("racelab run (Jupyter + racelab kernel)", { timeout: 300_000 }, () => {
  let out: string;
  before(async () => {
    out = await mkdtemp(join(tmpdir(), "racelab-run-"));
    assert.ok(existsSync("dist/index.js"), "dist/index.js missing: run `npm run build` first (npm test does)");
  });
  after(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it("executes the smoke notebook and keeps each display as one MIME bundle", async () => {
    const [res] = await runNotebooks(["test/fixtures/smoke.ipynb"], { ...quiet, outDir: out });
    assert.ok(res, "one result");
    assert.equal(res.failure, null, res.failure ? `${res.failure.cell}: ${res.failure.message}` : "");
    assert.equal(res.ok, true);
    assert.equal(res.output, join(out, "smoke.ipynb"));
    assert.equal(res.cellsRun, 4);
    assert.deepEqual((await readdir(out)).sort(), ["smoke.ipynb", "smoke.results.jsonl"], "no temp file left");

    const nb = parseNotebook(await readFile(res.output, "utf8"), "executed smoke");
    // The notebook it ran, as named: the report's reproduce command runs that one (new-user trial 16).
    assert.equal((nb.metadata["racelab"] as { run?: { source?: string } }).run?.source, "test/fixtures/smoke.ipynb");
    const outputs = (i: number): NotebookOutput[] => nb.cells[i]!.outputs ?? [];
    // The kernel runs at the project root, whatever folder the notebook is in.
    assert.deepEqual(outputs(1).map((o) => o.output_type), ["stream"]);
    assert.equal(String(outputs(1)[0]!.text).trim(), `cwd ${process.cwd()}`);

    const [table] = outputs(2);
    assert.equal(outputs(2).length, 1);
    assert.equal(table!.output_type, "display_data");
    assert.deepEqual(Object.keys(table!.data!).sort(), [TABLE_MIME, "text/html", "text/plain"].sort());
    assert.match(String(table!.data!["text/html"]), /<caption>Failures per fix<\/caption>/);

    const [chart] = outputs(3);
    assert.equal(outputs(3).length, 1, "the chart is one display_data message");
    assert.equal(chart!.output_type, "display_data");
    assert.deepEqual(Object.keys(chart!.data!).sort(), [VEGALITE_MIME, "image/png", "image/svg+xml", "text/plain"].sort());
    const spec = chart!.data![VEGALITE_MIME] as Record<string, unknown>;
    assert.equal(typeof spec, "object", "Vega-Lite JSON is stored as an object, not a string");
    assert.equal(spec["mark"], "bar");
    const svg = [chart!.data!["image/svg+xml"]].flat().join("");
    assert.match(svg, /^<svg[\s>]/);

    const [pre] = outputs(4);
    assert.match(String([pre!.data!["text/html"]].flat().join("")), /^<pre class="racelab-pre">CPU0/);

    // And the executed notebook renders to a report with the chart as Figure 1.
    const [rep] = await reportNotebooks([res.output], { html: true, out });
    const html = await readFile(rep!.html!, "utf8");
    assert.match(html, /<figure id="figure-1"><svg/);
    assert.match(html, /<caption( class="one-line")?><b>Table 1\.<\/b> Failures per fix<\/caption>/);
  });

  it("names the notebook and cell when a cell fails, and writes no executed copy", async () => {
    const lines: string[] = [];
    const [res] = await runNotebooks(["test/fixtures/failing.ipynb"], { log: (l) => lines.push(l), progress: false, outDir: out });
    assert.ok(res);
    assert.equal(res.ok, false);
    assert.equal(res.output, null);
    assert.equal(res.failure?.cell, 4);
    assert.equal(res.failure?.id, "smoke-3");
    assert.match(res.failure?.message ?? "", /^1:\d+ - Type 'string' is not assignable to type 'number'\./);
    const msg = lines.join("\n");
    assert.match(msg, /test\/fixtures\/failing\.ipynb: cell 4 \(id smoke-3\) failed: 1:\d+ - Type 'string'/);
    assert.match(msg, /> const broken: number = "not a number";/);
    assert.ok(!(await readdir(out)).includes("failing.ipynb"));
  });

  it("exits 2 with a one-line reason for a missing or invalid notebook path", async () => {
    const write = process.stderr.write.bind(process.stderr);
    let stderr = "";
    process.stderr.write = ((c: string | Uint8Array) => ((stderr += String(c)), true)) as typeof process.stderr.write;
    try {
      assert.equal(await runCommand(["notebooks/does-not-exist.ipynb"], { ...quiet, outDir: out }), 2);
      assert.equal(await runCommand(["README.md"], { ...quiet, outDir: out }), 2);
    } finally {
      process.stderr.write = write;
    }
    assert.deepEqual(stderr.trim().split("\n"), [
      "racelab run: notebooks/does-not-exist.ipynb: no such file",
      "racelab run: README.md: not a notebook (expected a .ipynb file)",
    ]);
  });
});
