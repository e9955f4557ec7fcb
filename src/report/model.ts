/**
 * The report's document model: one format-neutral description of an executed notebook, built once
 * (document.ts: cell tags applied, markdown parsed, outputs turned into typed blocks, tables and
 * figures numbered) and read by every writer: html.ts (the page; the PDF is that page printed by
 * pdf.ts) and mail.ts (the plain-text writeup). No block holds writer output: prose is markdown-it
 * tokens, tables are rows of cell text, figures carry their chart spec and images. The only HTML in
 * the model is an untrusted notebook's own HTML or SVG output, already sanitized.
 */
import type { Token } from "markdown-it";
import type { VegaLiteSpec } from "../notebook/display.js";
import type { Attachments } from "./markdown.js";
import type { Provenance } from "./provenance.js";

/** What the report is about: its title, the scenario and the thread it answers, and its date. */
export interface TitleBlock {
  /** Metadata `racelab.title`, else the notebook's leading `# heading`, else the file name. */
  readonly title: string;
  /** Metadata `racelab.scenario`, or null. */
  readonly scenario: string | null;
  /** The scenario's seed thread, when racelab knows the scenario; else null. */
  readonly thread: {
    readonly subject: string;
    readonly author: string;
    /** YYYY-MM-DD. */
    readonly date: string;
    /** The thread as `racelab claims` names it (`seed: author, date, "subject"`). */
    readonly source: string;
  } | null;
  /** The Message-Id the report replies to (metadata `racelab.inReplyTo`, as written), or null. */
  readonly inReplyTo: string | null;
  /** `https://lore.kernel.org/r/<Message-Id>` of {@link inReplyTo}, or null. */
  readonly lore: string | null;
  /** The report's date, YYYY-MM-DD. */
  readonly date: string;
  /** What the report was made from (the notebook's path, shown as text). */
  readonly source: string;
}

/** One fix of the scenario: its verdict under the default variant, and in which other variants it fails, explored when the report was made. */
export interface VerdictRow {
  readonly fix: string;
  /** Under the default variant. */
  readonly verdict: "pass" | "fail" | "incomplete";
  readonly violations: number;
  readonly executions: number;
  /**
   * The counterexample's finding (`kind: message`), or null: the default variant's, else (the
   * fix passes there) that of the first other variant it fails in ({@link findingVariant}).
   */
  readonly finding: string | null;
  /** The `racelab replay` command of that counterexample, or null. */
  readonly replay: string | null;
  /** The variant of {@link finding}: `default`, another variant's id, or null with no finding. */
  readonly findingVariant: string | null;
  /** The other variants (as {@link Verdicts.variants} names them) this fix fails in, in the scenario's order. */
  readonly failsIn: readonly string[];
  /** The other variants whose check of this fix was cut short (`incomplete`). */
  readonly incompleteIn: readonly string[];
  /**
   * The default variant's verdict under each memory model explored ({@link Verdicts.memoryModels}:
   * its own first, then those the notebook's recorded checks or its claims use); absent: only
   * {@link verdict} under {@link Verdicts.memoryModel}.
   */
  readonly models?: readonly ModelVerdict[];
  /** The memory model of {@link finding} (absent or null: the variant's own). */
  readonly findingModel?: string | null;
}

/** One fix under one memory model (the default variant), in {@link VerdictRow.models}. */
export interface ModelVerdict {
  readonly memoryModel: string;
  readonly verdict: "pass" | "fail" | "incomplete";
  readonly violations: number;
  readonly executions: number;
  /** The check's warnings (CheckResult.warnings: what its verdict does not cover); absent: none. */
  readonly warnings?: readonly string[];
}

/** One cell of the verdict table: the verdict, the memory models it holds under, the violating counts (`1 of 6` each). */
export interface VerdictGroup {
  readonly verdict: "pass" | "fail" | "incomplete";
  /** A pass whose checks gave warnings ({@link ModelVerdict.warnings}): printed `pass (warning)`. */
  readonly warned: boolean;
  readonly models: readonly string[];
  /** `1 of 6` (`1 of 6 each`) when every model of the group has that count, else each model's: `tso: 1 of 6, pso: 2 of 20`. */
  readonly counts: string;
}

/**
 * A fix's verdicts grouped by outcome (fail, then incomplete, then pass with warnings, then
 * pass), each with the memory models it holds under: the verdict table prints `FAIL under tso,
 * pso; pass under sc`.
 */
export function verdictGroups(r: VerdictRow, v: Pick<Verdicts, "memoryModel">): VerdictGroup[] {
  const models = r.models ?? [{ memoryModel: v.memoryModel, verdict: r.verdict, violations: r.violations, executions: r.executions }];
  const n = (x: number) => x.toLocaleString("en-US");
  const warned = (m: ModelVerdict) => (m.warnings?.length ?? 0) > 0;
  const kinds = [["fail", false], ["incomplete", false], ["pass", true], ["pass", false]] as const;
  return kinds.flatMap(([verdict, w]) => {
    const ms = models.filter((m) => m.verdict === verdict && (verdict !== "pass" || warned(m) === w));
    if (ms.length === 0) return [];
    const of = (m: ModelVerdict) => `${n(m.violations)} of ${n(m.executions)}`;
    const counts = new Set(ms.map(of));
    // The same count under every model: once, `each`; else every model with its own (merging
    // equal ones left a reader to pin `172 of 180` on the wrong model; new-user trial 14).
    const text = counts.size === 1 ? of(ms[0]!) + (ms.length > 1 ? " each" : "") : ms.map((m) => `${m.memoryModel}: ${of(m)}`).join(", ");
    return [{ verdict, warned: verdict === "pass" && w, models: ms.map((m) => m.memoryModel), counts: text }];
  });
}

/** A verdict group's verdict as the table prints it: `FAIL`, `incomplete`, `pass (warning)` or `pass`. */
export function groupVerdict(g: VerdictGroup): string {
  return g.verdict === "fail" ? "FAIL" : g.warned ? "pass (warning)" : g.verdict;
}

/** The verdict cell as text: `FAIL under tso, pso; pass under sc`. */
export function verdictCell(r: VerdictRow, v: Pick<Verdicts, "memoryModel">): string {
  return verdictGroups(r, v)
    .map((g) => `${groupVerdict(g)} under ${g.models.join(", ")}`)
    .join("; ");
}

/**
 * The warnings of a fix's passing checks, for the lines under the verdict table: each distinct
 * warning once, with the memory models whose check gave it (`under sc, tso: list_head links ...`).
 */
export function passWarnings(r: VerdictRow): string[] {
  const by = new Map<string, string[]>();
  for (const m of r.models ?? [])
    if (m.verdict === "pass")
      for (const w of m.warnings ?? []) {
        // The same warning under several models, but for the model it names: once.
        const key = w.replace(new RegExp(`\\bthis ${m.memoryModel} check\\b`, "g"), "this check");
        by.set(key, [...(by.get(key) ?? []), m.memoryModel]);
      }
  return [...by].map(([w, ms]) => `${r.fix} passes under ${ms.join(", ")} with a warning: ${ms.length === 1 ? w.replace(/\bthis check\b/g, `this ${ms[0]} check`) : w}`);
}

/** The violating cell, in the verdict cell's order: `1 of 6 each; 0 of 5` (one model: `0 of 5 executions`). */
export function violatingCell(r: VerdictRow, v: Pick<Verdicts, "memoryModel">): string {
  const g = verdictGroups(r, v);
  // ("explored": the reduced search's executions, not the interleavings a checks table counts
  // beside them; new-user trial 22 read `4 of 6` against `18 of 20 interleavings`.)
  if (g.length === 1 && g[0]!.models.length === 1) return `${g[0]!.counts} executions explored`;
  // Every count names its model (new-user trial 16: `tso: 1 of 6, pso: 1 of 6; 0 of 5` left the
  // last count's model to guess): a group of one model or of equal counts gets the models first.
  if (g.length === 1) return g[0]!.counts;
  return g.map((x) => (x.models.length === 1 || x.counts.endsWith(" each") ? `${x.models.join(", ")}: ${x.counts}` : x.counts)).join("; ");
}

/** `(variant large-folio, under tso)`, `(under tso)` or `` after a fix's name, where its counterexample comes from. */
export function findingWhere(r: VerdictRow): string {
  const parts = [
    ...(r.findingVariant !== null && r.findingVariant !== "default" ? [`variant ${r.findingVariant}`] : []),
    ...(r.findingModel !== undefined && r.findingModel !== null ? [`under ${r.findingModel}`] : []),
  ];
  return parts.length === 0 ? "" : ` (${parts.join(", ")})`;
}

/** `<fix>: fails in a, b; incomplete in c` or `<fix>: passes in every one`, for the verdict section's other variants. */
export function otherVariants(r: VerdictRow): string {
  const parts: string[] = [];
  if (r.failsIn.length > 0) parts.push(`fails in ${r.failsIn.join(", ")}`);
  if (r.incompleteIn.length > 0) parts.push(`incomplete in ${r.incompleteIn.join(", ")}`);
  return `${r.fix}: ${parts.length === 0 ? "passes in every one" : parts.join("; ")}`;
}

/**
 * `explored every interleaving`, or, when a check behind the verdicts was cut short (a budget,
 * the report's time limit), `explored the interleavings it could (a verdict cut short reads
 * incomplete)`: the section said "every interleaving" above an `incomplete` row (new-user trial 19).
 */
export function exploredClause(v: Verdicts): string {
  const cut = v.rows.some((r) => r.verdict === "incomplete" || r.incompleteIn.length > 0 || (r.models ?? []).some((m) => m.verdict === "incomplete"));
  return cut ? "explored the interleavings it could (a verdict cut short reads incomplete)" : "explored every interleaving";
}

/**
 * The memory-model clause of the verdict section's first sentence: `under sequential consistency
 * (sc; no variant of the scenario names another memory model, ...)` and the like.
 */
export function memoryModelClause(v: Verdicts): string {
  const ms = v.memoryModels ?? [v.memoryModel];
  if (ms.length > 1)
    return (
      `under each of the memory models ${ms.join(", ")} (the default variant's own, ${v.memoryModel}, and those the notebook's recorded checks or its claims use)` +
      (v.variants.length > 0 ? `, and each other variant under its own` : "")
    );
  if (v.memoryModel !== "sc") return `under the ${v.memoryModel} memory model`;
  return v.scOnly
    ? "under sequential consistency (sc; no variant of the scenario names another memory model, so this section explores no reordering: check with --memory-model tso, pso or rmo)"
    : "under sequential consistency (sc) unless a variant names another model";
}

/** The verdict of every fix under every variant, explored again when the report is made. */
export interface Verdicts {
  readonly scenario: string;
  /** The kernel version the scenario models. */
  readonly kernel: string;
  /**
   * The other variant-and-model pairs explored: each variant other than `default` as `id`, or
   * `id [pso]` under a model other than sc (`tso` alone for a variant named after its model), once
   * per model its recorded checks or claims use besides its own.
   */
  readonly variants: readonly string[];
  /** The default variant's memory model (`sc` unless it names another). */
  readonly memoryModel: string;
  /**
   * The memory models the default variant was explored under: its own first, then (in `sc`, `tso`,
   * `pso`, `rmo` order) every other one the notebook's recorded checks or its claims use; absent:
   * just {@link memoryModel}.
   */
  readonly memoryModels?: readonly string[];
  /** Whether no variant names `tso`, `pso` or `rmo` and no recorded check or claim uses one: no reordering was explored at all. */
  readonly scOnly: boolean;
  readonly rows: readonly VerdictRow[];
}

/** Fields every block has. */
interface BlockBase {
  /** 1-based position in the notebook of the cell the block comes from. */
  readonly cell: number;
}

/** Fields of a code cell's output blocks. */
interface OutputBase extends BlockBase {
  /** The cell's outputs are collapsed (`hide-output`): the HTML folds them (paper leaves them out), the mail shows them. */
  readonly collapsed: boolean;
}

/** A heading of a markdown cell (top level of the markdown). */
export interface HeadingBlock extends BlockBase {
  readonly kind: "heading";
  readonly level: 1 | 2 | 3 | 4 | 5 | 6;
  /** The heading as plain text (code spans' text kept, markup and link targets dropped). */
  readonly text: string;
  /** Unique in the document; the slug Jupyter gives the heading (spaces as `-`). */
  readonly id: string;
  /** The heading's inline markdown-it tokens (code spans, emphasis, links). */
  readonly inline: readonly Token[];
}

/** Markdown between headings (a cell's, or a `text/markdown` output's), as markdown-it block tokens. */
export interface ProseBlock extends BlockBase {
  readonly kind: "prose";
  readonly tokens: readonly Token[];
  /** The cell's attachments, for `![](attachment:name)` images. */
  readonly attachments: Attachments | null;
  /** Null for a markdown cell; for a `text/markdown` output, whether it is collapsed. */
  readonly output: { readonly collapsed: boolean } | null;
}

/** A code cell's source (absent when removed by `remove-input`). */
export interface CodeBlock extends BlockBase {
  readonly kind: "code";
  readonly source: string;
  readonly executionCount: number | null;
  /** `hide-input`: the HTML folds it (paper leaves it out). */
  readonly collapsed: boolean;
}

/** A table output (racelab's `tableBundle`). */
export interface TableBlock extends OutputBase {
  readonly kind: "table";
  /** 1, 2, ... in document order for tables with a caption; null without one. */
  readonly number: number | null;
  readonly caption: string | null;
  /** Column names, or null for a table without a header row. */
  readonly header: readonly string[] | null;
  /** Cell texts, one array per row, as many cells as columns. */
  readonly rows: readonly (readonly string[])[];
  /** Per column: its cells are numbers (right-aligned). */
  readonly numeric: readonly boolean[];
  /** Where the structure came from: the bundle's `application/vnd.racelab.table+json`, or its `text/plain` (a notebook executed before that type existed). */
  readonly from: "json" | "text";
}

/** A figure output: a chart or an image. */
export interface FigureBlock extends OutputBase {
  readonly kind: "figure";
  /** 1, 2, ... in document order. */
  readonly number: number;
  /** The chart's title (or description), or null. */
  readonly caption: string | null;
  /** The Vega-Lite spec of a chart, or null. */
  readonly spec: VegaLiteSpec | null;
  /** The SVG, sanitized, or null. */
  readonly svg: string | null;
  /** A raster image (base64), or null. */
  readonly image: { readonly mime: "image/png" | "image/jpeg" | "image/gif"; readonly base64: string } | null;
  /** The bundle's `text/plain`, or null. */
  readonly text: string | null;
}

/**
 * A monospace block: a race diagram (CPU columns under a header of thread names and dashes) or
 * other preformatted text of racelab's (`preBundle`).
 */
export interface DiagramBlock extends OutputBase {
  readonly kind: "diagram";
  readonly lines: readonly string[];
  /**
   * Index in {@link lines} of the column header (thread names; the dashes follow on the next
   * line), or null when the text has no columns. Lines before it are a lead (title, replay command).
   */
  readonly header: number | null;
}

/** Plain text output (`text/plain` only, or the text of an output that cannot be shown). */
export interface TextBlock extends OutputBase {
  readonly kind: "text";
  readonly text: string;
}

/** stdout or stderr of a cell, terminal escapes removed. */
export interface StreamBlock extends OutputBase {
  readonly kind: "stream";
  readonly name: "stdout" | "stderr";
  readonly text: string;
}

/** An error output: the traceback (escapes removed), else `ename: evalue`. */
export interface ErrorBlock extends OutputBase {
  readonly kind: "error";
  readonly text: string;
}

/** HTML output that is not one of racelab's tables (a notebook's own), sanitized. */
export interface HtmlBlock extends OutputBase {
  readonly kind: "html";
  /** Sanitized HTML (report/sanitize.ts). */
  readonly html: string;
  /** The bundle's `text/plain`, or null. */
  readonly text: string | null;
}

/** A note in place of an output the report does not show (unknown MIME type, invalid data, ...). */
export interface NoteBlock extends OutputBase {
  readonly kind: "note";
  readonly text: string;
}

/** An output block. */
export type OutputBlock = TableBlock | FigureBlock | DiagramBlock | TextBlock | StreamBlock | ErrorBlock | HtmlBlock | NoteBlock | ProseBlock;

/** One block of the report, in document order. */
export type Block = HeadingBlock | ProseBlock | CodeBlock | OutputBlock;

/** The report: built once from the executed notebook, written as HTML (and PDF) and as mail text. */
export interface ReportDocument {
  readonly title: TitleBlock;
  /** Where the report comes from (racelab version and commit, results computed, how to make it again); null when unknown. */
  provenance: Provenance | null;
  /** The verdict per fix, when the document was built with them and the scenario is racelab's; else null. */
  readonly verdicts: Verdicts | null;
  readonly blocks: readonly Block[];
}
