/**
 * From a notebook to the report's document model: the cells pass, the markdown and outputs
 * passes, and the figures pass. {@link buildReport} chains them; each is usable on its own.
 */
import { basename } from "node:path";
import { applyCellTags, type ViewCell } from "./cells.js";
import { renderMarkdown } from "./markdown.js";
import { joinText, type Notebook } from "./notebook.js";
import { renderOutputs, type OutputBlock } from "./outputs.js";
import type { Provenance } from "./provenance.js";

/** A cell of the report. */
export type ReportCell =
  | { kind: "markdown"; number: number; html: string }
  | {
      kind: "code";
      number: number;
      executionCount: number | null;
      /** The code, or null when the input is removed. */
      code: string | null;
      inputHidden: boolean;
      outputs: OutputBlock[];
      outputsHidden: boolean;
    };

/** The report before it becomes HTML. */
export interface ReportDocument {
  title: string;
  /** YYYY-MM-DD. */
  date: string;
  /** What the report was made from (a path, shown as text). */
  source: string;
  scenario: string | null;
  inReplyTo: string | null;
  cells: ReportCell[];
  /** Where the report comes from (racelab version and commit, results computed, how to make it again); null when unknown. */
  provenance?: Provenance | null;
}

/**
 * Render the cells kept by the tags pass: markdown with {@link renderMarkdown} (heading ids unique
 * across the document), outputs with {@link renderOutputs}.
 */
export function renderCells(cells: readonly ViewCell[]): ReportCell[] {
  const slugs = new Map<string, number>();
  return cells.map((v): ReportCell => {
    if (v.cell.cell_type === "markdown") {
      return { kind: "markdown", number: v.number, html: renderMarkdown(joinText(v.cell.source), v.cell.attachments, slugs) };
    }
    return {
      kind: "code",
      number: v.number,
      executionCount: typeof v.cell.execution_count === "number" ? v.cell.execution_count : null,
      code: v.input === "remove" ? null : joinText(v.cell.source).replace(/\s+$/, ""),
      inputHidden: v.input === "hide",
      outputs: v.outputs === "remove" ? [] : renderOutputs(v.cell.outputs ?? [], `c${v.number}`),
      outputsHidden: v.outputs === "hide",
    };
  });
}

/**
 * Number the figures (charts, images) of the report 1, 2, ... in document order, and the tables
 * with a caption (`Table 1.` put before the caption) the same way, apart.
 */
export function numberFigures(cells: readonly ReportCell[]): ReportCell[] {
  let n = 0;
  let t = 0;
  return cells.map((c) =>
    c.kind !== "code"
      ? c
      : {
          ...c,
          outputs: c.outputs.map((o) =>
            o.kind === "figure" ? { ...o, number: ++n } : o.kind === "html" ? { ...o, html: o.html.replace(/<caption>/g, () => `<caption><b>Table ${++t}.</b> `) } : o,
          ),
        },
  );
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

/**
 * Drop the notebook's leading `<h1>` (the first thing of its first cell, a markdown cell): the page
 * header shows the title once, from the metadata's `racelab.title` (else from that heading).
 */
export function dropRepeatedTitle(cells: readonly ReportCell[], _title: string): ReportCell[] {
  const i = cells.findIndex((c) => c.kind === "markdown");
  if (i !== 0) return [...cells];
  const c = cells[0] as Extract<ReportCell, { kind: "markdown" }>;
  const m = /^<h1[^>]*>([\s\S]*?)<\/h1>\n?/.exec(c.html);
  if (!m) return [...cells];
  const rest = c.html.slice(m[0].length);
  return rest.trim() ? [{ ...c, html: rest }, ...cells.slice(1)] : cells.slice(1);
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
 * All passes from a validated notebook to the document model: tags -> markdown and outputs ->
 * figure numbers -> title.
 * @param source the notebook's path (shown in the report and used for the fallback title).
 */
export function buildReport(nb: Notebook, source: string, date: Date = reportDate()): ReportDocument {
  const title = reportTitle(nb, source);
  const cells = dropRepeatedTitle(numberFigures(renderCells(applyCellTags(nb))), title);
  const meta = nb.metadata.racelab ?? {};
  return {
    title,
    date: isoDate(date),
    source,
    scenario: typeof meta.scenario === "string" ? meta.scenario : null,
    inReplyTo: typeof meta.inReplyTo === "string" ? meta.inReplyTo : null,
    cells,
  };
}
