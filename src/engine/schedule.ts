import { UsageError } from "../errors.js";
import { clip } from "./clip.js";

/**
 * Schedule strings: the thread index of every step, run-length encoded, separated by dots.
 * `0x3.1.0x2` means thread 0 takes three steps, thread 1 one, thread 0 two. A step that is an
 * explicit choice (e.g. which buffered store becomes visible under pso) is written `<thread>c<k>`
 * when the scheduler picked alternative k > 0. Replay feeds these decisions back to the scheduler,
 * so a schedule reproduces an execution exactly.
 */
export function formatSchedule(tids: readonly number[], choices: readonly number[] = []): string {
  const out: string[] = [];
  const c = (i: number) => choices[i] ?? 0;
  for (let i = 0; i < tids.length; ) {
    if (c(i) !== 0) {
      out.push(`${tids[i]}c${c(i)}`);
      i++;
      continue;
    }
    let j = i;
    while (j < tids.length && tids[j] === tids[i] && c(j) === 0) j++;
    out.push(j - i === 1 ? `${tids[i]}` : `${tids[i]}x${j - i}`);
    i = j;
  }
  return out.join(".");
}

const TOKEN = /^(\d{1,4})(?:x(\d{1,6})|c(\d{1,4}))?$/;

/** A parsed schedule: thread and chosen alternative of every step. */
export interface Schedule {
  /** Thread index of every step, in order. */
  readonly tids: number[];
  /** Alternative picked at every step (0 unless the step was a choice); as long as `tids`. */
  readonly choices: number[];
}

/**
 * Parses a schedule string with choices (see formatSchedule). Throws UsageError like
 * parseSchedule; without `threads`, thread indexes are checked when the schedule runs
 * (ReplayStrategy).
 */
export function parseScheduleChoices(text: string, threads = Infinity): Schedule {
  const tids: number[] = [];
  const choices: number[] = [];
  const trimmed = text.trim();
  if (trimmed === "") return { tids, choices };
  for (const tok of trimmed.split(".")) {
    const m = TOKEN.exec(tok);
    if (!m)
      throw new UsageError(`malformed schedule token '${clip(tok)}': expected <thread>, <thread>x<count> or <thread>c<choice>, e.g. 0x3.1.2c1`);
    const tid = Number(m[1]);
    if (tid >= threads) throw new UsageError(`schedule names thread ${tid}, but the scenario has threads 0..${threads - 1}`);
    const n = m[2] === undefined ? 1 : Number(m[2]);
    if (n < 1) throw new UsageError(`malformed schedule token '${clip(tok)}': count must be at least 1`);
    if (tids.length + n > 1_000_000) throw new UsageError("schedule too long (over 1,000,000 steps)");
    for (let k = 0; k < n; k++) {
      tids.push(tid);
      choices.push(m[3] === undefined ? 0 : Number(m[3]));
    }
  }
  return { tids, choices };
}

/**
 * Parses a schedule string. Throws UsageError (one line) for malformed input or a thread index
 * outside `[0, threads)`.
 */
export function parseSchedule(text: string, threads: number): number[] {
  return parseScheduleChoices(text, threads).tids;
}
