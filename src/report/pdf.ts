/**
 * Print report HTML to PDF with puppeteer-core and the system Chromium, offline: every request
 * the page makes (other than the page itself and data: URIs) is aborted by request interception.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";
import { escapeHtml } from "../notebook/display.js";
import { rmSync } from "node:fs";
import { sourceDate } from "./document.js";
import { writeFileAtomic } from "./atomic.js";

/** Chromium used when neither an option nor RACELAB_CHROMIUM names one. */
export const DEFAULT_CHROMIUM = "/usr/bin/chromium";

/** Flags for a quiet, offline, headless Chromium (root-safe). */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-dev-shm-usage",
  "--disable-extensions",
  "--disable-default-apps",
  "--metrics-recording-only",
  "--no-default-browser-check",
  "--mute-audio",
  // No name resolution at all: Chromium's own DNS queries (about 30 per run) never leave the machine.
  "--host-resolver-rules=MAP * ~NOTFOUND",
];

export interface BrowserOptions {
  /** Chromium binary; default $RACELAB_CHROMIUM or /usr/bin/chromium. */
  chromium?: string;
}

/**
 * Run `fn` with a headless Chromium on a fresh temporary profile; the browser and the profile are
 * removed afterwards, whatever `fn` does.
 * @throws Error naming the binary when Chromium cannot be started.
 */
export async function withBrowser<T>(fn: (browser: Browser) => Promise<T>, opts: BrowserOptions = {}): Promise<T> {
  const executablePath = opts.chromium ?? process.env["RACELAB_CHROMIUM"] ?? DEFAULT_CHROMIUM;
  const profile = await mkdtemp(join(tmpdir(), "racelab-chromium-"));
  let settle = () => {};
  const live: LiveBrowser = { profile, browser: null, launchSettled: new Promise<void>((r) => (settle = r)) };
  liveBrowsers.add(live);
  try {
    return await launched(fn, executablePath, profile, live, settle);
  } finally {
    liveBrowsers.delete(live);
  }
}

/** A browser {@link withBrowser} is running, for {@link stopBrowsers}. */
interface LiveBrowser {
  readonly profile: string;
  browser: Browser | null;
  /** Resolves once the launch has settled (the browser is up, or failed to start). */
  launchSettled: Promise<void>;
}
const liveBrowsers = new Set<LiveBrowser>();
/** Set by {@link stopBrowsers}: a browser whose launch settles later is killed at once. */
let stopping = false;

/** Kills a browser's process group, waits (at most 3 s) for it to be gone, removes its profile. */
function killAndClean(l: LiveBrowser): void {
  // puppeteer starts Chromium as the leader of its own process group: kill the group (renderers,
  // zygote, crash handler), then wait for the browser to be gone before removing the profile it
  // writes into.
  const pid = l.browser?.process()?.pid;
  if (pid !== undefined) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  try {
    rmSync(l.profile, { recursive: true, force: true, maxRetries: 40, retryDelay: 50 });
  } catch {
    // left for the system's temp cleaning; never let a cleanup throw from a signal handler
  }
}

/**
 * Stops every Chromium {@link withBrowser} started and removes its profile folder: what a command
 * calls when SIGINT or SIGTERM stops it (no `racelab-chromium-*` folder is left in the temp
 * directory). A browser that is up is killed at once; one still starting is killed as soon as its
 * launch settles: the returned promise resolves when all are gone. Never rejects.
 */
export function stopBrowsers(): Promise<void> {
  stopping = true;
  const waits: Promise<void>[] = [];
  for (const l of liveBrowsers) {
    if (l.browser !== null) killAndClean(l);
    else waits.push(l.launchSettled.then(() => killAndClean(l)));
  }
  return Promise.all(waits).then(() => undefined);
}

async function launched<T>(
  fn: (browser: Browser) => Promise<T>,
  executablePath: string,
  profile: string,
  live: LiveBrowser,
  settle: () => void,
): Promise<T> {
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath,
      headless: true,
      userDataDir: profile,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
      // racelab's commands handle signals themselves (stopBrowsers).
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
  } catch (e) {
    settle();
    await rm(profile, { recursive: true, force: true });
    throw new Error(
      `cannot start Chromium (${executablePath}): ${(e as Error).message.split("\n")[0]} ` +
        "(install Debian's chromium, or set RACELAB_CHROMIUM)",
    );
  }
  live.browser = browser;
  settle();
  if (stopping) {
    killAndClean(live);
    throw new Error("stopped");
  }
  try {
    return await fn(browser);
  } finally {
    await browser.close().catch(() => undefined);
    await rm(profile, { recursive: true, force: true });
  }
}

/**
 * With `SOURCE_DATE_EPOCH` set (seconds), the PDF's `/CreationDate` and `/ModDate` become that
 * date instead of the time of printing, so that the same report prints to the same metadata
 * (reproducible builds). The replacement has the same length (`D:YYYYMMDDHHmmSS+00'00'`), so the
 * cross-reference offsets stay valid. Without it, the bytes are returned as they are.
 */
export function fixPdfDates(pdf: Uint8Array, env: NodeJS.ProcessEnv = process.env): Uint8Array {
  const date = sourceDate(env);
  if (date === null) return pdf;
  const d = date.toISOString();
  const stamp = `D:${d.slice(0, 4)}${d.slice(5, 7)}${d.slice(8, 10)}${d.slice(11, 13)}${d.slice(14, 16)}${d.slice(17, 19)}+00'00'`;
  const text = Buffer.from(pdf).toString("latin1");
  const fixed = text.replace(/\/(CreationDate|ModDate) \(D:\d{14}[^)]*\)/g, (m, key: string) => {
    const next = `/${key} (${stamp})`;
    return next.length === m.length ? next : m;
  });
  return Buffer.from(fixed, "latin1");
}

/** Result of printing. */
export interface PdfResult {
  /** URLs the page tried to load and that were blocked (should be empty for racelab reports). */
  blocked: string[];
}

/**
 * Print a self-contained HTML page to a PDF file: A4, background graphics, page numbers in the
 * footer, written atomically (a failed print leaves no partial file).
 * @param browser from {@link withBrowser}.
 * @throws Error when Chromium fails to load or print the page, or the file cannot be written.
 */
export async function printPdf(browser: Browser, html: string, outPath: string, title = ""): Promise<PdfResult> {
  const page = await browser.newPage();
  const blocked: string[] = [];
  try {
    await page.setRequestInterception(true);
    page.on("request", (req) => {
      const url = req.url();
      if (url.startsWith("data:") || url === "about:blank") {
        void req.continue();
      } else {
        blocked.push(url);
        void req.abort("blockedbyclient");
      }
    });
    const mb = (Buffer.byteLength(html) / 2 ** 20).toFixed(1);
    const why = (what: string, e: unknown) =>
      new Error(`${outPath}: Chromium could not ${what} (${(e as Error).message.split("\n")[0]}); the report's HTML is ${mb} MB`);
    await page.setContent(html, { waitUntil: "load", timeout: 60_000 }).catch((e: unknown) => {
      throw why("load the page within 60 s", e);
    });
    const pdf = await page.pdf({
      format: "A4",
      printBackground: true,
      margin: { top: "16mm", bottom: "18mm", left: "15mm", right: "15mm" },
      displayHeaderFooter: true,
      headerTemplate: "<span></span>",
      footerTemplate:
        // One line: a title longer than the line ends in an ellipsis, and the page number stays whole.
        '<div style="box-sizing:border-box;width:100%;font-size:7.5pt;color:#777;padding:0 15mm;display:flex;justify-content:space-between;' +
        'font-family:DejaVu Sans,Arial,sans-serif">' +
        `<span style="flex:1 1 auto;min-width:0;overflow:hidden;white-space:nowrap;text-overflow:ellipsis">${escapeHtml(title)}</span>` +
        '<span style="flex:none;white-space:nowrap;padding-left:6mm"><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>',
      tagged: true,
      // PDF bookmarks from the headings (h1-h3), for the reader's navigation pane.
      outline: true,
      timeout: 120_000,
    }).catch((e: unknown) => {
      throw why("print it within 120 s", e);
    });
    await writeFileAtomic(outPath, fixPdfDates(pdf));
    return { blocked };
  } finally {
    await page.close().catch(() => undefined);
  }
}

/**
 * Convenience: start Chromium, print one page to `outPath`, stop Chromium.
 * @throws like {@link withBrowser} and {@link printPdf}.
 */
export async function htmlToPdf(html: string, outPath: string, opts: BrowserOptions & { title?: string } = {}): Promise<PdfResult> {
  return withBrowser((b) => printPdf(b, html, outPath, opts.title ?? ""), opts);
}
