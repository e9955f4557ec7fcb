/**
 * racelab benchmarks (`npm run bench`). Prints a Markdown table per benchmark and the machine.
 *
 * 1. Exhaustive check of every fix × variant of each scenario (targets: ext4-delalloc-fallocate
 *    < 2 s in all; filemap-folio-split under sc and buffer-migrate-jbd2 < 5 s in all).
 * 2. Random, PCT and timed mode throughput on one core in a fresh process, runs/s (target:
 *    >= 100,000 runs/s), and random mode with the state tracked (`RunOptions.tracked`, as before sampling ran on the raw
 *    state).
 * 3. Exhaustive scaling with `blocks` = 1, 2, 3 under the fix, per reduction (sleep-sets, dpor,
 *    state-caching): time, executions, sleep-blocked prefixes, states, interleavings without
 *    reduction and peak RSS (each run in its own process).
 * 4. `--workers 1` against `--workers 2` on one check (wall time of the CLI; 4 and 5 start node
 *    with V8_POOL_OPTION, as the `racelab` bin does).
 * 5. `racelab rates` throughput with `--workers 1` and `2` (runs/s over the whole command, worker
 *    start-up included; issue 9's target: 100,000 runs/s per worker, two workers 1.7x one).
 *
 * `npm run bench -- --quick` skips blocks=3 (minutes on 2 cores) and makes 500,000 rather than
 * 1,000,000 runs in 5. The script builds first and measures the built package (dist/), what the
 * CLI and notebooks run: the TypeScript sources through tsx run about a quarter slower.
 */
import { spawnSync } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { check, getScenario, RandomStrategy, rates, resolveConfig, runStrategy, V8_POOL_OPTION, type MemoryModel, type Reduction } from "../dist/index.js";

const sc = getScenario("ext4-delalloc-fallocate");
const self = fileURLToPath(import.meta.url);
const fmt = (n: number) => n.toLocaleString("en-US");

/** Child mode: one exhaustive check, JSON on stdout with peak RSS. */
if (process.argv[2] === "--one") {
  const blocks = Number(process.argv[3]);
  const reduction = (process.argv[4] ?? "sleep-sets") as Reduction;
  const r = check(sc, {
    fix: "recheck-es",
    params: { blocks },
    reduction,
    countNaive: reduction === "sleep-sets" && blocks <= 2,
    onProgress: (done) => process.stderr.write(`\r  blocks=${blocks} ${reduction}: ${fmt(done)} executions`),
  });
  process.stderr.write("\r\x1b[K");
  const maxRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ ...r, counterexample: null, maxRssMiB }));
  process.exit(0);
}

/** Child mode: random, PCT and timed throughput rows (a fresh JIT, as a CLI run has). */
if (process.argv[2] === "--throughput") {
  for (const mode of ["random", "pct"] as const) {
    check(sc, { mode, runs: 5_000, seed: 1 }); // warm-up
    const runs = 100_000;
    const t = performance.now();
    const r = check(sc, { mode, runs, seed: 1 });
    const rate = runs / ((performance.now() - t) / 1000);
    console.log(`| ${mode} (check) | ${fmt(runs)} | ${fmt(Math.round(rate))} | ${fmt(r.violations)} |`);
  }
  // The timed mode is a rates() mode only (check has no timed mode).
  rates(sc, { mode: "timed", runs: 5_000 }); // warm-up
  const t = performance.now();
  const r = rates(sc, { mode: "timed", runs: 100_000 });
  console.log(`| timed (rates) | ${fmt(r.runs)} | ${fmt(Math.round(r.runs / ((performance.now() - t) / 1000)))} | ${fmt(r.failures)} |`);
  // The same random runs with the state behind the tracking proxies (RunOptions.tracked), and not.
  const cfg = resolveConfig(sc, "baseline", "default", {});
  for (const tracked of [true, false]) {
    let failing = 0;
    const t1 = performance.now();
    runStrategy(sc, cfg, new RandomStrategy(1, 100_000), { tracked }, (v) => void (failing += v.exec.findings.length > 0 ? 1 : 0));
    const rate = 100_000 / ((performance.now() - t1) / 1000);
    console.log(`| random (runStrategy, ${tracked ? "tracked state" : "raw state"}) | ${fmt(100_000)} | ${fmt(Math.round(rate))} | ${fmt(failing)} |`);
  }
  process.exit(0);
}

const quick = process.argv.includes("--quick");
console.log(`# racelab benchmarks\n`);
console.log(`machine: ${os.cpus()[0]?.model ?? "?"}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}\n`);

/** Exhaustive check of every fix × variant of a scenario: a Markdown table and the total time. */
function exhaustiveTable(id: string, title: string, targetMs: number, memoryModel?: MemoryModel): void {
  const s = getScenario(id);
  check(s, { fix: s.fixes[0]!.id, variant: s.variants[0]!.id, memoryModel }); // warm-up (JIT), not counted
  const rows: string[] = [];
  let executions = 0;
  let allComplete = true;
  const t0 = performance.now();
  for (const f of s.fixes)
    for (const v of s.variants) {
      const r = check(s, { fix: f.id, variant: v.id, memoryModel, countNaive: true });
      executions += r.executions;
      allComplete &&= r.complete;
      const inter = r.naiveExecutions === null ? "n/a" : r.naiveExecutions > Number.MAX_SAFE_INTEGER ? `~${r.naiveExecutions.toExponential(2)}` : fmt(r.naiveExecutions);
      rows.push(`| ${f.id} | ${v.id} | ${r.verdict} | ${fmt(r.executions)} | ${inter} | ${r.complete} | ${r.elapsedMs.toFixed(1)} |`);
    }
  const total = performance.now() - t0;
  console.log(`## ${title}\n`);
  console.log(`| fix | variant | verdict | executions | interleavings | complete | ms |\n|---|---|---|---:|---:|---|---:|`);
  console.log(rows.join("\n"));
  console.log(
    `\ntotal: ${total.toFixed(0)} ms for ${rows.length} checks, ${fmt(executions)} executions, ` +
      `${allComplete ? "all complete" : "SOME INCOMPLETE"} (target < ${targetMs} ms)\n`,
  );
}

// 1. every fix and variant of each scenario
exhaustiveTable("ext4-delalloc-fallocate", "Exhaustive: every fix and variant of ext4-delalloc-fallocate (blocks=1)", 2000);
exhaustiveTable("filemap-folio-split", "Exhaustive: every fix and variant of filemap-folio-split under sc", 5000, "sc");
exhaustiveTable("buffer-migrate-jbd2", "Exhaustive: every fix and variant of buffer-migrate-jbd2", 5000);

// 2. random throughput, in a fresh process (as the CLI runs it: the exhaustive checks above leave
// the JIT's inline caches shaped by every scenario, which costs sampling about a quarter)
{
  console.log(`## Random, PCT and timed mode throughput (one core, baseline/default, a fresh process)\n`);
  console.log(`| mode | runs | runs/s | violating |\n|---|---:|---:|---:|`);
  const child = spawnSync(process.execPath, ["--import", "tsx", self, "--throughput"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (child.status !== 0) throw new Error(`throughput run failed`);
  process.stdout.write(child.stdout);
  console.log(`\ntarget: random >= 100,000 runs/s\n`);
}

// 3. scaling
{
  console.log(`## Exhaustive scaling with blocks=N (recheck-es, default), per reduction\n`);
  console.log(`| N | threads | reduction | executions | sleep-blocked | states | interleavings | complete | time (s) | peak RSS (MiB) |\n|---:|---:|---|---:|---:|---:|---:|---|---:|---:|`);
  const runs: [number, Reduction][] = [[1, "sleep-sets"], [1, "dpor"], [1, "state-caching"], [2, "sleep-sets"], [2, "dpor"], [2, "state-caching"]];
  if (!quick) runs.push([3, "sleep-sets"], [3, "dpor"]);
  for (const [n, reduction] of runs) {
    const child = spawnSync(process.execPath, ["--import", "tsx", self, "--one", String(n), reduction], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 1 << 26,
    });
    if (child.status !== 0) throw new Error(`blocks=${n} failed: ${child.stderr}`);
    const r = JSON.parse(child.stdout);
    const inter = r.naiveExecutions === null ? "too many to count" : r.naiveExecutions > Number.MAX_SAFE_INTEGER ? `~${r.naiveExecutions.toExponential(2)}` : fmt(r.naiveExecutions);
    const inter2 = r.naiveExecutions === null ? "-" : inter;
    console.log(
      `| ${n} | ${2 * n + 1} | ${reduction} | ${fmt(r.executions)} | ${fmt(r.sleepBlocked)} | ${r.states === null ? "-" : fmt(r.states)} | ${inter2} | ${r.complete} | ${(r.elapsedMs / 1000).toFixed(2)} | ${r.maxRssMiB.toFixed(0)} |`,
    );
  }
}

// 4. workers: the CLI with --workers 1 and 2 on the same check (one process each, wall time)
{
  console.log(`\n## --workers (racelab check ext4-delalloc-fallocate --fix recheck-es --param blocks=2, wall time)\n`);
  console.log(`| workers | executions | wall time (s) |\n|---:|---:|---:|`);
  const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
  let base = 0;
  for (const w of [1, 2]) {
    const t = performance.now();
    const child = spawnSync(process.execPath, [V8_POOL_OPTION, cli, "check", "ext4-delalloc-fallocate", "--fix", "recheck-es", "--param", "blocks=2", "--workers", String(w), "--json", "--quiet"], { encoding: "utf8" });
    const secs = (performance.now() - t) / 1000;
    if (child.status !== 0) throw new Error(`--workers ${w} failed: ${child.stderr}`);
    base ||= secs;
    console.log(`| ${w} | ${fmt((JSON.parse(child.stdout) as { executions: number }).executions)} | ${secs.toFixed(2)}${w > 1 ? ` (${(base / secs).toFixed(2)}× one)` : ""} |`);
  }
}

// 5. rates throughput
{
  const runs = quick ? 500_000 : 1_000_000;
  console.log(`\n## racelab rates ext4-delalloc-fallocate --runs ${fmt(runs)} (random, blocks=1), wall time of the command\n`);
  console.log(`| workers | runs | failures | wall time (s) | runs/s |\n|---:|---:|---:|---:|---:|`);
  const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
  let base = 0;
  for (const w of [1, 2]) {
    const t = performance.now();
    const child = spawnSync(process.execPath, [V8_POOL_OPTION, cli, "rates", "ext4-delalloc-fallocate", "--runs", String(runs), "--workers", String(w), "--json", "--quiet"], { encoding: "utf8" });
    const secs = (performance.now() - t) / 1000;
    if (child.status !== 0) throw new Error(`rates --workers ${w} failed: ${child.stderr}`);
    const r = (JSON.parse(child.stdout) as { runs: number; failures: number }[])[0]!;
    base ||= secs;
    console.log(`| ${w} | ${fmt(r.runs)} | ${fmt(r.failures)} | ${secs.toFixed(2)}${w > 1 ? ` (${(base / secs).toFixed(2)}× one)` : ""} | ${fmt(Math.round(r.runs / secs))} |`);
  }
}
