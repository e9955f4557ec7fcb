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
  const live: LiveBrowser = { profile, browser: null };
  liveBrowsers.add(live);
  try {
    return await launched(fn, executablePath, profile, live);
  } finally {
    liveBrowsers.delete(live);
  }
}

/** A browser {@link withBrowser} is running, for {@link stopBrowsers}. */
interface LiveBrowser {
  readonly profile: string;
  browser: Browser | null;
}
const liveBrowsers = new Set<LiveBrowser>();

/**
 * Kills, synchronously, every Chromium {@link withBrowser} started and removes its profile
 * folder: what a command calls when SIGINT or SIGTERM stops it (no `racelab-chromium-*` folder
 * is left in the temp directory). Never throws.
 */
export function stopBrowsers(): void {
  for (const l of liveBrowsers) {
    try {
      l.browser?.process()?.kill("SIGKILL");
    } catch {
      // already gone
    }
    rmSync(l.profile, { recursive: true, force: true });
  }
  liveBrowsers.clear();
}

async function launched<T>(fn: (browser: Browser) => Promise<T>, executablePath: string, profile: string, live: LiveBrowser): Promise<T> {
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath,
      headless: true,
      userDataDir: profile,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
  } catch (e) {
    await rm(profile, { recursive: true, force: true });
    throw new Error(
      `cannot start Chromium (${executablePath}): ${(e as Error).message.split("\n")[0]} ` +
        "(install Debian's chromium, or set RACELAB_CHROMIUM)",
    );
  }
  live.browser = browser;
  try {
    return await fn(browser);
  } finally {
    await browser.close().catch(() => undefined);
    await rm(profile, { recursive: true, force: true });
  }
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
    await page.setContent(html, { waitUntil: "load", timeout: 60_000 });
    const pdf = await page.pdf({
      format: "A4",
      printBackground: true,
      margin: { top: "16mm", bottom: "18mm", left: "15mm", right: "15mm" },
      displayHeaderFooter: true,
      headerTemplate: "<span></span>",
      footerTemplate:
        '<div style="width:100%;font-size:7.5pt;color:#777;padding:0 15mm;display:flex;justify-content:space-between;' +
        'font-family:DejaVu Sans,Arial,sans-serif">' +
        `<span>${escapeHtml(title)}</span><span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>`,
      tagged: true,
      timeout: 120_000,
    });
    await writeFileAtomic(outPath, pdf);
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
