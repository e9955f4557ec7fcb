/**
 * racelab vs SPIN on `ext4-delalloc-fallocate` (`npm run bench:spin`). For blocks=N, N = 1..4,
 * runs SPIN on bench/spin/ext4-delalloc-fallocate.pml (the same threads and atomic steps, one
 * Promela d_step per racelab step) and racelab's exhaustive check, each in a child process with a
 * timeout (the racelab side is bench/spin-child.mjs, run with plain node), and prints a Markdown
 * table: SPIN states stored, time and peak RSS; racelab executions (and states, when the check
 * reports them), cold and warm time and peak RSS; the time ratios; the time to verdict of both.
 *
 * Options:
 *   --max-n K        largest N (default 4; at most 4, the scenario's limit)
 *   --quick          N <= 3
 *   --timeout S      per run, seconds (default 600); a run that exceeds it is killed: "timeout"
 *   --reduction R    racelab's reduction (default state-caching, the one that stores states as
 *                    SPIN does; racelab check's own default is sleep-sets); passed to check() as is
 *   --fix F          recheck-es (default) or baseline (SPIN stops at the first assertion then)
 *   --repeat K       runs of each timed command per N (default 3): the table shows the fastest
 *                    (this machine kind is a shared VM; the same run varies by up to 1.7x)
 *
 * SPIN: `spin -DBLOCKS=N [-DRECHECK_ES] -a`, `gcc -O2 -DSAFETY -DMEMLIM=<MiB>`, `./pan -m100000`
 * (SPIN's defaults otherwise: partial-order reduction, -w24 hash table), in a temporary directory.
 * SPIN time is pan's own "elapsed time" (the search, in a binary compiled beforehand; pan prints
 * it to 0.01 s). racelab's is the check's elapsedMs (the exploration and the default cross-check;
 * not Node's start-up), twice: *cold*, the first check in a new process (while V8 still compiles
 * the engine: its counterpart of SPIN's build), and *warm*, the fastest of four checks in one
 * process after two (the engine compiled, as pan is). Every racelab process is started as the
 * `racelab` bin starts node, with V8_POOL_OPTION (`--v8-pool-size=0`, src/engine/v8-tuning.ts);
 * the cold check is also timed in a process with Node's default pool of 4 threads (*cold, Node's
 * default pool*: what a script of your own started as `node script.js` gets). *To verdict* is what
 * a user waits for: `spin -a`, gcc and ./pan against `racelab check ... --json` from a new process. Peak RSS
 * is /usr/bin/time -v's "Maximum resident set size" of the child (apt-get install time), else the
 * child's own report (racelab) or pan's "total actual memory usage" (SPIN).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync, copyFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { V8_POOL_OPTION } from "../src/engine/v8-tuning.js";

const SCENARIO = "ext4-delalloc-fallocate";
const self = fileURLToPath(import.meta.url);
const MODEL = path.join(path.dirname(self), "spin", `${SCENARIO}.pml`);
/** The racelab side, plain JavaScript run with plain node (bench/spin-child.mjs). */
const CHILD = path.join(path.dirname(self), "spin-child.mjs");
const TIME = "/usr/bin/time";
const fmt = (n: number) => n.toLocaleString("en-US");

// ---- options ---------------------------------------------------------------------------------

function usage(msg: string): never {
  process.stderr.write(`bench/spin.ts: ${msg}\nusage: node --import tsx bench/spin.ts [--max-n K] [--quick] [--timeout S] [--reduction R] [--fix recheck-es|baseline] [--repeat K]\n`);
  process.exit(2);
}
const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith("--")) usage(`${name} needs a value`);
  return v;
};
for (const a of args) if (a.startsWith("--") && !["--max-n", "--quick", "--timeout", "--reduction", "--fix", "--repeat"].includes(a)) usage(`unknown option ${a}`);
const intOpt = (name: string, dflt: number, min: number, max: number): number => {
  const s = opt(name);
  if (s === undefined) return dflt;
  const v = Number(s);
  if (!Number.isInteger(v) || v < min || v > max) usage(`${name} must be an integer from ${min} to ${max}, got ${s}`);
  return v;
};
let maxN = intOpt("--max-n", 4, 1, 4);
if (args.includes("--quick")) maxN = Math.min(maxN, 3);
const timeoutS = intOpt("--timeout", 600, 1, 7 * 24 * 3600);
const repeat = intOpt("--repeat", 3, 1, 100);
const reduction = opt("--reduction") ?? "state-caching";
const fix = opt("--fix") ?? "recheck-es";
if (fix !== "recheck-es" && fix !== "baseline") usage(`--fix must be recheck-es or baseline (the Promela model has only those), got ${fix}`);
const haveTime = existsSync(TIME);
/** pan's memory bound, MiB: half the machine's memory, at most 16 GiB. */
const memlimMiB = Math.min(16384, Math.floor(os.totalmem() / 2 ** 20 / 2));

// ---- running children --------------------------------------------------------------------------

interface Ran {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  readonly wallMs: number;
  /** Peak RSS from /usr/bin/time -v, MiB, or null. */
  readonly rssMiB: number | null;
}

/**
 * Runs `cmd args` in `cwd`, in its own process group (under /usr/bin/time -v when present, which
 * writes into `scratch`), killing the whole group after `timeoutMs`.
 */
function run(cmd: string, argv: string[], cwd: string, scratch: string, timeoutMs: number, onProgress?: (line: string) => void): Promise<Ran> {
  const timeFile = path.join(scratch, `time.${process.hrtime.bigint()}.txt`);
  const [c, a] = haveTime ? [TIME, ["-v", "-o", timeFile, cmd, ...argv]] : [cmd, argv];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(c, a, { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      // Complete `progress: ` lines go to onProgress as they come; the rest is kept.
      const start = stderr.length;
      stderr += d;
      if (onProgress === undefined) return;
      const from = stderr.lastIndexOf("\n", start - 1) + 1;
      const lines = stderr.slice(from).split("\n");
      lines.pop();
      for (const l of lines) if (l.startsWith("progress: ")) onProgress(l.slice("progress: ".length));
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* already gone */
      }
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      let rssMiB: number | null = null;
      if (haveTime && existsSync(timeFile)) {
        const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(timeFile, "utf8"));
        if (m) rssMiB = Number(m[1]) / 1024;
        rmSync(timeFile, { force: true });
      }
      resolve({ code, signal, timedOut, stdout, stderr, wallMs, rssMiB });
    });
  });
}

function runSync(cmd: string, argv: string[], cwd: string): void {
  const r = spawnSync(cmd, argv, { cwd, encoding: "utf8" });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed (${r.status}):\n${r.stdout}${r.stderr}`);
}

const progress = (msg: string) => process.stderr.write(`[bench:spin ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ---- SPIN --------------------------------------------------------------------------------------

interface SpinResult {
  readonly status: "ok" | "timeout" | "out of memory" | "error";
  readonly detail?: string;
  readonly buildMs: number;
  readonly states: number | null;
  readonly transitions: number | null;
  readonly errors: number | null;
  readonly depth: number | null;
  /** Wall time of ./pan, ms. */
  readonly ms: number;
  /** pan's own "elapsed time", s. */
  readonly panElapsedS: number | null;
  /** pan's "total actual memory usage", MiB (10^6 bytes as pan prints). */
  readonly panMemMB: number | null;
  readonly rssMiB: number | null;
}

async function runSpin(n: number): Promise<SpinResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `racelab-spin-${n}-`));
  try {
    copyFileSync(MODEL, path.join(dir, "model.pml"));
    const tb = performance.now();
    runSync("spin", [`-DBLOCKS=${n}`, ...(fix === "recheck-es" ? ["-DRECHECK_ES"] : []), "-a", "model.pml"], dir);
    runSync("gcc", ["-O2", "-DSAFETY", `-DMEMLIM=${memlimMiB}`, "-o", "pan", "pan.c"], dir);
    const buildMs = performance.now() - tb;
    // The fastest of `repeat` runs of ./pan (by its own elapsed time); a failed run stops there.
    let r = await run("./pan", ["-m100000"], dir, dir, timeoutS * 1000);
    const elapsed = (x: Ran) => Number(/pan: elapsed time ([\d.e+]+) seconds/.exec(x.stdout + x.stderr)?.[1] ?? NaN);
    for (let i = 1; i < repeat && r.code === 0 && !r.timedOut; i++) {
      const again = await run("./pan", ["-m100000"], dir, dir, timeoutS * 1000);
      if (again.code !== 0 || again.timedOut || elapsed(again) < elapsed(r) || (elapsed(again) === elapsed(r) && again.wallMs < r.wallMs)) r = again;
    }
    const out = r.stdout + r.stderr;
    const num = (re: RegExp) => {
      const m = re.exec(out);
      return m ? Number(m[1]!.replace(/,/g, "")) : null;
    };
    const base = {
      buildMs,
      states: num(/^\s*([\d.e+]+) states, stored/m),
      transitions: num(/^\s*([\d.e+]+) transitions/m),
      errors: num(/errors: (\d+)/),
      depth: num(/depth reached (\d+)/),
      ms: r.wallMs,
      panElapsedS: num(/pan: elapsed time ([\d.e+]+) seconds/),
      panMemMB: num(/^\s*([\d.]+)\s+total actual memory usage/m),
      rssMiB: r.rssMiB,
    };
    if (r.timedOut) return { status: "timeout", ...base };
    if (/MEMLIM|out of memory/i.test(out)) return { status: "out of memory", detail: out.slice(-400), ...base };
    if (r.code !== 0 || base.states === null) return { status: "error", detail: `exit ${r.code ?? r.signal}: ${out.slice(-400)}`, ...base };
    return { status: "ok", ...base };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- racelab -----------------------------------------------------------------------------------

interface RacelabResult {
  readonly status: "ok" | "timeout" | "error";
  readonly detail?: string;
  readonly verdict?: string;
  readonly executions?: number;
  readonly states?: number;
  readonly findings?: Record<string, number>;
  /** The check's elapsedMs, first check in a new process (started with V8_POOL_OPTION). */
  readonly ms: number;
  /** The same in a process with Node's default V8 pool (the fastest of `repeat`), or null. */
  defaultPoolMs?: number | null;
  readonly rssMiB: number | null;
  /** The fastest check's elapsedMs after a first in the same process, or null. */
  warmMs?: number | null;
  /** Wall time of `racelab check ... --json` in a new process, or null. */
  wallMs?: number | null;
}

/** The fastest of `repeat` cold checks (a failed run stops there), then the warm checks and the CLI's wall time. */
async function runRacelab(n: number): Promise<RacelabResult> {
  // (Alternating the two kinds of process: this machine's speed drifts within minutes.)
  let best = await runRacelabOnce(n, [V8_POOL_OPTION]);
  let dflt: RacelabResult | null = null;
  for (let i = 0; i < repeat && best.status === "ok"; i++) {
    if (i > 0) {
      const again = await runRacelabOnce(n, [V8_POOL_OPTION]);
      if (again.status !== "ok" || again.ms < best.ms) best = again;
    }
    const d = await runRacelabOnce(n, []);
    if (d.status === "ok" && (dflt === null || d.ms < dflt.ms)) dflt = d;
  }
  if (best.status !== "ok") return best;
  best.defaultPoolMs = dflt?.ms ?? null;
  const dir = mkdtempSync(path.join(os.tmpdir(), `racelab-bench-${n}-`));
  try {
    const w = await run(process.execPath, [V8_POOL_OPTION, CHILD, "warm", String(n), reduction, fix], process.cwd(), dir, timeoutS * 1000);
    best.warmMs = w.code === 0 ? Math.min(...(JSON.parse(w.stdout) as { times: number[] }).times.slice(2)) : null;
    const cli = path.join(path.dirname(self), "..", "dist", "cli", "main.js");
    // (As the bin's first line, `#!/usr/bin/env -S node --v8-pool-size=0`, runs it.)
    const argv = [V8_POOL_OPTION, cli, "check", SCENARIO, "--fix", fix, "--param", `blocks=${n}`, "--reduction", reduction, "--json"];
    let wall: number | null = null;
    for (let i = 0; i < repeat; i++) {
      const c = await run(process.execPath, argv, process.cwd(), dir, timeoutS * 1000);
      // (Exit status 1 is a failing verdict; the JSON must agree with the library's.)
      const v = c.code === 0 || c.code === 1 ? (JSON.parse(c.stdout) as { verdict?: string }).verdict : undefined;
      if (v !== best.verdict) throw new Error(`racelab check --json at N=${n}: verdict ${v ?? `exit ${c.code}`}, the library's ${best.verdict}`);
      wall = wall === null ? c.wallMs : Math.min(wall, c.wallMs);
    }
    best.wallMs = wall;
    return best;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One cold check in a new node started with `nodeOptions`. */
async function runRacelabOnce(n: number, nodeOptions: readonly string[]): Promise<RacelabResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `racelab-bench-${n}-`));
  try {
    const r = await run(process.execPath, [...nodeOptions, CHILD, "one", String(n), reduction, fix], process.cwd(), dir, timeoutS * 1000, (l) =>
      progress(`N=${n}: racelab: ${l}`),
    );
    if (r.timedOut) return { status: "timeout", ms: r.wallMs, rssMiB: r.rssMiB };
    if (r.code !== 0) return { status: "error", detail: `exit ${r.code ?? r.signal}: ${r.stderr.trim().split("\n").at(-1) ?? ""}`, ms: r.wallMs, rssMiB: r.rssMiB };
    const j = JSON.parse(r.stdout) as { verdict: string; executions: number; states?: unknown; findings: Record<string, number>; elapsedMs: number; maxRssMiB: number };
    return {
      status: "ok",
      verdict: j.verdict,
      executions: j.executions,
      ...(typeof j.states === "number" ? { states: j.states } : {}),
      findings: j.findings,
      ms: j.elapsedMs,
      rssMiB: r.rssMiB ?? j.maxRssMiB,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- main ----------------------------------------------------------------------------------------

const secs = (ms: number) => (ms < 10_000 ? (ms / 1000).toFixed(2) : (ms / 1000).toFixed(1)) + " s";
const mib = (v: number | null) => (v === null ? "n/a" : `${fmt(Math.round(v))} MiB`);
const version = (cmd: string, argv: string[]) => {
  const r = spawnSync(cmd, argv, { encoding: "utf8" });
  return r.error ? null : (r.stdout + r.stderr).split("\n").find((l) => l.trim() !== "")?.trim() ?? "?";
};

const spinVersion = version("spin", ["-V"]);
const gccVersion = version("gcc", ["--version"]);
if (spinVersion === null || gccVersion === null) usage("needs spin and gcc on PATH (apt-get install spin gcc)");

console.log(`# racelab vs SPIN: ${SCENARIO}, --fix ${fix}\n`);
console.log(
  `machine: ${os.cpus()[0]?.model ?? "?"}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}; ` +
    `${spinVersion}; ${gccVersion}\n`,
);
console.log(
  `racelab: exhaustive, reduction ${reduction}; SPIN: spin -DBLOCKS=N${fix === "recheck-es" ? " -DRECHECK_ES" : ""} -a, ` +
    `gcc -O2 -DSAFETY -DMEMLIM=${memlimMiB}, ./pan -m100000; timeout ${timeoutS} s per run; the fastest of ${repeat} run${repeat === 1 ? "" : "s"} of each\n`,
);

interface Row {
  n: number;
  spin: SpinResult;
  racelab: RacelabResult;
}
const rows: Row[] = [];
for (let n = 1; n <= maxN; n++) {
  progress(`N=${n}: SPIN start`);
  let spin: SpinResult;
  try {
    spin = await runSpin(n);
  } catch (e) {
    spin = { status: "error", detail: (e as Error).message, buildMs: 0, states: null, transitions: null, errors: null, depth: null, ms: 0, panElapsedS: null, panMemMB: null, rssMiB: null };
  }
  progress(
    `N=${n}: SPIN end: ${spin.status}` +
      (spin.states !== null ? `, ${fmt(spin.states)} states, errors ${spin.errors}` : "") +
      `, ${secs(spin.ms)}` +
      (spin.detail ? ` (${spin.detail.replace(/\s+/g, " ").slice(0, 300)})` : ""),
  );
  progress(`N=${n}: racelab (${reduction}) start`);
  const racelab = await runRacelab(n);
  progress(
    `N=${n}: racelab end: ${racelab.status}` +
      (racelab.executions !== undefined ? `, ${racelab.verdict}, ${fmt(racelab.executions)} executions` : "") +
      `, ${secs(racelab.ms)} cold` +
      (racelab.defaultPoolMs != null ? ` (${secs(racelab.defaultPoolMs)} with Node's default pool)` : "") +
      (racelab.warmMs != null ? `, ${secs(racelab.warmMs)} warm` : "") +
      (racelab.wallMs != null ? `, ${secs(racelab.wallMs)} to verdict` : "") +
      (racelab.detail ? ` (${racelab.detail.slice(0, 300)})` : ""),
  );
  rows.push({ n, spin, racelab });
}

const withStates = rows.some((r) => r.racelab.states !== undefined);
const timeout = `timeout (>${timeoutS} s)`;
const spinVerdict = (s: SpinResult) => (s.status !== "ok" ? s.status : s.errors === 0 ? "pass" : `fail (${s.errors} error${s.errors === 1 ? "" : "s"})`);
const cells = (r: Row): string[] => {
  const s = r.spin;
  const l = r.racelab;
  const spinOk = s.status === "ok";
  const lOk = l.status === "ok";
  // pan prints its elapsed time to 0.01 s: 0 means under 0.01 s (the ratio is then a lower bound).
  const spinMs = spinOk && s.panElapsedS !== null ? Math.max(s.panElapsedS * 1000, 10) : null;
  const under = spinOk && s.panElapsedS === 0;
  const spinTime = spinMs !== null ? (under ? "< 0.01 s" : secs(spinMs)) : s.status === "timeout" ? timeout : s.status;
  const lTime = lOk ? secs(l.ms) : l.status === "timeout" ? timeout : "error";
  const warm = lOk && l.warmMs != null ? l.warmMs : null;
  let ratio = "n/a";
  let warmRatio = "n/a";
  const x = (v: number) => (v >= 10 ? fmt(Math.round(v)) : v.toFixed(2));
  if (spinMs !== null && lOk) ratio = `${under ? "> " : ""}${x(l.ms / spinMs)}×`;
  else if (spinMs !== null && l.status === "timeout") ratio = `> ${x((timeoutS * 1000) / spinMs)}×`;
  if (spinMs !== null && warm !== null) warmRatio = `${under ? "> " : ""}${x(warm / spinMs)}×`;
  // Time to verdict: spin -a, gcc and ./pan against racelab check from a new process.
  const spinWall = spinOk ? s.buildMs + s.ms : null;
  const lWall = lOk && l.wallMs != null ? l.wallMs : null;
  const toVerdict = `${spinWall === null ? "n/a" : secs(spinWall)} / ${lWall === null ? "n/a" : secs(lWall)}`;
  const wallRatio = spinWall !== null && lWall !== null ? `${x(lWall / spinWall)}×` : "n/a";
  // pan stops at its first error (-c1): the states are then those stored until then.
  const spinStates = s.states === null ? "n/a" : fmt(s.states) + (!spinOk ? " (partial)" : s.errors ? " (to 1st error)" : "");
  return [
    String(r.n),
    String(2 * r.n + 1),
    spinStates,
    spinTime,
    mib(s.rssMiB ?? s.panMemMB),
    lOk ? fmt(l.executions!) : "n/a",
    ...(withStates ? [l.states !== undefined ? fmt(l.states) : "n/a"] : []),
    lTime,
    lOk && l.defaultPoolMs != null ? secs(l.defaultPoolMs) : "n/a",
    warm === null ? "n/a" : secs(warm),
    mib(l.rssMiB),
    ratio,
    warmRatio,
    `${spinVerdict(s)} / ${lOk ? l.verdict! : l.status}`,
    s.status === "error" && s.buildMs === 0 ? "n/a" : `${secs(s.buildMs)} / ${secs(s.ms)}`,
    toVerdict,
    wallRatio,
  ];
};
const head = [
  "N",
  "threads",
  "SPIN states",
  "SPIN time",
  "SPIN peak RSS",
  "racelab executions",
  ...(withStates ? ["racelab states"] : []),
  "racelab time cold",
  "racelab cold, Node's default pool",
  "racelab time warm",
  "racelab peak RSS",
  "racelab/SPIN time cold",
  "racelab/SPIN time warm",
  "verdict SPIN / racelab",
  "SPIN build / pan wall",
  "to verdict SPIN / racelab",
  "racelab/SPIN to verdict",
];
const align = head.map((h) => (h === "verdict SPIN / racelab" ? "---" : "---:"));
console.log(`| ${head.join(" | ")} |\n|${align.join("|")}|`);
for (const r of rows) console.log(`| ${cells(r).join(" | ")} |`);
console.log();
const disagree = rows.filter((r) => r.spin.status === "ok" && r.racelab.status === "ok" && (r.spin.errors === 0) !== (r.racelab.verdict === "pass"));
if (disagree.length > 0) console.log(`VERDICTS DISAGREE at N = ${disagree.map((r) => r.n).join(", ")}\n`);
for (const r of rows)
  if (r.racelab.findings && Object.keys(r.racelab.findings).length > 0)
    console.log(`racelab findings, N=${r.n}: ${Object.entries(r.racelab.findings).map(([k, v]) => `${k} (${fmt(v)})`).join("; ")}`);
