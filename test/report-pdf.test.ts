// PDF output: printed by headless Chromium (Debian's chromium), checked with poppler-utils.
// These tools are installed by `npm test` (scripts/test.sh); when missing, the tests fail loudly.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { preBundle, tableBundle } from "../src/notebook/display.js";
import { reportNotebooks } from "../src/cli/report.js";
import { DEFAULT_CHROMIUM, printPdf, withBrowser } from "../src/report/pdf.js";

function need(bin: string, pkg: string): void {
  assert.ok(existsSync(bin), `${bin} is missing: install Debian's ${pkg} (scripts/test.sh does this)`);
}

describe("racelab report --pdf", { timeout: 180_000 }, () => {
  let out: string;
  before(async () => {
    out = await mkdtemp(join(tmpdir(), "racelab-pdf-"));
  });
  after(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it("writes an A4 PDF with the report's pages", async () => {
    need(process.env["RACELAB_CHROMIUM"] ?? DEFAULT_CHROMIUM, "chromium");
    need("/usr/bin/pdfinfo", "poppler-utils");
    const res = await reportNotebooks(["test/fixtures/executed.ipynb"], { pdf: true, out });
    assert.deepEqual(res[0], { notebook: "test/fixtures/executed.ipynb", html: null, pdf: join(out, "executed.pdf"), mail: null, eml: null });
    assert.deepEqual((await readdir(out)).sort(), ["executed.pdf", "index.html"], "only the PDF and the index, no temp file left");
    const pdf = await readFile(join(out, "executed.pdf"));
    assert.equal(pdf.subarray(0, 5).toString("latin1"), "%PDF-");
    const info = execFileSync("/usr/bin/pdfinfo", [join(out, "executed.pdf")], { encoding: "utf8" });
    const pages = Number(/^Pages:\s+(\d+)/m.exec(info)?.[1]);
    assert.ok(pages >= 1, `pages: ${pages}`);
    assert.match(info, /^Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)/m);
    assert.match(info, /^Title:\s+Fixture: delalloc vs fallocate/m);
    const text = execFileSync("/usr/bin/pdftotext", ["-layout", join(out, "executed.pdf"), "-"], { encoding: "utf8" });
    assert.match(text, /Figure 1\. Failure rate per fix/);
    assert.match(text, /baseline/);
    assert.ok(!text.includes("SECRET-REMOVED"));
  });

  it("prints a wide table on a landscape page, repeats a long diagram's thread header on every page, and shrinks nothing", async () => {
    need(process.env["RACELAB_CHROMIUM"] ?? DEFAULT_CHROMIUM, "chromium");
    need("/usr/bin/pdfinfo", "poppler-utils");
    // A 110-column diagram of three threads, 150 lines: wider and longer than a portrait page.
    const col = (c: number, s: string) => " ".repeat(c * 40) + s;
    const diagram = ["cpu_zero_thread" + " ".repeat(25) + "cpu_one_thread" + " ".repeat(26) + "cpu_two_thread", "-".repeat(15) + " ".repeat(25) + "-".repeat(14) + " ".repeat(26) + "-".repeat(14)];
    for (let i = 0; i < 150; i++) diagram.push(col(i % 3, i % 4 === 0 ? `step_function_${i}()` : `// step ${i}: a comment that runs past its column and past the page`));
    // Seven columns of unbreakable words: too wide for portrait A4 even wrapped.
    const wide = tableBundle([Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`identifier${i}column`, `identifier${i}value`]))], undefined, "too wide for portrait");
    const cell = (source: string, data: Record<string, unknown>) => ({ cell_type: "code", source, metadata: {}, execution_count: 1, outputs: [{ output_type: "display_data", metadata: {}, data }] });
    const nb = {
      nbformat: 4, nbformat_minor: 5, metadata: { racelab: { title: "Paper layout" } },
      cells: [
        { cell_type: "markdown", metadata: {}, source: "Bodytext paragraph. ".repeat(40) },
        cell("diagram()", preBundle(diagram.join("\n"))),
        cell("wide()", wide),
        { cell_type: "markdown", metadata: {}, source: "Closing paragraph after the table." },
      ],
    };
    const path = join(out, "layout.ipynb");
    await writeFile(path, JSON.stringify(nb));
    await reportNotebooks([path], { pdf: true, out });
    const pdf = join(out, "layout.pdf");
    const info = execFileSync("/usr/bin/pdfinfo", ["-f", "1", "-l", "99", pdf], { encoding: "utf8" });
    const sizes = [...info.matchAll(/^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)/gm)].map((m) => (Number(m[1]) > Number(m[2]) ? "landscape" : "portrait"));
    const page = (i: number) => execFileSync("/usr/bin/pdftotext", ["-f", String(i + 1), "-l", String(i + 1), "-layout", pdf, "-"], { encoding: "utf8" });
    const texts = sizes.map((_, i) => page(i));
    assert.equal(sizes[0], "portrait");
    const tablePage = texts.findIndex((t) => t.includes("identifier0value"));
    assert.equal(sizes[tablePage], "landscape", `the wide table's page: ${sizes.join(", ")}`);
    assert.equal(sizes[texts.findIndex((t) => t.includes("Closing paragraph"))], "portrait", "back to portrait after it");
    const diagramPages = texts.map((t, i) => (t.includes("// step") ? i : -1)).filter((i) => i >= 0);
    assert.ok(diagramPages.length >= 2, "the diagram runs over pages");
    for (const i of diagramPages) assert.match(texts[i]!, /cpu_zero_thread\s+cpu_one_thread/, `page ${i + 1} repeats the thread header`);
    // Nothing made Chromium shrink the pages: body text at 10.5 pt (a word box about 1.16 em high), diagrams at 8 pt.
    const boxes = execFileSync("/usr/bin/pdftotext", ["-bbox", "-f", "1", "-l", "1", pdf, "-"], { encoding: "utf8" });
    const height = (word: string) => [...boxes.matchAll(new RegExp(`yMin="([\\d.]+)" xMax="[\\d.]+" yMax="([\\d.]+)">${word}<`, "g"))].map((m) => Number(m[2]) - Number(m[1]));
    assert.ok(height("Bodytext").every((h) => h / 1.164 >= 10), `body text ${height("Bodytext").map((h) => (h / 1.164).toFixed(1))} pt`);
    const later = execFileSync("/usr/bin/pdftotext", ["-bbox", "-f", String(diagramPages[0]! + 1), "-l", String(diagramPages[0]! + 1), pdf, "-"], { encoding: "utf8" });
    const mono = [...later.matchAll(/yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">cpu_zero_thread</g)].map((m) => (Number(m[2]) - Number(m[1])) / 1.164);
    assert.ok(mono.length > 0 && mono.every((h) => h >= 7.9), `diagram text ${mono.map((h) => h.toFixed(1))} pt`);
  });

  it("blocks every network request the page would make", async () => {
    need(process.env["RACELAB_CHROMIUM"] ?? DEFAULT_CHROMIUM, "chromium");
    // A page without the report's CSP, so that only request interception stands in the way.
    const html = '<!DOCTYPE html><html><body><p>x</p><img src="http://127.0.0.1:9/pixel.png"></body></html>';
    const { blocked } = await withBrowser((b) => printPdf(b, html, join(out, "blocked.pdf")));
    assert.deepEqual(blocked, ["http://127.0.0.1:9/pixel.png"]);
    assert.equal((await readFile(join(out, "blocked.pdf"))).subarray(0, 4).toString("latin1"), "%PDF");
  });
});
