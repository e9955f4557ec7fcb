// The declarations racelab publishes (package.json `types`: dist/index.d.ts) type-check a user's
// scenario file in a project with nothing else installed: no @types/node (a new user's
// `tsc --noEmit my-race.ts` failed on `NodeJS.ProcessEnv` in v8-tuning.d.ts, new-user trial 21).
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import ts from "typescript";
import { scenarioTemplate } from "../src/cli/new.js";

test("a scenario file type-checks against the published declarations without @types/node", () => {
  assert.ok(existsSync("dist/index.d.ts"), "build first (npm test builds)");
  const dir = mkdtempSync(join(tmpdir(), "racelab-types-"));
  try {
    writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(resolve("."), join(dir, "node_modules", "racelab"), "dir");
    // The scaffold `racelab new` writes, and a scenario that uses wait queues and barriers.
    writeFileSync(join(dir, "my-race.ts"), scenarioTemplate("my-race"));
    const wakeup = readFileSync("test/fixtures/lost-wakeup.ts", "utf8").replace('from "../../src/index.js"', 'from "racelab"');
    assert.match(wakeup, /from "racelab"/);
    writeFileSync(join(dir, "lost-wakeup.ts"), wakeup);
    const program = ts.createProgram([join(dir, "my-race.ts"), join(dir, "lost-wakeup.ts")], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      // Only what the project has: no ambient @types packages.
      types: [],
      typeRoots: [join(dir, "node_modules", "@types")],
    });
    const diags = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${d.file.fileName.replace(resolve(".") + "/", "")}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` : "";
      return where + ts.flattenDiagnosticMessageText(d.messageText, "\n");
    });
    assert.deepEqual(diags, []);
    // (And it did resolve racelab's declarations, not nothing.)
    assert.ok(program.getSourceFiles().some((f) => f.fileName.endsWith("dist/index.d.ts")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
