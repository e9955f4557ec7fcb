/**
 * racelab as a dependency of someone else's project, end to end: `npm pack` this checkout, install
 * the tarball into an empty project, scaffold and check a scenario file with the installed
 * `racelab` bin, register the installed package's Jupyter kernel into a private prefix (the
 * per-user `racelab` spec, which the other tests use, is left alone), and execute a notebook that
 * defines its own scenario with `defineScenario` through the installed `racelab run`.
 *
 * Needs the built package (dist/, `npm run build`) and Jupyter on /usr/bin/python3 (nbclient,
 * jupyter_client), both set up by `npm test` (scripts/setup.sh); it is skipped, saying why, only
 * when Jupyter is missing. npm installs from its cache (--prefer-offline): the cache is warm from
 * this checkout's own install.
 */
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const python = process.env["RACELAB_PYTHON"] ?? "/usr/bin/python3";

/** Why Jupyter cannot be used here, or null when it can. */
function jupyterMissing(): string | null {
  const r = spawnSync(python, ["-c", "import nbclient, nbformat, jupyter_client"], { encoding: "utf8" });
  if (r.error) return `${python} not found`;
  if (r.status !== 0) return `${python} lacks nbclient/jupyter_client (Debian: python3-nbclient jupyter-client)`;
  return null;
}
const skip = jupyterMissing();
if (skip) process.stderr.write(`pack.test.ts: skipped: ${skip}; scripts/setup.sh installs it\n`);

/**
 * The environment for commands run in the scratch project: without the npm_* variables that
 * `npm test` exports (npm_config_local_prefix and friends would point npm back at this checkout).
 */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, NO_UPDATE_NOTIFIER: "1", ...extra };
}

/** Run a command; fail with its output unless it exits 0. */
function sh(cmd: string, args: string[], cwd: string, env = cleanEnv()): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", maxBuffer: 64 << 20 });
  assert.ifError(r.error);
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} (in ${cwd}) exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** The code cells of the notebook the test writes: a scenario of its own, checked and drawn. */
const CELLS = [
  `console.log(process.cwd());\nconsole.log(require.resolve("racelab"));`,
  `import { defineScenario, sitesIn, spin_lock, spin_unlock, Spinlock, checkAll, showChecks, showCounterexample, type Task } from "racelab";

// A lost update on a plain field; the fix takes a spinlock around the read-modify-write.
const at = sitesIn("kernel/demo.c", "v6.12");
const LOCK = at("demo_hit", "spin_lock(&d->lock)");
const LOAD = at("demo_hit", "v = d->hits");
const STORE = at("demo_hit", "d->hits = v + 1");
const UNLOCK = at("demo_hit", "spin_unlock(&d->lock)");

interface Demo { hits: number; lock: Spinlock }

function* demo_hit(t: Task, d: Demo, locked: boolean) {
  if (locked) yield* spin_lock(t, d.lock, LOCK);
  yield LOAD;
  const v = d.hits;
  yield STORE;
  d.hits = v + 1;
  if (locked) yield* spin_unlock(t, d.lock, UNLOCK);
}

const sc = defineScenario<Demo, { locked: boolean }>({
  id: "inline-lost-update",
  title: "inline: lost update on d->hits",
  kernel: "v6.12",
  defaults: { locked: false },
  fixes: [{ id: "take-lock", title: "take d->lock around the update", options: { locked: true } }],
  setup: (cfg) => ({
    state: { hits: 0, lock: new Spinlock("d->lock") },
    threads: {
      reader: (t: Task, d: Demo) => demo_hit(t, d, cfg.options.locked),
      writer: (t: Task, d: Demo) => demo_hit(t, d, cfg.options.locked),
    },
  }),
  endChecks: [
    { name: "no lost update", check(d, r) { if (d.hits !== 2) r.report("invariant", \`lost update: hits = \${d.hits}\`); } },
  ],
});`,
  `const results = checkAll(sc);\nshowChecks(results);`,
  `const failing = results.find((r) => r.verdict === "fail");\nif (!failing) throw new Error("baseline did not fail");\nshowCounterexample(failing, 75, sc);`,
];

function notebook(cells: string[]): string {
  return JSON.stringify({
    cells: cells.map((source, i) => ({ cell_type: "code", id: `cell-${i}`, metadata: {}, execution_count: null, outputs: [], source })),
    metadata: { kernelspec: { name: "racelab", display_name: "racelab (TypeScript)", language: "typescript" } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
}
const text = (v: string | string[] | undefined): string => (Array.isArray(v) ? v.join("") : (v ?? ""));

describe("npm pack -> npm install in an empty project -> kernel -> notebook", { skip: skip ?? false, timeout: 600_000 }, () => {
  let tmp: string;
  let project: string;
  let tarball: string;
  const timings: string[] = [];
  const timed = <T>(what: string, f: () => T): T => {
    const t0 = Date.now();
    try {
      return f();
    } finally {
      timings.push(`${what} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  };

  before(() => {
    assert.ok(existsSync(path.join(root, "dist/index.js")), "dist/index.js missing: run `npm run build` first (npm test does)");
    tmp = realpathSync(mkdtempSync(path.join(tmpdir(), "racelab-pack-")));
    project = path.join(tmp, "project");
    mkdirSync(project);
  });
  after(() => {
    if (timings.length) process.stderr.write(`pack.test.ts: ${timings.join(", ")}\n`);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("packs dist/, kernel/, docs/, the tutorial, README and LICENSE, not the sources or tests", () => {
    // --ignore-scripts: no `prepack` rebuild; npm test built dist/ already.
    const r = timed("npm pack", () => sh("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", tmp], root));
    const [info] = JSON.parse(r.stdout) as { filename: string; files: { path: string; mode: number }[] }[];
    assert.ok(info);
    tarball = path.join(tmp, info.filename);
    const files = new Map(info.files.map((f) => [f.path, f.mode]));
    for (const f of ["package.json", "README.md", "LICENSE", "dist/index.js", "dist/index.d.ts", "dist/cli/main.js", "kernel/racelab-kernel", "kernel/install.sh", "kernel/kernel.json.in", "docs/api/README.md", "notebooks/writing-a-scenario.ipynb"])
      assert.ok(files.has(f), `${f} is in the tarball`);
    for (const f of ["kernel/racelab-kernel", "kernel/install.sh"]) assert.ok((files.get(f)! & 0o111) !== 0, `${f} is executable`);
    const stray = [...files.keys()].filter(
      (f) => (/^(src|test|bench|notebooks|scripts|reports|\.ci)\//.test(f) && f !== "notebooks/writing-a-scenario.ipynb") || f.endsWith(".map"),
    );
    assert.deepEqual(stray, [], "no sources, tests, notebooks but the tutorial, or source maps");
  });

  it("installs into an empty project; the racelab bin scaffolds and checks a scenario file there", () => {
    writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "my-races", version: "1.0.0", private: true }, null, 2) + "\n");
    timed("npm install", () => sh("npm", ["install", tarball, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], project));
    const bin = path.join(project, "node_modules/.bin/racelab");
    assert.ok(existsSync(bin), "node_modules/.bin/racelab");
    const dep = (JSON.parse(readFileSync(path.join(project, "package.json"), "utf8")) as { dependencies?: Record<string, string> }).dependencies;
    assert.ok(dep?.["racelab"], "racelab is a dependency of the project");

    timed("racelab new + check", () => {
      // Its hints say the command as the user ran it: `racelab` is not on a project's PATH.
      assert.match(sh(bin, ["new", "my-race"], project).stderr, /^next: node node_modules\/\.bin\/racelab check my-race\.ts --all-fixes$/m);
      assert.match(sh("npx", ["racelab", "new", "other-race"], project).stderr, /^next: npx racelab check other-race\.ts --all-fixes$/m);
      const nb = readFileSync(path.join(project, "my-race.ipynb"), "utf8");
      assert.match(nb, /from \\"racelab\\"/, "the scaffolded notebook imports the package by name");
      assert.match(nb, /loadScenario\(\\"\.\/my-race\.ts\\"\)/);
      const r = sh(bin, ["check", "./my-race.ts", "--all-fixes", "--json"], project);
      const results = JSON.parse(r.stdout) as { fix: string; verdict: string }[];
      assert.deepEqual(
        results.map((x) => [x.fix, x.verdict]),
        [["baseline", "fail"], ["take-lock", "pass"]],
      );
    });
  });

  it("registers the installed kernel in a private prefix and runs a notebook that defines its own scenario", () => {
    const userSpec = spawnSync(python, ["-c", "from jupyter_client.kernelspec import KernelSpecManager as K; print(K().user_kernel_dir)"], { encoding: "utf8" }).stdout.trim();
    const userJson = path.join(userSpec, "racelab", "kernel.json");
    const before = existsSync(userJson) ? readFileSync(userJson, "utf8") : null;

    const prefix = path.join(tmp, "jupyter");
    const installed = path.join(project, "node_modules/racelab");
    timed("kernel install", () => sh(path.join(installed, "kernel/install.sh"), ["--prefix", prefix], project));
    const spec = JSON.parse(readFileSync(path.join(prefix, "share/jupyter/kernels/racelab/kernel.json"), "utf8")) as { argv: string[] };
    assert.equal(spec.argv[0], path.join(installed, "kernel/racelab-kernel"), "the spec starts the installed package's launcher");
    assert.equal(existsSync(userJson) ? readFileSync(userJson, "utf8") : null, before, "the per-user racelab kernel spec is untouched");

    // The notebook lives in a subfolder: the kernel must still start in the project root.
    mkdirSync(path.join(project, "notebooks"));
    writeFileSync(path.join(project, "notebooks/lost-update.ipynb"), notebook(CELLS));
    const env = cleanEnv({ JUPYTER_PATH: path.join(prefix, "share/jupyter"), RACELAB_PYTHON: python });
    const r = timed("racelab run", () =>
      sh(path.join(project, "node_modules/.bin/racelab"), ["run", "notebooks/lost-update.ipynb", "--out", "out", "--timeout", "300"], project, env),
    );
    assert.equal(r.stdout.trim(), "out/lost-update.ipynb");

    const nb = JSON.parse(readFileSync(path.join(project, "out/lost-update.ipynb"), "utf8")) as { cells: { outputs: Output[] }[] };
    const all = nb.cells.flatMap((c) => c.outputs);
    assert.deepEqual(all.filter((o) => o.output_type === "error" || (o.output_type === "stream" && o.name === "stderr")), [], "no errors");

    const [cwd, resolved] = nb.cells[0]!.outputs.map((o) => text(o.text)).join("").trim().split("\n");
    assert.equal(cwd, project, "the kernel runs in the project root");
    assert.equal(resolved, path.join(installed, "dist/index.js"), "cells import the installed racelab");

    const table = nb.cells[2]!.outputs.find((o) => o.output_type === "display_data");
    const rows = text(table?.data?.["text/plain"]).split("\n");
    assert.ok(rows.some((l) => /^baseline\s+default\s+FAIL\b.*lost update: hits = 1/.test(l)), `baseline fails:\n${rows.join("\n")}`);
    assert.ok(rows.some((l) => /^take-lock\s+default\s+PASS\b/.test(l)), `take-lock passes:\n${rows.join("\n")}`);
    assert.match(text(table?.data?.["text/html"]), /<table/);

    const ce = nb.cells[3]!.outputs.find((o) => o.output_type === "display_data");
    const diagram = text(ce?.data?.["text/plain"]);
    assert.match(diagram, /^reader\s+writer$/m, "the diagram has a column per thread");
    assert.match(diagram, /\/\/ v = d->hits/);
    assert.match(diagram, /\/\/ d->hits = v \+ 1/);
    assert.match(diagram, /after all threads: invariant: lost update: hits = 1/);
  });
});
