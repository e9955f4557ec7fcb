/**
 * `racelab archive <executed.ipynb> [--out DIR]` and `racelab verify <archive>`: reproducible
 * analysis archives.
 *
 * An archive, `<out>/<name>.racelab.tar.gz` (node-tar, gzip), holds one folder `<name>/` with the
 * executed notebook, the results it computed (`<name>.results.jsonl`, recorded by `racelab run`:
 * every check() and rates() call with its options, result and scenario file, see
 * engine/record.ts), whichever of the HTML, PDF, mail text and `.eml` sit beside it, each scenario
 * file the notebook checked as `<name>.scenario.mjs` (registry.ts portableScenarioBundle()), and
 * `manifest.json`: racelab's version and git commit, Node's version, the SHA-256 of
 * package-lock.json, the kernel, the SHA-256 of every other file, and which archived file holds
 * which scenario file. Entries carry a fixed mtime (SOURCE_DATE_EPOCH, else 2000-01-01) and no owner,
 * so the same files give the same archive.
 *
 * `verify` lists the archive before extracting anything and refuses an entry that is not a plain
 * file or folder under `<name>/` (absolute, `..`, links, devices); extracts into a temporary
 * folder it removes afterwards; checks every file against the manifest (a missing, extra or
 * changed file is an error); then recomputes every recorded result of a bundled scenario with
 * this racelab (a scenario file's from the archived file) and compares it with the recorded one,
 * field by field, `elapsedMs` and `workers` aside. Results of a scenario the notebook defines in
 * its own cells cannot be recomputed outside it and are counted as such.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import * as tar from "tar";
import { check } from "../engine/check.js";
import { clip } from "../engine/clip.js";
import { rates } from "../engine/rates.js";
import type { RecordedResult } from "../engine/record.js";
import { InputError } from "../errors.js";
import { ensureDir, writeFileAtomic } from "../report/atomic.js";
import { readNotebook } from "../report/notebook.js";
import { writeReportIndex } from "../report/index-page.js";
import { gitCommit, PACKAGE_ROOT, racelabVersion } from "../report/provenance.js";
import { sourceDate } from "../report/document.js";
import { loadScenario, portableScenarioBundle } from "../registry.js";
import type { AnyScenario } from "../engine/scenario.js";
import { projectOf } from "./project.js";
import { notebookScenarioFile, recordedResults } from "./scenario-file.js";


/** What `manifest.json` holds. */
export interface Manifest {
  /** Always "racelab-archive". */
  readonly format: "racelab-archive";
  /** 1. */
  readonly version: 1;
  /** The notebook's name (the archive's folder). */
  readonly name: string;
  /** racelab's version (package.json). */
  readonly racelab: string;
  /** `git rev-parse HEAD` of racelab's checkout, or null (an installed copy). */
  readonly commit: string | null;
  /** Node's version. */
  readonly node: string;
  /** SHA-256 of racelab's package-lock.json, or null. */
  readonly packageLockSha256: string | null;
  /** The Jupyter kernel the notebook ran in (its metadata's kernelspec name). */
  readonly kernel: string | null;
  /** SHA-256 of each file of the folder but the manifest, by file name. */
  readonly files: Record<string, string>;
  /**
   * The scenario files the notebook checked (their recorded paths, relative to its project root),
   * each with the archive's file that holds it: `<name>.scenario.mjs` (then `-2`, `-3`, ...), the
   * file and what it imports by relative path bundled into one module that imports racelab by
   * name, with the original sources in its inline source map. Absent when there are none.
   */
  readonly scenarios?: Record<string, string>;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}


/** The fixed mtime of archive entries: SOURCE_DATE_EPOCH, else 2000-01-01. */
function entryDate(): Date {
  return sourceDate() ?? new Date(Date.UTC(2000, 0, 1));
}

/**
 * Writes `<out>/<name>.racelab.tar.gz` for an executed notebook (see the module comment) and
 * returns its path. Throws InputError (exit 2) for a missing or invalid notebook or an --out that
 * cannot be made.
 */
export async function archiveNotebook(executed: string, opts: { out?: string; warn?: (line: string) => void } = {}): Promise<string> {
  const warn = opts.warn ?? ((l: string) => process.stderr.write(l + "\n"));
  const nb = await readNotebook(executed);
  const name = basename(executed).replace(/\.ipynb$/, "");
  const dir = dirname(executed);
  const out = opts.out ?? dir;
  await ensureDir(out).catch((e: NodeJS.ErrnoException) => {
    throw new InputError(`--out ${clip(out)}: cannot create the folder (${e.code ?? e.message})`);
  });
  const stage = await mkdtemp(join(tmpdir(), "racelab-archive-"));
  try {
    const folder = join(stage, name);
    await ensureDir(folder);
    const files: Record<string, string> = {};
    for (const suffix of [".ipynb", ".results.jsonl", ".html", ".pdf", ".mail.txt", ".eml"]) {
      const src = join(dir, name + suffix);
      const s = await stat(src).catch(() => null);
      if (s === null || !s.isFile()) continue;
      await copyFile(src, join(folder, name + suffix));
      files[name + suffix] = await sha256File(src);
    }
    // The scenario files the notebook checked (not bundled ones): kept so verify can recompute.
    const scenarios: Record<string, string> = {};
    const wanted = new Map<string, string>();
    const named = await notebookScenarioFile(nb, executed);
    if (named !== null) wanted.set(named.recorded, named.abs);
    const root = projectOf(dirname(resolve(executed)))?.root ?? process.cwd();
    for (const r of await recordedResults(executed))
      if (!r.bundled && typeof r.file === "string" && !wanted.has(r.file)) wanted.set(r.file, resolve(root, r.file));
    for (const [recorded, abs] of wanted) {
      const k = Object.keys(scenarios).length;
      const fname = `${name}.scenario${k === 0 ? "" : `-${k + 1}`}.mjs`;
      let js: string;
      try {
        js = await portableScenarioBundle(abs);
      } catch (e) {
        warn(`racelab archive: ${clip(executed)}: cannot keep the scenario file ${clip(recorded)} (${(e as Error).message}); its results will not be recomputable`);
        continue;
      }
      await writeFileAtomic(join(folder, fname), js);
      files[fname] = createHash("sha256").update(js).digest("hex");
      scenarios[recorded] = fname;
    }
    const lock = await readFile(join(PACKAGE_ROOT, "package-lock.json")).catch(() => null);
    const kernel = (nb.metadata["kernelspec"] as { name?: unknown } | undefined)?.name;
    const manifest: Manifest = {
      format: "racelab-archive",
      version: 1,
      name,
      racelab: racelabVersion(),
      commit: gitCommit(),
      node: process.version,
      packageLockSha256: lock === null ? null : createHash("sha256").update(lock).digest("hex"),
      kernel: typeof kernel === "string" ? kernel : null,
      files,
      ...(Object.keys(scenarios).length > 0 ? { scenarios } : {}),
    };
    await writeFileAtomic(join(folder, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
    const target = join(out, `${name}.racelab.tar.gz`);
    const entries = [`${name}/manifest.json`, ...Object.keys(files).sort().map((f) => `${name}/${f}`)];
    await writeFileAtomic(target, async (tmp) => {
      await tar.c({ gzip: true, file: tmp, cwd: stage, portable: true, mtime: entryDate(), noDirRecurse: true }, entries);
    });
    // The folder's index lists the archive beside the reports (when the folder has reports).
    if ((await stat(join(out, "index.html")).catch(() => null)) !== null) await writeReportIndex(out);
    return target;
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/** What {@link verifyArchive} found for one recorded result. */
export interface VerifiedResult {
  /** `check` or `rates`. */
  readonly kind: string;
  /**
   * `<scenario> <fix>/<variant>`, the parameters that tell it apart from the archive's other
   * results of the scenario (`delay_us=2`: see {@link shownParams}), and the mode and memory model
   * when given: `check-act delay/default delay_us=2 (timed)`.
   */
  readonly what: string;
  /** The parameters `what` names, with the recorded result's values. */
  readonly params: Record<string, unknown>;
  /** identical, different, or not recomputable (a scenario defined in the notebook's cells). */
  readonly status: "identical" | "different" | "not recomputable";
  /**
   * The fields that differ (top-level keys), when different; a field whose two values are
   * numbers, strings, booleans or null with both: `failures (13 recorded, 15 now)`.
   */
  readonly fields: string[];
}

/** What {@link verifyArchive} returns. */
export interface Verification {
  /** The manifest read. */
  readonly manifest: Manifest;
  /** Per recorded result, in order. */
  readonly results: VerifiedResult[];
  /** True when every recomputable result is identical. */
  readonly ok: boolean;
}

/**
 * Compares two JSON values, `elapsedMs` and `workers` aside, and keys only the recomputed one has
 * (fields a later racelab version adds); returns the differing top-level keys,
 * each with its recorded and recomputed value when both are scalars (`failures (13 recorded, 15 now)`).
 */
export function differingFields(a: unknown, b: unknown): string[] {
  const strip = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (k, x: unknown) => (k === "elapsedMs" || k === "workers" ? undefined : x)));
  const x = strip(a) as Record<string, unknown> | null;
  const y = withoutNewKeys(x, strip(b)) as Record<string, unknown> | null;
  if (x === null || y === null || typeof x !== "object" || typeof y !== "object") return JSON.stringify(x) === JSON.stringify(y) ? [] : ["(value)"];
  const scalar = (v: unknown) => v === null || typeof v === "number" || typeof v === "string" || typeof v === "boolean";
  return [...new Set([...Object.keys(x), ...Object.keys(y)])]
    .filter((k) => JSON.stringify(x[k]) !== JSON.stringify(y[k]))
    .map((k) => (scalar(x[k]) && scalar(y[k]) ? `${k} (${clip(JSON.stringify(x[k]), 40)} recorded, ${clip(JSON.stringify(y[k]), 40)} now)` : k));
}

/**
 * `now` without the object keys `recorded` lacks at the same place (in objects of objects and
 * arrays, as deep as both go): fields a later racelab adds, such as `unreachedSteps`, so that an
 * archive made before them still verifies on what it recorded.
 */
function withoutNewKeys(recorded: unknown, now: unknown): unknown {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (Array.isArray(recorded) && Array.isArray(now)) return now.map((v, i) => (i < recorded.length ? withoutNewKeys(recorded[i], v) : v));
  if (!isObj(recorded) || !isObj(now)) return now;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(now)) if (k in recorded) out[k] = withoutNewKeys(recorded[k], v);
  return out;
}

/** A recorded result's parameters: the result's own (every parameter, defaults included), else the options'. */
function recordedParams(r: RecordedResult): Record<string, unknown> {
  const res = r.result as { params?: unknown } | null;
  const own = res !== null && typeof res === "object" && !Array.isArray(res) ? res.params : undefined;
  const p = own ?? r.options["params"];
  return p !== null && typeof p === "object" && !Array.isArray(p) ? (p as Record<string, unknown>) : {};
}

/**
 * The parameters a verify line names for each recorded result: those whose value differs between
 * the archive's results of the same scenario (a sweep: `delay_us=0`, `delay_us=1`, ...), and those
 * the call gave explicitly; in the scenario's order. Without them, the lines of a sweep read alike.
 */
export function shownParams(all: readonly RecordedResult[]): Record<string, unknown>[] {
  const varying = new Map<string, Set<string>>();
  for (const r of all) {
    const names = (varying.get(r.scenario) ?? new Set<string>());
    varying.set(r.scenario, names);
    const others = all.filter((o) => o.scenario === r.scenario);
    for (const k of Object.keys(recordedParams(r)))
      if (others.some((o) => JSON.stringify(recordedParams(o)[k]) !== JSON.stringify(recordedParams(r)[k]))) names.add(k);
  }
  return all.map((r) => {
    const p = recordedParams(r);
    const given = r.options["params"];
    const explicit = given !== null && typeof given === "object" ? Object.keys(given) : [];
    const names = varying.get(r.scenario)!;
    return Object.fromEntries(Object.entries(p).filter(([k]) => names.has(k) || explicit.includes(k)));
  });
}

/** `<scenario> <fix>/<variant> [name=value ...] [(mode[, memory model])]` for a verify line. */
export function describeResult(r: RecordedResult, params: Record<string, unknown>): string {
  const o = r.options as { fix?: string; variant?: string; mode?: string; memoryModel?: string; reduction?: string; seed?: number };
  const ps = Object.entries(params).map(([k, v]) => ` ${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join("");
  // (The reduction and seed too: two checks of one fix under sleep-sets and none read alike;
  // new-user trial 17.)
  const how = [o.mode, o.memoryModel, o.reduction, typeof o.seed === "number" ? `seed ${o.seed}` : undefined].filter((x): x is string => typeof x === "string");
  return `${r.scenario} ${o.fix ?? "baseline"}/${o.variant ?? "default"}${ps}${how.length > 0 ? ` (${how.join(", ")})` : ""}`;
}

/**
 * Verifies an archive (see the module comment): resolves to what every recorded result gave.
 * Throws InputError (exit 2) for a missing or malformed archive, an unsafe entry, or a file that
 * does not match the manifest; nothing is written outside a temporary folder, removed afterwards.
 */
export async function verifyArchive(path: string): Promise<Verification> {
  const s = await stat(path).catch(() => null);
  if (s === null || !s.isFile()) throw new InputError(`${clip(path)}: no such archive`);
  // 1. List: every entry a plain file or folder under one top folder, no absolute path, no "..".
  const names: string[] = [];
  let top: string | null = null;
  // Thrown after the listing: a throw inside the entry callback would escape the promise.
  let problem: InputError | null = null;
  try {
    await tar.t({
      file: path,
      strict: true,
      onReadEntry: (e) => {
        const p = e.path;
        const bad =
          (e.type !== "File" && e.type !== "Directory" && e.type !== "OldFile" && e.type !== "ContiguousFile") ||
          p.startsWith("/") ||
          /^[A-Za-z]:/.test(p) ||
          p.split("/").some((c) => c === "..") ||
          p.includes("\\");
        if (bad) problem ??= new InputError(`${clip(path)}: unsafe entry '${clip(p)}' (${e.type}): an archive holds plain files in one folder`);
        const first = p.split("/")[0]!;
        top ??= first;
        if (first !== top) problem ??= new InputError(`${clip(path)}: entries in more than one folder ('${clip(top)}', '${clip(first)}')`);
        if (e.type !== "Directory") names.push(p);
      },
    });
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${clip(path)}: not a racelab archive (${(e as Error).message.split("\n")[0]})`);
  }
  if (problem !== null) throw problem;
  if (top === null) throw new InputError(`${clip(path)}: empty archive`);
  const dir = await mkdtemp(join(tmpdir(), "racelab-verify-"));
  try {
    await tar.x({ file: path, cwd: dir, strict: true, preservePaths: false, noChmod: true });
    const folder = join(dir, top);
    // 2. The manifest and the files.
    let manifest: Manifest;
    try {
      manifest = JSON.parse(await readFile(join(folder, "manifest.json"), "utf8")) as Manifest;
    } catch {
      throw new InputError(`${clip(path)}: no readable manifest.json in ${top}/`);
    }
    if (manifest.format !== "racelab-archive" || typeof manifest.files !== "object" || manifest.files === null)
      throw new InputError(`${clip(path)}: manifest.json is not a racelab archive manifest`);
    const present = (await readdir(folder)).filter((f) => f !== "manifest.json").sort();
    const listed = Object.keys(manifest.files).sort();
    for (const f of present) if (!listed.includes(f)) throw new InputError(`${clip(path)}: tampered: ${clip(f)} is not in the manifest`);
    for (const f of listed) {
      if (!present.includes(f)) throw new InputError(`${clip(path)}: tampered: ${clip(f)} is missing`);
      if ((await sha256File(join(folder, f))) !== manifest.files[f])
        throw new InputError(`${clip(path)}: tampered: ${clip(f)} does not match its SHA-256 in the manifest`);
    }
    // 3. Recompute every recorded result.
    const results: VerifiedResult[] = [];
    const fromFiles = new Map<string, AnyScenario>();
    const recorded = listed.find((f) => f.endsWith(".results.jsonl"));
    const lines = recorded === undefined ? [] : (await readFile(join(folder, recorded), "utf8")).split("\n").filter((l) => l.trim() !== "");
    const records = lines.map((line, i) => {
      try {
        const r = JSON.parse(line) as RecordedResult;
        if (r === null || typeof r !== "object" || typeof r.options !== "object" || r.options === null) throw new Error("not a record");
        return r;
      } catch {
        throw new InputError(`${clip(path)}: ${recorded} line ${i + 1} is not a recorded result (JSON)`);
      }
    });
    const shown = shownParams(records);
    for (const [i, r] of records.entries()) {
      const params = shown[i]!;
      const what = describeResult(r, params);
      let sc: AnyScenario | string = r.scenario;
      if (!r.bundled) {
        const kept = typeof r.file === "string" ? manifest.scenarios?.[r.file] : undefined;
        if (kept === undefined || !listed.includes(kept)) {
          results.push({ kind: r.kind, what, params, status: "not recomputable", fields: [] });
          continue;
        }
        let loaded = fromFiles.get(kept);
        if (loaded === undefined) {
          try {
            loaded = await loadScenario(join(folder, kept), r.scenario);
          } catch (e) {
            throw new InputError(`${clip(path)}: ${clip(kept)}: ${(e as Error).message}`);
          }
          fromFiles.set(kept, loaded);
        }
        sc = loaded;
      }
      const again = r.kind === "rates" ? rates(sc, r.options) : check(sc, r.options);
      const fields = differingFields(r.result, again);
      results.push({ kind: r.kind, what, params, status: fields.length === 0 ? "identical" : "different", fields });
    }
    return { manifest, results, ok: results.every((x) => x.status !== "different") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Adds `archive` and `verify` to the program. */
export function registerArchiveCommands(program: Command): void {
  program
    .command("archive")
    .description("write <out>/<name>.racelab.tar.gz: the executed notebook, its recorded results, its reports and a manifest")
    .argument("<executed.ipynb>", "an executed notebook (reports/<name>.ipynb from `racelab run`)")
    .option("--out <dir>", "output folder (default: the notebook's)")
    .action(async (nb: string, o: { out?: string }) => {
      try {
        process.stdout.write((await archiveNotebook(nb, o.out !== undefined ? { out: o.out } : {})) + "\n");
      } catch (e) {
        process.stderr.write(`racelab archive: ${(e as Error).message.split("\n")[0]}\n`);
        process.exitCode = e instanceof InputError ? 2 : 1;
      }
    });
  program
    .command("verify")
    .description("check an archive against its manifest and recompute every result it recorded; exit 0 only when all match")
    .argument("<archive>", "a .racelab.tar.gz from `racelab archive`")
    .action(async (a: string) => {
      try {
        const v = await verifyArchive(a);
        const m = v.manifest;
        process.stdout.write(`${a}: ${m.name}, made with racelab ${m.racelab}${m.commit ? ` (${m.commit.slice(0, 12)})` : ""} on Node ${m.node}; files match the manifest\n`);
        for (const r of v.results)
          process.stdout.write(`  ${r.status === "different" ? "DIFFERENT" : r.status}  ${r.kind} ${r.what}${r.fields.length > 0 ? `: ${r.fields.join(", ")}` : ""}\n`);
        const n = (s: string) => v.results.filter((r) => r.status === s).length;
        process.stdout.write(
          `${v.ok ? "verified" : "NOT verified"}: ${n("identical")} identical, ${n("different")} different` +
            `${n("not recomputable") > 0 ? `, ${n("not recomputable")} not recomputable (scenario defined in the notebook's cells)` : ""}` +
            ` of ${v.results.length} recorded results\n`,
        );
        process.exitCode = v.ok ? 0 : 1;
      } catch (e) {
        process.stderr.write(`racelab verify: ${(e as Error).message.split("\n")[0]}\n`);
        process.exitCode = e instanceof InputError ? 2 : 1;
      }
    });
}
