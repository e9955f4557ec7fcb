/**
 * Scenario references: wherever racelab takes a scenario (CLI arguments, notebook helpers,
 * `Session`, `check`), it takes a bundled scenario's id, a scenario object (from
 * `defineScenario()`), or, for the asynchronous loader and the CLI, the path of a file that
 * exports one (`./my-race.ts`, `.js`, `.mjs`, `.mts`).
 */
import { UsageError } from "./errors.js";
import { existsSync, statSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isScenario } from "./engine/define.js";
import { clip } from "./engine/clip.js";
import { setScenarioFile, setScenarioLookup, type AnyScenario } from "./engine/scenario.js";
import { getScenario, scenarios } from "./scenarios/index.js";

/** A bundled scenario's id, or a scenario object. */
export type ScenarioRef = string | AnyScenario;

/** True when `ref` names a file rather than a bundled id (it has a `/` or a script extension). */
export function isScenarioPath(ref: string): boolean {
  return /[\\/]/.test(ref) || /\.(?:[cm]?ts|[cm]?js)$/.test(ref);
}

/**
 * The scenario `ref` stands for: a scenario object as is, or the bundled scenario with that id.
 * Throws UsageError for an unknown id, for a file path (use {@link loadScenario}) and for
 * anything else.
 */
export function resolveScenario(ref: ScenarioRef): AnyScenario {
  if (typeof ref === "string") {
    if (isScenarioPath(ref) && !scenarios.some((s) => s.id === ref))
      throw new UsageError(`'${clip(ref)}' is a file: load it with loadScenario("${clip(ref)}") (or pass the scenario object)`);
    return getScenario(ref);
  }
  if (isScenario(ref)) return ref;
  throw new UsageError(`expected a scenario id or a scenario object (from defineScenario()), got ${describe(ref)}`);
}

/**
 * Loads the scenario `ref` stands for: an id, an object, or a file path. A file is imported
 * (bundled with esbuild, see bundleScenario) and must export a scenario: its default export, or its only exported
 * scenario, or the one whose id is `id` when several are exported. Throws UsageError (one line)
 * for a missing file, a file that fails to load, or one that exports no scenario.
 */
export async function loadScenario(ref: ScenarioRef, id?: string): Promise<AnyScenario> {
  if (typeof ref !== "string" || !isScenarioPath(ref)) return resolveScenario(ref);
  const sc = await loadScenarioFile(ref, id);
  setScenarioFile(sc, ref);
  return sc;
}

async function loadScenarioFile(ref: string, id: string | undefined): Promise<AnyScenario> {
  const file = path.resolve(ref);
  if (!existsSync(file)) throw new UsageError(`scenario file not found: ${clip(ref)}`);
  if (!statSync(file).isFile()) throw new UsageError(`not a file: ${clip(ref)}`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(await bundleScenario(file))) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof BuildError) throw new UsageError(`cannot load ${clip(ref)}: ${clip(e.message, 300)}`);
    if (e instanceof UsageError) throw new UsageError(`${clip(ref)}: ${e.message}`);
    const err = e instanceof Error ? e : new Error(String(e));
    const first = (err.message.split("\n")[0] ?? "").slice(0, 300);
    throw new UsageError(`cannot load ${clip(ref)}: ${err.name}: ${first}`);
  }
  const found = new Map<string, AnyScenario>();
  const consider = (v: unknown) => {
    if (isScenario(v)) found.set(v.id, v);
  };
  // An ES module's default export, or a CommonJS module's exports under `default`.
  const def = mod.default;
  if (isScenario(def)) {
    if (id === undefined || def.id === id) return def;
  }
  for (const [k, v] of Object.entries(mod)) if (k !== "default") consider(v);
  if (def !== null && typeof def === "object" && !isScenario(def)) for (const v of Object.values(def)) consider(v);
  if (id !== undefined) {
    const sc = found.get(id) ?? (isScenario(def) && def.id === id ? def : undefined);
    if (sc === undefined) throw new UsageError(`${clip(ref)} exports no scenario '${clip(id)}' (exports: ${[...found.keys()].join(", ") || "none"})`);
    return sc;
  }
  if (found.size === 1) return [...found.values()][0]!;
  if (found.size === 0)
    throw new UsageError(`${clip(ref)} exports no scenario: export default defineScenario({ ... })`);
  throw new UsageError(`${clip(ref)} exports several scenarios (${[...found.keys()].join(", ")}): export one as default`);
}

/** A scenario file that esbuild cannot bundle (a syntax error, an import not found). */
class BuildError extends Error {}

/** The folder of this racelab's modules (dist/, or src/ when run from source under tsx). */
const ownModules = path.dirname(fileURLToPath(import.meta.url));
const ownExt = path.extname(fileURLToPath(import.meta.url)) === ".ts" ? ".ts" : ".js";
const builtins = new Set(builtinModules);

/**
 * `racelab` and `racelab/dist/<module>` as the modules of the racelab that is running: a scenario
 * file must share this copy's engine (its access recording, locations and running thread), or the
 * kernel objects it creates record their accesses where no search sees them.
 */
function ownModule(spec: string): string | null {
  if (spec === "racelab") return pathToFileURL(path.join(ownModules, `index${ownExt}`)).href;
  return spec.startsWith("racelab/dist/") ? ownFile(path.join(path.dirname(ownModules), spec.slice("racelab/".length))) : null;
}

/**
 * A file of this racelab's `src/` or `dist/` reached by a relative or absolute path (a scenario
 * kept in the checkout that imports `../src/index.js`), as the running racelab's own module (the
 * file would otherwise be bundled: a second engine); else null.
 */
function ownFile(abs: string): string | null {
  const root = path.dirname(ownModules);
  for (const tree of ["src", "dist"]) {
    const rel = path.relative(path.join(root, tree), abs);
    if (rel.startsWith("..") || path.isAbsolute(rel)) continue;
    return pathToFileURL(path.join(ownModules, rel.replace(/\.(?:[cm]?ts|[cm]?js)$/, "") + ownExt)).href;
  }
  return null;
}

/**
 * Bundles a scenario file and the files it imports by relative path (TypeScript or JavaScript)
 * into one ES module, returned as a `data:` URL to import. `racelab` resolves to the running
 * racelab's own modules (see {@link ownModule}), other packages to the files Node resolves from
 * the importing file, builtins stay builtins. Each call bundles afresh, so a notebook that loads
 * an edited file gets the edit, helpers included.
 */
async function bundleScenario(file: string): Promise<string> {
  const esbuild = await import("esbuild");
  let out: Awaited<ReturnType<typeof esbuild.build>>;
  try {
    out = await build(esbuild, file);
  } catch (e) {
    // esbuild's "Build failed with 1 error:" says nothing on its own: name the first error.
    const first = (e as { errors?: { text: string; location: { file: string; line: number; column: number } | null }[] }).errors?.[0];
    if (first === undefined) throw e;
    const where = first.location === null ? "" : `${first.location.file}:${first.location.line}:${first.location.column + 1}: `;
    throw new BuildError(`${where}${first.text.split("\n")[0]!}`);
  }
  const js = out.outputFiles![0]!.text;
  return `data:text/javascript;base64,${Buffer.from(js).toString("base64")}`;
}

/** What both bundles of a scenario file share: one ES module for Node 20, in memory, with an inline source map. */
function bundleOptions(file: string): import("esbuild").BuildOptions & { write: false } {
  return {
    entryPoints: [file],
    absWorkingDir: path.dirname(file), // error locations relative to the scenario's folder
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "inline",
    logLevel: "silent",
  };
}

function build(esbuild: typeof import("esbuild"), file: string) {
  return esbuild.build({
    ...bundleOptions(file),
    // What a file expects of its module scope, ES module or CommonJS (tsx ran a .ts file of a
    // CommonJS package as CommonJS): the entry's URL, file and folder, and a require() from it.
    define: {
      "import.meta.url": JSON.stringify(pathToFileURL(file).href),
      __filename: JSON.stringify(file),
      __dirname: JSON.stringify(path.dirname(file)),
      require: "__racelab_require",
    },
    banner: {
      js: `import { createRequire as __racelab_createRequire } from "node:module"; const __racelab_require = __racelab_createRequire(${JSON.stringify(pathToFileURL(file).href)});`,
    },
    plugins: [
      {
        name: "racelab-externals",
        setup(b) {
          b.onResolve({ filter: /^(?:\.\.?(?:\/|$)|\/)/ }, (args) => {
            const own = ownFile(path.resolve(args.resolveDir, args.path));
            return own === null ? undefined : { path: own, external: true };
          });
          b.onResolve({ filter: /^[^./]/ }, (args) => {
            if (path.isAbsolute(args.path)) return undefined;
            const own = ownModule(args.path);
            if (own !== null) return { path: own, external: true };
            if (args.path.startsWith("node:") || builtins.has(args.path.split("/")[0]!)) return { path: args.path, external: true };
            const from = args.importer !== "" ? args.importer : file;
            const resolved = createRequire(from).resolve(args.path);
            return { path: pathToFileURL(resolved).href, external: true };
          });
        },
      },
    ],
  });
}

/**
 * The scenario file `file` and the files it imports by relative path, bundled into one ES module
 * (JavaScript text) that imports racelab by name (`racelab`, `racelab/dist/<module>`), keeps
 * Node's builtins and inlines every other package: what `racelab archive` keeps of a scenario
 * file, so that `racelab verify` can load it with {@link loadScenario} wherever the archive is
 * unpacked. Its inline source map holds the original sources. Throws UsageError (one line) when
 * the file is missing or cannot be bundled.
 */
export async function portableScenarioBundle(file: string): Promise<string> {
  const abs = path.resolve(file);
  if (!existsSync(abs) || !statSync(abs).isFile()) throw new UsageError(`scenario file not found: ${clip(file)}`);
  const esbuild = await import("esbuild");
  const root = path.dirname(ownModules);
  // A file of racelab's own src/ or dist/ (a scenario kept in the checkout), by name.
  const byName = (p: string): string | null => {
    for (const tree of ["src", "dist"]) {
      const rel = path.relative(path.join(root, tree), p);
      if (rel.startsWith("..") || path.isAbsolute(rel)) continue;
      const mod = rel.replace(/\.(?:[cm]?ts|[cm]?js)$/, "").split(path.sep).join("/");
      return mod === "index" ? "racelab" : `racelab/dist/${mod}.js`;
    }
    return null;
  };
  try {
    const out = await esbuild.build({
      ...bundleOptions(abs),
      plugins: [
        {
          name: "racelab-portable",
          setup(b) {
            b.onResolve({ filter: /^(?:\.\.?(?:\/|$)|\/)/ }, (args) => {
              const own = byName(path.resolve(args.resolveDir, args.path));
              return own === null ? undefined : { path: own, external: true };
            });
            b.onResolve({ filter: /^[^./]/ }, (args) => {
              if (args.path === "racelab" || args.path.startsWith("racelab/")) return { path: args.path, external: true };
              if (args.path.startsWith("node:") || builtins.has(args.path.split("/")[0]!)) return { path: args.path, external: true };
              return undefined;
            });
          },
        },
      ],
    });
    return out.outputFiles![0]!.text;
  } catch (e) {
    const first = (e as { errors?: { text: string }[] }).errors?.[0];
    throw new UsageError(`cannot bundle ${clip(file)}: ${clip(first?.text.split("\n")[0] ?? (e as Error).message, 300)}`);
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object") return `an object with keys ${Object.keys(v as object).slice(0, 5).join(", ") || "none"}`;
  return typeof v;
}

setScenarioLookup(resolveScenario);
