/**
 * Recording results for reproducible archives (`racelab archive`, `racelab verify`): while the
 * environment variable `RACELAB_RECORD` names a file, every {@link check} and {@link rates} call
 * of the process appends one JSON line to it: `{ "kind": "check" | "rates", "scenario": id,
 * "bundled": true when racelab itself knows the id (a bundled scenario), "file": the scenario
 * file it was loaded from (`loadScenario("./my-race.ts")`, relative to the process's folder, which
 * for a notebook is the project root) or null, "options": the call's options without callbacks,
 * "result": what the call returned }`. `racelab run` sets it for each
 * notebook's kernel and keeps the lines as `<name>.results.jsonl` beside the executed copy.
 */
import { appendFileSync } from "node:fs";
import { relative, resolve, sep } from "node:path";
import { isRegisteredScenario, scenarioFileOf, type AnyScenario } from "./scenario.js";

/** One recorded call (a line of `<name>.results.jsonl`). */
export interface RecordedResult {
  /** Which function was called. */
  readonly kind: "check" | "rates";
  /** Scenario id. */
  readonly scenario: string;
  /** True when the id names a scenario racelab knows without the notebook (bundled): `verify` can recompute it. */
  readonly bundled: boolean;
  /**
   * The scenario file the scenario was loaded from, relative to the process's folder (a
   * notebook's project root), `/`-separated; null for a bundled scenario or one made in place
   * (absent in results recorded before 2026-12-01). `racelab archive` keeps the file and `verify`
   * recomputes from it.
   */
  readonly file?: string | null;
  /** The options passed, JSON (callbacks and worker parts left out). */
  readonly options: Record<string, unknown>;
  /** The result returned, as JSON. */
  readonly result: unknown;
}

/** Appends the call to the file `RACELAB_RECORD` names, if any. Never throws (a failed write is reported once on stderr). */
export function recordResult(kind: RecordedResult["kind"], sc: AnyScenario, opts: object, result: unknown): void {
  const path = process.env["RACELAB_RECORD"];
  if (path === undefined || path === "") return;
  // (Not lookupScenario(): it also finds a scenario a notebook defined, which verify cannot rebuild.)
  const bundled = isRegisteredScenario(sc);
  const options = JSON.parse(
    JSON.stringify(opts, (k, v: unknown) => (typeof v === "function" || k === "part" || k === "claims" ? undefined : v)),
  ) as Record<string, unknown>;
  const from = bundled ? undefined : scenarioFileOf(sc);
  const file = from === undefined ? null : relative(process.cwd(), resolve(from)).split(sep).join("/");
  const line: RecordedResult = { kind, scenario: sc.id, bundled, file, options, result };
  try {
    appendFileSync(path, JSON.stringify(line) + "\n");
  } catch (e) {
    if (!warned) process.stderr.write(`racelab: cannot record results to ${path}: ${(e as Error).message}\n`);
    warned = true;
  }
}
let warned = false;
