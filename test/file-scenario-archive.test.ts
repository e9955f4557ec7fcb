/**
 * A race racelab does not ship, end to end in a project of its own: `racelab new` scaffolds a
 * scenario file and a notebook that names it (metadata `racelab.file`), `racelab run` executes the
 * notebook (recording each result with the file it came from), `racelab report --mail` writes a
 * writeup with the verdict of every fix (explored again from the file; a new user's trial found
 * "scenario is not bundled; the writeup has no verdict section"), and `racelab archive` keeps the
 * file, bundled, so that `racelab verify` recomputes every result from it wherever the archive is
 * (it used to count them "not recomputable"). A scenario file changed between the run and the
 * archive makes verify say DIFFERENT.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "dist/cli/main.js");

describe("a scenario file's notebook: report verdicts, archive and verify", { timeout: 300_000 }, () => {
  let project: string;
  const racelab = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: project, encoding: "utf8", env: { ...process.env, CI: "1" } });
  before(async () => {
    project = await mkdtemp(path.join(tmpdir(), "racelab-file-scenario-"));
    await writeFile(path.join(project, "package.json"), JSON.stringify({ name: "my-races", version: "1.0.0", private: true }) + "\n");
    await mkdir(path.join(project, "node_modules"));
    await symlink(root, path.join(project, "node_modules", "racelab"));
    const made = racelab("new", "my-race", "--dir", "races");
    assert.equal(made.status, 0, made.stderr);
    const run = racelab("run", "races/my-race.ipynb", "--out", "out", "--timeout", "300");
    assert.equal(run.status, 0, run.stderr);
  });
  after(async () => {
    await rm(project, { recursive: true, force: true });
  });

  it("records each result with the scenario file, and the writeup has the verdict of every fix", async () => {
    const lines = (await readFile(path.join(project, "out/my-race.results.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { bundled: boolean; file: string | null });
    assert.ok(lines.length >= 2);
    for (const l of lines) assert.deepEqual([l.bundled, l.file], [false, "races/my-race.ts"]);
    const r = racelab("report", "out/my-race.ipynb", "--mail", "--out", "out");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "", "no warning");
    const mail = await readFile(path.join(project, "out/my-race.mail.txt"), "utf8");
    assert.match(mail, /explored every\s+interleaving/);
    assert.match(mail, /^ {2}baseline +FAIL under sc +\d+ of \d+ executions explored$/m);
    assert.match(mail, /^ {2}take-lock +pass under sc +0 of \d+ executions explored$/m);
    // The scaffold names no thread: no "model of this thread", no `Thread: —` (new-user trial 22).
    assert.match(mail, /racelab's model \(scenario my-race,/);
    assert.doesNotMatch(mail, /this thread|^Thread:/m);
    // The replay command names the file as the notebook does, from the project root.
    assert.match(mail, /racelab replay \.\/races\/my-race\.ts --fix baseline --schedule/);
  });

  it("archives the scenario file and verifies every result from it, in another folder too", async () => {
    const a = racelab("archive", "out/my-race.ipynb");
    assert.equal(a.status, 0, a.stderr);
    const archive = path.join(project, a.stdout.trim());
    const elsewhere = await mkdtemp(path.join(tmpdir(), "racelab-verify-elsewhere-"));
    try {
      const copy = path.join(elsewhere, "my-race.racelab.tar.gz");
      await writeFile(copy, await readFile(archive));
      const v = spawnSync(process.execPath, [cli, "verify", copy], { cwd: elsewhere, encoding: "utf8" });
      assert.equal(v.status, 0, v.stdout + v.stderr);
      assert.doesNotMatch(v.stdout, /not recomputable/);
      assert.match(v.stdout, /identical {2}check my-race baseline\/default/);
      assert.match(v.stdout, /verified: (\d+) identical, 0 different of \1 recorded results/);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it("a scenario file changed after the run makes verify say DIFFERENT", async () => {
    const file = path.join(project, "races/my-race.ts");
    const text = await readFile(file, "utf8");
    // The fix no longer takes the lock: its recorded pass is no longer what the file gives.
    const broken = text.replace('options: { locked: true }', "options: { locked: false }");
    assert.notEqual(broken, text, "the scaffold's fix sets locked: true");
    await writeFile(file, broken);
    try {
      const a = racelab("archive", "out/my-race.ipynb", "--out", "changed");
      assert.equal(a.status, 0, a.stderr);
      const v = racelab("verify", a.stdout.trim());
      assert.equal(v.status, 1, v.stdout + v.stderr);
      assert.match(v.stdout, /DIFFERENT +check my-race take-lock\/default/);
    } finally {
      await writeFile(file, text);
    }
  });
});
