// `racelab report` end to end on a fixture (HTML only; the PDF has its own test file).
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { reportCommand, reportNotebooks } from "../src/cli/report.js";

const FIXTURE = "test/fixtures/executed.ipynb";

/** Run `fn` with stderr captured. */
async function captureStderr<T>(fn: () => Promise<T>): Promise<{ value: T; stderr: string }> {
  const write = process.stderr.write.bind(process.stderr);
  let stderr = "";
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    return { value: await fn(), stderr };
  } finally {
    process.stderr.write = write;
  }
}

describe("racelab report", () => {
  let out: string;
  before(async () => {
    out = await mkdtemp(join(tmpdir(), "racelab-report-"));
  });
  after(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it("--html writes <out>/<name>.html only, with a fixed date stamp", async () => {
    const res = await reportNotebooks([FIXTURE], { html: true, out, date: new Date("2025-06-07T00:00:00Z") });
    assert.deepEqual(res, [{ notebook: FIXTURE, html: join(out, "executed.html"), pdf: null, mail: null, eml: null }]);
    assert.deepEqual((await readdir(out)).sort(), ["executed.html", "index.html"]);
    const html = await readFile(join(out, "executed.html"), "utf8");
    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /<title>Fixture: delalloc vs fallocate<\/title>/);
    assert.match(html, /2025-06-07/);
    assert.ok(!/<script/i.test(html));
  });

  it("is reproducible: same input and date give the same HTML", async () => {
    const date = new Date("2025-06-07T00:00:00Z");
    await reportNotebooks([FIXTURE], { html: true, out, date });
    const a = await readFile(join(out, "executed.html"), "utf8");
    await reportNotebooks([FIXTURE], { html: true, out, date });
    assert.equal(await readFile(join(out, "executed.html"), "utf8"), a);
  });

  it("exits 2 with a one-line reason for a missing or invalid notebook, writing nothing", async () => {
    const bad = await mkdtemp(join(tmpdir(), "racelab-report-bad-"));
    try {
      for (const [paths, re] of [
        [["missing.ipynb"], /^racelab report: missing\.ipynb: no such file\n$/],
        [["package.json"], /^racelab report: package\.json: not a notebook \(expected a \.ipynb file\)\n$/],
        [[FIXTURE, "test/fixtures/nope.ipynb"], /nope\.ipynb: no such file\n$/],
        [[], /no notebook given/],
      ] as [string[], RegExp][]) {
        const { value, stderr } = await captureStderr(() => reportCommand(paths, { out: bad }));
        assert.equal(value, 2, `exit status for ${paths.join(" ")}`);
        assert.match(stderr, re);
        assert.equal(stderr.trim().split("\n").length, 1);
      }
      assert.deepEqual(await readdir(bad), [], "nothing written when any input is bad");
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });

  it("a notebook none of whose code cells ran is bad input (exit 2, one line, the executed copy's report kept); --unexecuted renders it (new-user trial 12)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "racelab-unexecuted-"));
    try {
      const nb = JSON.parse(await readFile(FIXTURE, "utf8")) as { cells: { cell_type: string; outputs?: unknown[]; execution_count?: number | null }[] };
      for (const c of nb.cells) if (c.cell_type === "code") Object.assign(c, { outputs: [], execution_count: null });
      const src = join(dir, "src");
      await mkdir(src);
      await writeFile(join(src, "executed.ipynb"), JSON.stringify(nb));
      const good = await captureStderr(() => reportCommand([FIXTURE], { html: true, out: dir }));
      assert.equal(good.value, 0, good.stderr);
      const before = await readFile(join(dir, "executed.html"), "utf8");
      const { value, stderr } = await captureStderr(() => reportCommand([join(src, "executed.ipynb")], { html: true, out: dir }));
      assert.equal(value, 2);
      assert.match(stderr, /^racelab report: .*executed\.ipynb has no outputs \(none of its code cells ran\): report the executed copy that 'racelab run .*' writes to reports\/, or pass --unexecuted to render it as it is; nothing was written\n$/);
      assert.equal(await readFile(join(dir, "executed.html"), "utf8"), before, "the executed notebook's report is kept");
      const forced = await captureStderr(() => reportCommand([join(src, "executed.ipynb")], { html: true, out: dir, unexecuted: true }));
      assert.equal(forced.value, 0, forced.stderr);
      assert.match(forced.stderr, /has no outputs \(--unexecuted: rendered as it is\)/);
      assert.notEqual(await readFile(join(dir, "executed.html"), "utf8"), before);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("--mail alone writes the writeup and the reply only", async () => {
    const dir = await mkdtemp(join(tmpdir(), "racelab-mail-"));
    try {
      const { value, stderr } = await captureStderr(() => reportCommand([FIXTURE], { mail: true, out: dir }));
      assert.equal(value, 0, stderr);
      assert.deepEqual((await readdir(dir)).sort(), ["executed.eml", "executed.mail.txt", "index.html"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("racelab report's verdict checks", () => {
  it("stop at --check-time-limit and read incomplete (a check that could not finish ran for hours, silently; new-user trial 19); a bad limit is exit 2", { timeout: 120_000 }, async () => {
    const { symlinkSync, mkdirSync, writeFileSync } = await import("node:fs");
    const { resolve } = await import("node:path");
    const dir = await mkdtemp(join(tmpdir(), "racelab-report-limit-"));
    try {
      mkdirSync(join(dir, "node_modules"));
      symlinkSync(resolve("."), join(dir, "node_modules", "racelab"));
      // Two threads that spin on a flag nobody sets, without t.retry(): every execution runs to
      // the step bound, and there are ever more of them.
      const file = join(dir, "spin.ts");
      writeFileSync(
        file,
        `import { defineScenario, sitesIn, type Task } from "racelab";
const at = sitesIn("lib/spin.c", "v6.12");
const POLL = at("spin", "while (!READ_ONCE(s->go))");
export default defineScenario({
  id: "spin-forever",
  setup: () => ({
    state: { go: 0, n: 0 },
    threads: {
      *a(t: Task, s: { go: number; n: number }) { for (;;) { yield POLL; if (s.go) break; s.n++; } },
      *b(t: Task, s: { go: number; n: number }) { for (;;) { yield POLL; if (s.go) break; s.n++; } },
    },
  }),
});
`,
      );
      const nb = join(dir, "spin.ipynb");
      writeFileSync(
        nb,
        JSON.stringify({
          cells: [{ cell_type: "code", id: "c", metadata: {}, execution_count: 1, source: ["1"], outputs: [{ output_type: "stream", name: "stdout", text: ["1\n"] }] }],
          metadata: { kernelspec: { name: "racelab", display_name: "racelab", language: "typescript" }, racelab: { scenario: "spin-forever", file } },
          nbformat: 4,
          nbformat_minor: 5,
        }),
      );
      const lines: string[] = [];
      const t0 = Date.now();
      await reportNotebooks([nb], { html: true, out: dir, checkTimeLimitMs: 1500, warn: (l) => lines.push(l), date: new Date("2025-06-07T00:00:00Z") });
      assert.ok(Date.now() - t0 < 60_000, `${Date.now() - t0} ms`);
      const html = await readFile(join(dir, "spin.html"), "utf8");
      assert.match(html, /incomplete/i);
      // (Not "explored every interleaving" above an incomplete verdict.)
      assert.match(html, /explored the interleavings it could \(a verdict cut short reads incomplete\)/);
      assert.doesNotMatch(html, /explored every interleaving/);
      const bad = await captureStderr(() => reportCommand([nb], { html: true, out: dir, checkTimeLimitMs: 1500 }));
      assert.equal(bad.value, 0, bad.stderr);
      // Ctrl-C while the checks run stops the process at once (they ignored SIGINT and SIGTERM).
      const { spawn } = await import("node:child_process");
      const child = spawn(process.execPath, ["dist/cli/main.js", "report", nb, "--html", "--out", join(dir, "stopped"), "--check-time-limit", "100"], { stdio: "ignore" });
      const exited = new Promise<string>((res) => child.on("exit", (code, signal) => res(`${code} ${signal}`)));
      await new Promise((r) => setTimeout(r, 3000));
      child.kill("SIGINT");
      const t1 = Date.now();
      // (Node's default for SIGINT: the process ends by the signal, status 130 in a shell.)
      assert.equal(await exited, "null SIGINT");
      assert.ok(Date.now() - t1 < 5000, `${Date.now() - t1} ms after SIGINT`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const { spawnSync } = await import("node:child_process");
    const r = spawnSync(process.execPath, ["dist/cli/main.js", "report", FIXTURE, "--check-time-limit", "soon"], { encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^racelab report: --check-time-limit: expected seconds, more than 0 and at most 604800, got "soon"\n$/);
  });
});
