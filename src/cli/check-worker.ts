/**
 * Runs `check()` for the CLI in a worker thread, so that the main thread stays free while a long
 * exploration runs: it draws progress, and it answers Ctrl-C (SIGINT) and SIGTERM by asking the
 * search to stop, which then returns its partial result (never `pass`). The stop request is a flag
 * in shared memory that the search polls (CheckOptions.stop); a second Ctrl-C quits at once.
 *
 * Module roles: imported by program.ts, it exports {@link checkInWorker}; loaded as a worker
 * (worker_threads), it runs the configurations it is given and posts their results back.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { check, type CheckOptions, type CheckResult, type Progress } from "../engine/check.js";
import { ModelError } from "../engine/execution.js";
import { UsageError } from "../engine/scenario.js";
import { loadScenario } from "../registry.js";

/** Why a stop was asked, by the value of the shared flag. */
const REASONS = ["", "interrupted (SIGINT)", "interrupted (SIGTERM)"] as const;

/** What the main thread sends: the scenario, the configurations, the stop flag. */
interface Job {
  readonly ref: string;
  readonly configs: readonly Omit<CheckOptions, "onProgress" | "stop">[];
  readonly flag: Int32Array;
}

/** What the worker posts back. */
type Message =
  | { readonly type: "progress"; readonly index: number; readonly done: number; readonly total: number | null; readonly detail: Progress }
  | { readonly type: "result"; readonly index: number; readonly result: CheckResult }
  | { readonly type: "error"; readonly name: string; readonly message: string };

/**
 * Checks each configuration of `configs` (in order) of the scenario `ref` (an id or a file) in a
 * worker thread. Resolves with the results; a stop request (SIGINT, SIGTERM) ends the running
 * check with its partial result and skips the rest. Rejects with the worker's UsageError or
 * ModelError as such.
 *
 * @param onProgress called with the configuration's index and check()'s progress report.
 * @param onStop called when a signal asked the search to stop (for a message on stderr).
 */
export function checkInWorker(
  ref: string,
  configs: readonly Omit<CheckOptions, "onProgress" | "stop">[],
  onProgress: (index: number, done: number, total: number | null, detail: Progress) => void,
  onStop: (reason: string) => void,
): Promise<{ results: CheckResult[]; stopReason: string | null }> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const self = fileURLToPath(import.meta.url);
  // Under tsx (tests, `node --import tsx src/cli/main.ts`) the worker is this .ts file.
  const worker = new Worker(self, {
    workerData: { ref, configs, flag } satisfies Job,
    execArgv: self.endsWith(".ts") ? ["--import", "tsx"] : [],
    stdout: false,
    stderr: false,
  });
  const results: CheckResult[] = [];
  let stopReason: string | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    if (Atomics.load(flag, 0) !== 0) process.exit(sig === "SIGINT" ? 130 : 143);
    Atomics.store(flag, 0, sig === "SIGINT" ? 1 : 2);
    stopReason = REASONS[Atomics.load(flag, 0)]!;
    onStop(stopReason);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return new Promise((resolve, reject) => {
    let failed: Error | null = null;
    worker.on("message", (m: Message) => {
      if (m.type === "progress") onProgress(m.index, m.done, m.total, m.detail);
      else if (m.type === "result") results.push(m.result);
      else failed = m.name === "UsageError" ? new UsageError(m.message) : m.name === "ModelError" ? new ModelError(m.message) : new Error(m.message);
    });
    worker.on("error", (e) => {
      failed ??= e;
    });
    worker.on("exit", () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      if (failed !== null) reject(failed);
      else resolve({ results, stopReason });
    });
  });
}

/** The worker's side: check each configuration, post progress and results. */
async function runJob(job: Job): Promise<void> {
  const post = (m: Message) => parentPort!.postMessage(m);
  try {
    const sc = await loadScenario(job.ref);
    const stop = () => REASONS[Atomics.load(job.flag, 0)] || null;
    for (let index = 0; index < job.configs.length; index++) {
      if (stop() !== null && index > 0) break;
      const result = check(sc, {
        ...job.configs[index],
        stop,
        onProgress: (done, total, detail) => post({ type: "progress", index, done, total, detail }),
      });
      post({ type: "result", index, result });
    }
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    post({ type: "error", name: err instanceof UsageError ? "UsageError" : err instanceof ModelError ? "ModelError" : err.name, message: err.message });
  }
}

if (!isMainThread && parentPort !== null && (workerData as Partial<Job> | null)?.flag instanceof Int32Array) void runJob(workerData as Job);
