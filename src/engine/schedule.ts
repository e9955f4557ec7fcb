import { UsageError } from "./scenario.js";

/**
 * Schedule strings: the thread index of every step, run-length encoded, separated by dots.
 * `0x3.1.0x2` means thread 0 takes three steps, thread 1 one, thread 0 two. Replay feeds these
 * choices back to the scheduler, so a schedule reproduces an execution exactly.
 */
export function formatSchedule(tids: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < tids.length; ) {
    let j = i;
    while (j < tids.length && tids[j] === tids[i]) j++;
    out.push(j - i === 1 ? `${tids[i]}` : `${tids[i]}x${j - i}`);
    i = j;
  }
  return out.join(".");
}

const TOKEN = /^(\d{1,4})(?:x(\d{1,6}))?$/;

/**
 * Parses a schedule string. Throws UsageError (one line) for malformed input or a thread index
 * outside `[0, threads)`.
 */
export function parseSchedule(text: string, threads: number): number[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const out: number[] = [];
  for (const tok of trimmed.split(".")) {
    const m = TOKEN.exec(tok);
    if (!m) throw new UsageError(`malformed schedule token '${tok}': expected <thread> or <thread>x<count>, e.g. 0x3.1.0x2`);
    const tid = Number(m[1]);
    const n = m[2] === undefined ? 1 : Number(m[2]);
    if (tid >= threads) throw new UsageError(`schedule names thread ${tid}, but the scenario has threads 0..${threads - 1}`);
    if (n < 1) throw new UsageError(`malformed schedule token '${tok}': count must be at least 1`);
    if (out.length + n > 1_000_000) throw new UsageError("schedule too long (over 1,000,000 steps)");
    for (let k = 0; k < n; k++) out.push(tid);
  }
  return out;
}

/**
 * Number of preemptions in a schedule: switches away from a thread that could still run.
 * `enabledBefore[i]` tells whether the thread of step i-1 was enabled before step i.
 */
export function countPreemptions(tids: readonly number[], stillEnabled: readonly boolean[]): number {
  let n = 0;
  for (let i = 1; i < tids.length; i++) if (tids[i] !== tids[i - 1] && stillEnabled[i]) n++;
  return n;
}
