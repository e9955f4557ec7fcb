import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { notebookInputs, notebookInputsHash } from "../src/cli/run-inputs.js";
import { runKey } from "../src/cli/run.js";

const nbOf = (cells: string[], file?: string) =>
  Buffer.from(
    JSON.stringify({
      cells: cells.map((source) => ({ cell_type: "code", source, metadata: {}, outputs: [] })),
      metadata: file === undefined ? {} : { racelab: { scenario: "x", file } },
    }),
  );

test("racelab run's key covers the local files a notebook loads, transitively, and nothing else", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "racelab-run-inputs-"));
  try {
    await writeFile(path.join(dir, "package.json"), "{}");
    await mkdir(path.join(dir, "notebooks"));
    await mkdir(path.join(dir, "races"));
    // A scenario importing a helper with TypeScript's ".js" spelling, and a file no one loads.
    await writeFile(path.join(dir, "races", "race.ts"), 'import { helper } from "./helper.js";\nexport default helper;\n');
    await writeFile(path.join(dir, "races", "helper.ts"), "export const helper = 1;\n");
    await writeFile(path.join(dir, "races", "other.ts"), "export const other = 1;\n");
    await writeFile(path.join(dir, "notebooks", "util.cjs"), "module.exports = 1;\n");
    const nbPath = path.join(dir, "notebooks", "race.ipynb");
    // Paths from the project root (where the kernel runs) and from the notebook's folder.
    const source = nbOf(['import { loadScenario } from "racelab";\nconst sc = await loadScenario("./races/race.ts");', 'const u = require("./util.cjs");']);
    assert.deepEqual(
      (await notebookInputs(nbPath, source)).map((f) => path.relative(dir, f)),
      ["notebooks/util.cjs", "races/helper.ts", "races/race.ts"],
    );
    // The metadata's file alone is enough.
    assert.deepEqual(
      (await notebookInputs(nbPath, nbOf(["1 + 1"], "races/other.ts"))).map((f) => path.relative(dir, f)),
      ["races/other.ts"],
    );
    const key = async () => runKey(source, "racelab", "build", await notebookInputsHash(nbPath, source));
    const k1 = await key();
    assert.equal(await key(), k1, "same files, same key");
    await writeFile(path.join(dir, "races", "other.ts"), "export const other = 2;\n");
    assert.equal(await key(), k1, "a file the notebook does not load leaves the key");
    await writeFile(path.join(dir, "races", "helper.ts"), "export const helper = 2;\n");
    const k2 = await key();
    assert.notEqual(k2, k1, "a file the scenario imports changes the key");
    await writeFile(path.join(dir, "races", "race.ts"), "export default 3;\n");
    assert.notEqual(await key(), k2, "the scenario file changes the key");
    // Not JSON, or a path to nothing: no inputs, no throw.
    assert.deepEqual(await notebookInputs(nbPath, Buffer.from("{")), []);
    assert.deepEqual(await notebookInputs(nbPath, nbOf(['await loadScenario("./missing.ts")'])), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
