/**
 * A check worker started before the CLI loads its own modules. `racelab check` and `racelab
 * rates` run their search in a worker thread (check-worker.ts), which loads the engine and the
 * scenarios again; started first (main.ts), the worker loads them on the second core while the
 * main thread loads commander and parses the command line, instead of after it. Measured on a
 * 2-core VM (`racelab check ext4-delalloc-fallocate --fix recheck-es --param blocks=3
 * --reduction state-caching --json`, 6 runs each, alternated): median 1.10 s before, 1.02 s after.
 *
 * Light on purpose: main.ts imports it before anything else, so it imports no engine module.
 * The worker waits for one job (check-worker.ts's Job, posted by {@link takeStandby}'s caller)
 * and is unreferenced until taken, so a command that never runs a check (bad input, `--help`)
 * exits without waiting for it.
 */
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

/** What the standby worker is told at start: wait for a job message. */
export const STANDBY = "racelab-standby";

let standby: Worker | null = null;

/** The check-worker module next to this one: check-worker.js, or check-worker.ts under tsx. */
function workerFile(): string {
  const self = import.meta.url;
  return fileURLToPath(new URL(self.endsWith(".ts") ? "./check-worker.ts" : "./check-worker.js", self));
}

/**
 * Starts the standby worker when the command line's first word is a command that runs checks in
 * a worker (`check`, `rates`); does nothing otherwise or when one is already started.
 */
export function startStandby(argv: readonly string[]): void {
  if (standby !== null) return;
  const first = argv.find((a) => !a.startsWith("-"));
  if (first !== "check" && first !== "rates") return;
  if (argv.includes("--help") || argv.includes("-h")) return;
  const file = workerFile();
  const w = new Worker(file, {
    workerData: STANDBY,
    execArgv: file.endsWith(".ts") ? ["--import", "tsx"] : [],
    stdout: false,
    stderr: false,
  });
  w.unref();
  // A standby that failed to start is not taken; the check then starts a worker of its own.
  w.on("error", () => {
    if (standby === w) standby = null;
  });
  standby = w;
}

/**
 * The standby worker, once (referenced again: the process now waits for it), or null when none
 * was started or it was taken already. The caller posts it one job.
 */
export function takeStandby(): Worker | null {
  const w = standby;
  standby = null;
  w?.ref();
  return w;
}
