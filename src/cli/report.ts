/**
 * `racelab report <executed.ipynb> ... [--html] [--pdf] [--mail] [--out DIR]`
 *
 * Renders executed notebooks (from `racelab run`) to self-contained HTML and/or PDF in DIR
 * (default `reports/`), as `<notebook-name>.html` / `.pdf`, and with `--mail` the mailing-list
 * writeup as `<notebook-name>.mail.txt` and the same as a reply, `<notebook-name>.eml`. Each
 * notebook becomes one document (report/document.ts, report/model.ts), which each writer reads:
 * report/html.ts (the PDF prints that page, report/pdf.ts) and report/mail.ts. With none of
 * --html, --pdf and --mail, writes HTML and PDF. Prints each written path on stdout, one per line.
 * Then rewrites `<out>/index.html`, the list of every report in the folder (report/index-page.ts).
 */
import { InputError } from "../errors.js";
import { basename, join } from "node:path";
import type { Command } from "commander";
import { ensureDir, removePendingWrites, writeFileAtomic } from "../report/atomic.js";
import { buildReport, reportDate } from "../report/document.js";
import type { AnyScenario } from "../engine/scenario.js";
import { loadNotebookScenario } from "./scenario-file.js";
import { assembleHtml } from "../report/html.js";
import { joinText, readNotebook, type Notebook } from "../report/notebook.js";
import { printPdf, stopBrowsers, withBrowser } from "../report/pdf.js";
import { mailEml, mailFromDocument } from "../report/mail.js";
import { writeReportIndex } from "../report/index-page.js";
import { provenanceOf, racelabVersion } from "../report/provenance.js";
import { readFile } from "node:fs/promises";
import { clip } from "../engine/clip.js";


/** Options of {@link reportNotebooks}. */
export interface ReportOptions {
  /** Write HTML. */
  html?: boolean;
  /** Write PDF. (Neither html nor pdf: both.) */
  pdf?: boolean;
  /** Write the mailing-list writeup: `<name>.mail.txt` and the reply `<name>.eml`. */
  mail?: boolean;
  /** `From:` of the `.eml`; default $RACELAB_MAIL_FROM, else `racelab <racelab@localhost.invalid>`. */
  from?: string;
  /** Output folder; default "reports". */
  out?: string;
  /** Date stamp; default SOURCE_DATE_EPOCH or now. */
  date?: Date;
  /** Chromium binary for PDF; default $RACELAB_CHROMIUM or /usr/bin/chromium. */
  chromium?: string;
  /** Where warnings go; default stderr. */
  warn?: (line: string) => void;
  /**
   * Render a notebook none of whose code cells ran (its text and code only). Default false: such
   * a notebook is an InputError, as its report would replace the executed copy's with one that
   * has no results.
   */
  unexecuted?: boolean;
  /**
   * Time limit of each exhaustive check behind the verdict section, in ms; default
   * {@link DEFAULT_VERDICT_CHECK_MS}. A check it cuts short is `incomplete` in the verdicts.
   */
  checkTimeLimitMs?: number;
  /**
   * Called with true before a notebook's verdict checks run and with false after (nothing is
   * written meanwhile: every notebook's report is built before the first file is written). The
   * checks run on the main thread, where no signal handler runs until they end, so the CLI drops
   * its SIGINT/SIGTERM handlers meanwhile: Ctrl-C then stops the process at once (Node's default:
   * it ends by the signal, status 130 in a shell; a report's checks ignored Ctrl-C for minutes: new-user trial 19).
   */
  checking?: (busy: boolean) => void;
}

/** Default time limit of each check behind a report's verdict section: 5 minutes. */
export const DEFAULT_VERDICT_CHECK_MS = 300_000;

/** What {@link reportNotebooks} wrote for one notebook (null: not requested). */
export interface ReportOutput {
  notebook: string;
  html: string | null;
  pdf: string | null;
  /** The plain-text writeup, or null. */
  mail: string | null;
  /** The writeup as a reply (RFC 5322), or null. */
  eml: string | null;
}

/** True when no code cell of the notebook has been executed (no outputs, no counts). */
function looksUnexecuted(nb: Notebook): boolean {
  const code = nb.cells.filter((c) => c.cell_type === "code");
  return code.length > 0 && code.every((c) => (c.outputs ?? []).length === 0 && c.execution_count == null);
}

/**
 * Render notebooks to reports. All inputs are read and validated before anything is written;
 * every file is written atomically.
 *
 * @param paths executed notebooks (.ipynb).
 * @returns one entry per notebook, in order, with the paths written.
 * @throws InputError (exit 2) for no paths, a missing/invalid notebook, a notebook none of whose
 *   code cells ran (unless `unexecuted`), or two notebooks with the same name; Error when Chromium cannot print or a file cannot be written. The verdict section
 *   explores the scenario the notebook's metadata names: a bundled one, or the one in the scenario
 *   file its metadata (`racelab.file`) or its recorded results name; a scenario defined in the
 *   notebook's own cells gets none (a warning).
 */
export async function reportNotebooks(paths: readonly string[], opts: ReportOptions = {}): Promise<ReportOutput[]> {
  if (paths.length === 0) throw new InputError("no notebook given (e.g. racelab report reports/overview.ipynb)");
  const warn = opts.warn ?? ((l: string) => process.stderr.write(l + "\n"));
  const wantHtml = opts.html || (!opts.pdf && !opts.mail);
  const wantPdf = opts.pdf || (!opts.html && !opts.mail);
  const outDir = opts.out ?? "reports";
  const date = opts.date ?? reportDate();
  const checkTimeLimitMs = opts.checkTimeLimitMs ?? DEFAULT_VERDICT_CHECK_MS;

  const names = new Map<string, string>();
  const jobs: { path: string; name: string; html: string; title: string; mail: string | null; eml: string | null }[] = [];
  for (const path of paths) {
    const nb = await readNotebook(path);
    const name = basename(path).replace(/\.ipynb$/, "");
    const other = names.get(name);
    if (other !== undefined) throw new InputError(`${other} and ${path} would both write ${name}.* in ${outDir}`);
    names.set(name, path);
    if (looksUnexecuted(nb)) {
      // (A new user's `report lost-wakeup.ipynb` replaced the executed copy's 9-page PDF with 3
      // pages of code and exited 0.)
      if (opts.unexecuted !== true)
        throw new InputError(
          `${clip(path)} has no outputs (none of its code cells ran): report the executed copy that 'racelab run ${clip(path)}' writes to reports/, or pass --unexecuted to render it as it is; nothing was written`,
        );
      warn(`racelab report: ${path} has no outputs (--unexecuted: rendered as it is)`);
    }
    // One document per notebook, read by every writer: the HTML (printed to the PDF) and the mail.
    let scenario: AnyScenario | null = null;
    try {
      scenario = await loadNotebookScenario(nb, path);
    } catch (e) {
      warn(`racelab report: ${path}: ${(e as Error).message}; the writeup has no verdict section`);
    }
    const provenance = provenanceOf(path, await readFile(path), nb, outDir);
    // Progress of a long verdict check: a line every 10 s (none for the quick ones).
    let lastLine = 0;
    const onCheck = (what: { fix: string; variant: string; memoryModel: string }, p: { executions: number; elapsedMs: number } | null) => {
      if (p === null) lastLine = 0;
      else if (p.elapsedMs - lastLine >= 10_000) {
        lastLine = p.elapsedMs;
        warn(
          `racelab report: ${path}: checking ${what.fix}/${what.variant} [${what.memoryModel}] for the verdict section: ` +
            `${p.executions.toLocaleString("en-US")} executions, ${Math.round(p.elapsedMs / 1000)} s (time limit ${Math.round(checkTimeLimitMs / 1000)} s)`,
        );
      }
    };
    opts.checking?.(true);
    let doc: ReturnType<typeof buildReport>;
    try {
      doc = buildReport(nb, path, { date, scenario, verdicts: scenario !== null, provenance, verdictChecks: { timeLimitMs: checkTimeLimitMs, onCheck } });
    } finally {
      opts.checking?.(false);
    }
    let mail: string | null = null;
    let eml: string | null = null;
    if (opts.mail) {
      // A scenario the notebook defines in its own cells (the tutorial's): no verdict section, as
      // expected (said only when the notebook does not define it: a file it forgot to name).
      if (doc.title.scenario !== null && scenario === null && !definedInCells(nb, doc.title.scenario))
        warn(
          `racelab report: ${path}: scenario '${doc.title.scenario}' is neither bundled nor in a scenario file the notebook names ` +
            `(metadata racelab.file, or a result recorded by racelab run); the writeup has no verdict section`,
        );
      mail = mailFromDocument(doc, { version: racelabVersion() });
      eml = await mailEml(mail, {
        from: opts.from ?? process.env["RACELAB_MAIL_FROM"],
        date,
        subject: doc.title.thread?.subject ?? doc.title.title,
        inReplyTo: doc.title.inReplyTo,
      });
    }
    jobs.push({ path, name, html: assembleHtml(doc), title: doc.title.title, mail, eml });
  }

  await ensureDir(outDir).catch((e: NodeJS.ErrnoException) => {
    throw new InputError(`--out ${clip(outDir)}: cannot create the folder (${e.code ?? e.message})`);
  });
  const results: ReportOutput[] = jobs.map((j) => ({ notebook: j.path, html: null, pdf: null, mail: null, eml: null }));
  for (const [i, j] of jobs.entries()) {
    if (j.mail === null || j.eml === null) continue;
    await writeFileAtomic(join(outDir, `${j.name}.mail.txt`), j.mail);
    await writeFileAtomic(join(outDir, `${j.name}.eml`), j.eml);
    results[i]!.mail = join(outDir, `${j.name}.mail.txt`);
    results[i]!.eml = join(outDir, `${j.name}.eml`);
  }
  if (wantHtml) {
    for (const [i, j] of jobs.entries()) {
      const out = join(outDir, `${j.name}.html`);
      await writeFileAtomic(out, j.html);
      results[i]!.html = out;
    }
  }
  if (wantPdf) {
    await withBrowser(
      async (browser) => {
        for (const [i, j] of jobs.entries()) {
          const out = join(outDir, `${j.name}.pdf`);
          const { blocked } = await printPdf(browser, j.html, out, j.title);
          if (blocked.length > 0) warn(`racelab report: blocked ${blocked.length} network request(s) while printing ${out}`);
          results[i]!.pdf = out;
        }
      },
      opts.chromium !== undefined ? { chromium: opts.chromium } : {},
    );
  }
  await writeReportIndex(outDir);
  return results;
}

/**
 * CLI wrapper: run {@link reportNotebooks}, print written paths on stdout, errors on stderr as one
 * line.
 * @returns the exit status: 0 done, 2 bad usage/input, 1 other failure.
 */
export async function reportCommand(paths: readonly string[], opts: ReportOptions = {}): Promise<number> {
  // SIGINT or SIGTERM: stop at once, leaving no temp file and no Chromium profile behind (the
  // files already written are complete: every write is atomic).
  const onSignal = (sig: NodeJS.Signals) => {
    const code = sig === "SIGINT" ? 130 : 143;
    removePendingWrites();
    // A browser still starting is killed once its launch settles (at most 10 s more).
    setTimeout(() => process.exit(code), 10_000).unref();
    void stopBrowsers().then(() => {
      removePendingWrites();
      process.stderr.write(`racelab report: ${sig}: stopped; the files written so far are complete, nothing half-written is left\n`);
      process.exit(code);
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const checking = (busy: boolean) => {
    const f = busy ? process.off.bind(process) : process.on.bind(process);
    f("SIGINT", onSignal);
    f("SIGTERM", onSignal);
  };
  try {
    for (const r of await reportNotebooks(paths, { checking, ...opts })) {
      if (r.html) process.stdout.write(r.html + "\n");
      if (r.pdf) process.stdout.write(r.pdf + "\n");
      if (r.mail) process.stdout.write(r.mail + "\n");
      if (r.eml) process.stdout.write(r.eml + "\n");
    }
    return 0;
  } catch (e) {
    process.stderr.write(`racelab report: ${(e as Error).message.split("\n")[0]}\n`);
    return e instanceof InputError ? 2 : 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/**
 * Add the `report` subcommand to a commander program. The action sets `process.exitCode`.
 * @returns the subcommand.
 */
export function registerReportCommand(program: Command): Command {
  return program
    .command("report")
    .description("render executed notebooks to self-contained HTML and PDF (default: both) and the mailing-list writeup (--mail)")
    .argument("<notebooks...>", "executed notebooks (.ipynb), e.g. reports/<name>.ipynb from 'racelab run'")
    .option("--html", "write <out>/<name>.html")
    .option("--pdf", "write <out>/<name>.pdf (A4, printed by headless Chromium)")
    .option("--mail", "write <out>/<name>.mail.txt (plain text, 75 columns) and <out>/<name>.eml (the reply to the thread)")
    .option("--out <dir>", "output folder", "reports")
    .option("--unexecuted", "render a notebook none of whose code cells ran (else that is an error: its report would have no results)")
    .option("--check-time-limit <s>", `time limit of each check behind the verdict section, in seconds (default ${DEFAULT_VERDICT_CHECK_MS / 1000}); a check cut short is incomplete there`)
    .action(async (paths: string[], o: { html?: boolean; pdf?: boolean; mail?: boolean; out: string; unexecuted?: boolean; checkTimeLimit?: string }) => {
      let checkTimeLimitMs: number | undefined;
      if (o.checkTimeLimit !== undefined) {
        const v = Number(o.checkTimeLimit);
        if (!/^\d+(\.\d+)?$/.test(o.checkTimeLimit) || !(v > 0) || v > 7 * 24 * 3600) {
          process.stderr.write(`racelab report: --check-time-limit: expected seconds, more than 0 and at most 604800, got ${JSON.stringify(clip(o.checkTimeLimit))}\n`);
          process.exitCode = 2;
          return;
        }
        checkTimeLimitMs = v * 1000;
      }
      process.exitCode = await reportCommand(paths, {
        html: !!o.html,
        pdf: !!o.pdf,
        mail: !!o.mail,
        out: o.out,
        unexecuted: o.unexecuted === true,
        ...(checkTimeLimitMs !== undefined ? { checkTimeLimitMs } : {}),
      });
    });
}

/** Whether a code cell of `nb` defines scenario `id` itself (`defineScenario({ id: "<id>", ... })`). */
export function definedInCells(nb: Notebook, id: string): boolean {
  const quoted = new RegExp(`\\bid\\s*:\\s*["'\`]${id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}["'\`]`);
  return nb.cells.some((c) => c.cell_type === "code" && /\bdefineScenario\b/.test(joinText(c.source)) && quoted.test(joinText(c.source)));
}
