/**
 * From an executed notebook to the report's document model (model.ts), once, for every writer:
 * the cell tags pass (cells.ts), markdown parsed into headings and prose (markdown.ts), outputs
 * into typed blocks (outputs.ts), the notebook's own title heading dropped, figures and captioned
 * tables numbered in document order, and the title block (plus, on request, the verdict of every
 * fix, explored now). {@link buildReport} chains them.
 */
import { basename } from "node:path";
import { check, type CheckResult } from "../engine/check.js";
import { MEMORY_MODELS, type MemoryModel } from "../engine/memory.js";
import { formatSource, namesSource } from "../engine/claims.js";
import { replayCommand } from "../engine/replay-hint.js";
import { lookupScenario, resolveConfig, type AnyScenario } from "../engine/scenario.js";
import "../registry.js";
import { applyCellTags, type ViewCell } from "./cells.js";
import { headingSlug, inlineText, parseMarkdown, uniqueSlug, type Attachments } from "./markdown.js";
import type { Block, HeadingBlock, ReportDocument, TitleBlock, Verdicts } from "./model.js";
import { joinText, type Notebook } from "./notebook.js";
import { cellOutputBlocks } from "./outputs.js";
import type { Provenance } from "./provenance.js";

export type { ReportDocument } from "./model.js";

/**
 * A markdown cell's blocks: each top-level heading a {@link HeadingBlock} (id unique in the
 * document, through `slugs`), the markdown between headings a prose block of its tokens.
 */
export function markdownBlocks(source: string, cell: number, attachments: Attachments | null, slugs: Map<string, number>): Block[] {
  const tokens = parseMarkdown(source);
  const out: Block[] = [];
  let prose: typeof tokens = [];
  const flush = () => {
    if (prose.length > 0) out.push({ kind: "prose", cell, tokens: prose, attachments, output: null });
    prose = [];
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type === "heading_open" && t.level === 0 && tokens[i + 1]?.type === "inline") {
      flush();
      const inline = tokens[i + 1]!.children ?? [];
      const text = inlineText(inline).trim();
      out.push({ kind: "heading", cell, level: Number(t.tag.slice(1)) as HeadingBlock["level"], text, id: uniqueSlug(headingSlug(text), slugs), inline });
      i += 2; // inline, heading_close
      continue;
    }
    prose.push(t);
  }
  flush();
  return out;
}

/** The blocks of the cells kept by the tags pass, in order (figures and tables not numbered yet). */
export function cellBlocks(cells: readonly ViewCell[]): Block[] {
  const slugs = new Map<string, number>();
  return cells.flatMap((v): Block[] => {
    if (v.cell.cell_type === "markdown") return markdownBlocks(joinText(v.cell.source), v.number, v.cell.attachments ?? null, slugs);
    const out: Block[] = [];
    if (v.input !== "remove")
      out.push({
        kind: "code",
        cell: v.number,
        source: joinText(v.cell.source).replace(/\s+$/, ""),
        executionCount: typeof v.cell.execution_count === "number" ? v.cell.execution_count : null,
        collapsed: v.input === "hide",
      });
    if (v.outputs !== "remove") out.push(...cellOutputBlocks(v.cell.outputs ?? [], v.number, v.outputs === "hide"));
    return out;
  });
}

/**
 * Number the figures 1, 2, ... in document order, and the tables with a caption the same way,
 * apart (`Figure 2`, `Table 5` in every writer).
 */
export function numberBlocks(blocks: readonly Block[]): Block[] {
  let figures = 0;
  let tables = 0;
  return blocks.map((b) =>
    b.kind === "figure" ? { ...b, number: ++figures } : b.kind === "table" ? { ...b, number: b.caption !== null ? ++tables : null } : b,
  );
}

/**
 * Drop the notebook's leading `# heading` (the first thing of its first cell, a markdown cell):
 * the report's title block shows the title once, from the metadata's `racelab.title` (else from
 * that heading).
 */
export function dropRepeatedTitle(blocks: readonly Block[]): Block[] {
  const first = blocks[0];
  return first?.kind === "heading" && first.level === 1 ? blocks.slice(1) : [...blocks];
}

/** Text of the first `# heading` of the first markdown cell, if the notebook starts with one. */
function leadingH1(nb: Notebook): string | null {
  const first = nb.cells.find((c) => c.cell_type === "markdown" && joinText(c.source).trim() !== "");
  const m = first ? /^\s*#\s+(.+?)\s*#*\s*$/m.exec(joinText(first.source).trimStart().split("\n")[0] ?? "") : null;
  return m ? m[1]! : null;
}

/**
 * The report's title: metadata `racelab.title`, else the notebook's leading `# heading`, else the
 * file name without `.ipynb`.
 */
export function reportTitle(nb: Notebook, source: string): string {
  const t = nb.metadata.racelab?.title;
  if (typeof t === "string" && t.trim()) return t.trim();
  return leadingH1(nb) ?? basename(source).replace(/\.ipynb$/, "");
}

/** Format a date as YYYY-MM-DD (UTC). */
export function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/**
 * The date stamp of a report: `SOURCE_DATE_EPOCH` (seconds, for reproducible builds) when set,
 * else now.
 */
export function reportDate(env: NodeJS.ProcessEnv = process.env): Date {
  return sourceDate(env) ?? new Date();
}

/** `SOURCE_DATE_EPOCH` (whole seconds, reproducible builds) as a Date, or null when it is not set to one. */
export function sourceDate(env: NodeJS.ProcessEnv = process.env): Date | null {
  const epoch = env["SOURCE_DATE_EPOCH"];
  return epoch !== undefined && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000) : null;
}

/** A (variant, memory model) pair some check of the notebook explored (see {@link Provenance.checked}). */
export interface CheckedModel {
  readonly scenario?: string;
  readonly variant: string;
  readonly memoryModel: string;
  /** The fix checked, for {@link params}. */
  readonly fix?: string;
  /** Every parameter's value; a check with parameters other than the fix and variant's defaults (which the verdicts use) is not counted. */
  readonly params?: Readonly<Record<string, number>>;
}

/** Whether `c`'s parameters are the defaults of its fix and variant (the verdict section explores only those). */
function defaultParams(sc: AnyScenario, c: CheckedModel): boolean {
  if (c.params === undefined) return true;
  try {
    const d = resolveConfig(sc, c.fix ?? sc.fixes[0]!.id, c.variant).params;
    return Object.keys(d).length === Object.keys(c.params).length && Object.entries(c.params).every(([k, v]) => d[k] === v);
  } catch {
    return false;
  }
}

/** Thrown by {@link claimModels}'s context: the claim's first check is all it needs to know. */
const SEEN = Symbol("seen");

/**
 * The (variant, memory model) pairs the scenario's claims check: each claim is started with a
 * context that notes its first `ctx.check()` and stops it there (nothing is explored). A
 * declarative claim (`{ fix, memoryModel, verdict }`) makes exactly that one check.
 */
export function claimModels(sc: AnyScenario): CheckedModel[] {
  const out: CheckedModel[] = [];
  for (const c of sc.claims) {
    try {
      c.evaluate({
        check(fix: string, variant: string, params?: Record<string, number>, memoryModel?: MemoryModel): never {
          const m = memoryModel ?? sc.variants.find((v) => v.id === variant)?.memoryModel ?? "sc";
          out.push({ variant, memoryModel: m, fix, ...(params !== undefined && Object.keys(params).length > 0 ? { params: { ...resolveDefaults(sc, fix, variant), ...params } } : {}) });
          throw SEEN;
        },
      });
    } catch {
      // SEEN, or a claim that failed before checking anything: it names no model.
    }
  }
  return out;
}

/** The parameters of a fix and variant (their defaults), or {} for an unknown one. */
function resolveDefaults(sc: AnyScenario, fix: string, variant: string): Record<string, number> {
  try {
    return resolveConfig(sc, fix, variant).params;
  } catch {
    return {};
  }
}

/** Options of {@link verdictsOf}. */
export interface VerdictOptions {
  /**
   * Variant and memory-model pairs the notebook checked (its recorded results; pairs of other
   * scenarios are ignored): each model is explored for that variant too. The scenario's claims'
   * pairs ({@link claimModels}) are always added.
   */
  readonly checked?: readonly CheckedModel[];
  /**
   * Time limit of each check, in ms (default none): a check it cuts short is `incomplete` in the
   * verdicts (a report of a notebook whose model one check cannot finish under some memory model
   * ran for hours, with no output; new-user trial 19).
   */
  readonly timeLimitMs?: number;
  /** Called as each check starts, with its fix, variant and memory model, and with its progress (as `CheckOptions.onProgress`). */
  readonly onCheck?: (what: { fix: string; variant: string; memoryModel: MemoryModel }, progress: { executions: number; elapsedMs: number } | null) => void;
}

/**
 * The verdict of every fix of `sc` under every variant, checked exhaustively now (the same build
 * as the notebook's): per fix, the default variant's verdict under its own memory model and under
 * every other model the notebook's recorded checks ({@link VerdictOptions.checked}) or the
 * scenario's claims use for it, and the other variants (each under its own model and those) it
 * fails in, with the replay command of one counterexample (the default variant's, under the first
 * model it fails in, else the first failing variant's).
 */
export function verdictsOf(sc: AnyScenario, opts: VerdictOptions = {}): Verdicts {
  const own = (id: string): MemoryModel => sc.variants.find((v) => v.id === id)?.memoryModel ?? "sc";
  const extra = new Map<string, Set<string>>();
  for (const c of [...(opts.checked ?? []).filter((c) => (c.scenario === undefined || c.scenario === sc.id) && defaultParams(sc, c)), ...claimModels(sc)])
    if (sc.variants.some((v) => v.id === c.variant)) extra.set(c.variant, (extra.get(c.variant) ?? new Set()).add(c.memoryModel));
  const modelsOf = (id: string): MemoryModel[] => [own(id), ...MEMORY_MODELS.filter((m) => m !== own(id) && extra.get(id)?.has(m))];
  const label = (id: string, m: MemoryModel) => (m === own(id) && (m === "sc" || m === id) ? id : `${id} [${m}]`);
  const others = sc.variants.filter((v) => v.id !== "default").flatMap((v) => modelsOf(v.id).map((m) => ({ id: v.id, m, label: label(v.id, m) })));
  const defaults = modelsOf("default");
  /** One check of the verdicts, with the time limit and the progress callback. */
  const run = (fix: string, variant: string, m: MemoryModel): CheckResult => {
    const what = { fix, variant, memoryModel: m };
    opts.onCheck?.(what, null);
    return check(sc, {
      fix,
      ...(variant !== "default" ? { variant } : {}),
      ...(m !== own(variant) ? { memoryModel: m } : {}),
      ...(opts.timeLimitMs !== undefined ? { timeLimitMs: opts.timeLimitMs } : {}),
      ...(opts.onCheck !== undefined ? { onProgress: (done: number, _t: number | null, p: { elapsedMs: number }) => opts.onCheck!(what, { executions: done, elapsedMs: p.elapsedMs }) } : {}),
    });
  };
  return {
    scenario: sc.id,
    kernel: sc.kernel,
    variants: others.map((o) => o.label),
    memoryModel: own("default"),
    memoryModels: defaults,
    scOnly: defaults.length === 1 && defaults[0] === "sc" && others.every((o) => o.m === "sc"),
    rows: sc.fixes.map((f) => {
      const rs = defaults.map((m) => run(f.id, "default", m));
      const r = rs[0]!;
      const rest = others.map((o) => ({ label: o.label, r: run(f.id, o.id, o.m) }));
      const shown = rs.find((x) => x.counterexample !== null) ?? rest.find((x) => x.r.counterexample !== null)?.r ?? null;
      return {
        fix: r.fix,
        verdict: r.verdict,
        violations: r.violations,
        executions: r.executions,
        finding: shown?.counterexample?.finding ?? null,
        replay: shown?.counterexample ? replayOf(shown, sc) : null,
        findingVariant: shown === null ? null : shown.variant,
        findingModel: shown === null || shown.memoryModel === own(shown.variant) ? null : shown.memoryModel,
        failsIn: rest.filter((x) => x.r.verdict === "fail").map((x) => x.label),
        incompleteIn: rest.filter((x) => x.r.verdict === "incomplete").map((x) => x.label),
        models: rs.map((x) => ({
          memoryModel: x.memoryModel,
          verdict: x.verdict,
          violations: x.violations,
          executions: x.executions,
          ...(x.warnings.length > 0 ? { warnings: x.warnings } : {}),
        })),
      };
    }),
  };
}

/**
 * {@link replayCommand} of a counterexample, without a `--memory-model` that repeats the variant's
 * name and own model (`--variant tso --memory-model tso` reads `--variant tso`).
 */
function replayOf(r: CheckResult, sc: AnyScenario): string {
  const cmd = replayCommand(r, sc);
  const own = sc.variants.find((v) => v.id === r.variant)?.memoryModel ?? "sc";
  return r.variant === r.memoryModel && own === r.memoryModel ? cmd.replace(` --memory-model ${r.memoryModel} `, " ") : cmd;
}

/** The scenario a notebook's metadata names, when racelab knows it (bundled or loaded); else null. */
export function notebookScenario(nb: Notebook): AnyScenario | null {
  const id = nb.metadata.racelab?.scenario;
  if (typeof id !== "string") return null;
  try {
    return lookupScenario(id);
  } catch {
    return null; // defined in the notebook's own cells
  }
}

/** Options of {@link buildReport}. */
export interface BuildOptions {
  /** The report's date; default {@link reportDate}. */
  readonly date?: Date;
  /** The scenario (thread, verdicts); default the one the metadata names when racelab knows it; null: none. */
  readonly scenario?: AnyScenario | null;
  /** Explore every fix of the scenario for the verdict section (default false). */
  readonly verdicts?: boolean;
  /** The provenance block; default none. */
  readonly provenance?: Provenance | null;
  /** For the verdicts: the variant and memory-model pairs the notebook checked; default those of {@link provenance} ({@link Provenance.checked}). */
  readonly checked?: readonly CheckedModel[];
  /** For the verdicts: each check's time limit and progress ({@link VerdictOptions}). */
  readonly verdictChecks?: Pick<VerdictOptions, "timeLimitMs" | "onCheck">;
}

/**
 * All passes from a validated notebook to the document model: tags -> markdown and outputs ->
 * title heading dropped -> figure and table numbers -> title block (and verdicts).
 * @param source the notebook's path (shown in the report and used for the fallback title).
 * @param opts options, or just the date.
 */
export function buildReport(nb: Notebook, source: string, opts: BuildOptions | Date = {}): ReportDocument {
  const o: BuildOptions = opts instanceof Date ? { date: opts } : opts;
  const meta = nb.metadata.racelab ?? {};
  const sc = o.scenario !== undefined ? o.scenario : notebookScenario(nb);
  const inReplyTo = typeof meta.inReplyTo === "string" ? meta.inReplyTo : null;
  const title: TitleBlock = {
    title: reportTitle(nb, source),
    scenario: typeof meta.scenario === "string" ? meta.scenario : (sc?.id ?? null),
    // (None for a scenario that names no thread: no `Thread: —` in the writeup; new-user trial 22.)
    thread: sc && namesSource(sc.thread) ? { subject: sc.thread.subject, author: sc.thread.author, date: sc.thread.date, source: formatSource(sc.thread) } : null,
    inReplyTo,
    lore: inReplyTo !== null ? `https://lore.kernel.org/r/${inReplyTo.replace(/^<|>$/g, "")}` : null,
    date: isoDate(o.date ?? reportDate()),
    source,
  };
  return {
    title,
    provenance: o.provenance ?? null,
    verdicts: o.verdicts && sc ? verdictsOf(sc, { ...o.verdictChecks, checked: o.checked ?? o.provenance?.checked ?? [] }) : null,
    blocks: numberBlocks(dropRepeatedTitle(cellBlocks(applyCellTags(nb)))),
  };
}
