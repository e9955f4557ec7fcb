/**
 * Runs `check()` for the CLI in a worker thread, so that the main thread stays free while a long
 * exploration runs: it draws progress, and it answers Ctrl-C (SIGINT) and SIGTERM by asking the
 * search to stop, which then returns its partial result (never `pass`). The stop request is a flag
 * in shared memory that the search polls (CheckOptions.stop); a second Ctrl-C quits at once.
 *
 * Module roles: imported by program.ts, it exports {@link checkInWorker}; loaded as a worker
 * (worker_threads), it runs the configurations it is given and posts their results back.
 */
import { ModelError, UsageError } from "../errors.js";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { check, explorePart, mergeParts, type CheckOptions, type CheckResult, type Part, type Progress } from "../engine/check.js";
import { loadScenario } from "../registry.js";
import type { AnyScenario } from "../engine/scenario.js";
import { mergeRates, rateChunks, type RateOptions, type RatePart, type RateResult } from "../engine/rates.js";
import { STANDBY, takeStandby } from "./standby.js";

/** Why a stop was asked, by the value of the shared flag. */
const REASONS = ["", "interrupted (SIGINT)", "interrupted (SIGTERM)"] as const;

/** Options of a check a worker runs (functions cannot cross threads). */
export type WorkerCheckOptions = Omit<CheckOptions, "onProgress" | "stop">;
/** Options of a failure-rate part a worker runs (`racelab rates`): marked with `rates: true`. */
export type WorkerRateOptions = Omit<RateOptions, "onProgress" | "stop"> & { readonly rates: true };

/** What the main thread sends: the scenario, the configurations, the stop flag. */
interface Job {
  readonly ref: string;
  readonly configs: readonly (WorkerCheckOptions | WorkerRateOptions)[];
  readonly flag: Int32Array;
}

/** What the worker posts back: a CheckResult, or a Part for a configuration with a `shard`. */
type Message =
  | { readonly type: "progress"; readonly index: number; readonly done: number; readonly total: number | null; readonly detail: Progress }
  | { readonly type: "result"; readonly index: number; readonly result: CheckResult | Part | RatePart }
  | { readonly type: "error"; readonly name: string; readonly message: string };

/** Ctrl-C and SIGTERM set the shared stop flag; a second one quits. */
function onSignals(flags: readonly Int32Array[], onStop: (reason: string) => void): () => void {
  const handler = (sig: NodeJS.Signals) => {
    if (Atomics.load(flags[0]!, 0) !== 0) process.exit(sig === "SIGINT" ? 130 : 143);
    for (const f of flags) Atomics.store(f, 0, sig === "SIGINT" ? 1 : 2);
    onStop(REASONS[Atomics.load(flags[0]!, 0)]!);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}

/**
 * Runs `configs` of the scenario `ref` in one worker thread, in order; resolves with their
 * results (a Part for a configuration with a shard). `flag` is the shared stop flag.
 */
function runWorker(
  ref: string,
  configs: readonly (WorkerCheckOptions | WorkerRateOptions)[],
  flag: Int32Array,
  onProgress: (index: number, done: number, total: number | null, detail: Progress) => void,
): Promise<(CheckResult | Part | RatePart)[]> {
  const job: Job = { ref, configs, flag };
  // The worker main.ts started before the CLI loaded (standby.ts), else a new one.
  let worker = takeStandby();
  if (worker !== null) worker.postMessage(job);
  else {
    const self = fileURLToPath(import.meta.url);
    // Under tsx (tests, `node --import tsx src/cli/main.ts`) the worker is this .ts file.
    worker = new Worker(self, {
      workerData: job,
      execArgv: self.endsWith(".ts") ? ["--import", "tsx"] : [],
      stdout: false,
      stderr: false,
    });
  }
  const results: (CheckResult | Part | RatePart)[] = [];
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
    worker.on("exit", () => (failed !== null ? reject(failed) : resolve(results)));
  });
}

/**
 * Checks each configuration of `configs` (in order) of the scenario `ref` (an id or a file) in
 * worker threads: one, or with `workers` > 1 one shard per worker, merged into what one search
 * gives (exhaustive sleep-sets or none only). Resolves with the results; a stop request (SIGINT,
 * SIGTERM) ends the running check with its partial result and skips the rest. Rejects with the
 * worker's UsageError or ModelError as such.
 *
 * @param onProgress called with the configuration's index and check()'s progress report.
 * @param onStop called when a signal asked the search to stop (for a message on stderr).
 */
export async function checkInWorker(
  ref: string,
  configs: readonly WorkerCheckOptions[],
  onProgress: (index: number, done: number, total: number | null, detail: Progress) => void,
  onStop: (reason: string) => void,
  workers = 1,
): Promise<{ results: CheckResult[]; stopReason: string | null }> {
  return withStopFlags(workers, onStop, async (flags, stopped) => {
    if (workers === 1) return (await runWorker(ref, configs, flags[0]!, onProgress)) as CheckResult[];
    // Each configuration: shard k of `workers` in worker k, then the parts merged here, into
    // exactly what one search gives. The workers claim the subtrees as they reach them (a worker
    // that finishes early takes more); units past 65,536 are dealt round-robin.
    const claims = new Map<WorkerCheckOptions, Int32Array>();
    return inParts<WorkerCheckOptions, Part, CheckResult>(
      ref,
      configs,
      flags,
      (c, k) => {
        if (!claims.has(c)) claims.set(c, new Int32Array(new SharedArrayBuffer(4 * 65_536)));
        return { ...c, shard: { index: k, count: workers, claims: claims.get(c)! } };
      },
      (sc, c, parts, elapsedMs) => {
        // The workers' time and the merge's (mergeParts() alone times only the merge).
        const t1 = performance.now();
        const r = mergeParts(sc, c, parts);
        return { ...r, elapsedMs: Math.round((elapsedMs + performance.now() - t1) * 10) / 10 };
      },
      onProgress,
      stopped,
    );
  });
}

/**
 * Runs `fn` with one stop flag per worker, set (and `onStop` called) when SIGINT or SIGTERM
 * arrives; returns what `fn` returned with the stop reason, or null.
 */
async function withStopFlags<T>(
  workers: number,
  onStop: (reason: string) => void,
  fn: (flags: Int32Array[], stopped: () => boolean) => Promise<T>,
): Promise<{ results: T; stopReason: string | null }> {
  let stopReason: string | null = null;
  const flags = Array.from({ length: workers }, () => new Int32Array(new SharedArrayBuffer(4)));
  const off = onSignals(flags, (why) => {
    stopReason = why;
    onStop(why);
  });
  try {
    const results = await fn(flags, () => stopReason !== null);
    return { results, stopReason };
  } finally {
    off();
  }
}

/** One shard (`config.shard`) of one configuration in a worker thread: its Part. */
export async function partInWorker(ref: string, config: WorkerCheckOptions, onStop: (reason: string) => void): Promise<Part> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const off = onSignals([flag], onStop);
  try {
    return (await runWorker(ref, [config], flag, () => {}))[0] as Part;
  } finally {
    off();
  }
}

/**
 * Failure rates of each configuration of `configs` (in order) of the scenario `ref`, each run as
 * `workers` parts (chunks dealt round-robin, rates.ts) in as many worker threads and merged:
 * the same result for any `workers`. A stop request (SIGINT, SIGTERM) ends the running
 * configuration with its partial result (`partial: true`) and skips the rest.
 *
 * @param onProgress called with the configuration's index, the executions done and the total,
 *   and, while `--exact`'s enumeration runs first, the interleavings it has covered.
 */
export async function ratesInWorker(
  ref: string,
  configs: readonly Omit<RateOptions, "onProgress" | "stop" | "part">[],
  onProgress: (index: number, done: number, total: number, exact?: number) => void,
  onStop: (reason: string) => void,
  workers = 1,
): Promise<{ results: RateResult[]; stopReason: string | null }> {
  // `--exact`: part 0 enumerates before it samples; until it is done, every report of the
  // configuration says so (with several workers the others' sampling would alternate with it).
  let exact: { index: number; n: number | undefined } = { index: -1, n: undefined };
  return withStopFlags(workers, onStop, (flags, stopped) =>
    inParts<Omit<RateOptions, "onProgress" | "stop" | "part">, RatePart, RateResult>(
      ref,
      configs,
      flags,
      (c, k) => ({ ...c, part: { index: k, count: workers }, rates: true }),
      (sc, c, parts, elapsedMs) => mergeRates(sc, c, parts, workers, elapsedMs),
      (i, done, total, detail, k) => {
        if (k === 0 || exact.index !== i) exact = { index: i, n: k === 0 ? detail.exact : undefined };
        onProgress(i, done, total ?? 0, detail.exact ?? exact.n);
      },
      stopped,
    ),
  );
}

/**
 * Runs each configuration of `configs` in order as one part per worker thread (worker k gets
 * `partOf(config, k)`, with `flags[k]` as its stop flag) and merges its parts with `merge`;
 * progress reports the parts' executions summed, with the detail of part `k` that reported.
 * Stops before the next configuration once `stopped()`.
 */
async function inParts<C, P, R>(
  ref: string,
  configs: readonly C[],
  flags: readonly Int32Array[],
  partOf: (config: C, k: number) => WorkerCheckOptions | WorkerRateOptions,
  merge: (sc: AnyScenario, config: C, parts: P[], elapsedMs: number) => R,
  onProgress: (index: number, done: number, total: number | null, detail: Progress, k: number) => void,
  stopped: () => boolean,
): Promise<R[]> {
  const sc = await loadScenario(ref);
  const results: R[] = [];
  for (let i = 0; i < configs.length && !stopped(); i++) {
    const t0 = performance.now();
    const done = new Array<number>(flags.length).fill(0);
    const parts = await Promise.all(
      flags.map((flag, k) =>
        runWorker(ref, [partOf(configs[i]!, k)], flag, (_, d, total, detail) => {
          done[k] = d;
          onProgress(i, done.reduce((a, b) => a + b, 0), total, detail, k);
        }).then((r) => r[0] as P),
      ),
    );
    results.push(merge(sc, configs[i]!, parts, performance.now() - t0));
  }
  return results;
}

/** The worker's side: check each configuration, post progress and results. */
async function runJob(job: Job): Promise<void> {
  const post = (m: Message) => parentPort!.postMessage(m);
  try {
    const sc = await loadScenario(job.ref);
    const stop = () => REASONS[Atomics.load(job.flag, 0)] || null;
    for (let index = 0; index < job.configs.length; index++) {
      if (stop() !== null && index > 0) break;
      const config = job.configs[index]!;
      if ("rates" in config) {
        const { rates: _, ...ro } = config;
        const none: Progress = { elapsedMs: 0, sleepBlocked: 0, states: 0, steps: 0, cut: 0 };
        const result = rateChunks(sc, {
          ...ro,
          stop,
          onProgress: (done, total, exact) => post({ type: "progress", index, done, total, detail: exact === undefined ? none : { ...none, exact } }),
        });
        post({ type: "result", index, result });
        continue;
      }
      const opts: CheckOptions = {
        ...config,
        stop,
        onProgress: (done, total, detail) => post({ type: "progress", index, done, total, detail }),
      };
      const result = opts.shard !== undefined ? explorePart(sc, opts) : check(sc, opts);
      post({ type: "result", index, result });
    }
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    post({ type: "error", name: err instanceof UsageError ? "UsageError" : err instanceof ModelError ? "ModelError" : err.name, message: err.message });
  }
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  if (workerData === STANDBY)
    // Started by main.ts before the command line was parsed: one job comes as a message.
    port.once("message", (job: Job) => {
      port.unref();
      void runJob(job);
    });
  else if ((workerData as Partial<Job> | null)?.flag instanceof Int32Array) void runJob(workerData as Job);
}
