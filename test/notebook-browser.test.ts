/**
 * A shipped notebook in a real front end (issue 12): Debian's classic Jupyter Notebook server
 * (test/fixtures/jupyter-server.ts: 127.0.0.1 only, a token, private Jupyter folders, this
 * checkout's `racelab` kernel) and headless Chromium driven by puppeteer-core. A copy of
 * notebooks/overview.ipynb (the smallest notebook with both tables and charts) is opened, run
 * with Kernel > Restart & Run All as a reader would, and checked: no error output, no stderr output
 * (the widgets extension's comm_open arrives while the first cell runs; tslab printed it there),
 * the tables there, each chart visible and inside its output area without horizontal scrolling at
 * a 1280 px window. Then a failing cell shows as a formatted error (ename: evalue), not stderr.
 * Needs Debian's jupyter-notebook and chromium (scripts/setup.sh installs both); a missing one is
 * a failure, not a skip.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { CHROMIUM_ARGS, DEFAULT_CHROMIUM } from "../src/report/pdf.js";
import { onExit, ROOT, startJupyterServer, type JupyterServer } from "./fixtures/jupyter-server.js";

const NOTEBOOK = "overview.ipynb";
const CHROMIUM = process.env["RACELAB_CHROMIUM"] ?? DEFAULT_CHROMIUM;
const WIDTH = 1280;
/** The report's flags (headless, quiet, root-safe), but host names resolve only to 127.0.0.1, where the server is. */
const ARGS = [
  ...CHROMIUM_ARGS.filter((a) => !a.startsWith("--host-resolver-rules=")),
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
  `--window-size=${WIDTH},900`,
];

/** What the page shows once the notebook has run (gathered in the browser). */
interface Shown {
  codeCells: number;
  prompts: (number | string | null)[];
  busy: boolean;
  /** Outputs of the notebook model: error outputs (ename: evalue) and stderr texts. */
  modelErrors: string[];
  modelStderr: string[];
  /** The same from the rendered page. */
  domErrors: string[];
  domStderr: string[];
  tables: number;
  charts: { kind: string; width: number; height: number; visible: boolean; right: number; scrollWidth: number; clientWidth: number; areaScrollWidth: number; areaClientWidth: number }[];
  pageScrollWidth: number;
  pageClientWidth: number;
}

/**
 * Gathers {@link Shown} in the page (classic Notebook 6: the global `Jupyter`, jQuery-rendered
 * outputs). Plain JavaScript in a string: tsx would wrap a function's inner functions in a helper
 * that does not exist in the page.
 */
const GATHER = String.raw`(() => {
  const nb = Jupyter.notebook;
  const code = nb.get_cells().filter((c) => c.cell_type === "code");
  const outputs = nb.toJSON().cells.flatMap((c) => c.outputs || []);
  const text = (t) => (Array.isArray(t) ? t.join("") : (t || ""));
  // Notebook 6 puts an SVG output in a div of the SVG's size, a PNG as an img.
  const charts = Array.from(document.querySelectorAll(".output_subarea.output_svg > div > svg, .output_subarea.output_png > img")).map((el) => {
    const sub = el.closest(".output_subarea");
    const area = el.closest(".output_area");
    const r = el.getBoundingClientRect();
    return {
      kind: el.tagName.toLowerCase(),
      width: r.width,
      height: r.height,
      visible: el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }),
      right: r.right,
      scrollWidth: sub.scrollWidth,
      clientWidth: sub.clientWidth,
      areaScrollWidth: area.scrollWidth,
      areaClientWidth: area.clientWidth,
    };
  });
  const site = document.getElementById("site");
  return {
    codeCells: code.length,
    prompts: code.map((c) => (c.input_prompt_number === undefined ? null : c.input_prompt_number)),
    busy: nb.kernel_busy,
    modelErrors: outputs.filter((o) => o.output_type === "error").map((o) => o.ename + ": " + o.evalue),
    modelStderr: outputs.filter((o) => o.output_type === "stream" && o.name === "stderr").map((o) => text(o.text)),
    domErrors: Array.from(document.querySelectorAll(".output_area .output_error")).map((e) => e.textContent),
    domStderr: Array.from(document.querySelectorAll(".output_area .output_stderr")).map((e) => e.textContent),
    tables: document.querySelectorAll(".output_area .output_html table").length,
    charts,
    pageScrollWidth: site.scrollWidth,
    pageClientWidth: site.clientWidth,
  };
})()`;

/** Polls the page until every code cell has run (a number in its prompt) and the kernel is idle. */
async function waitForRun(page: Page, cells: (prompts: Shown["prompts"]) => boolean, ms: number): Promise<Shown> {
  const deadline = Date.now() + ms;
  let idleSince = 0;
  for (;;) {
    const s = (await page.evaluate(GATHER)) as Shown;
    const done = !s.busy && cells(s.prompts);
    // A failed Run All leaves cells queued ('*') or unrun: stop waiting once the kernel has been
    // idle for 5 s after an error, and let the assertions say what happened.
    idleSince = !s.busy && !s.prompts.includes("*") ? idleSince || Date.now() : 0;
    if (done || (s.modelErrors.length > 0 && idleSince > 0 && Date.now() - idleSince > 5000) || Date.now() > deadline) return s;
    await new Promise((r) => setTimeout(r, 500));
  }
}

test(`notebooks/${NOTEBOOK} runs in Jupyter Notebook in Chromium: no error or stderr, tables, charts that fit`, { timeout: 240_000 }, async (t) => {
  assert.ok(existsSync(CHROMIUM), `Chromium is not at ${CHROMIUM}: install Debian's chromium (scripts/setup.sh does), or set RACELAB_CHROMIUM`);
  const shipped = path.join(ROOT, "notebooks", NOTEBOOK);
  const shippedHash = createHash("sha256").update(await readFile(shipped)).digest("hex");
  // The copy lives inside the checkout, so that the kernel (which starts in the notebook's folder)
  // finds the project and its build; the server serves this folder only.
  const dir = await mkdtemp(path.join(ROOT, "notebooks", ".browser-test-"));
  const profile = await mkdtemp(path.join(tmpdir(), "racelab-browser-test-chromium-"));
  let server: JupyterServer | null = null;
  let browser: Browser | null = null;
  // Should the test end before its finally (a timeout), the exit still kills Chromium's process
  // group and removes the copy and the profile (the server's helper stops the server).
  const killBrowser = (): void => {
    const pid = browser?.process()?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  const forget = onExit(() => {
    killBrowser();
    rmSync(dir, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  });
  const pageErrors: string[] = [];
  try {
    // Outputs and counts cleared, so that everything checked below comes from this run.
    const nb = JSON.parse(await readFile(shipped, "utf8")) as { cells: { cell_type: string; outputs?: unknown[]; execution_count?: number | null }[] };
    for (const c of nb.cells) if (c.cell_type === "code") Object.assign(c, { outputs: [], execution_count: null });
    await writeFile(path.join(dir, NOTEBOOK), JSON.stringify(nb, null, 1));

    server = await startJupyterServer(dir);
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: profile,
      args: ARGS,
      timeout: 60_000,
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    const page = await browser.newPage();
    await page.setViewport({ width: WIDTH, height: 900 });
    page.on("pageerror", (e) => pageErrors.push(String((e as Error).message ?? e)));
    page.setDefaultTimeout(60_000);
    await page.goto(`${server.url}notebooks/${NOTEBOOK}?token=${server.token}`, { waitUntil: "load", timeout: 60_000 });
    // The notebook is loaded and its kernel (racelab, from the notebook's metadata) is ready.
    await page.waitForFunction(
      () => {
        const J = (globalThis as unknown as { Jupyter?: { notebook?: { _fully_loaded?: boolean; kernel?: { is_connected(): boolean; info_reply?: { protocol_version?: string } } } } }).Jupyter;
        const k = J?.notebook?.kernel;
        return J?.notebook?._fully_loaded === true && k?.is_connected() === true && typeof k.info_reply?.protocol_version === "string";
      },
      { timeout: 90_000, polling: 250 },
    );
    const name = await page.evaluate(() => (globalThis as unknown as { Jupyter: { notebook: { kernel: { name: string } } } }).Jupyter.notebook.kernel.name);
    assert.equal(name, "racelab");

    // Kernel > Restart & Run All, as a reader does it: the menu, then the dialog's button.
    await page.click("#kernellink");
    await page.waitForSelector("#restart_run_all", { visible: true, timeout: 10_000 });
    await page.click("#restart_run_all");
    await page.waitForSelector(".modal-footer button.btn-danger", { visible: true, timeout: 10_000 });
    await page.click(".modal-footer button.btn-danger");
    const started = Date.now();
    // Each cell gets its number, and no two the same (all from this kernel's run).
    const ran = (p: Shown["prompts"]) => p.length > 0 && p.every((n) => typeof n === "number") && new Set(p).size === p.length;
    const shown = await waitForRun(page, ran, 120_000);
    const elapsed = ((Date.now() - started) / 1000).toFixed(1);
    t.diagnostic(
      `Restart & Run All: ${elapsed} s; ${shown.tables} tables; charts ${shown.charts.map((c) => `${c.kind} ${Math.round(c.width)}x${Math.round(c.height)} in ${c.clientWidth} px`).join(", ")}`,
    );

    assert.deepEqual(shown.modelErrors, [], "no cell fails");
    assert.deepEqual(shown.domErrors, [], "no error output is shown");
    assert.deepEqual(shown.modelStderr, [], "no stderr output");
    assert.deepEqual(shown.domStderr, [], "no stderr output is shown");
    assert.ok(ran(shown.prompts), `every code cell ran within 120 s (prompts: ${JSON.stringify(shown.prompts)}, ${elapsed} s)`);
    assert.ok(shown.tables >= 1, `tables are shown (${shown.tables})`);
    assert.ok(shown.charts.length >= 1, "a chart is shown");
    for (const c of shown.charts) {
      const what = JSON.stringify(c);
      assert.ok(c.visible && c.width > 100 && c.height > 50, `the chart is visible: ${what}`);
      assert.ok(c.scrollWidth <= c.clientWidth, `the chart fits its output area without horizontal scrolling: ${what}`);
      assert.ok(c.areaScrollWidth <= c.areaClientWidth, `the output area does not scroll horizontally: ${what}`);
      assert.ok(c.right <= WIDTH, `the chart ends inside the ${WIDTH} px window: ${what}`);
    }
    assert.ok(shown.pageScrollWidth <= shown.pageClientWidth, `the page does not scroll horizontally (${shown.pageScrollWidth} > ${shown.pageClientWidth})`);
    // The kernel's own stderr (the server's log): no message it did not understand.
    assert.doesNotMatch(server.log(), /unknown msg_type/, "the kernel understood every message the front end sent");

    // A failing cell is shown as an error (the exception's name and message), not as stderr text.
    await page.evaluate(() => {
      const nbk = (globalThis as unknown as { Jupyter: { notebook: { insert_cell_at_bottom(t: string): { set_text(s: string): void; execute(): void } } } }).Jupyter.notebook;
      const cell = nbk.insert_cell_at_bottom("code");
      cell.set_text('throw new RangeError("shown as an error");');
      cell.execute();
    });
    const failed = await waitForRun(page, (p) => p.length === shown.codeCells + 1 && typeof p[p.length - 1] === "number", 30_000);
    assert.deepEqual(failed.modelErrors, ["RangeError: shown as an error"]);
    assert.equal(failed.domErrors.length, 1);
    assert.match(failed.domErrors[0]!, /RangeError: shown as an error/);
    assert.deepEqual(failed.domStderr, [], "the error is not also printed to stderr");
    assert.deepEqual(pageErrors, [], "no uncaught exception in the page");
  } finally {
    // close() asks Chromium to quit; its process group is killed whatever it answers.
    if (browser !== null) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([browser.close().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, 10_000)))]);
      clearTimeout(timer);
    }
    killBrowser();
    await server?.stop();
    await rm(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 });
    await rm(dir, { recursive: true, force: true });
    forget();
  }
  assert.equal(createHash("sha256").update(await readFile(shipped)).digest("hex"), shippedHash, `notebooks/${NOTEBOOK} is left as shipped`);
});
