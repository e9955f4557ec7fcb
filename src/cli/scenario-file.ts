/**
 * The scenario of a notebook that checks a scenario file (`racelab new`'s notebooks,
 * `loadScenario("./my-race.ts")`): found for `racelab report` (the verdict section) and
 * `racelab archive` (which keeps the file so that `racelab verify` can recompute its results).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { RecordedResult } from "../engine/record.js";
import { setScenarioFile, type AnyScenario } from "../engine/scenario.js";
import { loadScenario } from "../registry.js";
import { notebookScenario } from "../report/document.js";
import type { Notebook } from "../report/notebook.js";
import { projectOf } from "./project.js";

/** The results recorded beside an executed notebook (`<name>.results.jsonl`), or none; lines that are not JSON are skipped. */
export async function recordedResults(notebookPath: string): Promise<RecordedResult[]> {
  const file = notebookPath.replace(/\.ipynb$/, "") + ".results.jsonl";
  const text = await readFile(file, "utf8").catch(() => "");
  const out: RecordedResult[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      out.push(JSON.parse(line) as RecordedResult);
    } catch {
      // (verify reports a bad line; here it only means no file name from it)
    }
  }
  return out;
}

/**
 * The scenario file a notebook checks: its metadata's `racelab.file` (written by `racelab new`),
 * else the `file` of a result recorded beside it for the scenario its metadata names. `recorded`
 * is the path as written there (relative to the project root: the nearest folder at or above the
 * notebook with a package.json, where the kernel runs), `abs` where it is now. Null when the
 * notebook names no file (a bundled scenario, or one defined in its own cells).
 */
export async function notebookScenarioFile(nb: Notebook, notebookPath: string): Promise<{ recorded: string; abs: string } | null> {
  const meta = nb.metadata.racelab ?? {};
  let recorded: string | null = typeof meta["file"] === "string" ? meta["file"] : null;
  if (recorded === null && typeof meta.scenario === "string") {
    const r = (await recordedResults(notebookPath)).find((x) => x.scenario === meta.scenario && typeof x.file === "string");
    recorded = r?.file ?? null;
  }
  if (recorded === null) return null;
  // One spelling for the same file: `./races/x.ts` (metadata) and `races/x.ts` (recorded results).
  recorded = path.posix.normalize(recorded.split(path.sep).join("/"));
  const root = projectOf(path.dirname(path.resolve(notebookPath)))?.root ?? process.cwd();
  return { recorded, abs: path.resolve(root, recorded) };
}

/**
 * The scenario a notebook is about: the bundled one its metadata names, else the one its scenario
 * file exports (see {@link notebookScenarioFile}), else null. Throws UsageError when the file
 * cannot be loaded.
 */
export async function loadNotebookScenario(nb: Notebook, notebookPath: string): Promise<AnyScenario | null> {
  const bundled = notebookScenario(nb);
  if (bundled !== null) return bundled;
  const file = await notebookScenarioFile(nb, notebookPath);
  if (file === null) return null;
  const id = nb.metadata.racelab?.scenario;
  const sc = await loadScenario(file.abs, typeof id === "string" ? id : undefined);
  // Replay commands name the file as the notebook does, from the project root.
  setScenarioFile(sc, file.recorded.startsWith("../") ? file.recorded : `./${file.recorded}`);
  return sc;
}
