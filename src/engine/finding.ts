/**
 * Findings: what an execution of a model can report.
 *
 * - `bug`: BUG_ON / VM_BUG_ON fired (the execution stops there, as an oops would).
 * - `warning`: WARN_ON, or a kernel warning message such as `i_reserved_data_blocks(1) not cleared!`.
 * - `invariant`: a scenario's state invariant or end check does not hold.
 * - `deadlock`: some threads are unfinished and none can run.
 * - `livelock`: a declared retry loop ran past its bound.
 * - `sleep-in-atomic`: a step that may sleep ran while the thread held a spinlock.
 * - `error`: the model's own code threw inside a step (a TypeError, a misuse the library detects);
 *   the execution stops there. Never a kernel symptom: fix the model. Counts as a violation, so a
 *   broken model is never a `pass`.
 */
export type FindingKind = "bug" | "warning" | "invariant" | "deadlock" | "livelock" | "sleep-in-atomic" | "error";

/** Something an execution showed: a kernel BUG or WARN, a broken invariant, a deadlock, ... */
export interface Finding {
  /** What kind of problem (see {@link FindingKind}). */
  readonly kind: FindingKind;
  /** One line, e.g. `i_reserved_data_blocks (1) not cleared`; `kind: message` is the finding's key. */
  readonly message: string;
  /** Thread index that raised it, or -1 for findings of the whole execution (deadlock, end checks). */
  readonly thread: number;
  /** Index of the step (0-based, in execution order) after which it fired; -1 before any step. */
  readonly step: number;
}

/** The `"kind: message"` key used in JSON output and finding counts. */
export function findingKey(f: Pick<Finding, "kind" | "message">): string {
  return `${f.kind}: ${f.message}`;
}
