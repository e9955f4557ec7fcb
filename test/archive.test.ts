/**
 * `racelab archive` and `racelab verify` (issue 10, section 4): an executed notebook with the
 * results it recorded becomes an archive that verifies (every result recomputed identical); a
 * tampered file, a changed result, an unsafe entry (`..`, absolute, a link) or a malformed archive
 * is refused, and nothing is written outside a temporary folder. Each verify line names the
 * parameters of a sweep (a new user's trial: four lines read `identical  rates check-act
 * delay/default (timed)` after a `delay_us` sweep), and a DIFFERENT line the values that differ.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it, test } from "node:test";
import { fileURLToPath } from "node:url";
import * as tar from "tar";
import { createHash } from "node:crypto";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "dist/cli/main.js");
const racelab = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", env: { ...process.env, CI: "1" } });

describe("archive and verify", { timeout: 300_000 }, () => {
  let dir: string;
  let archive: string;
  const name = `.archive-test-${process.pid}`;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "racelab-archive-test-"));
    const nbPath = path.join(root, "notebooks", `${name}.ipynb`);
    await writeFile(
      nbPath,
      JSON.stringify({
        cells: [
          {
            cell_type: "code",
            id: "a",
            metadata: {},
            outputs: [],
            execution_count: null,
            source: ['import { check, rates } from ".";\n', 'console.log(check("ext4-delalloc-fallocate", { fix: "baseline" }).verdict, rates("ext4-delalloc-fallocate", { runs: 2000, mode: "timed" }).failures);'],
          },
        ],
        metadata: { kernelspec: { name: "racelab", display_name: "racelab (TypeScript)", language: "typescript" }, racelab: { scenario: "ext4-delalloc-fallocate" } },
        nbformat: 4,
        nbformat_minor: 5,
      }),
    );
    try {
      const run = racelab("run", nbPath, "--out", dir);
      assert.equal(run.status, 0, run.stderr);
    } finally {
      await rm(nbPath, { force: true });
    }
    assert.equal(racelab("report", path.join(dir, `${name}.ipynb`), "--html", "--mail", "--out", dir).status, 0);
    const a = racelab("archive", path.join(dir, `${name}.ipynb`));
    assert.equal(a.status, 0, a.stderr);
    archive = a.stdout.trim();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("holds the notebook, its recorded results, its reports and a manifest; verifies, every result identical", async () => {
    const entries: string[] = [];
    await tar.t({ file: archive, onReadEntry: (e) => void entries.push(e.path) });
    assert.deepEqual(entries.sort(), [".eml", ".html", ".ipynb", ".mail.txt", ".results.jsonl"].map((s) => `${name}/${name}${s}`).concat(`${name}/manifest.json`).sort());
    const v = racelab("verify", archive);
    assert.equal(v.status, 0, v.stderr + v.stdout);
    assert.match(v.stdout, /identical {2}check ext4-delalloc-fallocate baseline\/default/);
    assert.match(v.stdout, /identical {2}rates ext4-delalloc-fallocate baseline\/default \(timed\)/);
    assert.match(v.stdout, /verified: 2 identical, 0 different of 2 recorded results/);
    // The same files give the same archive.
    const again = racelab("archive", path.join(dir, `${name}.ipynb`), "--out", path.join(dir, "again"));
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(await readFile(again.stdout.trim()), await readFile(archive));
  });

  /** Re-packs the archive after `change` edits its extracted folder. */
  async function repack(change: (folder: string) => Promise<void>): Promise<string> {
    const work = await mkdtemp(path.join(dir, "repack-"));
    await tar.x({ file: archive, cwd: work });
    await change(path.join(work, name));
    const out = path.join(work, "changed.tar.gz");
    await tar.c({ gzip: true, file: out, cwd: work }, (await readdir(path.join(work, name))).map((f) => `${name}/${f}`));
    return out;
  }
  const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

  it("refuses a tampered file (exit 2, one line)", async () => {
    const bad = await repack(async (f) => writeFile(path.join(f, `${name}.html`), "<p>VERIFIED: ALL FIXES PASS</p>"));
    const v = racelab("verify", bad);
    assert.equal(v.status, 2);
    assert.match(v.stderr, /tampered: .*\.html does not match its SHA-256 in the manifest/);
    assert.equal(v.stderr.trim().split("\n").length, 1);
  });

  it("reports a recorded result that no longer matches (exit 1, DIFFERENT with the fields)", async () => {
    const bad = await repack(async (f) => {
      const p = path.join(f, `${name}.results.jsonl`);
      const lines = (await readFile(p, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { result: { executions?: number } });
      lines[0]!.result.executions! += 1;
      const text = lines.map((l) => JSON.stringify(l)).join("\n") + "\n";
      await writeFile(p, text);
      const m = JSON.parse(await readFile(path.join(f, "manifest.json"), "utf8")) as { files: Record<string, string> };
      m.files[`${name}.results.jsonl`] = sha(text);
      await writeFile(path.join(f, "manifest.json"), JSON.stringify(m));
    });
    const v = racelab("verify", bad);
    assert.equal(v.status, 1);
    assert.match(v.stdout, /DIFFERENT {2}check ext4-delalloc-fallocate baseline\/default: executions/);
    assert.match(v.stdout, /NOT verified: 1 identical, 1 different/);
  });

  it("refuses entries that would write outside their folder, links, and malformed archives; writes nothing", async () => {
    const work = await mkdtemp(path.join(dir, "unsafe-"));
    await mkdir(path.join(work, "a"));
    await writeFile(path.join(work, "evil.txt"), "x");
    const dotdot = path.join(work, "dotdot.tar.gz");
    await tar.c({ gzip: true, file: dotdot, cwd: path.join(work, "a"), preservePaths: true }, ["../evil.txt"]);
    await symlink("/etc/passwd", path.join(work, "a", "link"));
    const link = path.join(work, "link.tar.gz");
    await tar.c({ gzip: true, file: link, cwd: work }, ["a/link"]);
    const junk = path.join(work, "junk.tar.gz");
    await writeFile(junk, "not an archive at all");
    for (const [file, why] of [
      [dotdot, /unsafe entry '\.\.\/evil\.txt'/],
      [link, /unsafe entry 'a\/link' \(SymbolicLink\)/],
      [junk, /not a racelab archive|empty archive/],
      [path.join(work, "missing.tar.gz"), /no such archive/],
    ] as const) {
      const v = racelab("verify", file);
      assert.equal(v.status, 2, `${file}: ${v.stderr}`);
      assert.match(v.stderr, why);
    }
    assert.deepEqual((await readdir(dir)).filter((f) => f === "evil.txt"), []);
  });
});

describe("recorded results", () => {
  it("a scenario defined in a notebook (looked up by id since) is recorded as not bundled, so verify does not try to rebuild it", async () => {
    const { check, defineScenario, getScenario, sitesIn } = await import("../src/index.js");
    const S = sitesIn("lib/test.c", "v6.12")("t", "step");
    const mine = defineScenario<{ x: number }, Record<string, never>>({
      id: "archive-test-notebook-scenario",
      setup: () => ({
        state: { x: 0 },
        threads: {
          *a(_t, s) {
            yield S;
            s.x++;
          },
        },
      }),
      view: (s) => ({ x: s.x }),
    });
    const dir = await mkdtemp(path.join(tmpdir(), "racelab-record-test-"));
    const file = path.join(dir, "r.jsonl");
    const old = process.env["RACELAB_RECORD"];
    process.env["RACELAB_RECORD"] = file;
    try {
      check(mine, {});
      check("archive-test-notebook-scenario", {}); // found by id: seen, not bundled
      check(getScenario("ext4-delalloc-fallocate"), {});
    } finally {
      if (old === undefined) delete process.env["RACELAB_RECORD"];
      else process.env["RACELAB_RECORD"] = old;
    }
    const lines = (await readFile(file, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { scenario: string; bundled: boolean });
    assert.deepEqual(
      lines.map((l) => [l.scenario, l.bundled]),
      [
        ["archive-test-notebook-scenario", false],
        ["archive-test-notebook-scenario", false],
        ["ext4-delalloc-fallocate", true],
      ],
    );
    await rm(dir, { recursive: true, force: true });
  });
});

describe("verify lines name the parameters", { timeout: 120_000 }, () => {
  it("after a sweep each line names its value, and a DIFFERENT line says which value differs and how", async () => {
    const { rates, check } = await import("../src/index.js");
    const dir = await mkdtemp(path.join(tmpdir(), "racelab-verify-params-"));
    const name = "sweep";
    const folder = path.join(dir, name);
    await mkdir(folder);
    const jsonl = path.join(folder, `${name}.results.jsonl`);
    const old = process.env["RACELAB_RECORD"];
    process.env["RACELAB_RECORD"] = jsonl;
    try {
      check("ext4-delalloc-fallocate", { fix: "baseline" });
      for (const blocks of [1, 2]) rates("ext4-delalloc-fallocate", { fix: "baseline", runs: 300, mode: "timed", params: { blocks } });
    } finally {
      if (old === undefined) delete process.env["RACELAB_RECORD"];
      else process.env["RACELAB_RECORD"] = old;
    }
    const pack = async (text: string, file: string) => {
      await writeFile(jsonl, text);
      const manifest = { format: "racelab-archive", version: 1, name, racelab: "0.1.0", commit: null, node: process.version, packageLockSha256: null, kernel: null, files: { [`${name}.results.jsonl`]: createHash("sha256").update(text).digest("hex") } };
      await writeFile(path.join(folder, "manifest.json"), JSON.stringify(manifest));
      const out = path.join(dir, file);
      await tar.c({ gzip: true, file: out, cwd: dir }, [`${name}/manifest.json`, `${name}/${name}.results.jsonl`]);
      return out;
    };
    try {
      const text = await readFile(jsonl, "utf8");
      const good = racelab("verify", await pack(text, "good.tar.gz"));
      assert.equal(good.status, 0, good.stdout + good.stderr);
      // The check ran at the default, blocks=1: named too, as blocks varies between the results.
      assert.match(good.stdout, /^ {2}identical {2}check ext4-delalloc-fallocate baseline\/default blocks=1$/m);
      assert.match(good.stdout, /^ {2}identical {2}rates ext4-delalloc-fallocate baseline\/default blocks=1 \(timed\)$/m);
      assert.match(good.stdout, /^ {2}identical {2}rates ext4-delalloc-fallocate baseline\/default blocks=2 \(timed\)$/m);
      const lines = text.trim().split("\n").map((l) => JSON.parse(l) as { result: { failures?: number } });
      const was = lines[2]!.result.failures!;
      lines[2]!.result.failures = was + 1;
      const bad = racelab("verify", await pack(lines.map((l) => JSON.stringify(l)).join("\n") + "\n", "bad.tar.gz"));
      assert.equal(bad.status, 1, bad.stdout + bad.stderr);
      assert.match(bad.stdout, new RegExp(`^ {2}DIFFERENT {2}rates ext4-delalloc-fallocate baseline/default blocks=2 \\(timed\\): failures \\(${was + 1} recorded, ${was} now\\)$`, "m"));
      assert.match(bad.stdout, /^ {2}identical {2}rates ext4-delalloc-fallocate baseline\/default blocks=1 \(timed\)$/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

test("verify compares what the archive recorded: a field a later racelab adds is not a difference, a changed or dropped one is", async () => {
  const { differingFields } = await import("../src/cli/archive.js");
  const recorded = { verdict: "pass", states: 91, rows: [{ a: 1 }], elapsedMs: 3 };
  assert.deepEqual(differingFields(recorded, { ...recorded, elapsedMs: 9, unreachedSteps: [] }), []);
  assert.deepEqual(differingFields(recorded, { ...recorded, rows: [{ a: 1, added: true }] }), []);
  assert.deepEqual(differingFields(recorded, { ...recorded, states: 92 }), ["states (91 recorded, 92 now)"]);
  assert.deepEqual(differingFields(recorded, { verdict: "pass", rows: [{ a: 1 }] }), ["states"]);
  assert.deepEqual(differingFields(recorded, { ...recorded, rows: [{ a: 1 }, { a: 2 }] }), ["rows"]);
});

test("a verify line names the reduction and the seed a result was computed with (new-user trial 17: sleep-sets and none read alike)", async () => {
  const { describeResult } = await import("../src/cli/archive.js");
  const rec = (options: Record<string, unknown>) => ({ kind: "check" as const, scenario: "s", bundled: true, options, result: null });
  assert.equal(describeResult(rec({ fix: "baseline" }), {}), "s baseline/default");
  assert.equal(describeResult(rec({ fix: "baseline", reduction: "none" }), {}), "s baseline/default (none)");
  assert.equal(describeResult(rec({ mode: "random", memoryModel: "tso", seed: 7 }), { blocks: 2 }), "s baseline/default blocks=2 (random, tso, seed 7)");
});
