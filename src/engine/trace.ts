import type { Execution, TraceStep } from "./execution.js";
import { findingKey, type Finding } from "./finding.js";

/** One step of a trace in JSON output. */
export interface StepJson {
  /** Name of the thread that took the step. */
  readonly thread: string;
  /** Kernel function of the step's site, e.g. `ext4_da_map_blocks`. */
  readonly function: string;
  /** The step's site label; for a store-buffer step, the store made visible (`<cell> = <value> becomes visible`). */
  readonly label: string;
  /** Where the step is in the kernel source: `<file>: <function>()`, e.g. `fs/ext4/inode.c: ext4_da_map_blocks()`. */
  readonly source: string;
  /** Notes the model made at this step, when any. */
  readonly notes?: readonly string[];
  /** `"kind: message"` of a finding raised by this step, when any. */
  readonly finding?: string;
}

/**
 * What a trace shows for one step: its label and its notes. For a kernel thread's step, the
 * site's label and the notes the step made. For a store-buffer step (under tso/pso), which has
 * one static site, the store it made visible: the step's first note, e.g.
 * `folio@1498.index = 1496 becomes visible` (see `storeBufferDaemon` in memory.ts), with the
 * remaining notes; the static label when the step made no note.
 */
export function stepText(
  exec: Execution,
  s: TraceStep,
): {
  /** The step's label: the site's, or the store a store-buffer step made visible. */
  readonly label: string;
  /** The step's notes (without the one used as the label). */
  readonly notes: readonly string[]
} {
  if (exec.tasks[s.thread]?.daemon === true && s.notes.length > 0) return { label: s.notes[0]!, notes: s.notes.slice(1) };
  return { label: s.site.label, notes: s.notes };
}

/**
 * Converts a traced execution's steps to the JSON contract's shape; a store-buffer step's label
 * names the store it made visible (see {@link stepText}). Throws Error when the execution was
 * not traced.
 */
export function stepsJson(exec: Execution): StepJson[] {
  if (exec.trace === null) throw new Error("stepsJson needs an execution run with trace: true");
  return exec.trace.map((s) => {
    const { label, notes } = stepText(exec, s);
    const out: { -readonly [K in keyof StepJson]: StepJson[K] } = {
      thread: exec.tasks[s.thread]!.name,
      function: s.site.fn,
      label,
      source: s.site.source,
    };
    if (notes.length > 0) out.notes = notes.slice();
    if (s.findings.length > 0) out.finding = s.findings.map(findingKey).join("; ");
    return out;
  });
}

/**
 * `text` in lines of at most `width` columns, the continuations prefixed with `indent`. Lines break
 * at spaces when that makes every token fit; else also after a `(` that opens a call's arguments, a
 * `,` or a `;` inside a token. An identifier is split only when it alone is wider than a line,
 * after the last `_`, `(`, `,`, `.`, `/`, `>` or `-` that leaves at least half a line
 * (`filemap_invalidate_` / `unlock_shared()`), else after the last of them at all (`TASK_` /
 * `UNINTERRUPTIBLE`), else at the edge. A leading `//` stays on the line
 * of the first token after it. Used by {@link renderDiagram} and the mail writeup.
 * @internal
 */
export function wrapTokens(text: string, width: number, indent = "  "): string[] {
  const words = [...text.trim().matchAll(/(\s*)(\S+)/g)].map((m) => ({ sep: m[1]!, t: m[2]! }));
  const layout = (fine: boolean): { lines: string[]; split: boolean } => {
    // Tokens with the spaces before them ("" inside a word, after `(` `,` `;`).
    const units = words.flatMap(({ sep, t }) => (fine ? t.split(/(?<=\w\((?!\))|[,;](?=.))/) : [t]).map((u, k) => ({ sep: k === 0 ? sep : "", t: u })));
    if (units.length > 1 && units[0]!.t === "//") units.splice(0, 2, { sep: "", t: `//${units[1]!.sep}${units[1]!.t}` });
    const lines: string[] = [];
    let line = "";
    let split = false;
    const room = () => (lines.length === 0 ? width : width - indent.length);
    const flush = () => {
      lines.push(lines.length === 0 ? line : indent + line);
      line = "";
    };
    for (const { sep, t } of units) {
      let w = t;
      if (line !== "" && line.length + sep.length + w.length <= room()) {
        line += sep + w;
        continue;
      }
      if (line !== "") flush();
      while (w.length > room()) {
        // A continuation wider than the indented room but not than the line: whole, indented
        // less (`UNINTERRUPTIBLE)` in a narrow column rather than `UNINTERRUPTI` / `BLE)`), but by
        // one space at least: flush with the column's edge it read as a step of its own (new-user trial 25).
        if (fine && lines.length > 0 && w.length < width) {
          lines.push(indent.slice(0, width - w.length) + w);
          w = "";
          break;
        }
        split = true;
        const r = room();
        const head = w.slice(0, r);
        let cut = -1;
        // The last boundary that leaves half a line; else any boundary (`TASK_` /
        // `UNINTERRUPTIBLE)` in a narrow column, not `TASK_UNINTERRUPTIB` / `LE)`: new-user
        // trial 16); the edge only for a word with none.
        for (const low of [Math.floor(r / 2), 1]) {
          for (let i = head.length - 1; i >= low && cut < 0; i--)
            if ("_(,./>-".includes(head[i]!) && !/^[)\],;]/.test(w.slice(i + 1))) cut = i + 1;
          if (cut >= 0) break;
        }
        if (cut < 0) cut = r;
        line = w.slice(0, cut);
        w = w.slice(cut);
        flush();
      }
      line = w;
    }
    if (line !== "") flush();
    return { lines: lines.length > 0 ? lines : [""], split };
  };
  const coarse = layout(false);
  return coarse.split ? layout(true).lines : coarse.lines;
}

/**
 * Renders a traced execution as a race diagram in the style of kernel commit messages
 * (Documentation/process/maintainer-tip.rst): one column per racing thread, time going down, the
 * function name when it changes, the step label as a `//` comment, under it what the step noted
 * (`t.say()`: what it found, what a test returned; what the memory model did: a stale read, stores
 * made visible first) as `// -> note`, and `^^^^` under the step where a finding fires followed by
 * the finding. A store-buffer step (tso/pso) is labelled with the
 * store it made visible (see {@link stepText}). Threads that only run after every other thread
 * has finished (writeback, eviction) are drawn below the columns at full width; a thread that
 * runs after another stopped unfinished (a deadlock) keeps its column. Lines are at
 * most `width` columns (default 75): a step's text wraps inside its column at spaces, else also
 * after a call's `(`, a `,` or a `;`, continuations indented five; an identifier is split only
 * when it alone is wider than the column, a `//` never stands alone on a line, and the `^^^^`
 * spans every line of the step.
 */
export function renderDiagram(exec: Execution, width = 75): string {
  if (exec.trace === null) throw new Error("renderDiagram needs an execution run with trace: true");
  const trace = exec.trace;
  const n = exec.tasks.length;
  const first = new Array<number>(n).fill(Infinity);
  const last = new Array<number>(n).fill(-1);
  trace.forEach((s, i) => {
    first[s.thread] = Math.min(first[s.thread]!, i);
    last[s.thread] = i;
  });
  // A tail thread starts after every other thread has finished (its last step before the tail's
  // first; a store-buffer thread never finishes, its last step is enough). Not when no other
  // thread ran (one column), nor after a thread that stopped without finishing (a deadlock).
  const tasks = exec.tasks;
  const tail = tasks.map(
    (_, i) =>
      last[i]! >= 0 &&
      tasks.some((t, j) => j !== i && !t.daemon && last[j]! >= 0) &&
      tasks.every((t, j) => j === i || (last[j]! < first[i]! && (t.daemon || t.done))),
  );
  // A helper (a store buffer, the RCU callback thread) that took no step gets no column.
  const cols = exec.tasks.map((_, i) => i).filter((i) => !tail[i] && !(exec.tasks[i]!.daemon && last[i]! < 0));
  const colOf = new Map(cols.map((tid, k) => [tid, k]));
  const gap = 2;
  const k = Math.max(1, cols.length);
  const col = Math.max(12, Math.floor((width - gap * (k - 1)) / k));
  const out: string[] = [];
  const put = (tid: number, text: string) => {
    const c = colOf.get(tid);
    out.push(c === undefined ? text : (" ".repeat(c * (col + gap)) + text).trimEnd());
  };
  const widthOf = (tid: number) => (colOf.has(tid) ? col : width);
  // A name wider than its column wraps (`waker store` / `buffer`), never cut short.
  const heads = cols.map((tid) => wrapTokens(exec.tasks[tid]!.name, col, ""));
  for (let r = 0; r < Math.max(...heads.map((h) => h.length)); r++)
    out.push(heads.map((h, c) => (h[r] ?? "").padEnd(c === cols.length - 1 ? 0 : col + gap)).join("").trimEnd());
  // Each name underlined the column's width, the width its steps wrap at.
  out.push(cols.map(() => "-".repeat(col)).join(" ".repeat(gap)));
  const lastFn = new Array<string>(n).fill("");
  let inTail = -1;
  trace.forEach((s: TraceStep) => {
    const i = s.thread;
    if (tail[i] && inTail !== i) {
      out.push("");
      out.push(`then ${exec.tasks[i]!.name}:`);
      inTail = i;
    }
    const w = widthOf(i);
    if (s.site.fn !== lastFn[i]) {
      // The memory model's own steps (a store buffer's) are no call: `(store buffer)`, not `store buffer()`.
      for (const l of wrapTokens(s.site.source.startsWith("(memory model):") ? `(${s.site.fn})` : `${s.site.fn}()`, w)) put(i, l);
      lastFn[i] = s.site.fn;
    }
    const text = stepText(exec, s);
    const lines = wrapTokens(`// ${text.label}`, w, "     ");
    // What the step noted: the model's `t.say()` (what it found, what a test returned: new-user
    // trials 12, 13 and 15 missed them) and what the memory model did (a stale read under rmo,
    // buffered stores made visible first, invalidations applied): the reasons for the outcome.
    if (!exec.tasks[i]!.daemon) for (const note of text.notes) lines.push(...wrapTokens(`// -> ${note}`, w, "        "));
    for (const l of lines) put(i, l);
    if (s.findings.length > 0) {
      // Under every line of the step: from its text's start to the end of its longest line.
      put(i, "  " + "^".repeat(Math.max(4, Math.min(w - 2, Math.max(...lines.map((l) => l.length)) - 2))));
      for (const f of s.findings) {
        // Under the column, as its ^^^^ is (new-user trial 22 read a finding that started three
        // columns left of it as another thread's), wrapped at the full width; only a column too
        // close to the right edge for 30 characters moves it left.
        const c = colOf.get(i);
        const indent = c === undefined ? 2 : Math.min(c * (col + gap) + 2, Math.max(0, width - 30));
        for (const l of wrapTokens(findingKey(f), width - indent)) out.push(" ".repeat(indent) + l);
      }
    }
  });
  // A deadlock: where each stuck thread waits, in its column (new-user trial 16: the waiter's
  // schedule(), where it sleeps forever, was in no row, being a step that never ran).
  if (exec.findings.some((f) => f.kind === "deadlock"))
    for (const tid of cols) {
      const t = exec.tasks[tid]!;
      if (t.done || t.daemon || t.next === null || t.parked !== null) continue;
      const w = widthOf(tid);
      if (t.next.fn !== lastFn[tid]) for (const l of wrapTokens(`${t.next.fn}()`, w)) put(tid, l);
      for (const l of wrapTokens(`// ${t.next.label}`, w, "     ")) put(tid, l);
      for (const l of wrapTokens(`// -> blocked: ${exec.whyBlocked(tid)}`, w, "        ")) put(tid, l);
    }
  const whole = exec.findings.filter((f) => f.thread < 0);
  if (whole.length > 0) {
    out.push("");
    for (const f of whole) for (const l of wrapTokens(`after all threads: ${findingKey(f)}`, width)) out.push(l);
  }
  return out.join("\n");
}
