/**
 * The `racelab` command. Contracts (arguments, JSON shapes, exit statuses) are in the README's
 * reference section. Exit status: 0 when the command ran, 1 for a finding only with
 * `--fail-on-finding`, 2 for bad usage or bad input (one line on stderr).
 */
import { Command, CommanderError, Option } from "commander";
import { SingleBar, Presets } from "cli-progress";
import { check, MODES, REDUCTIONS, replay, replayCounterexample, type CheckResult, type Mode, type Reduction } from "../engine/check.js";
import { evaluateClaims, formatSource } from "../engine/claims.js";
import { MEMORY_MODELS, type MemoryModel } from "../engine/memory.js";
import { ModelError } from "../engine/execution.js";
import { UsageError, type AnyScenario } from "../engine/scenario.js";
import { renderDiagram } from "../engine/trace.js";
import { replayCommand } from "../engine/replay-hint.js";
import { scenarios } from "../scenarios/index.js";
import { isScenarioPath, loadScenario } from "../registry.js";
import { registerNewCommand } from "./new.js";
import { registerReportCommand } from "./report.js";
import { registerRunCommand } from "./run.js";

const out = (s: string) => process.stdout.write(s + "\n");

function parseParams(items: readonly string[]): Record<string, number> {
  const params: Record<string, number> = {};
  for (const item of items) {
    const m = /^([a-z][a-z0-9_-]*)=(-?\d+)$/i.exec(item);
    if (!m) throw new UsageError(`malformed --param '${item}': expected name=integer, e.g. blocks=2`);
    params[m[1]!] = Number(m[2]);
  }
  return params;
}

function intOption(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min) throw new UsageError(`${name} must be an integer of at least ${min}, got '${text}'`);
  return Number(text);
}

const collect = (v: string, prev: string[]) => [...prev, v];

/** A progress bar on stderr when it is a terminal; a no-op otherwise. */
function progress(label: string): { update(done: number, total: number | null): void; stop(): void } {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  let bar: SingleBar | null = null;
  return {
    update(done, total) {
      if (bar === null) {
        bar = new SingleBar(
          {
            stream: process.stderr,
            format: total === null ? `${label} {value} executions` : `${label} [{bar}] {value}/{total} executions`,
            hideCursor: true,
            clearOnComplete: true,
          },
          Presets.shades_classic,
        );
        bar.start(total ?? 0, 0);
      }
      bar.update(done);
    },
    stop() {
      bar?.stop();
    },
  };
}

function summaryLine(r: CheckResult): string {
  const counts =
    r.mode === "exhaustive"
      ? `${r.executions} executions${r.naiveExecutions !== null ? ` (${r.naiveExecutions} without reduction)` : ""}${r.complete ? "" : ", INCOMPLETE"}`
      : `${r.executions} ${r.mode} executions, seed ${r.seed}`;
  const verdict =
    r.verdict === "fail" ? `FAIL: ${r.violations} violating` : r.verdict === "incomplete" ? "no violation found (INCOMPLETE)" : "pass";
  const mm = r.memoryModel === "sc" ? "" : ` [${r.memoryModel}]`;
  return `${r.scenario} ${r.fix}/${r.variant}${mm}: ${verdict} — ${counts}, ${r.elapsedMs} ms`;
}

function printCheck(sc: AnyScenario, r: CheckResult, ref: string): void {
  out(summaryLine(r));
  for (const w of r.warnings) out(`  warning: ${w}`);
  for (const [k, n] of Object.entries(r.findings)) out(`  ${n} × ${k}`);
  if (r.counterexample) {
    const ce = r.counterexample;
    out(`  counterexample (${ce.preemptions} preemption${ce.preemptions === 1 ? "" : "s"}): ${replayCommand(r, isScenarioPath(ref) ? ref : sc)}`);
    out("");
    out(renderDiagram(replayCounterexample(sc, r)!).replace(/^/gm, "    "));
    out("");
  }
}

/** Builds the commander program (exported for tests). */
export function buildProgram(): Command {
  const program = new Command("racelab")
    .description("Model kernel races from mailing-list threads; explore every interleaving; report.")
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

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
    .option("--fix <id>", "fix id", "baseline")
    .option("--all-fixes", "every fix")
    .option("--variant <id>", "variant id", "default")
    .option("--all-variants", "every variant")
    .addOption(new Option("--mode <mode>", "exploration mode").choices(MODES as string[]).default("exhaustive"))
    .addOption(new Option("--memory-model <model>", "memory model (default: the variant's, else sc)").choices(MEMORY_MODELS as string[]))
    .option("--runs <n>", "executions in random and pct modes (default 10000)")
    .option("--seed <s>", "PRNG seed for random and pct modes (default 1)")
    .option("--max-executions <n>", "bound on exhaustive executions (default 1000000); complete=false when hit")
    .addOption(new Option("--reduction <name>", "exhaustive mode: partial-order reduction, or none to explore every interleaving").choices(REDUCTIONS as string[]).default("sleep-sets"))
    .option("--cross-check <n>", "exhaustive mode: unreduced executions sampled to cross-check the reduction (default 10 per reduced execution, 200 to 1000; 0 skips)")
    .option("--param <name=value>", "scenario parameter, repeatable", collect, [] as string[])
    .option("--json", "JSON output (an object, or an array with --all-fixes/--all-variants)")
    .option("--fail-on-finding", "exit status 1 when any configuration has a violation")
    .action(async (id: string, o: Record<string, unknown>) => {
      const sc = await loadScenario(id);
      const params = parseParams(o.param as string[]);
      const fixIds = o.allFixes ? sc.fixes.map((f) => f.id) : [o.fix as string];
      const variantIds = o.allVariants ? sc.variants.map((v) => v.id) : [o.variant as string];
      const runs = intOption("--runs", o.runs as string | undefined, 1);
      const seed = intOption("--seed", o.seed as string | undefined, 0);
      const maxExecutions = intOption("--max-executions", o.maxExecutions as string | undefined, 1);
      const crossCheck = intOption("--cross-check", o.crossCheck as string | undefined, 0);
      const results: CheckResult[] = [];
      for (const fix of fixIds)
        for (const variant of variantIds) {
          const bar = progress(`${fix}/${variant}`);
          try {
            results.push(
              check(sc, {
                fix,
                variant,
                params,
                mode: o.mode as Mode,
                memoryModel: o.memoryModel as MemoryModel,
                runs,
                seed,
                maxExecutions,
                reduction: o.reduction as Reduction,
                crossCheck,
                onProgress: bar.update,
              }),
            );
          } finally {
            bar.stop();
          }
        }
      if (o.json) out(JSON.stringify(o.allFixes || o.allVariants ? results : results[0], null, 2));
      else for (const r of results) printCheck(sc, r, id);
      if (o.failOnFinding && results.some((r) => r.verdict === "fail")) process.exitCode = 1;
    });

  program
    .command("replay")
    .description("replay a schedule string and draw the interleaving")
    .argument("<scenario>", "scenario id or a scenario file (./my-race.ts)")
    .requiredOption("--fix <id>", "fix id")
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
        params: parseParams(o.param as string[]),
        memoryModel: o.memoryModel as MemoryModel,
        schedule: o.schedule as string,
      });
      if (o.json) {
        out(JSON.stringify(result, null, 2));
        return;
      }
      out(renderDiagram(exec));
      out("");
      out(result.findings.length > 0 ? `findings: ${result.findings.join("; ")}` : "no finding");
    });

  program
    .command("claims")
    .description("evaluate the claims made in the thread against the model")
    .argument("[scenario]", "scenario id or a scenario file (default: every bundled scenario)")
    .option("--json", "JSON output")
    .action(async (id: string | undefined, o: { json?: boolean }) => {
      const list = id === undefined ? scenarios : [await loadScenario(id)];
      const results = list.flatMap((sc) => evaluateClaims(sc));
      if (o.json) {
        out(JSON.stringify(results, null, 2));
        return;
      }
      for (const c of results) {
        out(`${c.holds ? "HOLDS " : "FAILS "} ${c.scenario}/${c.id}: ${c.statement}`);
        out(`        source:   ${c.source}`);
        out(`        expected: ${c.expected}`);
        out(`        observed: ${c.observed}`);
      }
    });

  registerNewCommand(program);
  registerRunCommand(program);
  registerReportCommand(program);
  return program;
}

/** Runs the CLI; maps usage errors to exit status 2 with one line on stderr. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[], { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return 0;
      return 2; // commander already printed its one-line error
    }
    if (e instanceof UsageError) {
      process.stderr.write(`racelab: ${e.message}\n`);
      return 2;
    }
    if (e instanceof ModelError) {
      process.stderr.write(`racelab: model error: ${e.message}\n`);
      return 3;
    }
    throw e;
  }
}

