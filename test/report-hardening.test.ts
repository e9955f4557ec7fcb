/**
 * Hardening of the report against untrusted notebook outputs (issue 10, section 6): escaped
 * `url(` forms and CSS image functions are stripped at sanitizing, outputs cannot borrow the
 * report's own classes, and Chromium resolves no host names while printing.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CHROMIUM_ARGS } from "../src/report/pdf.js";
import { sanitizeHtmlOutput, sanitizeSvgOutput } from "../src/report/sanitize.js";

test("escaped url( forms and image-set() are stripped from SVG attributes (fill, mask, cursor)", () => {
  const attacks = [
    String.raw`fill="\75 rl(https://evil.example/x.svg#a)"`,
    String.raw`fill="u\rl(https://evil.example/x.svg#a)"`,
    String.raw`mask="\000075rl(//evil.example/m)"`,
    `cursor="image-set('https://evil.example/c.png' 1x)"`,
    `fill="-webkit-image-set(url(https://evil.example/i.png) 1x)"`,
    `stroke="image(https://evil.example/s.png)"`,
    `fill="cross-fade(50% a, b)"`,
  ];
  for (const a of attacks) {
    const out = sanitizeSvgOutput(`<svg viewBox="0 0 9 9"><rect width="9" height="9" ${a} /></svg>`, "f1-");
    assert.doesNotMatch(out, /evil|image-set|image\(|cross-fade|\\/, a);
    assert.match(out, /<rect width="9" height="9"/, "the element stays, without the attribute");
  }
  // What charts need is kept: plain colours and local references.
  const ok = sanitizeSvgOutput('<svg><defs><clipPath id="c"><rect width="1" height="1"/></clipPath></defs><g clip-path="url(#c)" fill="#c0392b"><text>t</text></g></svg>', "f2-");
  assert.match(ok, /clip-path="url\(#f2-c\)"/);
  assert.match(ok, /fill="#c0392b"/);
});

test("outputs keep only racelab's output classes: none of the report's own (header, meta, ...)", () => {
  const html = sanitizeHtmlOutput(
    '<div class="report meta"><h1 class="report">VERIFIED: ALL FIXES PASS</h1></div><table class="racelab-table x"><tr><td class="num other">1</td></tr></table><pre class="racelab-pre">p</pre>',
    "o1-",
  );
  assert.doesNotMatch(html, /class="(report|meta)/);
  assert.match(html, /<div><h1>VERIFIED: ALL FIXES PASS<\/h1><\/div>/, "the text stays, unstyled");
  assert.match(html, /<table class="racelab-table">/);
  assert.match(html, /<td class="num">1<\/td>/);
  assert.match(html, /<pre class="racelab-pre">p<\/pre>/);
});

test("Chromium prints with host-name resolution mapped to nothing", () => {
  assert.ok(CHROMIUM_ARGS.includes("--host-resolver-rules=MAP * ~NOTFOUND"));
});

test("report --out a folder that cannot be made is bad input at once (exit 2), not a 10-minute spin", async () => {
  const { spawnSync } = await import("node:child_process");
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ["dist/cli/main.js", "report", "test/fixtures/executed.ipynb", "--html", "--out", "/proc/nope"], { encoding: "utf8", timeout: 30_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^racelab report: --out \/proc\/nope: cannot create the folder \(ENOENT\)\n$/);
  assert.ok(Date.now() - t0 < 20_000);
  const { ensureDir } = await import("../src/report/atomic.js");
  await assert.rejects(ensureDir("/proc/nope/deeper"), /ENOENT/);
});

test("reports/index.html lists every report with its files, escaped, offline", async () => {
  const { mkdtemp, writeFile, readFile, rm } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { writeReportIndex } = await import("../src/report/index-page.js");
  const dir = await mkdtemp(join(tmpdir(), "racelab-index-"));
  try {
    const nb = (title: string, scenario: string) => JSON.stringify({ cells: [], metadata: { racelab: { title, scenario } }, nbformat: 4, nbformat_minor: 5 });
    await writeFile(join(dir, "a.ipynb"), nb("<script>alert(1)</script> title", "ext4-delalloc-fallocate"));
    await writeFile(join(dir, "a.html"), "x");
    await writeFile(join(dir, "a.racelab.tar.gz"), "x");
    await writeFile(join(dir, "b.ipynb"), nb("B", "filemap-folio-split"));
    await writeFile(join(dir, "notes.txt"), "x");
    const html = await readFile(await writeReportIndex(dir), "utf8");
    assert.doesNotMatch(html, /<script>/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt; title/);
    assert.match(html, /<a href="a\.html">HTML<\/a> · <a href="a\.racelab\.tar\.gz">archive<\/a> · <a href="a\.ipynb">notebook<\/a>/);
    assert.match(html, /<code>filemap-folio-split<\/code>/);
    assert.match(html, /2 reports/);
    assert.match(html, /Content-Security-Policy/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the report's footer gives its provenance: racelab, commit, what was computed, the reproduce command, the notebook's SHA-256", async () => {
  const { summarizeResults } = await import("../src/report/provenance.js");
  const lines = summarizeResults([
    { kind: "check", scenario: "s", bundled: true, options: { fix: "baseline" }, result: null },
    { kind: "check", scenario: "s", bundled: true, options: { fix: "fix-a", variant: "v2" }, result: null },
    { kind: "rates", scenario: "s", bundled: true, options: { mode: "timed", runs: 500, seed: 7 }, result: null },
  ]);
  assert.deepEqual(lines, [
    "2 checks of s: modes exhaustive; fixes baseline, fix-a; variants default, v2; seeds 1",
    "1 failure-rate run of s: modes timed; fixes baseline; seeds 7; runs 500",
  ]);
  const { reportNotebooks } = await import("../src/cli/report.js");
  const { mkdtemp, readFile, rm } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { createHash } = await import("node:crypto");
  const out = await mkdtemp(join(tmpdir(), "racelab-prov-"));
  try {
    await reportNotebooks(["test/fixtures/executed.ipynb"], { html: true, out });
    const html = await readFile(join(out, "executed.html"), "utf8");
    const sha = createHash("sha256").update(await readFile("test/fixtures/executed.ipynb")).digest("hex");
    assert.match(html, new RegExp(`<dt>notebook SHA-256</dt><dd><code class="long">${sha}</code>`));
    assert.match(html, /<dt>racelab<\/dt><dd>\d+\.\d+\.\d+/);
    assert.match(html, /<dt>reproduce<\/dt><dd><code class="long">racelab run test\/fixtures\/executed\.ipynb --force &amp;&amp; racelab report reports\/executed\.ipynb --out [^ <]+<\/code>/);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test("the reproduce command runs the notebook `racelab run` executed, into the folder it wrote to, and reports from there (new-user trial 16: it named the copy and reports/)", async () => {
  const { provenanceOf } = await import("../src/report/provenance.js");
  const { readFileSync } = await import("node:fs");
  const bytes = readFileSync("test/fixtures/executed.ipynb");
  const nb = JSON.parse(bytes.toString("utf8"));
  nb.metadata.racelab = { ...(nb.metadata.racelab ?? {}), run: { key: "k", source: "test/fixtures/smoke.ipynb" } };
  assert.equal(
    provenanceOf("myreports/smoke.ipynb", bytes, nb, "myreports").reproduce,
    "racelab run test/fixtures/smoke.ipynb --out myreports --force && racelab report myreports/smoke.ipynb --out myreports",
  );
  assert.equal(provenanceOf("reports/smoke.ipynb", bytes, nb).reproduce, "racelab run test/fixtures/smoke.ipynb --force && racelab report reports/smoke.ipynb");
  // A source that is gone: the copy itself, as before.
  nb.metadata.racelab.run.source = "nowhere/gone.ipynb";
  assert.equal(provenanceOf("my dir/gone.ipynb", bytes, nb).reproduce, "racelab run 'my dir/gone.ipynb' --force && racelab report reports/gone.ipynb");
});

test("a malformed output (traceback not a list of strings, ename not a string) is bad input: exit 2, one line", async () => {
  const { parseNotebook } = await import("../src/report/notebook.js");
  const { InputError } = await import("../src/errors.js");
  const nb = (output: Record<string, unknown>) =>
    JSON.stringify({ cells: [{ cell_type: "code", source: "x", metadata: {}, outputs: [{ output_type: "error", ...output }] }], metadata: {}, nbformat: 4, nbformat_minor: 5 });
  for (const [o, why] of [
    [{ traceback: 5 }, /traceback is not a list of strings/],
    [{ traceback: [1, { a: 2 }] }, /traceback is not a list of strings/],
    [{ ename: 3 }, /ename is not a string/],
    [{ text: 7 }, /text is not a string or a list of strings/],
  ] as const)
    assert.throws(() => parseNotebook(nb(o), "bad.ipynb"), (e: unknown) => e instanceof InputError && why.test((e as Error).message));
});

test("SIGTERM during the PDF leaves no temp file and no Chromium profile, and says so (exit 143)", { timeout: 120_000 }, async () => {
  const { spawn } = await import("node:child_process");
  const { mkdtemp, readdir, rm, copyFile } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const tmp = await mkdtemp(join(tmpdir(), "racelab-sig-tmp-"));
  const out = await mkdtemp(join(tmpdir(), "racelab-sig-out-"));
  const src = await mkdtemp(join(tmpdir(), "racelab-sig-src-"));
  try {
    const inputs: string[] = [];
    for (let i = 0; i < 6; i++) {
      inputs.push(join(src, `n${i}.ipynb`));
      await copyFile("test/fixtures/executed.ipynb", inputs[i]!);
    }
    const child = spawn(process.execPath, ["dist/cli/main.js", "report", ...inputs, "--pdf", "--out", out], { env: { ...process.env, TMPDIR: tmp }, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
    for (let i = 0; i < 200 && !(await readdir(tmp)).some((f) => f.startsWith("racelab-chromium-")); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok((await readdir(tmp)).some((f) => f.startsWith("racelab-chromium-")), "Chromium started");
    await new Promise((r) => setTimeout(r, 700));
    child.kill("SIGTERM");
    assert.equal(await exited, 143, stderr);
    assert.match(stderr, /SIGTERM: stopped; the files written so far are complete/);
    assert.doesNotMatch(stderr, /Target closed/);
    assert.deepEqual((await readdir(tmp)).filter((f) => f.startsWith("racelab-chromium-")), []);
    assert.deepEqual((await readdir(out)).filter((f) => f.endsWith(".tmp")), []);
  } finally {
    for (const d of [tmp, out, src]) await rm(d, { recursive: true, force: true });
  }
});

test("a 2 MB output of deeply nested <div>s is not fed to the HTML parser (linear time), its text is shown", async () => {
  const { cellOutputBlocks, nestingDepth } = await import("../src/report/outputs.js");
  assert.equal(nestingDepth("<div><p>a<br>b</p><img src=x/></div><div></div>"), 2);
  const n = 180_000;
  const html = "<div>".repeat(n) + "x" + "</div>".repeat(n);
  const t0 = Date.now();
  const blocks = cellOutputBlocks([{ output_type: "display_data", data: { "text/html": html, "text/plain": "plain x" }, metadata: {} }], 1, false);
  assert.ok(Date.now() - t0 < 3000, `${Date.now() - t0} ms`);
  const out = JSON.stringify(blocks);
  assert.match(out, /nested 180,000 levels deep/);
  assert.match(out, /plain x/);
});

test("SOURCE_DATE_EPOCH fixes the PDF's CreationDate and ModDate (same length, offsets intact)", async () => {
  const { fixPdfDates } = await import("../src/report/pdf.js");
  const pdf = Buffer.from("%PDF-1.4\n<< /CreationDate (D:20261130064421+00'00') /ModDate (D:20261130064421+00'00') >>\n", "latin1");
  const out = Buffer.from(fixPdfDates(pdf, { SOURCE_DATE_EPOCH: "1735689600" })).toString("latin1");
  assert.equal(out.length, pdf.length);
  assert.match(out, /\/CreationDate \(D:20250101000000\+00'00'\) \/ModDate \(D:20250101000000\+00'00'\)/);
  assert.equal(Buffer.from(fixPdfDates(pdf, {})).toString("latin1"), pdf.toString("latin1"));
});
