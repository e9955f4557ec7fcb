/**
 * From an executed notebook to the report's document model (model.ts), once, for every writer:
 * the cell tags pass (cells.ts), markdown parsed into headings and prose (markdown.ts), outputs
 * into typed blocks (outputs.ts), the notebook's own title heading dropped, figures and captioned
 * tables numbered in document order, and the title block (plus, on request, the verdict of every
 * fix, explored now). {@link buildReport} chains them.
 */
import { basename } from "node:path";
import { check } from "../engine/check.js";
import { formatSource } from "../engine/claims.js";
import { replayCommand } from "../engine/replay-hint.js";
import { lookupScenario, type AnyScenario } from "../engine/scenario.js";
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

/**
 * The verdict of every fix of `sc` under every variant, checked exhaustively now (the same build
 * as the notebook's): per fix, the default variant's verdict and the other variants it fails in,
 * with the replay command of one counterexample (the default variant's, else the first failing
 * variant's).
 */
export function verdictsOf(sc: AnyScenario): Verdicts {
  const others = sc.variants.filter((v) => v.id !== "default");
  const label = (v: (typeof others)[number]) => (v.memoryModel === undefined || v.memoryModel === "sc" ? v.id : `${v.id} [${v.memoryModel}]`);
  return {
    scenario: sc.id,
    kernel: sc.kernel,
    variants: others.map(label),
    memoryModel: sc.variants.find((v) => v.id === "default")?.memoryModel ?? "sc",
    scOnly: sc.variants.every((v) => v.memoryModel === undefined || v.memoryModel === "sc"),
    rows: sc.fixes.map((f) => {
      const r = check(sc, { fix: f.id });
      const rest = others.map((v) => ({ label: label(v), r: check(sc, { fix: f.id, variant: v.id }) }));
      const shown = r.counterexample !== null ? r : (rest.find((x) => x.r.counterexample !== null)?.r ?? null);
      return {
        fix: r.fix,
        verdict: r.verdict,
        violations: r.violations,
        executions: r.executions,
        finding: shown?.counterexample?.finding ?? null,
        replay: shown?.counterexample ? replayCommand(shown, sc) : null,
        findingVariant: shown === null ? null : shown.variant,
        failsIn: rest.filter((x) => x.r.verdict === "fail").map((x) => x.label),
        incompleteIn: rest.filter((x) => x.r.verdict === "incomplete").map((x) => x.label),
      };
    }),
  };
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
    thread: sc ? { subject: sc.thread.subject, author: sc.thread.author, date: sc.thread.date, source: formatSource(sc.thread) } : null,
    inReplyTo,
    lore: inReplyTo !== null ? `https://lore.kernel.org/r/${inReplyTo.replace(/^<|>$/g, "")}` : null,
    date: isoDate(o.date ?? reportDate()),
    source,
  };
  return {
    title,
    provenance: o.provenance ?? null,
    verdicts: o.verdicts && sc ? verdictsOf(sc) : null,
    blocks: numberBlocks(dropRepeatedTitle(cellBlocks(applyCellTags(nb)))),
  };
}
