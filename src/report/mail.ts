/**
 * The mailing-list writeup of an executed notebook: plain text a kernel developer can paste into
 * a reply or send with git send-email, after Documentation/process/submitting-patches.rst and
 * maintainer-tip.rst: lines of at most 75 columns (a `Link:` tag may be longer), the verdict per fix
 * up front with the `racelab replay` command of each counterexample, the narrative reflowed from
 * the markdown cells, code cells left out, and their text outputs kept: race diagrams as CPU
 * columns with `^^^^` under the bad access, tables aligned when they fit and one record per row
 * when they do not, charts named. `Link: https://lore.kernel.org/r/<Message-Id>` closes it.
 *
 * {@link mailEml} wraps the same text in an RFC 5322 reply (`Subject: Re: ...`, `In-Reply-To`,
 * `References`), built by nodemailer's stream transport.
 */
import MarkdownIt, { type Token } from "markdown-it";
import nodemailer from "nodemailer";
import { check } from "../engine/check.js";
import { formatSource } from "../engine/claims.js";
import { replayCommand } from "../engine/replay-hint.js";
import { lookupScenario, type AnyScenario } from "../engine/scenario.js";
import "../registry.js";
import { applyCellTags } from "./cells.js";
import { reportTitle } from "./document.js";
import { joinText, type Notebook, type NotebookOutput } from "./notebook.js";

/** Most columns of a line of the writeup (tags such as `Link:` excepted). */
export const MAIL_WIDTH = 75;
/** Columns prose is reflowed to (a little under {@link MAIL_WIDTH}, as mail clients quote with `> `). */
export const PROSE_WIDTH = 72;

/** A word that must not be split: a URL, or a racelab schedule string. */
const UNSPLIT = /^<?(https?:\/\/|mailto:)|^(\d+(x\d+)?\.)+\d+(x\d+)?[,.;)]?$/;

/**
 * Words of `text` filled into lines of at most `width` columns, the first line starting with
 * `first`, the others with `rest`. A word longer than a line is split, except a URL or a schedule
 * string, which then stands alone on its line.
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
      // A word longer than the line: split it.
      const chars = [...w];
      line += chars.slice(0, Math.max(1, room)).join("");
      lines.push(line);
      w = chars.slice(Math.max(1, room)).join("");
      line = rest;
    }
  }
  if (!empty || lines.length === 0) lines.push(line);
  return lines;
}

/** Inline tokens as plain text: code spans keep their backticks, links gain ` <url>` (http, https, mailto only). */
function inlineText(tokens: readonly Token[] | null): string {
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

/**
 * Markdown as plain text lines: headings underlined (`=` for level 1, `-` for 2), paragraphs and
 * list items reflowed to {@link PROSE_WIDTH} (nested lists indented two more columns), code blocks
 * kept as they are, tables aligned, block quotes prefixed `> `. Raw HTML is dropped.
 */
export function markdownToText(md: string): string[] {
  const tokens = new MarkdownIt({ html: true }).parse(md, {});
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
        const text = inlineText(tokens[i + 1]!.children).trim();
        blank();
        for (const l of wrapText(text, PROSE_WIDTH)) out.push(l);
        if (t.tag === "h1" || t.tag === "h2") out.push((t.tag === "h1" ? "=" : "-").repeat(Math.min(PROSE_WIDTH, Math.max(...wrapText(text).map((l) => l.length)))));
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
        const text = inlineText(tokens[i + 1]!.children);
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
        // Code keeps its lines; one longer than a mail line is folded, the rest indented further.
        for (const l of t.content.replace(/\n$/, "").split("\n"))
          out.push(...([...l].length + 4 + prefix().length <= MAIL_WIDTH ? [prefix() + "    " + l] : foldLine(l, prefix() + "    ", prefix() + "      ")));
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
        row!.push(inlineText(tokens[i + 1]!.children).trim());
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
 * A table as text: aligned columns when every line fits in {@link MAIL_WIDTH} columns (numbers
 * right-aligned), else one record per row: `- <first>, <second>: <header>: <value>; ...`
 * reflowed with a hanging indent.
 */
export function tableText(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => /^[-\d.,%\s[\]]*$/.test(r[c] ?? "") && (r[c] ?? "") !== ""));
  const line = (cells: readonly string[]) =>
    cells.map((v, c) => (numeric[c] ? v.padStart(widths[c]!) : c === cells.length - 1 ? v : v.padEnd(widths[c]!))).join("  ").trimEnd();
  const aligned = [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
  if (aligned.every((l) => [...l].length <= MAIL_WIDTH)) return aligned.map((l) => "  " + l).every((l) => [...l].length <= MAIL_WIDTH) ? aligned.map((l) => "  " + l) : aligned;
  // Too wide: a record per row, named by its first columns up to the first that is not an id.
  const out: string[] = [];
  for (const r of rows) {
    const name = r[0] ?? "";
    const fields = header.slice(1).flatMap((h, k) => ((r[k + 1] ?? "") === "" ? [] : [`${h}: ${r[k + 1]}`]));
    out.push(...wrapText(`${name}: ${fields.join("; ")}`, PROSE_WIDTH, "- ", "    "));
  }
  return out;
}

/** A text/plain table as `tableBundle` prints it (caption, header, dashes, rows), parsed; null when it is not one. */
export function parseTextTable(text: string): { caption: string | null; header: string[]; rows: string[][] } | null {
  const lines = text.replace(/\n+$/, "").split("\n");
  const d = lines.findIndex((l) => /^-+( {2}-+)*$/.test(l));
  if (d < 1) return null;
  const spans: [number, number][] = [];
  for (const m of lines[d]!.matchAll(/-+/g)) spans.push([m.index!, m.index! + m[0].length]);
  const cut = (l: string) => spans.map(([a], k) => l.slice(a, k + 1 < spans.length ? spans[k + 1]![0] : undefined).trim());
  return {
    caption: d >= 2 ? lines.slice(0, d - 1).join(" ").trim() : null,
    header: cut(lines[d - 1]!),
    rows: lines.slice(d + 1).filter((l) => l.trim() !== "").map(cut),
  };
}

/** An output as mail lines: text that fits as it is, tables re-laid, charts named; [] for what a mail cannot carry. */
function outputText(o: NotebookOutput): string[] {
  let text: string | null = null;
  if (o.output_type === "stream" && o.name !== "stderr") text = joinText(o.text);
  else if (o.output_type === "display_data" || o.output_type === "execute_result") {
    const plain = o.data?.["text/plain"];
    if (plain !== undefined) text = joinText(plain);
    else if (o.data?.["image/png"] !== undefined || o.data?.["image/svg+xml"] !== undefined) return ["[figure: see the HTML or PDF report]"];
  }
  if (text === null || text.trim() === "") return [];
  text = text.replace(/\s+$/, "");
  // A chart: its title, then the values it draws (chartBundle's text/plain), re-laid as a table.
  const chart = /^<Vega-Lite chart(?:: (.*))?>(?:\n([\s\S]*))?$/.exec(text.trim());
  if (chart) {
    const head = wrapText(`[chart${chart[1] ? `: ${chart[1]}` : ""}; drawn in the HTML and PDF reports${chart[2] ? "; its values:" : ""}]`, PROSE_WIDTH);
    const t = chart[2] ? parseTextTable(chart[2]) : null;
    if (t === null) return head;
    const more = /\n(\.\.\. \d+ more rows)$/.exec(chart[2]!);
    return [...head, "", ...tableText(t.header, t.rows.filter((r) => !r[0]!.startsWith("... "))), ...(more ? [`  ${more[1]}`] : [])];
  }
  // A table (its HTML form is a <table>): re-laid for mail; a long wide one is named only.
  const html = o.data?.["text/html"];
  const table = html !== undefined && /<table/.test(joinText(html)) ? parseTextTable(text) : null;
  if (table !== null) {
    const lines = table.caption ? wrapText(table.caption + ":", PROSE_WIDTH) : [];
    const laid = tableText(table.header, table.rows);
    if (laid.every((l) => [...l].length <= MAIL_WIDTH && !l.startsWith("- ")) || table.rows.length <= 12) return [...lines, "", ...laid];
    return wrapText(`[table${table.caption ? `: ${table.caption}` : ""}: ${table.rows.length} rows, in the HTML and PDF reports]`, PROSE_WIDTH);
  }
  const lines = text.split("\n");
  if (lines.every((l) => [...l].length <= MAIL_WIDTH)) return lines;
  // Prose-like text: reflow each paragraph; anything else (long preformatted lines) is folded.
  return lines.flatMap((l) => ([...l].length <= MAIL_WIDTH ? [l] : wrapText(l, MAIL_WIDTH, "", "    ")));
}

/** Options of {@link mailText}. */
export interface MailOptions {
  /** The scenario the notebook is about; default its metadata's `racelab.scenario` when racelab knows it (null: no verdict section). */
  readonly scenario?: AnyScenario | null;
  /** racelab's version for the signature; default none. */
  readonly version?: string;
}

/**
 * The verdict section: every fix of the scenario under its default variant, checked
 * exhaustively now (the same build as the notebook's), with the replay command of each
 * counterexample. Lines fit {@link MAIL_WIDTH}.
 */
export function verdictLines(sc: AnyScenario): string[] {
  const results = sc.fixes.map((f) => check(sc, { fix: f.id }));
  const out = wrapText(
    `racelab's model of this thread (scenario ${sc.id}, ${sc.kernel}) explored every interleaving of the modeled code paths, per fix (default variant):`,
    PROSE_WIDTH,
  );
  out.push("");
  const rows = results.map((r) => [
    r.fix,
    r.verdict === "fail" ? "FAIL" : r.verdict,
    `${r.violations.toLocaleString("en-US")} of ${r.executions.toLocaleString("en-US")} executions`,
  ]);
  out.push(...tableText(["fix", "verdict", "violating"], rows));
  for (const r of results) {
    if (r.counterexample === null) continue;
    out.push("");
    out.push(...wrapText(`${r.fix}: ${r.counterexample.finding}`, PROSE_WIDTH, "", "  "));
    out.push("Reproduce with:");
    out.push(...shellLines(replayCommand(r)));
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
 * The writeup of an executed notebook as plain text (lines end with `\n`). Sections: the title,
 * the verdict per fix (when the notebook names a bundled or known scenario), then the notebook's
 * markdown reflowed and its kept text outputs in order, then `Link:` to the thread on lore (from
 * `racelab.inReplyTo`) and a signature. A scenario racelab does not know (one the notebook
 * defines in its cells) gives no verdict section.
 */
export function mailText(nb: Notebook, source: string, opts: MailOptions = {}): string {
  const meta = nb.metadata.racelab ?? {};
  let sc: AnyScenario | null = opts.scenario ?? null;
  if (opts.scenario === undefined && typeof meta.scenario === "string") {
    try {
      sc = lookupScenario(meta.scenario);
    } catch {
      sc = null; // defined in the notebook's own cells: no verdict section
    }
  }
  const title = reportTitle(nb, source);
  const out: string[] = [];
  out.push(...wrapText(title, PROSE_WIDTH));
  out.push("");
  if (sc !== null) {
    out.push(...verdictLines(sc));
    out.push("");
  }
  let first = true;
  for (const v of applyCellTags(nb)) {
    if (v.cell.cell_type === "markdown") {
      let md = joinText(v.cell.source);
      // The notebook's own title heading is the writeup's first line already.
      if (first && md.trimStart().startsWith("# ")) md = md.trimStart().split("\n").slice(1).join("\n");
      first = false;
      const lines = markdownToText(md);
      if (lines.length > 0) out.push(...lines, "");
    } else if (v.cell.cell_type === "code" && v.outputs !== "remove") {
      first = false;
      const lines = (v.cell.outputs ?? []).flatMap((o) => {
        const l = outputText(o);
        return l.length > 0 ? [...l, ""] : [];
      });
      if (lines.length > 0) out.push(...lines);
    }
  }
  while (out.length > 0 && out[out.length - 1] === "") out.pop();
  out.push("");
  if (typeof meta.inReplyTo === "string") out.push(`Link: https://lore.kernel.org/r/${meta.inReplyTo.replace(/^<|>$/g, "")}`);
  if (sc !== null) out.push(...wrapText(`Thread: ${formatSource(sc.thread)}`, MAIL_WIDTH, "", "  "));
  out.push("");
  out.push("-- ");
  out.push(`racelab${opts.version ? ` ${opts.version}` : ""}: ${source}`);
  return out.map((l) => l.replace(/\s+$/, (m) => (l === "-- " ? m : ""))).join("\n") + "\n";
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
 * The writeup as an RFC 5322 message (a reply when `inReplyTo` is given): `text/plain;
 * charset=utf-8`, Subject encoded as RFC 2047 when not ASCII, a Message-Id derived from the text.
 * Resolves to the message's bytes as a string.
 */
export async function mailEml(text: string, opts: EmlOptions): Promise<string> {
  const { createHash } = await import("node:crypto");
  const id = createHash("sha256").update(text).digest("hex").slice(0, 24);
  const ref = opts.inReplyTo === null ? undefined : `<${opts.inReplyTo.replace(/^<|>$/g, "")}>`;
  const subject = /^re:/i.test(opts.subject) ? opts.subject : `Re: ${opts.subject}`;
  const info = await nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" }).sendMail({
    from: opts.from ?? "racelab <racelab@localhost.invalid>",
    ...(opts.to !== undefined ? { to: opts.to } : {}),
    subject: ref === undefined ? opts.subject : subject,
    text,
    date: opts.date,
    messageId: `<racelab-${id}@localhost.invalid>`,
    ...(ref !== undefined ? { inReplyTo: ref, references: [ref] } : {}),
    textEncoding: "quoted-printable",
  });
  return (info.message as Buffer).toString("utf8");
}
