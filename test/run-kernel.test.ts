/**
 * `racelab run` executes notebooks with this checkout's kernel, whatever kernel/install.sh last
 * registered user-wide: here the user-wide `racelab` kernel (a private JUPYTER_DATA_DIR) points at
 * a launcher that does not exist, as after another checkout that registered it was deleted.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "dist/cli/main.js");

test("racelab run uses this checkout's kernel even when the user-wide one is broken", { timeout: 180_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "racelab-run-kernel-"));
  try {
    const data = path.join(dir, "data");
    await mkdir(path.join(data, "kernels", "racelab"), { recursive: true });
    await writeFile(
      path.join(data, "kernels", "racelab", "kernel.json"),
      JSON.stringify({ argv: ["/nonexistent/checkout/kernel/racelab-kernel", "--config-path", "{connection_file}"], display_name: "racelab (gone)", language: "typescript" }),
    );
    const nb = {
      cells: [{ cell_type: "code", id: "c1", metadata: {}, outputs: [], execution_count: null, source: ['import { getScenario } from ".";\n', 'console.log(`fixes: ${getScenario("ext4-delalloc-fallocate").fixes.length}`);'] }],
      metadata: { kernelspec: { name: "racelab", display_name: "racelab (TypeScript)", language: "typescript" }, racelab: { scenario: "ext4-delalloc-fallocate" } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    // In the checkout's notebooks/ folder, as a user's notebook would be (the kernel moves to the project root).
    const nbPath = path.join(root, "notebooks", `.run-kernel-test-${process.pid}.ipynb`);
    await writeFile(nbPath, JSON.stringify(nb));
    try {
      const r = spawnSync(process.execPath, [cli, "run", nbPath, "--out", path.join(dir, "out")], {
        encoding: "utf8",
        env: { ...process.env, JUPYTER_DATA_DIR: data, CI: "1" },
      });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(await readFile(path.join(dir, "out", path.basename(nbPath)), "utf8")) as { cells: { outputs: { text?: string[] }[] }[] };
      assert.match(JSON.stringify(out.cells[0]!.outputs), /fixes: 2/);
    } finally {
      await rm(nbPath, { force: true });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("racelab run does not re-execute an unchanged notebook; a change or --force does", { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "racelab-run-cache-"));
  const nbPath = path.join(root, "notebooks", `.run-cache-test-${process.pid}.ipynb`);
  const nb = (n: number) => ({
    cells: [{ cell_type: "code", id: "c1", metadata: {}, outputs: [], execution_count: null, source: [`console.log("n = ${n}");`] }],
    metadata: { kernelspec: { name: "racelab", display_name: "racelab (TypeScript)", language: "typescript" } },
    nbformat: 4,
    nbformat_minor: 5,
  });
  const run = (...extra: string[]) =>
    spawnSync(process.execPath, [cli, "run", nbPath, "--out", dir, ...extra], { encoding: "utf8", env: { ...process.env, CI: "1" } });
  const out = path.join(dir, path.basename(nbPath));
  try {
    await writeFile(nbPath, JSON.stringify(nb(1)));
    const first = run();
    assert.equal(first.status, 0, first.stderr);
    const executed = await readFile(out, "utf8");
    assert.match(executed, /n = 1/);
    assert.match(executed, /"key": "[0-9a-f]{64}"/);
    const second = run();
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stderr, /unchanged since its last run .* not re-executed/);
    assert.equal(second.stdout.trim(), out, "the up-to-date copy is still listed for the reports");
    assert.equal(await readFile(out, "utf8"), executed, "the copy is left as it was");
    const forced = run("--force");
    assert.doesNotMatch(forced.stderr, /not re-executed/);
    await writeFile(nbPath, JSON.stringify(nb(2)));
    const changed = run();
    assert.doesNotMatch(changed.stderr, /not re-executed/);
    assert.match(await readFile(out, "utf8"), /n = 2/);
  } finally {
    await rm(nbPath, { force: true });
    await rm(dir, { recursive: true, force: true });
  }
});

/**
 * Writes a notebook whose first cell runs `before` and writes the kernel's pid to `pidFile`, and
 * whose second sleeps five minutes; starts `racelab run` on it and waits until the kernel wrote
 * its pid. Returns the child, its stderr so far, its exit (code) and the kernel's pid.
 */
async function runSleepyNotebook(nbPath: string, pidFile: string, outDir: string, before: string[] = []) {
  const { spawn } = await import("node:child_process");
  await writeFile(
    nbPath,
    JSON.stringify({
      cells: [
        { cell_type: "code", id: "a", metadata: {}, outputs: [], execution_count: null, source: [...before, `require("fs").writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));`] },
        { cell_type: "code", id: "b", metadata: {}, outputs: [], execution_count: null, source: ["await new Promise((r) => setTimeout(r, 300000));"] },
      ],
      metadata: { kernelspec: { name: "racelab", display_name: "racelab (TypeScript)", language: "typescript" } },
      nbformat: 4,
      nbformat_minor: 5,
    }),
  );
  const child = spawn(process.execPath, [cli, "run", nbPath, "--out", outDir], { env: { ...process.env, CI: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  const out = { stderr: "" };
  child.stderr.on("data", (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
  let kernelPid = 0;
  for (let i = 0; i < 120 && kernelPid === 0; i++) {
    await new Promise((r) => setTimeout(r, 500));
    kernelPid = Number(await readFile(pidFile, "utf8").catch(() => "0"));
  }
  assert.ok(kernelPid > 0, `the kernel started: ${out.stderr}`);
  return { child, out, exited, kernelPid };
}

test("SIGTERM to racelab run stops the notebook and shuts its kernel down (exit 143)", { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "racelab-run-kill-"));
  const pidFile = path.join(dir, "kernel.pid");
  const nbPath = path.join(root, "notebooks", `.run-kill-test-${process.pid}.ipynb`);
  try {
    const { child, out, exited, kernelPid } = await runSleepyNotebook(nbPath, pidFile, dir);
    await new Promise((r) => setTimeout(r, 500));
    child.kill("SIGTERM");
    assert.equal(await exited, 143, out.stderr);
    assert.match(out.stderr, /stopped \(SIGTERM\)/);
    const alive = () => {
      try {
        process.kill(kernelPid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 20 && alive(); i++) await new Promise((r) => setTimeout(r, 250));
    assert.equal(alive(), false, "the kernel is gone");
  } finally {
    await rm(nbPath, { force: true });
    await rm(dir, { recursive: true, force: true });
  }
});

test("a racelab run killed at once (a second SIGTERM) leaves no temporary file; a later run removes those of a run killed with SIGKILL", { timeout: 120_000 }, async () => {
  const { readdirSync } = await import("node:fs");
  const dir = await mkdtemp(path.join(tmpdir(), "racelab-run-kill2-"));
  const pidFile = path.join(dir, "kernel.pid");
  const name = `.run-kill2-test-${process.pid}`;
  const nbPath = path.join(root, "notebooks", `${name}.ipynb`);
  // What a run killed with SIGKILL leaves: its process is gone.
  const deadPid = spawnSync("true").pid!;
  const stale = path.join(dir, `.${name}.results.${deadPid}.jsonl`);
  const ours = (f: string) => f.startsWith(`.${name}.`);
  try {
    await writeFile(stale, "");
    // (A check records its result: the run's results file exists.)
    const { child, out, exited, kernelPid } = await runSleepyNotebook(nbPath, pidFile, dir, ['import { check, getScenario } from ".";\n', 'check(getScenario("ext4-delalloc-fallocate"), {});\n']);
    assert.deepEqual(readdirSync(dir).filter(ours), [`.${name}.results.${child.pid}.jsonl`], "the stale file is gone; this run's is being recorded");
    child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 100));
    child.kill("SIGTERM");
    assert.equal(await exited, 143, out.stderr);
    assert.deepEqual(readdirSync(dir).filter(ours), [], out.stderr);
    try {
      process.kill(kernelPid, "SIGKILL");
    } catch {
      // (nbclient shut it down already.)
    }
  } finally {
    await rm(nbPath, { force: true });
    await rm(dir, { recursive: true, force: true });
  }
});

test("racelab run -p name=value sets a parameter of the cell tagged 'parameters', as papermill does", { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "racelab-run-params-"));
  const nbPath = path.join(root, "notebooks", `.run-params-test-${process.pid}.ipynb`);
  try {
    await writeFile(
      nbPath,
      JSON.stringify({
        cells: [
          { cell_type: "code", id: "p", metadata: { tags: ["parameters"] }, outputs: [], execution_count: null, source: ["const RUNS = 10;\n", 'const LABEL = "default";'] },
          { cell_type: "code", id: "u", metadata: {}, outputs: [], execution_count: null, source: ["console.log(`RUNS=${RUNS * 2} LABEL=${LABEL}`);"] },
        ],
        metadata: { kernelspec: { name: "racelab", display_name: "racelab (TypeScript)", language: "typescript" } },
        nbformat: 4,
        nbformat_minor: 5,
      }),
    );
    const run = (...extra: string[]) => spawnSync(process.execPath, [cli, "run", nbPath, "--out", dir, ...extra], { encoding: "utf8", env: { ...process.env, CI: "1" } });
    const ok = run("-p", "RUNS=21", "-p", "LABEL=fleet of 128");
    assert.equal(ok.status, 0, ok.stderr);
    const out = await readFile(path.join(dir, path.basename(nbPath)), "utf8");
    assert.match(out, /RUNS=42 LABEL=fleet of 128/);
    assert.match(out, /"injected-parameters"/);
    const unknown = run("-p", "NOPE=1");
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /-p NOPE: the parameters cell declares RUNS, LABEL/);
    assert.equal(unknown.stderr.trim().split("\n").length, 1);
    const bad = run("-p", "1x=2");
    assert.equal(bad.status, 2);
    // The notebook itself is untouched, and no copy is left next to it.
    assert.doesNotMatch(await readFile(nbPath, "utf8"), /injected/);
    assert.deepEqual((await (await import("node:fs/promises")).readdir(path.join(root, "notebooks"))).filter((f) => f.includes(".parameters-")), []);
  } finally {
    await rm(nbPath, { force: true });
    await rm(dir, { recursive: true, force: true });
  }
});

test("racelab run: an executed copy that cannot be written is named with the cause (not 'cell 0 failed')", { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "racelab-run-write-"));
  const nbPath = path.join(root, "notebooks", `.run-write-test-${process.pid}.ipynb`);
  try {
    await writeFile(
      nbPath,
      JSON.stringify({
        cells: [{ cell_type: "code", id: "a", metadata: {}, outputs: [], execution_count: null, source: ["1 + 1"] }],
        metadata: { kernelspec: { name: "racelab", display_name: "racelab (TypeScript)", language: "typescript" } },
        nbformat: 4,
        nbformat_minor: 5,
      }),
    );
    // The executed copy's path is taken by a folder: writing it fails as a full disk would.
    await mkdir(path.join(dir, path.basename(nbPath)));
    const r = spawnSync(process.execPath, [cli, "run", nbPath, "--out", dir], { encoding: "utf8", env: { ...process.env, CI: "1" } });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot write the executed copy .*: Is a directory/);
    assert.doesNotMatch(r.stderr, /cell 0/);
  } finally {
    await rm(nbPath, { force: true });
    await rm(dir, { recursive: true, force: true });
  }
});

test("racelab run starts a kernel once more when it did not start (it died at once, or hung)", { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "racelab-run-flaky-"));
  const nbPath = path.join(root, "notebooks", `.run-flaky-test-${process.pid}.ipynb`);
  try {
    // A kernel whose first start fails (the launcher exits at once), then starts as usual.
    const mark = path.join(dir, "started-once");
    const launcher = path.join(dir, "flaky-kernel");
    await writeFile(launcher, `#!/bin/sh\nif [ ! -e '${mark}' ]; then touch '${mark}'; exit 1; fi\nexec '${path.join(root, "kernel", "racelab-kernel")}' "$@"\n`, { mode: 0o755 });
    const spec = path.join(dir, "share", "jupyter", "kernels", "flaky");
    await mkdir(spec, { recursive: true });
    await writeFile(path.join(spec, "kernel.json"), JSON.stringify({ argv: [launcher, "--config-path", "{connection_file}"], display_name: "flaky", language: "typescript" }));
    await writeFile(
      nbPath,
      JSON.stringify({
        cells: [{ cell_type: "code", id: "c1", metadata: {}, outputs: [], execution_count: null, source: ['console.log("ran");'] }],
        metadata: { kernelspec: { name: "flaky", display_name: "flaky", language: "typescript" } },
        nbformat: 4,
        nbformat_minor: 5,
      }),
    );
    const r = spawnSync(process.execPath, [cli, "run", nbPath, "--kernel", "flaky", "--out", path.join(dir, "out")], {
      encoding: "utf8",
      env: { ...process.env, JUPYTER_PATH: path.join(dir, "share", "jupyter"), CI: "1" },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /the kernel did not start \(.*\); starting it once more/);
    assert.match(await readFile(path.join(dir, "out", path.basename(nbPath)), "utf8"), /ran/);
  } finally {
    await rm(nbPath, { force: true });
    await rm(dir, { recursive: true, force: true });
  }
});
