import type { Execution, TraceStep } from "./execution.js";
import { findingKey, type Finding } from "./finding.js";

/** One step of a trace in JSON output. */
export interface StepJson {
  readonly thread: string;
  readonly function: string;
  readonly label: string;
  readonly source: string;
  /** Notes the model made at this step, when any. */
  readonly notes?: readonly string[];
  /** `"kind: message"` of a finding raised by this step, when any. */
  readonly finding?: string;
}

/** Converts a traced execution's steps to the JSON contract's shape. */
export function stepsJson(exec: Execution): StepJson[] {
  if (exec.trace === null) throw new Error("stepsJson needs an execution run with trace: true");
  return exec.trace.map((s) => {
    const out: { -readonly [K in keyof StepJson]: StepJson[K] } = {
      thread: exec.tasks[s.thread]!.name,
      function: s.site.fn,
      label: s.site.label,
      source: s.site.source,
    };
    if (s.notes.length > 0) out.notes = s.notes.slice();
    if (s.findings.length > 0) out.finding = s.findings.map(findingKey).join("; ");
    return out;
  });
}

function wrap(text: string, width: number): string[] {
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  const lines: string[] = [];
  let line = "";
  for (let w of words) {
    while (w.length > width) {
      if (line) {
        lines.push(line);
        line = "";
      }
      lines.push(w.slice(0, width));
      w = w.slice(width);
    }
    if (!line) line = w;
    else if (line.length + 1 + w.length <= width) line += " " + w;
    else {
      lines.push(line);
      line = w;
    }
  }
  if (line) lines.push(line);
  return lines.length > 0 ? lines : [""];
}

/**
 * Renders a traced execution as a race diagram in the style of kernel commit messages
 * (Documentation/process/maintainer-tip.rst): one column per thread, time going down, the
 * function name when it changes, the step label as a `//` comment, and `^^^^` under the step
 * where a finding fires followed by the finding. Lines are at most `width` columns (default 75).
 */
export function renderDiagram(exec: Execution, width = 75): string {
  if (exec.trace === null) throw new Error("renderDiagram needs an execution run with trace: true");
  const n = exec.tasks.length;
  const gap = 2;
  const col = Math.max(12, Math.floor((width - gap * (n - 1)) / n));
  const out: string[] = [];
  const row = (cells: Map<number, string>) => {
    let line = "";
    for (let i = 0; i < n; i++) {
      const c = cells.get(i) ?? "";
      if (c === "") continue;
      line = line.padEnd(i * (col + gap)) + c;
    }
    out.push(line.trimEnd());
  };
  const header = new Map<number, string>();
  const rule = new Map<number, string>();
  exec.tasks.forEach((t, i) => {
    header.set(i, wrap(t.name, col)[0]!);
    rule.set(i, "-".repeat(Math.min(col, Math.max(t.name.length, 8))));
  });
  row(header);
  row(rule);
  const lastFn = new Array<string>(n).fill("");
  const emitFindings = (i: number, fs: readonly Finding[], markWidth: number) => {
    const caret = new Map([[i, "^".repeat(Math.max(4, Math.min(col, markWidth)))]]);
    row(caret);
    for (const f of fs) {
      // A finding's message may run past its column: indent it under the column, wrap at width.
      const indent = Math.min(i * (col + gap), Math.max(0, width - 40));
      for (const l of wrap(findingKey(f), width - indent)) out.push(" ".repeat(indent) + l);
    }
  };
  exec.trace.forEach((s: TraceStep) => {
    const i = s.thread;
    if (s.site.fn !== lastFn[i]) {
      for (const l of wrap(`${s.site.fn}()`, col)) row(new Map([[i, l]]));
      lastFn[i] = s.site.fn;
    }
    const lines = wrap(`// ${s.site.label}`, col);
    for (const l of lines) row(new Map([[i, l]]));
    if (s.findings.length > 0) emitFindings(i, s.findings, Math.max(...lines.map((l) => l.length)));
  });
  const tail = exec.findings.filter((f) => f.thread < 0);
  if (tail.length > 0) {
    out.push("");
    for (const f of tail) for (const l of wrap(`after all threads: ${findingKey(f)}`, width)) out.push(l);
  }
  return out.join("\n");
}
