/**
 * The command that replays a run: what racelab prints next to a counterexample (`racelab check`,
 * `showCounterexample`) and what `Session.replayCommand` gives, so that a reader can reproduce
 * the interleaving with `racelab replay` under the same configuration.
 */
import type { CheckResult } from "./check.js";
import type { MemoryModel } from "./memory.js";
import { UsageError } from "../errors.js";
import { lookupScenario, resolveConfig, scenarioFileOf, type AnyScenario } from "./scenario.js";

/** A configuration and schedule to replay (the fields of a `CheckResult` or `ReplayResult`). */
export interface ReplayTarget {
  /** Scenario id. */
  readonly scenario: string;
  /** Fix id. */
  readonly fix: string;
  /** Variant id. */
  readonly variant: string;
  /** Every parameter's value (defaults included, as check results carry them). */
  readonly params: Readonly<Record<string, number>>;
  /** Memory model the schedule ran under. */
  readonly memoryModel: MemoryModel;
  /** Schedule string (see schedule.ts). */
  readonly schedule: string;
}

/** Quotes a word for a POSIX shell when it has characters the shell would interpret. */
export function shellWord(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/**
 * The `racelab replay` command line that replays `target`:
 * `racelab replay <scenario> --fix <id> [--variant <id>] [--param name=value ...]
 * [--memory-model <m>] --schedule <string>`.
 *
 * `--variant` is given unless it is `default`; `--param` for each parameter whose value differs
 * from the variant's default (the variant's parameters over the scenario's), in the scenario's
 * parameter order; `--memory-model` when the model is not `sc` or is not the variant's own (a
 * `pso` variant checked under `sc` needs `--memory-model sc`). `scenario`, when given, supplies
 * those defaults; otherwise the bundled scenario with the target's id does. When neither is
 * available, every parameter and the memory model are given explicitly, which replays the same
 * run. `scenarioRef` is how the command names the scenario (default: the file `loadScenario()`
 * loaded the scenario from, `scenario` or the one the target's id finds, else the id). Words
 * the shell would interpret are single-quoted.
 */
export function replayCommandFor(target: ReplayTarget, scenarioRef?: string, scenario?: AnyScenario): string {
  let sc: AnyScenario | null = scenario ?? null;
  if (sc === null) {
    try {
      sc = lookupScenario(target.scenario);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
    }
  }
  let defaults: { params: Record<string, number>; memoryModel: MemoryModel } | null = null;
  if (sc !== null && sc.id === target.scenario) {
    try {
      const cfg = resolveConfig(sc, target.fix, target.variant);
      defaults = { params: cfg.params, memoryModel: cfg.memoryModel ?? "sc" };
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
    }
  }
  // (The scenario found by id names its file too: `showCounterexample(result)` of a file scenario
  // printed `racelab replay <id>`, which replay cannot find; new-user trial 17.)
  const fromFile = sc !== null && sc.id === target.scenario ? scenarioFileOf(sc) : undefined;
  const words = ["racelab", "replay", scenarioRef ?? fromFile ?? target.scenario, "--fix", target.fix];
  if (target.variant !== "default") words.push("--variant", target.variant);
  for (const [name, value] of Object.entries(target.params))
    if (defaults === null || defaults.params[name] !== value) words.push("--param", `${name}=${value}`);
  if (target.memoryModel !== "sc" || defaults === null || defaults.memoryModel !== target.memoryModel)
    words.push("--memory-model", target.memoryModel);
  words.push("--schedule", target.schedule);
  return words.map(shellWord).join(" ");
}

/**
 * The `racelab replay` command line that reproduces a check's counterexample (see
 * {@link replayCommandFor} for which options it carries), e.g.
 * `racelab replay filemap-folio-split --fix baseline --variant persistent-corruption --param order=2
 * --memory-model pso --schedule 1x19.0x2.3x15.0x3.1x4.0x2`.
 *
 * `scenarioRef` is how the command names the scenario: a string (default: `r.scenario`, the id),
 * or the scenario object itself, which then also supplies the defaults (for scenarios that are not
 * bundled) and is named by the file `loadScenario()` loaded it from, else by its id. Throws UsageError when the check found no counterexample.
 */
export function replayCommand(r: CheckResult, scenarioRef?: string | AnyScenario): string {
  if (r.counterexample === null)
    throw new UsageError(`${r.scenario} ${r.fix}/${r.variant}: no counterexample to replay (${r.verdict})`);
  const target: ReplayTarget = { ...r, schedule: r.counterexample.schedule };
  return typeof scenarioRef === "object" ? replayCommandFor(target, undefined, scenarioRef) : replayCommandFor(target, scenarioRef);
}
