/**
 * Provenance of a report: which racelab (version, git commit), which Node and kernel made it,
 * what the notebook computed (from the `<name>.results.jsonl` that `racelab run` records beside
 * the executed copy: how many checks and rate runs, of which fixes, variants, modes, seeds and run
 * counts), the command that reproduces it, and the SHA-256 of the executed notebook.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { RecordedResult } from "../engine/record.js";
import { shellWord } from "../engine/replay-hint.js";
import { joinText, type Notebook } from "./notebook.js";

/** racelab's package root. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** racelab's version (package.json), or "". */
export function racelabVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version?: string }).version ?? "";
  } catch {
    return "";
  }
}

/** `git rev-parse HEAD` of racelab's checkout, or null (an installed copy, no git). */
export function gitCommit(): string | null {
  try {
    return execFileSync("git", ["-C", PACKAGE_ROOT, "rev-parse", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || null;
  } catch {
    return null;
  }
}

/** What a report says about where it comes from. */
export interface Provenance {
  /** racelab's version. */
  readonly racelab: string;
  /** racelab's git commit, or null. */
  readonly commit: string | null;
  /** Node's version. */
  readonly node: string;
  /** The notebook's kernel (kernelspec name), or null. */
  readonly kernel: string | null;
  /** SHA-256 of the executed notebook's bytes. */
  readonly notebookSha256: string;
  /** One line per kind of result computed (`12 exhaustive checks: fixes baseline, recheck-es; ...`), [] when none was recorded. */
  readonly computed: string[];
  /** Shell commands that make the report again. */
  readonly reproduce: string;
  /**
   * The configuration of each distinct recorded check (any mode), in recorded order; the verdict
   * section explores each fix under those memory models too (for checks with default parameters). Absent or []:
   * none recorded.
   */
  readonly checked?: readonly CheckedRecord[];
}

/** A recorded check's configuration (see {@link Provenance.checked}). */
export interface CheckedRecord {
  readonly scenario: string;
  readonly fix?: string;
  readonly variant: string;
  readonly memoryModel: string;
  /** Every parameter's value, when recorded. */
  readonly params?: Readonly<Record<string, number>>;
}

/** The distinct configurations (scenario, fix, variant, memory model, parameters) of the recorded checks (see {@link Provenance.checked}). */
export function checkedModels(results: readonly RecordedResult[]): CheckedRecord[] {
  const seen = new Map<string, CheckedRecord>();
  for (const r of results) {
    if (r.kind !== "check" || r.result === null || typeof r.result !== "object") continue;
    const res = r.result as { fix?: unknown; variant?: unknown; memoryModel?: unknown; params?: unknown };
    if (typeof res.variant !== "string" || typeof res.memoryModel !== "string") continue;
    const params = res.params !== null && typeof res.params === "object" ? (res.params as Record<string, number>) : undefined;
    const c: CheckedRecord = { scenario: r.scenario, ...(typeof res.fix === "string" ? { fix: res.fix } : {}), variant: res.variant, memoryModel: res.memoryModel, ...(params ? { params } : {}) };
    seen.set(JSON.stringify(c), c);
  }
  return [...seen.values()];
}

const list = (xs: Iterable<unknown>) => [...new Set([...xs].map((x) => String(x)))].join(", ");

/** Summary lines of recorded results (see {@link Provenance.computed}). */
export function summarizeResults(results: readonly RecordedResult[]): string[] {
  const out: string[] = [];
  const checks = results.filter((r) => r.kind === "check");
  const rateRuns = results.filter((r) => r.kind === "rates");
  const opt = (r: RecordedResult, k: string, d: unknown) => (r.options[k] ?? d) as unknown;
  if (checks.length > 0)
    out.push(
      `${checks.length} check${checks.length === 1 ? "" : "s"} of ${list(checks.map((r) => r.scenario))}: ` +
        `modes ${list(checks.map((r) => opt(r, "mode", "exhaustive")))}; fixes ${list(checks.map((r) => opt(r, "fix", "baseline")))}; ` +
        `variants ${list(checks.map((r) => opt(r, "variant", "default")))}; seeds ${list(checks.map((r) => opt(r, "seed", 1)))}`,
    );
  if (rateRuns.length > 0)
    out.push(
      `${rateRuns.length} failure-rate run${rateRuns.length === 1 ? "" : "s"} of ${list(rateRuns.map((r) => r.scenario))}: ` +
        `modes ${list(rateRuns.map((r) => opt(r, "mode", "random")))}; fixes ${list(rateRuns.map((r) => opt(r, "fix", "baseline")))}; ` +
        `seeds ${list(rateRuns.map((r) => opt(r, "seed", 1)))}; runs ${list(rateRuns.map((r) => opt(r, "runs", 10000)))}`,
    );
  return out;
}

/**
 * The provenance of the executed notebook at `path` (its bytes `bytes`, parsed `nb`): reads
 * `<name>.results.jsonl` beside it when there is one. The reproduce command runs the notebook
 * `racelab run` executed (its metadata's `racelab.run.source`, when that file is there; else
 * `notebooks/<name>.ipynb` when that exists) into the executed copy's folder (`--out` unless
 * `reports`) and reports `path`; with neither, it runs the executed copy itself into `reports/` and
 * reports that. It repeats the parameters of an `injected-parameters` cell as `-p`, and the
 * report's `outDir` (`--out`, default `reports`).
 */
export function provenanceOf(path: string, bytes: Buffer, nb: Notebook, outDir = "reports"): Provenance {
  const name = basename(path).replace(/\.ipynb$/, "");
  const resultsPath = join(dirname(path), `${name}.results.jsonl`);
  let computed: string[] = [];
  let checked: ReturnType<typeof checkedModels> = [];
  if (existsSync(resultsPath)) {
    try {
      const rs = readFileSync(resultsPath, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as RecordedResult);
      computed = summarizeResults(rs);
      checked = checkedModels(rs);
    } catch {
      computed = ["(the recorded results could not be read)"];
    }
  }
  const injected = nb.cells.find((c) => Array.isArray(c.metadata.tags) && (c.metadata.tags as unknown[]).includes("injected-parameters"));
  const params = injected === undefined ? [] : [...joinText(injected.source).matchAll(/const\s+([A-Za-z_$][\w$]*)\s*=\s*(.*?);\s*$/gm)].map((m) => ` -p ${m[1]}=${m[2]}`);
  const ran = (nb.metadata["racelab"] as { run?: { source?: unknown } } | undefined)?.run?.source;
  const source =
    typeof ran === "string" && ran !== "" && existsSync(ran) ? ran : existsSync(join("notebooks", `${name}.ipynb`)) ? join("notebooks", `${name}.ipynb`) : path;
  // (new-user trial 16: `racelab run x.ipynb --out myreports` printed `racelab run
  // myreports/x.ipynb --force && racelab report reports/x.ipynb`: the copy, and the wrong folder.)
  const runOut = dirname(path) === "reports" ? "" : ` --out ${shellWord(dirname(path))}`;
  const reportOut = outDir === "reports" ? "" : ` --out ${shellWord(outDir)}`;
  const kernel = (nb.metadata["kernelspec"] as { name?: unknown } | undefined)?.name;
  return {
    racelab: racelabVersion(),
    commit: gitCommit(),
    node: process.version,
    kernel: typeof kernel === "string" ? kernel : null,
    notebookSha256: createHash("sha256").update(bytes).digest("hex"),
    computed,
    checked,
    reproduce:
      source === path
        ? `racelab run ${shellWord(path)}${params.join("")} --force && racelab report reports/${shellWord(name)}.ipynb${reportOut}`
        : `racelab run ${shellWord(source)}${params.join("")}${runOut} --force && racelab report ${shellWord(path)}${reportOut}`,
  };
}
