/**
 * The mail writer: the report's document model (model.ts) -> the mailing-list writeup, plain text
 * a kernel developer can paste into a reply or send with git send-email, after
 * Documentation/process/submitting-patches.rst and maintainer-tip.rst: lines of at most 75 columns
 * (a `Link:` tag may be longer), the verdict per fix up front with the `racelab replay` command of
 * each counterexample, the narrative reflowed from the markdown, code left out, and the outputs as
 * text: race diagrams as CPU columns with `^^^^` under the bad access, tables aligned when they fit
 * and one record per row when they do not, numbered and captioned as in the HTML report, charts
 * named with the values they draw. `Link: https://lore.kernel.org/r/<Message-Id>` closes it.
 *
 * {@link mailEml} wraps the same text in an RFC 5322 reply (`Subject: Re: ...`, `In-Reply-To`,
 * `References`), built by nodemailer's stream transport.
 */
import type { Token } from "markdown-it";
import MailComposer from "nodemailer/lib/mail-composer";
import type { AnyScenario } from "../engine/scenario.js";
import { wrapTokens } from "../engine/trace.js";
import { chartTable } from "./chart-text.js";
import { buildReport } from "./document.js";
import { parseMarkdown } from "./markdown.js";
import { exploredClause, findingWhere, memoryModelClause, otherVariants, passWarnings, verdictCell, violatingCell, type Block, type FigureBlock, type ReportDocument, type TableBlock, type Verdicts } from "./model.js";
import type { Notebook } from "./notebook.js";
import { numberLikeColumns } from "./outputs.js";

export { parseTextTable } from "./outputs.js";

/** Most columns of a line of the writeup (tags such as `Link:` excepted). */
export const MAIL_WIDTH = 75;
/** Columns prose is reflowed to (a little under {@link MAIL_WIDTH}, as mail clients quote with `> `). */
export const PROSE_WIDTH = 72;

/** A word that must not be split: a URL, or a racelab schedule string. */
const UNSPLIT = /^<?(https?:\/\/|mailto:)|^(\d+(x\d+)?\.)+\d+(x\d+)?[,.;)]?$/;

/**
 * Words of `text` filled into lines of at most `width` columns, the first line starting with
 * `first`, the others with `rest`. A word longer than a line is split (after punctuation when it
 * can), except a URL or a schedule string, which then stands alone on its line.
 */
export function wrapText(text: string, width = PROSE_WIDTH, first = "", rest = first): string[] {
  const words = text.split(/\s+/).filter((w) => w !== "");
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (let w of words) {
    for (;;) {
      const room = width - (empty ? line.length : line.length + 1);
      if ([...w].length <= room) {
        line += (empty ? "" : " ") + w;
        empty = false;
        break;
      }
      if (!empty) {
        lines.push(line);
        line = rest;
        empty = true;
        continue;
      }
      if (UNSPLIT.test(w)) {
        lines.push(line + w);
        line = rest;
        break;
      }
      // A word longer than the line: split it, after punctuation (`(`, `,`, `_`, `->`, ...) in
      // the second half of the line when there is some, else at the line's end.
      const chars = [...w];
      const fit = Math.max(1, room);
      let cut = fit;
      for (let i = fit - 1; i >= Math.ceil(fit / 2); i--) {
        if ("(,;:_/.>-".includes(chars[i]!) && i + 1 < chars.length) {
          cut = i + 1;
          break;
        }
      }
      line += chars.slice(0, cut).join("");
      lines.push(line);
      w = chars.slice(cut).join("");
      line = rest;
    }
  }
  if (!empty || lines.length === 0) lines.push(line);
  return lines;
}

/** Inline tokens as plain text: code spans keep their backticks, links gain ` <url>` (http, https, mailto only). */
function inlineMailText(tokens: readonly Token[] | null): string {
  let out = "";
  let href: string | null = null;
  for (const t of tokens ?? []) {
    if (t.type === "text") out += t.content;
    else if (t.type === "code_inline") out += `\`${t.content}\``;
    else if (t.type === "softbreak") out += " ";
    else if (t.type === "hardbreak") out += "\n";
    else if (t.type === "image") out += `[image: ${t.content || "untitled"}]`;
    else if (t.type === "link_open") {
      const h = String(t.attrGet("href") ?? "");
      href = h !== "" && /^(https?:|mailto:)/i.test(h) ? h : null;
    } else if (t.type === "link_close") {
      if (href !== null && !out.endsWith(href)) out += ` <${href}>`;
      href = null;
    } else if (t.type === "html_inline") continue;
  }
  return out;
}

/** A heading as mail lines: its text reflowed, underlined with `=` (level 1) or `-` (level 2). */
function headingLines(level: number, text: string): string[] {
  const lines = wrapText(text, PROSE_WIDTH);
  if (level <= 2) lines.push((level === 1 ? "=" : "-").repeat(Math.min(PROSE_WIDTH, Math.max(...lines.map((l) => l.length)))));
  return lines;
}

/**
 * Markdown block tokens as plain text lines: headings underlined (`=` for level 1, `-` for 2),
 * paragraphs and list items reflowed to {@link PROSE_WIDTH} (nested lists indented two more
 * columns), code blocks kept as they are, tables aligned, block quotes prefixed `> `. Raw HTML
 * stays text, as in the HTML report.
 */
export function tokensToText(tokens: readonly Token[]): string[] {
  const out: string[] = [];
  const blank = () => {
    if (out.length > 0 && out[out.length - 1] !== "") out.push("");
  };
  const lists: { ordered: boolean; n: number }[] = [];
  let quote = 0;
  let pendingItem: string | null = null;
  let table: string[][] | null = null;
  let row: string[] | null = null;
  const prefix = () => "> ".repeat(quote);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    switch (t.type) {
      case "heading_open": {
        blank();
        out.push(...headingLines(Number(t.tag.slice(1)), inlineMailText(tokens[i + 1]!.children).trim()));
        out.push("");
        i += 2;
        break;
      }
      case "bullet_list_open":
      case "ordered_list_open":
        if (lists.length === 0) blank();
        lists.push({ ordered: t.type === "ordered_list_open", n: Number(t.attrGet("start") ?? 1) - 1 });
        break;
      case "bullet_list_close":
      case "ordered_list_close":
        lists.pop();
        if (lists.length === 0) blank();
        break;
      case "list_item_open": {
        const l = lists[lists.length - 1]!;
        l.n++;
        pendingItem = l.ordered ? `${l.n}. ` : "- ";
        break;
      }
      case "blockquote_open":
        blank();
        quote++;
        break;
      case "blockquote_close":
        quote--;
        blank();
        break;
      case "paragraph_open": {
        const text = inlineMailText(tokens[i + 1]!.children);
        const indent = "  ".repeat(Math.max(0, lists.length - 1));
        const marker = lists.length > 0 ? (lists[lists.length - 1]!.ordered ? " ".repeat(`${lists[lists.length - 1]!.n}. `.length) : "  ") : "";
        const first = prefix() + indent + (pendingItem ?? marker);
        const rest = prefix() + indent + marker;
        pendingItem = null;
        for (const [k, part] of text.split("\n").entries()) out.push(...wrapText(part, PROSE_WIDTH, k === 0 ? first : rest, rest));
        if (lists.length === 0) out.push(quote > 0 ? "> ".repeat(quote).trimEnd() : "");
        i += 2;
        break;
      }
      case "fence":
      case "code_block":
        blank();
        // Code is kept verbatim, indented four columns: a line longer than a mail line stays whole
        // (folding it would change the code a reader copies).
        for (const l of t.content.replace(/\n$/, "").split("\n")) out.push(l === "" ? prefix().trimEnd() : prefix() + "    " + l);
        out.push("");
        break;
      case "hr":
        blank();
        out.push("-".repeat(20));
        out.push("");
        break;
      case "table_open":
        table = [];
        break;
      case "tr_open":
        row = [];
        break;
      case "th_open":
      case "td_open":
        row!.push(inlineMailText(tokens[i + 1]!.children).trim());
        i += 2;
        break;
      case "tr_close":
        table!.push(row!);
        row = null;
        break;
      case "table_close":
        blank();
        out.push(...tableText(table![0] ?? [], table!.slice(1)));
        out.push("");
        table = null;
        break;
      default:
        break;
    }
  }
  while (out.length > 0 && out[out.length - 1] === "") out.pop();
  return out;
}

/** Markdown source as plain text lines ({@link tokensToText}). */
export function markdownToText(md: string): string[] {
  return tokensToText(parseMarkdown(md));
}

/** A preformatted line folded at {@link MAIL_WIDTH} columns (at spaces when it can). */
function foldLine(l: string, first: string, rest: string): string[] {
  const out: string[] = [];
  let cur = first;
  let left = l;
  for (;;) {
    const room = MAIL_WIDTH - [...cur].length;
    if ([...left].length <= room) {
      out.push(cur + left);
      return out;
    }
    const chars = [...left];
    let cut = chars.slice(0, room).join("").lastIndexOf(" ");
    if (cut <= 0) cut = room;
    out.push(cur + chars.slice(0, cut).join("").trimEnd());
    left = chars.slice(cut).join("").trimStart();
    cur = rest;
  }
}

/**
 * A diagram line longer than {@link MAIL_WIDTH}, folded at word ends: the first part keeps the
 * line's indentation (its CPU column), the rest is indented four columns further (at most to
 * column 51, leaving 24 for the text).
 */
export function foldDiagramLine(l: string): string[] {
  const indent = /^ */.exec(l)![0].length;
  const rest = " ".repeat(Math.min(indent + 4, MAIL_WIDTH - 24));
  const body = l.slice(indent);
  // The first part: as many words as fit after the indentation (one word at least).
  const first = " ".repeat(Math.min(indent, MAIL_WIDTH - 24));
  return foldLine(body, first, rest);
}

/**
 * A race diagram (CPU columns under a header of thread names and dashes, as `renderDiagram` draws
 * it) narrowed to `width` columns when a line is longer: the columns move closer and each step's
 * text is wrapped again inside its column at token boundaries, as `renderDiagram` wraps it (spaces,
 * after `,` `(` `;`; an identifier split only when wider than the column; a `//` never alone;
 * continuations indented five), the `^^^^` under the bad access spans every line of its step and
 * it and its finding follow their column, and
 * the lines after the columns (`then <thread>:`, `after all threads:`) are wrapped at the full
 * width. Lead lines (before the header) are folded. A diagram that fits is returned as it is.
 */
export function fitDiagram(lines: readonly string[], header: number, width = MAIL_WIDTH): string[] {
  if (lines.every((l) => [...l].length <= width)) return [...lines];
  const lead = lines.slice(0, header).flatMap((l) => ([...l].length <= width ? [l] : foldDiagramLine(l)));
  const starts = [...lines[header + 1]!.matchAll(/-+/g)].map((m) => m.index!);
  const names = starts.map((s, c) => lines[header]!.slice(s, starts[c + 1]).trim());
  const dashes = [...lines[header + 1]!.matchAll(/-+/g)].map((m) => m[0].length);
  const k = starts.length;
  const col = Math.max(12, Math.floor((width - 2 * (k - 1)) / k));
  const at = (c: number) => c * (col + 2);
  const row = (cells: string[]) => cells.map((s, c) => (c === k - 1 ? s : s.padEnd(col + 2))).join("").trimEnd();
  const out = [...lead, row(names.map((n) => n.slice(0, col))), row(dashes.map((d) => "-".repeat(Math.min(col, d))))];
  // A logical line: a step's function or comment line with its continuations, in one column (or full width).
  let pending: { c: number | null; rel: number; text: string } | null = null;
  // The column of the step last written, and the end of its longest line (for a `^^^^` under it).
  let written: { c: number | null; end: number } | null = null;
  const flush = () => {
    if (pending === null) return;
    const { c, rel, text } = pending;
    const left = c === null ? 0 : at(c);
    const right = c === null || c === k - 1 ? width : at(c) + col;
    // Wrapped at token boundaries as renderDiagram does, continuations five columns in.
    const lines = wrapTokens(text, right - left - rel, " ".repeat(Math.max(0, Math.min(rel + 5, 5) - rel))).map((l) => " ".repeat(left + rel) + l);
    out.push(...lines);
    written = { c, end: Math.max(...lines.map((l) => [...l].length)) };
    pending = null;
  };
  let tail = false;
  let caretColumn: number | null = null;
  let findingIndent: number | null = null;
  for (const l of lines.slice(header + 2)) {
    const indent = /^ */.exec(l)![0].length;
    const text = l.trim();
    if (text === "") {
      flush();
      out.push("");
      caretColumn = null;
      continue;
    }
    if (indent === 0 && /^(then \S.*:|after all threads:)/.test(text)) tail = true;
    // The finding lines under a `^^^^`: all at one indentation, wrapped at the full width.
    if (caretColumn !== null && (findingIndent === null || indent === findingIndent)) {
      flush();
      findingIndent = indent;
      const ind = tail ? indent : Math.min(at(caretColumn) + 2, Math.max(0, width - 40));
      out.push(...wrapText(text, width, " ".repeat(ind), " ".repeat(ind)));
      continue;
    }
    caretColumn = null;
    findingIndent = null;
    const c = tail ? null : Math.max(0, starts.filter((s) => s <= indent).length - 1);
    const rel = indent - (c === null ? 0 : starts[c]!);
    if (/^\^+$/.test(text)) {
      flush();
      const room = (c === null ? width : c === k - 1 ? width - at(c) : col) - rel;
      // Under every line of the step above it (as rewrapped), else as long as it was.
      const start = (c === null ? 0 : at(c)) + rel;
      const last = written as { c: number | null; end: number } | null;
      const under = last !== null && last.c === c ? last.end - start : text.length;
      out.push(" ".repeat(start) + "^".repeat(Math.max(4, Math.min(under, room))));
      caretColumn = c ?? 0;
      continue;
    }
    if (pending !== null && rel >= 5 && pending.c === c && pending.rel < 5) {
      // Rejoined as renderDiagram broke it: no space after `(` or inside a split identifier.
      pending.text += (/\($/.test(pending.text) || (/[_./>-]$/.test(pending.text) && /^\w/.test(text)) ? "" : " ") + text;
      continue;
    }
    flush();
    pending = { c, rel: Math.min(rel, 5), text };
  }
  flush();
  return out;
}

/**
 * A table as text: aligned columns when every line fits in {@link MAIL_WIDTH} columns (numbers
 * right-aligned), else one record per row: `- <first>: <header>: <value>; ...` reflowed with a
 * hanging indent. `numeric` says which columns are numbers (default: those whose every cell reads
 * as one); `header` null: no header line.
 */
export function tableText(header: readonly string[] | null, rows: readonly (readonly string[])[], numeric?: readonly boolean[]): string[] {
  const ncols = Math.max(header?.length ?? 0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: ncols }, (_, c) => Math.max([...(header?.[c] ?? "")].length, ...rows.map((r) => [...(r[c] ?? "")].length)));
  const num = numeric ?? numberLikeColumns(ncols, rows);
  const pad = (v: string, w: number, right: boolean) => (right ? " ".repeat(w - [...v].length) + v : v + " ".repeat(w - [...v].length));
  const line = (cells: readonly string[]) =>
    Array.from({ length: ncols }, (_, c) => cells[c] ?? "")
      .map((v, c) => (num[c] ? pad(v, widths[c]!, true) : c === ncols - 1 ? v : pad(v, widths[c]!, false)))
      .join("  ")
      .trimEnd();
  const aligned = [...(header !== null ? [line(header), widths.map((w) => "-".repeat(w)).join("  ")] : []), ...rows.map((r) => line(r))];
  if (aligned.every((l) => [...l].length <= MAIL_WIDTH)) return aligned.map((l) => "  " + l).every((l) => [...l].length <= MAIL_WIDTH) ? aligned.map((l) => "  " + l) : aligned;
  return tableRecords(header, rows);
}

/**
 * A table as one record per row: `- <first>: <header>: <value>; ...` reflowed with a hanging
 * indent (`- <first>` alone when the row has no other cell).
 */
export function tableRecords(header: readonly string[] | null, rows: readonly (readonly string[])[]): string[] {
  const ncols = Math.max(header?.length ?? 0, ...rows.map((r) => r.length));
  const out: string[] = [];
  for (const r of rows) {
    const name = r[0] ?? "";
    // A column's name is not split across lines (`failure rate [95% CI]:` stays whole).
    const fields = Array.from({ length: ncols - 1 }, (_, k) => k + 1).flatMap((c) =>
      (r[c] ?? "") === "" ? [] : [header !== null && (header[c] ?? "") !== "" ? `${header[c]!.replace(/ /g, "\u0001")}: ${r[c]}` : r[c]!],
    );
    // A name that ends a sentence (a claim's statement) loses its stop before the colon: no `.:`
    // (also after a call or a quote: `init_hw().` in new-user trial 22; an ellipsis stays).
    const head = fields.length > 0 ? name.replace(/(?<=[^\s.])[.;,]$/, "") : name;
    out.push(...wrapText(fields.length > 0 ? `${head}: ${fields.join("; ")}` : name, PROSE_WIDTH, "- ", "    ").map((l) => l.replace(/\u0001/g, " ")));
  }
  return out;
}

/** Text that fits as it is; else each too-long line reflowed at {@link MAIL_WIDTH}. */
function textLines(text: string): string[] {
  const lines = text.replace(/\s+$/, "").split("\n");
  if (lines.every((l) => [...l].length <= MAIL_WIDTH)) return lines;
  return lines.flatMap((l) => ([...l].length <= MAIL_WIDTH ? [l] : wrapText(l, MAIL_WIDTH, "", "    ")));
}

/** Most rows of a table (or a chart's values) the writeup prints; the rest are counted. */
export const MAIL_TABLE_ROWS = 60;

/** `  ... and N more rows (in the HTML and PDF reports)` after a table cut at {@link MAIL_TABLE_ROWS}, or nothing. */
function moreRows(n: number): string[] {
  return n > 0 ? ["", ...wrapText(`... and ${n.toLocaleString("en-US")} more row${n === 1 ? "" : "s"}, in the HTML and PDF reports`, PROSE_WIDTH, "  ", "  ")] : [];
}

/**
 * A table as mail lines ({@link tableText}) of at most {@link MAIL_TABLE_ROWS} rows, saying how
 * many were left out. Laid out one record per row, a column with one value in every row (of
 * three rows or more) is said once above the records rather than in each.
 */
export function mailTable(header: readonly string[] | null, rows: readonly (readonly string[])[], numeric?: readonly boolean[], more = 0): string[] {
  const shown = rows.slice(0, MAIL_TABLE_ROWS);
  const left = more + rows.length - shown.length;
  const laid = tableText(header, shown, numeric);
  if (!laid.some((l) => l.startsWith("- ")) || header === null || shown.length < 3) return [...laid, ...moreRows(left)];
  const same = header.map((_, c) => c > 0 && shown.every((r) => (r[c] ?? "") !== "" && r[c] === shown[0]![c]));
  if (!same.some(Boolean)) return [...laid, ...moreRows(left)];
  const keep = header.map((_, c) => !same[c]);
  const common = header.flatMap((h, c) => (same[c] ? [`${h}: ${shown[0]![c]}`] : []));
  return [
    ...wrapText(`Every row: ${common.join("; ")}.`, PROSE_WIDTH),
    "",
    ...tableRecords(header.filter((_, c) => keep[c]), shown.map((r) => r.filter((_, c) => keep[c]))),
    ...moreRows(left),
  ];
}

/** A table block as mail lines: `Table N. caption:` then the table ({@link mailTable}). */
function tableLines(t: TableBlock): string[] {
  const name = t.number !== null ? `Table ${t.number}. ` : "";
  const rows = t.rows.map((r) => r.map((v) => v.replace(/\s*\n\s*/g, " ")));
  const head = t.caption !== null ? wrapText(`${name}${t.caption}:`, PROSE_WIDTH) : [];
  const laid = mailTable(t.header, rows, t.numeric);
  return head.length > 0 ? [...head, "", ...laid] : laid;
}

/**
 * A figure as mail lines: a chart's number and title, then the values it draws as a table of the
 * fields it encodes (chart-text.ts); an image's number.
 */
function figureLines(f: FigureBlock): string[] {
  if (f.spec === null) {
    const head = wrapText(`Figure ${f.number}.${f.caption ? ` ${f.caption}` : ""} [in the HTML and PDF reports]`, PROSE_WIDTH);
    return f.text !== null && f.text.trim() !== "" ? [...head, "", ...textLines(f.text)] : head;
  }
  const values = chartTable(f.spec);
  const head = wrapText(`Figure ${f.number}. [chart${f.caption ? `: ${f.caption}` : ""}; drawn in the HTML and PDF reports${values !== null ? "; its values:" : ""}]`, PROSE_WIDTH);
  if (values === null) return head;
  return [...head, "", ...mailTable(values.header, values.rows, values.numeric, values.more)];
}

/** One block as mail lines; [] for what the writeup leaves out (code, stderr, errors, notes, untexted HTML). */
function blockLines(b: Block): string[] {
  switch (b.kind) {
    case "heading":
      return headingLines(b.level, inlineMailText(b.inline).trim());
    case "prose":
      return tokensToText(b.tokens);
    case "code":
      return [];
    case "table":
      return tableLines(b);
    case "figure":
      return figureLines(b);
    case "diagram":
      return b.header !== null ? fitDiagram(b.lines, b.header) : b.lines.flatMap((l) => ([...l].length <= MAIL_WIDTH ? [l] : foldDiagramLine(l)));
    case "stream":
      return b.name === "stdout" && b.text.trim() !== "" ? textLines(b.text) : [];
    case "text":
      return b.text.trim() !== "" ? textLines(b.text) : [];
    case "html":
      return b.text !== null && b.text.trim() !== "" ? textLines(b.text) : [];
    case "error":
    case "note":
      return [];
  }
}

/** Options of {@link mailFromDocument} and {@link mailText}. */
export interface MailOptions {
  /** For {@link mailText}: the scenario; default its metadata's `racelab.scenario` when racelab knows it (null: no verdict section). */
  readonly scenario?: AnyScenario | null;
  /** racelab's version for the signature; default none. */
  readonly version?: string;
}

/**
 * The verdict section (the model's verdicts: every fix under the default variant in a table, then
 * the other variants each fix fails in, then one counterexample per failing fix with its replay
 * command). Lines fit {@link MAIL_WIDTH}.
 */
export function verdictLines(v: Verdicts, ofThread = true): string[] {
  const several = (v.memoryModels ?? [v.memoryModel]).length > 1;
  const out = wrapText(
    `racelab's model${ofThread ? " of this thread" : ""} (scenario ${v.scenario}, ${v.kernel}) ${exploredClause(v)} of the modeled code paths ` +
      `${memoryModelClause(v)}, ` +
      (v.variants.length === 0 ? "per fix" : "per fix and variant; per fix under the default variant") +
      (several ? " (violating: of the executions explored, per memory model in the verdict's order):" : ":"),
    PROSE_WIDTH,
  );
  out.push("");
  const rows = v.rows.map((r) => [r.fix, verdictCell(r, v), violatingCell(r, v)]);
  out.push(...tableText(["fix", "verdict", "violating"], rows));
  for (const w of v.rows.flatMap(passWarnings)) {
    out.push("");
    out.push(...wrapText(w, PROSE_WIDTH, "", "  "));
  }
  if (v.variants.length > 0) {
    out.push("");
    out.push(...wrapText(`In the other variants (${v.variants.join(", ")}):`, PROSE_WIDTH));
    for (const r of v.rows) out.push(...wrapText(otherVariants(r), PROSE_WIDTH, "  ", "    "));
  }
  for (const r of v.rows) {
    if (r.finding === null) continue;
    out.push("");
    out.push(...wrapText(`${r.fix}${findingWhere(r)}: ${r.finding}`, PROSE_WIDTH, "", "  "));
    if (r.replay !== null) {
      out.push("Reproduce with:");
      out.push(...shellLines(r.replay));
    }
  }
  return out;
}

/** A shell command as lines of at most {@link MAIL_WIDTH} columns, indented 2, continued with ` \\`. */
export function shellLines(cmd: string): string[] {
  const words = cmd.split(" ");
  const out: string[] = [];
  let line = "  " + words.shift()!;
  for (const w of words) {
    if ([...line].length + 1 + [...w].length + 2 <= MAIL_WIDTH) line += " " + w;
    else {
      out.push(line + " \\");
      line = "      " + w;
    }
  }
  out.push(line);
  return out;
}

/**
 * Write the document as the writeup (lines end with `\n`): the title, the verdict per fix (when the
 * document has them), then its blocks in order as text (code left out), then `Link:` to the thread
 * on lore (from `racelab.inReplyTo`), the thread, and a signature.
 */
export function mailFromDocument(doc: ReportDocument, opts: Pick<MailOptions, "version"> = {}): string {
  const out: string[] = [];
  out.push(...wrapText(doc.title.title, PROSE_WIDTH));
  out.push("");
  if (doc.verdicts !== null) {
    out.push(...verdictLines(doc.verdicts, doc.title.thread !== null));
    out.push("");
  }
  for (const b of doc.blocks) {
    const lines = blockLines(b);
    if (lines.length > 0) out.push(...lines, "");
  }
  while (out.length > 0 && out[out.length - 1] === "") out.pop();
  out.push("");
  if (doc.title.lore !== null) out.push(`Link: ${doc.title.lore}`);
  if (doc.title.thread !== null) out.push(...wrapText(`Thread: ${doc.title.thread.source}`, MAIL_WIDTH, "", "  "));
  out.push("");
  out.push("-- ");
  out.push(`racelab${opts.version ? ` ${opts.version}` : ""}: ${doc.title.source}`);
  return out.map((l) => l.replace(/\s+$/, (m) => (l === "-- " ? m : ""))).join("\n") + "\n";
}

/**
 * The writeup of an executed notebook: {@link buildReport} (with the verdicts of the scenario its
 * metadata names, when racelab knows it) then {@link mailFromDocument}. A scenario racelab does not
 * know (one the notebook defines in its cells) gives no verdict section.
 */
export function mailText(nb: Notebook, source: string, opts: MailOptions = {}): string {
  const doc = buildReport(nb, source, { ...(opts.scenario !== undefined ? { scenario: opts.scenario } : {}), verdicts: true });
  return mailFromDocument(doc, opts);
}

/** Headers of {@link mailEml}. */
export interface EmlOptions {
  /** `From:`; default `racelab <racelab@localhost.invalid>`. */
  readonly from?: string;
  /** `To:`; default none. */
  readonly to?: string;
  /** `Date:`. */
  readonly date: Date;
  /** The subject of the thread replied to (`Re: ` is added unless it starts with it). */
  readonly subject: string;
  /** Message-Id replied to (`<...>` added when missing), or null for a new thread. */
  readonly inReplyTo: string | null;
}

/**
 * The writeup as an RFC 5322 message (a reply when `inReplyTo` is given), as git send-email and b4
 * send a patch: `text/plain; charset=utf-8; format=fixed`, the body as it is with
 * `Content-Transfer-Encoding: 7bit` (ASCII) or `8bit` (UTF-8), so that the raw message reads like
 * the writeup; quoted-printable only for a line longer than SMTP's 998 octets. The Subject is
 * encoded as RFC 2047 when not ASCII, a Message-Id is derived from the text. Headers are
 * nodemailer's (its mail composer). Resolves to the message's bytes as a string (`\n` line ends).
 */
export async function mailEml(text: string, opts: EmlOptions): Promise<string> {
  const { createHash } = await import("node:crypto");
  const id = createHash("sha256").update(text).digest("hex").slice(0, 24);
  const ref = opts.inReplyTo === null ? undefined : `<${opts.inReplyTo.replace(/^<|>$/g, "")}>`;
  const subject = /^re:/i.test(opts.subject) ? opts.subject : `Re: ${opts.subject}`;
  const body = text.replace(/\r\n?/g, "\n");
  const node = new MailComposer({
    from: opts.from ?? "racelab <racelab@localhost.invalid>",
    ...(opts.to !== undefined ? { to: opts.to } : {}),
    subject: ref === undefined ? opts.subject : subject,
    text: body,
    date: opts.date,
    messageId: `<racelab-${id}@localhost.invalid>`,
    ...(ref !== undefined ? { inReplyTo: ref, references: [ref] } : {}),
    textEncoding: "quoted-printable",
  }).compile();
  // Lines SMTP carries as they are (RFC 5322 2.1.1: at most 998 octets): the body is not encoded.
  if (body.split("\n").every((l) => Buffer.byteLength(l) <= 998)) {
    const ascii = /^[\x00-\x7f]*$/.test(body);
    node.getTransferEncoding = () => (ascii ? "7bit" : "8bit");
    node.setHeader("Content-Type", "text/plain; charset=utf-8; format=fixed");
  }
  return (await node.build()).toString("utf8").replace(/\r\n/g, "\n");
}
