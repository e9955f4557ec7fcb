// PDF output: printed by headless Chromium (Debian's chromium), checked with poppler-utils.
// These tools are installed by `npm test` (scripts/test.sh); when missing, the tests fail loudly.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
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

  it("blocks every network request the page would make", async () => {
    need(process.env["RACELAB_CHROMIUM"] ?? DEFAULT_CHROMIUM, "chromium");
    // A page without the report's CSP, so that only request interception stands in the way.
    const html = '<!DOCTYPE html><html><body><p>x</p><img src="http://127.0.0.1:9/pixel.png"></body></html>';
    const { blocked } = await withBrowser((b) => printPdf(b, html, join(out, "blocked.pdf")));
    assert.deepEqual(blocked, ["http://127.0.0.1:9/pixel.png"]);
    assert.equal((await readFile(join(out, "blocked.pdf"))).subarray(0, 4).toString("latin1"), "%PDF");
  });
});
