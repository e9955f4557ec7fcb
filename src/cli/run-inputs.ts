/**
 * The local files a notebook runs, for `racelab run`'s cache key (run.ts): a notebook that loads
 * `./my-race.ts` must run again when that file changes, not only when the notebook does
 * (new-user trial 24 edited its scenario file, `racelab run` skipped the notebook as unchanged,
 * and the report mixed the old run's tables with a verdict re-explored from the new file).
 */
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { projectOf } from "./project.js";

/** Most files followed from one notebook (a bound: the key is a cache key, not a build graph). */
const MAX_FILES = 500;

/**
 * Relative specifiers in code: `from "./x"`, `import("./x")`, `require("./x")`,
 * `loadScenario("./x.ts")`, `import "./x"` (quotes of any kind; only `./` and `../` paths).
 */
const SPECIFIER = /(?:\bfrom|\bimport|\brequire|\bloadScenario)\s*\(?\s*(["'`])(\.\.?\/[^"'`\n]+)\1/g;

/** Candidates for a specifier, in resolution order: as written, TypeScript's `.js` -> `.ts`, added extensions, an index file. */
function candidates(p: string): string[] {
  const out = [p];
  const ext = path.extname(p);
  const stem = p.slice(0, p.length - ext.length);
  if (ext === ".js") out.push(`${stem}.ts`, `${stem}.tsx`);
  if (ext === ".mjs") out.push(`${stem}.mts`);
  if (ext === ".cjs") out.push(`${stem}.cts`);
  for (const e of [".ts", ".mts", ".cts", ".js", ".mjs", ".cjs", ".json"]) out.push(p + e);
  for (const e of [".ts", ".js"]) out.push(path.join(p, `index${e}`));
  return out;
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** The first candidate of `spec` from `base` that is a file, or null. */
async function resolveFrom(base: string, spec: string): Promise<string | null> {
  for (const c of candidates(path.resolve(base, spec))) if (await isFile(c)) return c;
  return null;
}

/**
 * The local files notebook `nbPath` (its bytes: `source`) loads: its metadata's `racelab.file`
 * and every relative path its code cells import, require or pass to `loadScenario()`, resolved
 * from the project root (the nearest folder at or above the notebook with a package.json, where
 * the kernel runs; kernel/racelab-kernel) and from the notebook's folder, then the files those
 * import, transitively (at most 500). Absolute paths, sorted. Never throws: a notebook that is no
 * JSON, or a path that names no file, contributes nothing.
 */
export async function notebookInputs(nbPath: string, source: Buffer): Promise<string[]> {
  let nb: { cells?: { cell_type?: string; source?: unknown }[]; metadata?: { racelab?: { file?: unknown } } };
  try {
    nb = JSON.parse(source.toString("utf8")) as typeof nb;
  } catch {
    return [];
  }
  const nbDir = path.dirname(path.resolve(nbPath));
  const root = projectOf(nbDir)?.root ?? nbDir;
  const bases = root === nbDir ? [root] : [root, nbDir];
  const specs: string[] = [];
  const file = nb.metadata?.racelab?.file;
  if (typeof file === "string" && file.length > 0) specs.push(file.startsWith(".") ? file : `./${file}`);
  for (const c of nb.cells ?? []) {
    if (c.cell_type !== "code") continue;
    const text = Array.isArray(c.source) ? c.source.join("") : typeof c.source === "string" ? c.source : "";
    for (const m of text.matchAll(SPECIFIER)) specs.push(m[2]!);
  }
  const found = new Set<string>();
  const queue: string[] = [];
  for (const s of specs)
    for (const b of bases) {
      const f = await resolveFrom(b, s);
      if (f !== null && !found.has(f)) {
        found.add(f);
        queue.push(f);
      }
    }
  // What those files import in turn (relative to each file).
  while (queue.length > 0 && found.size < MAX_FILES) {
    const f = queue.shift()!;
    if (!/\.[cm]?[jt]sx?$/.test(f)) continue;
    let text: string;
    try {
      text = await readFile(f, "utf8");
    } catch {
      continue;
    }
    for (const m of text.matchAll(SPECIFIER)) {
      const g = await resolveFrom(path.dirname(f), m[2]!);
      if (g !== null && !found.has(g) && found.size < MAX_FILES) {
        found.add(g);
        queue.push(g);
      }
    }
  }
  return [...found].sort();
}

/** SHA-256 over {@link notebookInputs}' paths (from the notebook's folder) and contents: part of `racelab run`'s cache key. */
export async function notebookInputsHash(nbPath: string, source: Buffer): Promise<string> {
  const h = createHash("sha256");
  const nbDir = path.dirname(path.resolve(nbPath));
  for (const f of await notebookInputs(nbPath, source)) {
    h.update(path.relative(nbDir, f)).update("\0");
    h.update(await readFile(f).catch(() => Buffer.from("(unreadable)"))).update("\0");
  }
  return h.digest("hex");
}
