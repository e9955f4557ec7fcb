/**
 * The `racelab` command. Contracts (arguments, JSON shapes, exit statuses) are in the README's
 * reference section. Exit status: 0 when the command ran, 1 for a finding only with
 * `--fail-on-finding` (and for anything but a pass without a warning with `--strict`), 2 for bad
 * usage or bad input (one line on stderr).
 */
import { ModelError, UsageError } from "../errors.js";
import { Command, CommanderError, Option } from "commander";
import { SingleBar, Presets } from "cli-progress";
import { isReductionFallback, mergeParts, MODES, REDUCTIONS, replay, replayCounterexample, type CheckOptions, type CheckResult, type Mode, type Part, type Progress, type Reduction } from "../engine/check.js";
import { checkInWorker, partInWorker, ratesInWorker, type WorkerCheckOptions } from "./check-worker.js";
import { numberText } from "../notebook/display.js";
import { elapsedText } from "../engine/runner.js";
import { EXACT_LIMIT, MAX_ATTEMPT_RATE, RATE_MODES, type RateMode, type RateResult } from "../engine/rates.js";
import { durationText, resolveTiming, TIMING_FIELDS, type Timing } from "../engine/timing.js";
import { readFileSync } from "node:fs";
import { evaluateClaims, formatSource, modelTag } from "../engine/claims.js";
import { MEMORY_MODELS, type MemoryModel } from "../engine/memory.js";
import { resolveConfig, type AnyScenario } from "../engine/scenario.js";
import { clip } from "../engine/clip.js";
import { MAX_CROSS_CHECK, MAX_PCT_DEPTH, MAX_RUNS, MAX_SEED } from "../engine/validate.js";
import { renderDiagram } from "../engine/trace.js";
import { replayCommand } from "../engine/replay-hint.js";
import { asInvoked } from "./invocation.js";
import { scenarios } from "../scenarios/index.js";
import { loadScenario } from "../registry.js";
import { registerNewCommand } from "./new.js";
import { registerRunCommand } from "./run.js";
import { racelabVersion } from "../report/provenance.js";
import { parseLitmus, runLitmus, type LitmusResult } from "../engine/litmus.js";

const out = (s: string) => process.stdout.write(s + "\n");

/**
 * `--param name=value` items as a params object. Values beyond 2^53 - 1, which a number cannot
 * hold exactly, are refused here with the text given (the scenario's own ranges are checked when
 * the configuration is resolved).
 */
function parseParams(items: readonly string[], sc: AnyScenario): Record<string, number> {
  const params: Record<string, number> = {};
  for (const item of items) {
    const m = /^([a-z][a-z0-9_-]*)=(-?\d+)$/i.exec(item);
    if (!m) throw new UsageError(`malformed --param '${clip(item)}': expected name=integer, e.g. blocks=2`);
    const value = Number(m[2]);
    if (!Number.isSafeInteger(value)) {
      const spec = sc.params.find((p) => p.name === m[1]);
      throw new UsageError(
        `parameter ${clip(m[1]!)}=${clip(m[2]!)} out of range${spec ? `: an integer from ${spec.min} to ${spec.max}` : ""}`,
      );
    }
    params[m[1]!] = value;
  }
  return params;
}

/**
 * Every combination of the `--param name=v1,v2,...` values (a sweep), in the order given, the
 * last parameter varying fastest. Throws UsageError as parseParams does.
 */
function parseSweep(items: readonly string[], sc: AnyScenario): Record<string, number>[] {
  let out: Record<string, number>[] = [{}];
  for (const item of items) {
    const m = /^([a-z][a-z0-9_-]*)=(-?\d+(?:,-?\d+)*)$/i.exec(item);
    if (!m) throw new UsageError(`malformed --param '${clip(item)}': expected name=integer or name=v1,v2,..., e.g. blocks=1,2,3`);
    const values = m[2]!.split(",").map((v) => parseParams([`${m[1]}=${v}`], sc)[m[1]!]!);
    out = out.flatMap((p) => values.map((v) => ({ ...p, [m[1]!]: v })));
  }
  return out;
}

/**
 * The value of a numeric option: undefined when not given, else an integer from `min` to `max`
 * (at most 2^53 - 1, so that it is taken exactly). Throws UsageError for anything else (NaN,
 * negative, fractional, huge).
 */
function intOption(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max && Number.isSafeInteger(n)))
    throw new UsageError(
      `${name} must be an integer from ${min.toLocaleString("en-US")} to ${max.toLocaleString("en-US")}${max === Number.MAX_SAFE_INTEGER ? " (2^53 - 1)" : ""}, got '${clip(text)}'`,
    );
  return n;
}

/**
 * `--timing name=value` items as a Partial<Timing> (each value a decimal number: ns, or the
 * jitter factor). Throws UsageError for a malformed item, an unknown name or a value out of range.
 */
function parseTiming(items: readonly string[]): Partial<Timing> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const m = /^([A-Za-z]+)=(\d{1,13}(?:\.\d{1,9})?(?:e\d{1,2})?)$/.exec(item);
    if (!m) throw new UsageError(`malformed --timing '${clip(item)}': expected name=number, e.g. windowNs=5000 (names: ${TIMING_FIELDS.join(", ")})`);
    out[m[1]!] = Number(m[2]);
  }
  resolveTiming(out);
  return out;
}

/** `--mode a,b,...` as rate modes (each once, in the order given). Throws UsageError for an unknown mode. */
function parseRateModes(text: string): RateMode[] {
  const modes = [...new Set(text.split(","))];
  for (const m of modes)
    if (!(RATE_MODES as string[]).includes(m)) throw new UsageError(`--mode must be one or more of ${RATE_MODES.join(", ")} (comma-separated), got '${clip(text)}'`);
  return modes as RateMode[];
}

/** A decimal number from `min` (exclusive) to `max`, or undefined when not given. Throws UsageError otherwise. */
function numberOption(name: string, text: string | undefined, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d{1,13}(?:\.\d{1,12})?(?:e[-+]?\d{1,2})?$/.test(text) ? Number(text) : NaN;
  if (!(n > 0 && n <= max)) throw new UsageError(`${name} must be a number above 0 and at most ${max.toExponential()}, got '${clip(text)}'`);
  return n;
}

/** `k/N` (0 <= k < N <= 10,000) as a shard; undefined when not given. */
function shardOption(text: string | undefined): { index: number; count: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d{1,5})\/(\d{1,5})$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (m === null || !(count >= 1 && count <= 10_000 && index < count))
    throw new UsageError(`--shard must be k/N with 0 <= k < N <= 10,000, e.g. 0/4, got '${clip(text)}'`);
  return { index, count };
}

/** What `racelab check --shard k/N` prints and `racelab merge` reads. */
interface ShardFile {
  readonly racelab: "shard";
  /** 2 since findings are kept structured (`part.findings` an array of kind, message, executions). */
  readonly version: 2;
  readonly scenario: string;
  /** The scenario argument given to check (an id or a file). */
  readonly source: string;
  readonly options: WorkerCheckOptions;
  readonly part: Part;
}

function readShardFile(file: string): ShardFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${clip(file)}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let v: Partial<ShardFile>;
  try {
    v = JSON.parse(text) as Partial<ShardFile>;
  } catch {
    throw new UsageError(`${clip(file)}: not JSON (expected the output of racelab check --shard k/N)`);
  }
  if (v !== null && typeof v === "object" && v.racelab === "shard" && v.version !== 2)
    throw new UsageError(`${clip(file)}: a shard of another racelab version (${clip(String(v.version))}, this one reads 2): run racelab check --shard again`);
  if (v === null || typeof v !== "object" || v.racelab !== "shard" || typeof v.source !== "string" || typeof v.part !== "object" || v.part === null || typeof v.options !== "object")
    throw new UsageError(`${clip(file)}: not a racelab shard (expected the output of racelab check --shard k/N)`);
  return v as ShardFile;
}

/** A duration in seconds (`90`, `2.5`) as ms; undefined when not given. */
function secondsOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d{1,9}(\.\d{1,3})?$/.test(text) ? Number(text) : NaN;
  if (!(n > 0)) throw new UsageError(`${name} must be a positive number of seconds, got '${clip(text)}'`);
  return n * 1000;
}

const collect = (v: string, prev: string[]) => [...prev, v];

/**
 * The time, in ms, configuration `i` of a `rates` command has run, for its progress line's rate
 * and estimate: configurations run one after another, the first from `t0`, each later one from
 * the previous one's last progress report (its last chunk). Before 2026-12-01 every configuration
 * counted from the command's start: the fifth one showed 24 runs/s and "~4051 s left" for a
 * command that ended 3 s later (new-user trial 11). With `exact` (a report of `--exact`'s
 * enumeration, which runs before the sampled executions), the time since the configuration
 * started; the sampled executions' time then counts from the enumeration's last report
 * (new-user trial 21: 106 s of enumeration read as 9 runs/s).
 * @internal
 */
export function configClock(t0: number): (i: number, now: number, exact?: boolean) => number {
  let cur = 0;
  let start = t0;
  let last = t0;
  let enumerating = false;
  return (i, now, exact = false) => {
    if (i !== cur) {
      cur = i;
      start = last;
      enumerating = false;
    }
    if (exact) enumerating = true;
    else if (enumerating) {
      enumerating = false;
      start = last;
    }
    last = now;
    return now - start;
  };
}

/**
 * The text of a check's progress line: executions done (of the total when known), their rate,
 * states, elapsed time and an estimate. When executions were cut at the step bound, it says so,
 * with the redundant prefixes pruned and the steps run, since a thread that never finishes would
 * otherwise show `0 executions (0/s)` for as long as the search runs (a new user's trial).
 */
export function progressText(done: number, total: number | null, d: Progress): string {
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  const secs = d.elapsedMs / 1000;
  // `rates --exact` enumerating before it samples (new-user trial 21 read 106 s of it as 9 runs/s).
  if (d.exact !== undefined) return `exact: ${fmt(d.exact)} interleavings (at most ${fmt(EXACT_LIMIT)}) before the ${total !== null ? `${fmt(total)} ` : ""}sampled executions, ${secs.toFixed(0)} s`;
  const rate = secs > 0 ? ` (${fmt(done / secs)}/s)` : "";
  const states = d.states > 0 ? `, ${fmt(d.states)} states` : "";
  const eta = total !== null && done > 0 ? `, ~${Math.ceil(((total - done) * secs) / done)} s left` : "";
  const cut = d.cut ?? 0;
  const pruned = d.sleepBlocked > 0 ? `, ${fmt(d.sleepBlocked)} redundant prefixes pruned` : "";
  const cuts = cut > 0 ? `, ${fmt(cut)} cut at the step bound of 10,000 steps (a thread that never finishes?)${pruned}, ${fmt(d.steps)} steps` : "";
  return `${fmt(done)}${total !== null ? `/${fmt(total)}` : ""} executions${cut > 0 ? " finished" : ""}${rate}${cuts}${states}, ${secs.toFixed(0)} s${eta}`;
}

/**
 * Progress of a long check on stderr: a bar on a terminal (restored on exit), else one line every
 * 10 s; nothing when `quiet` (--json, --quiet).
 */
function progress(quiet: boolean): {
  update(label: string, done: number, total: number | null, detail: Progress): void;
  note(line: string): void;
  stop(): void;
} {
  const describe = progressText;
  if (quiet) return { update() {}, note: (line) => process.stderr.write(`racelab: ${line}\n`), stop() {} };
  if (!process.stderr.isTTY) {
    let last = performance.now();
    return {
      update(label, done, total, d) {
        const now = performance.now();
        if (now - last < 10_000) return;
        last = now;
        process.stderr.write(`racelab: ${label}: ${describe(done, total, d)}\n`);
      },
      note: (line) => process.stderr.write(`racelab: ${line}\n`),
      stop() {},
    };
  }
  let bar: SingleBar | null = null;
  const restore = () => bar?.stop();
  process.once("exit", restore);
  return {
    update(label, done, total, d) {
      if (bar === null) {
        bar = new SingleBar({ stream: process.stderr, format: "{label} {text}", hideCursor: true, clearOnComplete: true }, Presets.shades_classic);
        bar.start(1, 0, { label, text: "" });
      }
      bar.update(0, { label, text: describe(done, total, d) });
    },
    note(line) {
      bar?.stop();
      bar = null;
      process.stderr.write(`racelab: ${line}\n`);
    },
    stop() {
      bar?.stop();
      bar = null;
      process.off("exit", restore);
    },
  };
}

/**
 * Columns for a race diagram printed with `indent` spaces before each line: the terminal's width
 * on a terminal (at most 200), else 75 (a mail's width); never under 75.
 */
function diagramWidth(indent: number): number {
  // COLUMNS as the shell sets it (`COLUMNS=140 racelab replay ... > file`), else the terminal's width.
  const env = Number(process.env["COLUMNS"]);
  const width = Number.isInteger(env) && env > 0 ? env : process.stdout.isTTY ? (process.stdout.columns ?? 80) : 0;
  const cols = width > 0 ? Math.min(200, width) - 1 : 75 + indent;
  return Math.max(75, cols - indent);
}

/** A count for a summary line: digits grouped (`4,091`), or numberText()'s approximation past 2^53. */
function countText(n: number): string {
  return Number.isSafeInteger(n) ? n.toLocaleString("en-US") : numberText(n);
}

/** `1 execution`, `2,000 executions`: the count grouped by thousands, the noun plural unless it is 1. */
function plural(n: number, noun: string): string {
  return `${n.toLocaleString("en-US")} ${noun}${n === 1 ? "" : "s"}`;
}

/** `several`: the command checked more than one memory model (every line names its model). */
function summaryLine(r: CheckResult, several = false): string {
  const counts =
    r.mode === "exhaustive"
      ? // (State caching stops an execution at a state explored before: few run to the end, and
        // its line led with `1 executions`; the states are what it counts.)
        `${r.states !== null ? `${r.states.toLocaleString("en-US")} states (${plural(r.executions, "execution")} to an end state not seen before; hash collision probability ${r.hashCollisionProbability!.toPrecision(2)})` : plural(r.executions, "execution")}${r.naiveExecutions !== null ? ` (${countText(r.naiveExecutions)} without reduction)` : ""}${r.complete ? "" : ", INCOMPLETE"}`
      : `${plural(r.executions, `${r.mode} execution`)}, seed ${r.seed}`;
  // Executions where the model's own code threw (an `error` finding, exit status 3): the model's
  // bug, not the kernel's (new-user trial 16 read `FAIL: 3 violating` for a `yield*` typo).
  const errors = r.findingCounts.filter((f) => f.kind === "error").reduce((a, f) => a + f.executions, 0);
  const verdict =
    r.verdict === "fail"
      ? `FAIL: ${r.violations.toLocaleString("en-US")} violating${errors > 0 ? ` (in ${errors === r.violations ? "every one" : errors.toLocaleString("en-US")} the model's own code threw: an error in the model, see below)` : ""}`
      : r.verdict === "incomplete"
        ? `no violation found (incomplete: ${r.stopReason ?? (r.crossCheck !== null && r.crossCheck.mismatches > 0 ? "the cross-check found executions the search missed" : "see the warnings")})`
        : `pass${passBasis(r)}`;
  return `${r.scenario} ${r.fix}/${r.variant}${modelTag(r, several)}: ${verdict} — ${counts}, ${elapsedText(r.elapsedMs)}`;
}

/**
 * What an exhaustive `pass` rests on, for its line: ` (every interleaving)` without a reduction;
 * with one, its name and the cross-check, which samples unreduced executions and so can miss an
 * access the tracking never saw (a variable a thread closes over) that few interleavings expose.
 */
function passBasis(r: CheckResult): string {
  // Warnings first (new-user trial 16 read a bare `pass` over a warning that the tso check
  // reordered nothing on its flag).
  const parts = r.warnings.length === 0 ? [] : [`${r.warnings.length === 1 ? "a warning" : `${r.warnings.length} warnings`} below`];
  if (r.mode === "exhaustive") {
    const cc = r.crossCheck;
    parts.push(r.reduction === "none" ? "every interleaving" : `${r.reduction}; ${cc === null || cc.runs === 0 ? "no cross-check" : `cross-check: ${cc.runs} unreduced samples agree`}`);
  }
  return parts.length === 0 ? "" : ` (${parts.join("; ")})`;
}

/** ` blocks=2` for the swept parameters (those given with --param), else "". */
function sweepLabel(params: Record<string, number>, given: readonly string[]): string {
  const names = given.map((g) => g.slice(0, g.indexOf("=")));
  return names.map((n) => ` ${n}=${params[n]}`).join("");
}

/** A rate as a percentage with its interval: `3.12% [2.80%, 3.47%]`. */
function pct(rate: number, ci: readonly [number, number]): string {
  const p = (x: number) => (x === 0 ? "0%" : x >= 0.001 ? `${(x * 100).toFixed(2)}%` : `${(x * 100).toPrecision(2)}%`);
  return `${p(rate)} [${p(ci[0])}, ${p(ci[1])}]`;
}


/** `exactAsked`: --exact was given, so a missing exact probability is said, not left out (new-user trial 19). */
function printRates(results: readonly RateResult[], given: readonly string[], exactAsked = false): void {
  const several = new Set(results.map((r) => r.memoryModel)).size > 1;
  for (const r of results) {
    const mm = modelTag(r, several);
    const head = `${r.scenario} ${r.fix}/${r.variant}${sweepLabel(r.params, given)}${mm}, ${r.mode}${r.mode === "pct" ? ` d=${r.pctDepth}` : ""}`;
    out(
      `${head}: ${r.failures.toLocaleString("en-US")} of ${r.runs.toLocaleString("en-US")} executions fail, ${pct(r.rate, r.ci95)} (95% Wilson)` +
        `${r.partial ? `, PARTIAL (${r.stopReason})` : ""}, ${elapsedText(r.elapsedMs)}`,
    );
    for (const w of r.warnings) out(`  warning: ${w}`);
    if (r.firstFailure !== null) out(`  first failure at execution ${r.firstFailure.toLocaleString("en-US")}`);
    if (r.exact !== null)
      out(`  exact probability under the uniform random scheduler: ${r.exact === 0 ? "0 (no execution fails)" : r.exact === 1 ? "1 (every execution fails)" : `${(r.exact * 100).toPrecision(4)}%`}`);
    else if (exactAsked && r.mode === "random")
      out(
        `  exact probability: not computed (more than ${EXACT_LIMIT.toLocaleString("en-US")} interleavings, an execution past the step bound, or the run stopped first)`,
      );
    if (r.mttfHoursCi95 !== null) {
      const [lo, hi] = r.mttfHoursCi95;
      const per = `at ${r.attemptsPerSecond!.toLocaleString("en-US")} racing attempt${r.attemptsPerSecond === 1 ? "" : "s"}/s`;
      out(
        r.mttfHours === null
          ? `  mean time to failure ${per}: more than ${durationText(lo)} (95%; no failure seen)`
          : `  mean time to failure ${per}: ${durationText(r.mttfHours)} [${durationText(lo)}, ${hi === null ? "unbounded" : durationText(hi)}]`,
      );
    }
    if (r.pctBound !== null) out(`  PCT bound 1/(n k^(d-1)) = ${r.pctBound.toPrecision(3)} per execution (n, k: threads and longest execution seen)`);
    for (const f of r.findings) out(`  ${pct(f.rate, f.ci95)}  ${f.finding}`);
  }
  // Several modes: runs to first failure side by side, per configuration.
  const modes = [...new Set(results.map((r) => r.mode))];
  // What a rate is a rate of (new-user trial 11: nothing said so).
  const notes: string[] = [];
  if (modes.includes("random") || modes.includes("pct"))
    notes.push("random and pct rates are rates of the scheduler (random: each step's thread uniformly at random; pct: random priorities with d-1 changes), not of any hardware");
  if (modes.includes("timed"))
    notes.push("timed rates follow the modeled step costs and start window (ns; --timing), and the mean time to failure the racing attempts per second given");
  if (modes.length > 1) {
    out("");
    out(`runs to first failure (expected: 1/rate) per mode: ${modes.join(" / ")}`);
    const key = (r: RateResult) => `${r.fix}/${r.variant}${sweepLabel(r.params, given)}`;
    for (const k of [...new Set(results.map(key))]) {
      const cells = modes.map((m) => {
        const r = results.find((o) => key(o) === k && o.mode === m);
        if (r === undefined) return "-";
        const exp = r.failures === 0 ? `> ${r.runs.toLocaleString("en-US")}` : (r.runs / r.failures).toPrecision(3);
        return `${r.firstFailure === null ? "none" : r.firstFailure.toLocaleString("en-US")} (${exp})`;
      });
      out(`  ${k}: ${cells.join(" / ")}`);
    }
  }
  if (results.length > 0) for (const n of notes) out(`note: ${n}`);
}

/**
 * The memory models of `--memory-model` (`pso`, or `sc,tso,pso,rmo` to check each in turn), in the
 * order given; [undefined] without it (each variant's own). Throws UsageError for an unknown or
 * repeated name.
 */
function memoryModelList(arg: string | undefined): (MemoryModel | undefined)[] {
  if (arg === undefined) return [undefined];
  const names = arg.split(",").map((m) => m.trim());
  for (const m of names)
    if (!(MEMORY_MODELS as readonly string[]).includes(m))
      throw new UsageError(`--memory-model: unknown memory model '${clip(m)}' (known: ${MEMORY_MODELS.join(", ")}; several comma-separated)`);
  if (new Set(names).size !== names.length) throw new UsageError(`--memory-model: '${clip(arg)}' names a model twice`);
  return names as MemoryModel[];
}

/**
 * The note under passing tso/pso checks: those models reorder stores only, so a reader's missing
 * acquire passes (new-user trial 14: a `test_bit()` fast path without `test_bit_acquire()` passed
 * under pso; only rmo finds it).
 */
function storeOnlyNote(models: readonly string[]): string {
  return (
    `note: ${models.join(" and ")} reorder${models.length === 1 ? "s" : ""} only stores (a store buffer per CPU), never a thread's loads: ` +
    `a reader's ordering (smp_rmb(), smp_load_acquire(), test_bit_acquire(), an acquire after a lockless test) is tested only by --memory-model rmo`
  );
}

/**
 * For `--strict`: anything but a pass without a warning (new-user trial 16: a plain field's store
 * never buffered under tso passed with a warning, and `--fail-on-finding` exited 0).
 */
function notCleanPass(r: CheckResult): boolean {
  // (A warning that only names the reduction used instead leaves the pass as sound.)
  return r.verdict !== "pass" || r.warnings.some((w) => !isReductionFallback(w));
}

function printCheck(sc: AnyScenario, r: CheckResult, several = false): void {
  out(summaryLine(r, several));
  for (const w of r.warnings) out(`  warning: ${w}`);
  // (An `error`, the model's own code failing, first: the other findings may follow from it.)
  const findings = Object.entries(r.findings);
  for (const [k, n] of [...findings.filter(([k]) => k.startsWith("error: ")), ...findings.filter(([k]) => !k.startsWith("error: "))]) out(`  ${countText(n)} × ${k}`);
  const unreached = unreachedLine(r);
  if (unreached !== null) out(`  ${unreached}`);
  if (r.counterexample) {
    const ce = r.counterexample;
    out(`  counterexample (${ce.preemptions} preemption${ce.preemptions === 1 ? "" : "s"}): ${asInvoked(replayCommand(r, sc))}`);
    // Several findings: the counterexample shows one; say how to see another (new-user trial 14
    // wanted the stale read, and got the double init first).
    if (findings.length > 1) out(`  (it shows '${clip(ce.finding, 60)}'; --counterexample-for TEXT shows an execution whose finding contains TEXT)`);
    out("");
    out(renderDiagram(replayCounterexample(sc, r)!, diagramWidth(4)).replace(/^/gm, "    "));
    out("");
  }
}

/**
 * The note on steps of the model that ran in no interleaving though their function did
 * (`CheckResult.unreachedSteps`): a pass says nothing about their code. Null when there are none.
 */
export function unreachedLine(r: CheckResult): string | null {
  const u = r.unreachedSteps;
  if (u === null || u.length === 0) return null;
  // By function: `fn(): "label", "label"; fn2(): "label"`, five labels at most.
  const byFn = new Map<string, string[]>();
  for (const x of u.slice(0, 5)) {
    const labels = byFn.get(x.fn) ?? [];
    labels.push(`"${clip(x.label, 70)}"`);
    byFn.set(x.fn, labels);
  }
  const shown = [...byFn].map(([fn, labels]) => `${fn}(): ${labels.join(", ")}`).join("; ");
  const more = u.length > 5 ? `; and ${u.length - 5} more (--json lists them)` : "";
  const one = u.length === 1;
  return (
    `note: ${u.length} step${one ? "" : "s"} ran in no interleaving though ${one ? "its" : "their"} function did: ${shown}${more} ` +
    `(another fix's or variant's code: give the lines only some fixes or variants run, the baseline's a fix replaces too, a sitesIn() of their own; ` +
    `or a branch this configuration never takes${r.verdict === "pass" ? `: the pass says nothing about ${one ? "it" : "them"}` : ""})`
  );
}

/**
 * A commander error message with the user input it quotes clipped to one short line (commander
 * echoes an unknown command, option or choice whole). Help text passes unchanged.
 */
function clipCommanderError(s: string): string {
  if (!s.startsWith("error:")) return s;
  const end = s.endsWith("\n") ? "\n" : "";
  // One line, with the prefix every other message has: commander puts its suggestion on a line
  // of its own ("error: unknown option '--all-fix'\n(Did you mean --all-fixes?)").
  const body = (end ? s.slice(0, -1) : s)
    .replace(/^error:\s*/, "racelab: ")
    .replace(/\s*\n\s*\(Did you mean /g, " (did you mean ")
    .replace(/\s*\n\s*/g, " ")
    .replace(/'([^']*)'/g, (_, q: string) => `'${clip(q)}'`);
  return clip(body, 400) + end;
}

/**
 * Commands whose modules load puppeteer, markdown-it, sanitize-html and tar (about 0.3 s of
 * start-up): `main` registers them only when the command line may run or list them.
 */
const REPORT_COMMANDS = new Set(["report", "archive", "verify"]);

/** Adds `report`, `archive` and `verify` to `program` (loading their modules). */
export async function addReportCommands(program: Command): Promise<void> {
  const [{ registerReportCommand }, { registerArchiveCommands }] = await Promise.all([import("./report.js"), import("./archive.js")]);
  registerReportCommand(program);
  registerArchiveCommands(program);
}

/**
 * True unless the command line names a command other than report, archive and verify first
 * (help, an unknown command and no command at all list every command, so they need them too).
 */
export function needsReportCommands(argv: readonly string[]): boolean {
  const first = argv.find((a) => !a.startsWith("-"));
  return first === undefined || REPORT_COMMANDS.has(first) || !CORE_COMMANDS.has(first);
}

/** The commands {@link buildProgram} registers itself. */
/**
 * The fix `check`, `rates` and `replay` use without `--fix`: `baseline`, which every scenario has
 * (defineScenario() adds it first when the scenario does not list it), as check(), rates() and
 * replay() default to in the library.
 */
const DEFAULT_FIX = "baseline";

const CORE_COMMANDS = new Set(["list", "check", "rates", "merge", "replay", "claims", "new", "run"]);

/** Builds the commander program without report, archive and verify (see {@link addReportCommands}). */
export function buildProgram(): Command {
  const program = new Command("racelab")
    .description("Model kernel races from mailing-list threads; explore every interleaving; report.")
    .version(racelabVersion() || "unknown", "-V, --version", "print racelab's version")
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(clipCommanderError(s)) });

  program
    .command("list")
    .description("list scenarios with their fixes, variants and parameters")
    .option("--json", "JSON output")
    .action((o: { json?: boolean }) => {
      if (o.json) {
        out(
          JSON.stringify(
            scenarios.map((s) => ({
              id: s.id,
              title: s.title,
              kernel: s.kernel,
              seed: formatSource(s.thread),
              fixes: s.fixes.map((f) => ({ id: f.id, title: f.title })),
              variants: s.variants.map((v) => ({ id: v.id, title: v.title })),
              params: s.params.map((p) => ({ name: p.name, default: p.default, min: p.min, max: p.max, description: p.description })),
            })),
            null,
            2,
          ),
        );
        return;
      }
      for (const s of scenarios) {
        out(`${s.id}  ${s.title}`);
        out(`  seed:     ${formatSource(s.thread)}`);
        out(`  kernel:   ${s.kernel}`);
        out(`  fixes:    ${s.fixes.map((f) => f.id).join(", ")}`);
        out(`  variants: ${s.variants.map((v) => v.id).join(", ")}`);
        if (s.params.length > 0) out(`  params:   ${s.params.map((p) => `${p.name}=${p.default} (${p.min}..${p.max})`).join(", ")}`);
      }
    });

  program
    .command("check")
    .description("explore a scenario under one or all fixes and variants")
    .argument("<scenario>", "scenario id (see `racelab list`) or a scenario file (./my-race.ts)")
    .option("--fix <id>", "fix id", DEFAULT_FIX)
    .option("--all-fixes", "every fix")
    .option("--variant <id>", "variant id", "default")
    .option("--all-variants", "every variant")
    .addOption(new Option("--mode <mode>", "exploration mode").choices(MODES as string[]).default("exhaustive"))
    .option("--memory-model <models>", `memory model: ${MEMORY_MODELS.join(", ")}, or several comma-separated to check each (default: the variant's, else sc)`)
    .option("--runs <n>", "executions in random and pct modes (default 10000)")
    .option("--seed <s>", "PRNG seed for random and pct modes (default 1)")
    .option("--pct-depth <d>", "pct mode: bug depth d, d - 1 priority change points (default 3)")
    .option("--max-executions <n>", "bound on exhaustive executions (default 1000000); complete=false when hit")
    .addOption(new Option("--reduction <name>", "exhaustive mode: partial-order reduction, or none to explore every interleaving").choices(REDUCTIONS as string[]).default("sleep-sets"))
    .option("--cross-check <n>", "exhaustive mode: unreduced executions sampled to cross-check the reduction (default 10 per reduced execution, 200 to 1000; 0 skips)")
    .option("--param <name=value>", "scenario parameter, repeatable", collect, [] as string[])
    .option("--count-naive", "exhaustive mode: also count the interleavings an unreduced search would run (naiveExecutions)")
    .option("--time-limit <seconds>", "stop the exploration after this long; the result is then incomplete unless it fails")
    .option("--max-states <n>", "--reduction state-caching: stop after this many distinct states")
    .option("--no-persistent-sets", "--reduction state-caching: store every reachable state (no persistent sets)")
    .option("--json", "JSON output (an object, or an array with --all-fixes/--all-variants)")
    .option("--quiet", "no progress on stderr")
    .option("--workers <n>", "exhaustive sleep-sets or none: split the search over n worker threads (results identical to one)")
    .option("--shard <k/N>", "exhaustive sleep-sets or none: explore part k of N only and print it as JSON for `racelab merge`")
    .option("--counterexample-for <text>", "show the first execution with a finding that contains this text (e.g. use-after-free) as the counterexample")
    .option("--fail-on-finding", "exit status 1 when any configuration has a violation")
    .option("--strict", "exit status 1 unless every configuration passes with no warning (a violation, an incomplete search, a pass with a warning other than which reduction ran): for CI")
    .action(async (id: string, o: Record<string, unknown>, cmd: Command) => {
      const sc = await loadScenario(id);
      const params = parseParams(o.param as string[], sc);
      const fixIds = o.allFixes ? sc.fixes.map((f) => f.id) : [o.fix as string];
      const variantIds = o.allVariants ? sc.variants.map((v) => v.id) : [o.variant as string];
      const runs = intOption("--runs", o.runs as string | undefined, 1, MAX_RUNS);
      const seed = intOption("--seed", o.seed as string | undefined, 0, MAX_SEED);
      const pctDepth = intOption("--pct-depth", o.pctDepth as string | undefined, 1, MAX_PCT_DEPTH);
      const maxExecutions = intOption("--max-executions", o.maxExecutions as string | undefined, 1, Number.MAX_SAFE_INTEGER);
      const crossCheck = intOption("--cross-check", o.crossCheck as string | undefined, 0, MAX_CROSS_CHECK);
      const maxStates = intOption("--max-states", o.maxStates as string | undefined, 1, Number.MAX_SAFE_INTEGER);
      const timeLimitMs = secondsOption("--time-limit", o.timeLimit as string | undefined);
      const workers = intOption("--workers", o.workers as string | undefined, 1, 64) ?? 1;
      const shard = shardOption(o.shard as string | undefined);
      if (o.counterexampleFor === "") throw new UsageError("--counterexample-for needs the text of a finding (e.g. use-after-free), got ''");
      const splits = workers > 1 ? "--workers" : shard !== undefined ? "--shard" : null;
      if (splits !== null && ((o.mode as Mode) !== "exhaustive" || !["sleep-sets", "none"].includes(o.reduction as string)))
        throw new UsageError(`${splits} needs --mode exhaustive and --reduction sleep-sets or none (the subtrees of dpor and state-caching searches depend on each other)`);
      if (shard !== undefined && (o.allFixes || o.allVariants || workers > 1))
        throw new UsageError("--shard runs one part of one configuration: not with --all-fixes, --all-variants or --workers");
      const models = memoryModelList(o.memoryModel as string | undefined);
      if (shard !== undefined && models.length > 1) throw new UsageError("--shard runs one part of one configuration: not with several memory models");
      // Every configuration is checked before any runs, so that bad input is one line on stderr.
      for (const fix of fixIds) for (const variant of variantIds) for (const m of models) resolveConfig(sc, fix, variant, params, m);
      const mode = o.mode as Mode;
      const given = (name: string) => cmd.getOptionValueSource(name) === "cli";
      const ignored: string[] = [];
      if (mode === "exhaustive") {
        if (given("runs")) ignored.push("--runs is ignored in exhaustive mode (it sets the executions of --mode random and pct)");
        if (given("seed") && (o.reduction === "none" || crossCheck === 0))
          ignored.push(
            `--seed is ignored: exhaustive mode uses it only for the cross-check's sampling, which ${o.reduction === "none" ? "--reduction none" : "--cross-check 0"} turns off`,
          );
      } else {
        for (const opt of ["max-executions", "reduction", "cross-check", "count-naive", "max-states", "persistent-sets"])
          if (given(opt.replace(/-(.)/g, (_, c: string) => c.toUpperCase())))
            ignored.push(`--${opt} is ignored in ${mode} mode (it applies to exhaustive mode)`);
      }
      if (mode !== "pct" && given("pctDepth")) ignored.push(`--pct-depth is ignored in ${mode} mode (it applies to --mode pct)`);
      for (const note of ignored) process.stderr.write(`racelab: note: ${note}\n`);
      const configs: Omit<CheckOptions, "onProgress" | "stop">[] = [];
      for (const fix of fixIds)
        for (const variant of variantIds)
          for (const memoryModel of models)
            configs.push({
              fix,
              variant,
              params,
              mode,
              memoryModel,
              runs,
              seed,
              pctDepth,
              maxExecutions,
              reduction: o.reduction as Reduction,
              crossCheck,
              countNaive: o.countNaive === true,
              persistentSets: o.persistentSets !== false,
              timeLimitMs,
              maxStates,
              ...(o.counterexampleFor !== undefined ? { counterexampleFor: o.counterexampleFor as string } : {}),
            });
      const bar = progress(o.json === true || o.quiet === true || shard !== undefined);
      if (shard !== undefined) {
        // One part, as JSON for `racelab merge`.
        let stopped = "";
        const part = await partInWorker(id, { ...configs[0]!, shard }, (why) => {
          stopped = why;
          bar.note(`${why}: stopping, printing what was explored`);
        });
        if (stopped !== "") process.exitCode = stopped.includes("SIGTERM") ? 143 : 130;
        const { shard: _, ...options } = configs[0]!;
        out(JSON.stringify({ racelab: "shard", version: 2, scenario: sc.id, source: id, options, part } satisfies ShardFile, null, 1));
        return;
      }
      let results: CheckResult[];
      let stopReason: string | null;
      try {
        ({ results, stopReason } = await checkInWorker(
          id,
          configs,
          (i, done, total, detail) => bar.update(`${configs[i]!.fix}/${configs[i]!.variant}${models.length > 1 ? ` [${configs[i]!.memoryModel}]` : ""}`, done, total, detail),
          (why) => bar.note(`${why}: stopping, printing what was explored (again to quit at once)`),
          workers,
        ));
      } finally {
        bar.stop();
      }
      if (stopReason !== null) process.exitCode = stopReason.includes("SIGTERM") ? 143 : 130;
      if (o.json) out(JSON.stringify(o.allFixes || o.allVariants || models.length > 1 ? results : results[0], null, 2));
      else {
        for (const r of results) printCheck(sc, r, models.length > 1);
        // (Not when rmo ran too: its lines are the test the note asks for; new-user trial 20.)
        const weak = [...new Set(results.filter((r) => (r.memoryModel === "tso" || r.memoryModel === "pso") && r.verdict === "pass").map((r) => r.memoryModel))];
        if (weak.length > 0 && !results.some((r) => r.memoryModel === "rmo")) out(storeOnlyNote(weak));
      }
      if (o.failOnFinding && results.some((r) => r.verdict === "fail")) process.exitCode = 1;
      if (o.strict && stopReason === null && results.some(notCleanPass)) process.exitCode = 1;
      // The model's own code threw in a step (an `error` finding): exit status 3, as for every
      // model error, with the first such error named (the counterexample shows it, tally()).
      const modelError = results.flatMap((r) => Object.keys(r.findings)).find((k) => k.startsWith("error: "));
      if (modelError !== undefined && stopReason === null) {
        process.stderr.write(
          `racelab: model error: ${clip(modelError.slice("error: ".length), 300)} (the model's own code threw in a step, in the code from its yield to the thread's next one, the next primitive's arguments included; the other findings may follow from it)\n`,
        );
        process.exitCode = 3;
      }
    });

  program
    .command("rates")
    .description("failure rate of each fix under the random, PCT or timed scheduler, with 95% Wilson intervals")
    .argument("<scenario>", "scenario id (see `racelab list`) or a scenario file (./my-race.ts)")
    .option("--fix <id>", "fix id", DEFAULT_FIX)
    .option("--all-fixes", "every fix, in the order the scenario declares them")
    .option("--variant <id>", "variant id", "default")
    .option("--all-variants", "every variant, in the order the scenario declares them")
    .option("--mode <modes>", `scheduler: ${RATE_MODES.join(", ")}, or several comma-separated to compare them`, "random")
    .addOption(new Option("--memory-model <model>", "memory model (default: the variant's, else sc)").choices(MEMORY_MODELS as string[]))
    .option("--runs <n>", "executions per configuration (default 10000)")
    .option("--seed <s>", "PRNG seed (default 1)")
    .option("--pct-depth <d>", "--mode pct: bug depth d (default 3)")
    .option("--timing <name=value>", "--mode timed: a step cost or window in ns (or jitter), repeatable, e.g. windowNs=5000", collect, [] as string[])
    .option("--attempts-per-second <r>", "--mode timed: racing attempts per second, for the mean time to failure (default 1)")
    .option("--param <name=v1,v2,...>", "scenario parameter, repeatable; several values sweep it", collect, [] as string[])
    .option("--workers <n>", "worker threads (results identical for any n)")
    .option("--exact", "random mode: also the exact failure probability, by enumerating every interleaving (up to 1,000,000)")
    .option("--json", "JSON output: an array, one object per fix and parameter combination")
    .option("--quiet", "no progress on stderr")
    .action(async (id: string, o: Record<string, unknown>) => {
      const sc = await loadScenario(id);
      const sweep = parseSweep(o.param as string[], sc);
      const fixIds = o.allFixes ? sc.fixes.map((f) => f.id) : [o.fix as string];
      const variantIds = o.allVariants ? sc.variants.map((v) => v.id) : [o.variant as string];
      const runs = intOption("--runs", o.runs as string | undefined, 1, MAX_RUNS) ?? 10_000;
      const seed = intOption("--seed", o.seed as string | undefined, 0, MAX_SEED) ?? 1;
      const pctDepth = intOption("--pct-depth", o.pctDepth as string | undefined, 1, MAX_PCT_DEPTH) ?? 3;
      const workers = intOption("--workers", o.workers as string | undefined, 1, 64) ?? 1;
      const modes = parseRateModes(o.mode as string);
      const timing = parseTiming(o.timing as string[]);
      const attemptsPerSecond = numberOption("--attempts-per-second", o.attemptsPerSecond as string | undefined, MAX_ATTEMPT_RATE);
      if (!modes.includes("timed") && ((o.timing as string[]).length > 0 || attemptsPerSecond !== undefined))
        process.stderr.write("racelab: note: --timing and --attempts-per-second are ignored without --mode timed\n");
      if (!modes.includes("pct") && o.pctDepth !== undefined) process.stderr.write("racelab: note: --pct-depth is ignored without --mode pct\n");
      const configs = fixIds.flatMap((fix) =>
        variantIds.flatMap((variant) =>
          sweep.flatMap((params) =>
            modes.map((mode) => ({
              fix,
              variant,
              params,
              mode,
              runs,
              seed,
              pctDepth,
              exact: o.exact === true,
              memoryModel: o.memoryModel as MemoryModel | undefined,
              ...(mode === "timed" ? { timing, ...(attemptsPerSecond !== undefined ? { attemptsPerSecond } : {}) } : {}),
            })),
          ),
        ),
      );
      // Every configuration is checked before any runs, so that bad input is one line on stderr.
      for (const c of configs) resolveConfig(sc, c.fix, c.variant, c.params, c.memoryModel);
      const bar = progress(o.json === true || o.quiet === true);
      // Each configuration's rate and estimate from its own start (not the command's: a
      // configuration that starts at 40 s did not run 24 executions a second; new-user trial 11).
      const elapsedOf = configClock(performance.now());
      let results: RateResult[];
      let stopReason: string | null;
      try {
        ({ results, stopReason } = await ratesInWorker(
          id,
          configs,
          (i, done, total, exact) => {
            bar.update(`${configs[i]!.fix}${o.allVariants ? `/${configs[i]!.variant}` : ""}${sweepLabel(configs[i]!.params, o.param as string[])}`, done, total, {
              elapsedMs: elapsedOf(i, performance.now(), exact !== undefined),
              sleepBlocked: 0,
              states: 0,
              steps: 0,
              ...(exact !== undefined ? { exact } : {}),
            });
          },
          (why) => bar.note(`${why}: stopping, printing the partial rates (again to quit at once)`),
          workers,
        ));
      } finally {
        bar.stop();
      }
      if (stopReason !== null) process.exitCode = stopReason.includes("SIGTERM") ? 143 : 130;
      if (o.json) out(JSON.stringify(results, null, 2));
      else printRates(results, o.param as string[], o.exact === true);
    });

  program
    .command("merge")
    .description("combine the JSON parts of `racelab check --shard k/N` into the result of one check")
    .argument("<part.json...>", "the parts, one per shard 0..N-1")
    .option("--json", "JSON output, as `racelab check --json` prints it")
    .option("--fail-on-finding", "exit status 1 when the check has a violation")
    .option("--strict", "exit status 1 unless the check passes with no warning: for CI")
    .action(async (files: string[], o: Record<string, unknown>) => {
      const shards = files.map(readShardFile);
      const first = shards[0]!;
      const key = (f: ShardFile) => JSON.stringify([f.source, f.options]);
      const odd = shards.find((f) => key(f) !== key(first));
      if (odd !== undefined) throw new UsageError(`the parts are not of one check: ${clip(key(first))} and ${clip(key(odd))}`);
      const sc = await loadScenario(first.source);
      const r = mergeParts(sc, first.options, shards.map((f) => f.part));
      if (o.json) out(JSON.stringify(r, null, 2));
      else printCheck(sc, r);
      if (o.failOnFinding && r.verdict === "fail") process.exitCode = 1;
      if (o.strict && notCleanPass(r)) process.exitCode = 1;
    });

  program
    .command("replay")
    .description("replay a schedule string and draw the interleaving")
    .argument("<scenario>", "scenario id or a scenario file (./my-race.ts)")
    .option("--fix <id>", "fix id", DEFAULT_FIX)
    .option("--variant <id>", "variant id", "default")
    .requiredOption("--schedule <string>", "schedule, e.g. 0x7.1x7.0x8.2x3 (a choice step: <thread>c<k>)")
    .addOption(new Option("--memory-model <model>", "memory model (default: the variant's, else sc)").choices(MEMORY_MODELS as string[]))
    .option("--param <name=value>", "scenario parameter, repeatable", collect, [] as string[])
    .option("--json", "JSON output")
    .action(async (id: string, o: Record<string, unknown>) => {
      const sc = await loadScenario(id);
      const { result, exec } = replay(sc, {
        fix: o.fix as string,
        variant: o.variant as string,
        params: parseParams(o.param as string[], sc),
        memoryModel: o.memoryModel as MemoryModel,
        schedule: o.schedule as string,
      });
      if (o.json) {
        out(JSON.stringify(result, null, 2));
        return;
      }
      // (What ran, before the diagram: new-user trial 20 could not tell the fix and model from it.)
      out(
        `${result.scenario} ${result.fix}/${result.variant}${sweepLabel(result.params, o.param as string[])}${modelTag(result, true)}: ` +
          `schedule ${clip(result.schedule, 200)}, ${plural(result.steps.length, "step")}`,
      );
      out("");
      out(renderDiagram(exec, diagramWidth(0)));
      out("");
      out(result.findings.length > 0 ? `findings: ${result.findings.join("; ")}` : "no finding");
    });

  program
    .command("claims")
    .description("evaluate the claims made in the thread against the model")
    .argument("[scenario]", "scenario id or a scenario file (default: every bundled scenario)")
    .option("--time-limit <seconds>", "bound each check a claim needs (a check cut short is incomplete: a pass claim then does not hold)")
    .option("--json", "JSON output")
    .action(async (id: string | undefined, o: { json?: boolean; timeLimit?: string }) => {
      const timeLimitMs = secondsOption("--time-limit", o.timeLimit);
      const list = id === undefined ? scenarios : [await loadScenario(id)];
      const results = list.flatMap((sc) => evaluateClaims(sc, timeLimitMs !== undefined ? { timeLimitMs } : {}));
      if (o.json) {
        out(JSON.stringify(results, null, 2));
        return;
      }
      // (A scenario without claims: say so rather than print nothing.)
      for (const sc of list)
        if (sc.claims.length === 0) out(`${sc.id}: no claims (add them to the scenario's claims: see "Modeling a new race" in the README)`);
      for (const c of results) {
        out(`${c.holds ? "HOLDS " : "FAILS "} ${c.scenario}/${c.id}: ${c.statement}`);
        out(`        source:   ${c.source}`);
        out(`        expected: ${c.expected}`);
        out(`        observed: ${c.observed}`);
      }
    });

  program
    .command("litmus")
    .description("run C litmus tests (the tools/memory-model subset racelab parses) under each memory model and compare with their LKMM Result line")
    .argument("<file...>", "litmus files (.litmus)")
    .addOption(new Option("--memory-model <model>", "only this memory model (default: every one)").choices(MEMORY_MODELS as string[]))
    .option("--json", "JSON output: an array of LitmusResult")
    .action((files: string[], o: { memoryModel?: MemoryModel; json?: boolean }) => {
      const models = o.memoryModel !== undefined ? [o.memoryModel] : MEMORY_MODELS;
      // Parse every file first: a bad one is a one-line error before anything is printed.
      const tests = files.map((f) => {
        let text: string;
        try {
          text = readFileSync(f, "utf8");
        } catch (e) {
          throw new UsageError(`${clip(f)}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
        }
        try {
          return parseLitmus(text);
        } catch (e) {
          throw new UsageError(`${clip(f)}: ${clip((e as Error).message)}`);
        }
      });
      const results: LitmusResult[] = [];
      for (const lit of tests) {
        const rows = models.map((m) => runLitmus(lit, m));
        results.push(...rows);
        if (o.json) continue;
        out(`${lit.name} (LKMM: ${lit.expected ?? "no Result line"}; exists ${lit.existsText})`);
        for (const r of rows) {
          const verdict = r.agrees === null ? "" : r.agrees ? "agrees" : r.note!;
          out(`  ${r.model.padEnd(3)}  ${r.observed.padEnd(9)}  ${numberText(r.executions).padStart(7)} executions  ${verdict}`);
        }
      }
      if (o.json) out(JSON.stringify(results, null, 2));
      // An outcome LKMM forbids, reached: a racelab bug, so a failing status.
      if (results.some((r) => r.agrees === false && (r.expected === "Never" || r.expected === "Always"))) process.exitCode = 1;
    });

  registerNewCommand(program);
  registerRunCommand(program);
  return program;
}

/** Runs the CLI; maps usage errors to exit status 2 with one line on stderr. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    if (needsReportCommands(argv)) await addReportCommands(program);
    await program.parseAsync(argv as string[], { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return 0;
      return 2; // commander already printed its one-line error
    }
    if (e instanceof UsageError) {
      // The message quotes user input clipped already; this keeps it one line whatever happens.
      process.stderr.write(`racelab: ${clip(e.message, 1000)}\n`);
      return 2;
    }
    if (e instanceof ModelError) {
      process.stderr.write(`racelab: model error: ${e.message}\n`);
      return 3;
    }
    throw e;
  }
}

