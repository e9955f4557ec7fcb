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
import { buildReport } from "../src/report/document.js";
import { assembleHtml } from "../src/report/html.js";

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

  it("keeps --memory-model, lock-check and dev->buf whole, and step-table identifiers unbroken", async () => {
    need(process.env["RACELAB_CHROMIUM"] ?? DEFAULT_CHROMIUM, "chromium");
    need("/usr/bin/pdftotext", "poppler-utils");
    const md = (source: string) => ({ cell_type: "markdown", metadata: {}, source });
    const text = (pdf: string) => execFileSync("/usr/bin/pdftotext", ["-layout", pdf, "-"], { encoding: "utf8" });
    // Hyphenated words at every position of a line: the verdict clause's --memory-model, a fix
    // name and dev->buf in a finding, code spans in markdown; none may break at a hyphen.
    const steps = [
      "spin_lock(&dev->lock)", "if (!READ_ONCE(dev->buf))", "spin_unlock(&dev->lock)", "buf = kmalloc(SZ, GFP_KERNEL)",
      "spin_lock(&dev->lock)", "if (!READ_ONCE(dev->buf))", "spin_unlock(&dev->lock)",
    ].map((step, i) => ({ "#": i + 1, thread: `cpu${i < 4 ? 0 : 1}`, function: "example_get_buf", step, source: "drivers/example/buf.c: example_get_buf()", model: "" }));
    const nbook = {
      nbformat: 4, nbformat_minor: 5, metadata: { racelab: { title: "Hyphens" } },
      cells: [
        ...Array.from({ length: 40 }, (_, k) => md(`${"word ".repeat(k + 8)}check with \`--memory-model\` and the \`lock-check\` fix on \`dev->buf\` here.`)),
        { cell_type: "code", source: "s.show()", metadata: {}, execution_count: 1, outputs: [{ output_type: "display_data", metadata: {}, data: tableBundle(steps, undefined, "steps 1–7") }] },
      ],
    };
    const doc = buildReport(nbook as never, "h.ipynb", { scenario: null });
    const verdicts = (k: number) => ({
      scenario: "check-act" + "x".repeat(k), kernel: "v6.12 (illustrative driver code)", variants: [], memoryModel: "sc", scOnly: true,
      rows: [{ fix: "lock-check", verdict: "fail" as const, violations: 8, executions: 10, finding: `${"word ".repeat(k)}invariant: 1 buffer(s) leaked: dev->buf overwritten`, replay: null, findingVariant: "default", failsIn: [], incompleteIn: [] }],
    });
    const pdfs: string[] = [];
    await withBrowser(async (b) => {
      for (let k = 0; k < 14; k++) {
        const path = join(out, `hyphens-${k}.pdf`);
        await printPdf(b, assembleHtml({ ...doc, verdicts: verdicts(k) }), path);
        pdfs.push(path);
      }
    });
    for (const pdf of pdfs) {
      const t = text(pdf);
      assert.doesNotMatch(t, /--\s*\n\s*memory-model|lock-\s*\n\s*check|dev-\s*\n\s*>buf/, `a hyphenated word broken in ${pdf}`);
      assert.equal(t.match(/example_get_buf(?!\()/g)?.length, 7, "the function column keeps example_get_buf whole");
      assert.equal(t.match(/example_get_buf\(\)/g)?.length, 7, "the source column keeps example_get_buf() whole");
    }
  });

  it("never leaves the provenance footer alone on the last page", async () => {
    need(process.env["RACELAB_CHROMIUM"] ?? DEFAULT_CHROMIUM, "chromium");
    need("/usr/bin/pdftotext", "poppler-utils");
    const md = (source: string) => ({ cell_type: "markdown", metadata: {}, source });
    const text = (pdf: string, page: number) => execFileSync("/usr/bin/pdftotext", ["-f", String(page), "-l", String(page), "-layout", pdf, "-"], { encoding: "utf8" });
    const pagesOf = (pdf: string) => Number(/^Pages:\s+(\d+)/m.exec(execFileSync("/usr/bin/pdfinfo", [pdf], { encoding: "utf8" }))?.[1]);
    // However much precedes it: one more line at a time over most of a page.
    await withBrowser(async (b) => {
      for (let n = 30; n < 62; n += 2) {
        const nb2 = { nbformat: 4, nbformat_minor: 5, metadata: { racelab: { title: "Footer" } }, cells: Array.from({ length: n }, (_, i) => md(`Filler paragraph ${i}.`)) };
        const d = buildReport(nb2 as never, "f.ipynb", { scenario: null });
        const provenance = { racelab: "0.1.0", commit: "0123456789abcdef", node: "v20.0.0", kernel: "racelab", notebookSha256: "f".repeat(64), computed: ["10 checks of x: modes exhaustive", "42 failure-rate runs of x"], reproduce: "racelab run f.ipynb --force && racelab report f.ipynb" };
        const path = join(out, `footer-${n}.pdf`);
        await printPdf(b, assembleHtml({ ...d, provenance }), path);
        const pages = pagesOf(path);
        assert.match(text(path, pages), /Filler paragraph/, `${n} paragraphs: the last page holds more than the footer`);
      }
    });
  });

  it("keeps the page footer on one line: a long title ends in an ellipsis, the page number stays whole", async () => {
    need(process.env["RACELAB_CHROMIUM"] ?? DEFAULT_CHROMIUM, "chromium");
    need("/usr/bin/pdftotext", "poppler-utils");
    const title =
      "ext4: a long investigation title about delalloc vs fallocate vs writeback vs eviction races in ext4_da_map_blocks() and ext4_map_blocks() under i_data_sem";
    const md = (source: string) => ({ cell_type: "markdown", metadata: {}, source });
    const nb2 = { nbformat: 4, nbformat_minor: 5, metadata: { racelab: { title } }, cells: Array.from({ length: 60 }, (_, i) => md(`Filler paragraph ${i}.`)) };
    const path = join(out, "long-title.pdf");
    await withBrowser((b) => printPdf(b, assembleHtml(buildReport(nb2 as never, "t.ipynb", { scenario: null })), path, title));
    const page2 = execFileSync("/usr/bin/pdftotext", ["-f", "2", "-l", "2", "-layout", path, "-"], { encoding: "utf8" });
    const lines = page2.split("\n").filter((l) => l.trim() !== "");
    const last = lines[lines.length - 1]!;
    // (Before: the title wrapped to a second line, and "2 /" and its total were split over both.)
    assert.match(last, /^\s*ext4: a long investigation title .*…\s+2\s*\/\s*\d+\s*$/, page2);
    assert.doesNotMatch(page2, /under i_data_sem/, "the title's tail is cut, not wrapped");
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
