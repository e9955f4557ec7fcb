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
