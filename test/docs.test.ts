/**
 * The API reference in docs/api is TypeDoc's Markdown output for src/index.ts (typedoc.json,
 * `npm run docs`). This regenerates it into a temp folder and fails when a public symbol lacks a
 * docstring, a {@link} does not resolve, a public signature names a type the package does not
 * export (TypeDoc's validation warnings), or when docs/api differs from the regenerated reference
 * (stale: run `npm run docs` and commit docs/api).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const committed = path.join(root, "docs/api");

/** Every file under `dir`, as sorted paths relative to it (with `/`). */
function files(dir: string, prefix = ""): string[] {
  const list: string[] = [];
  for (const d of readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    if (d.isDirectory()) list.push(...files(dir, rel));
    else if (d.isFile()) list.push(rel);
  }
  return list.sort();
}

describe("API reference (TypeDoc, docs/api)", { timeout: 120_000 }, () => {
  let out: string;
  let log: string;
  let status: number | null;

  before(() => {
    out = mkdtempSync(path.join(tmpdir(), "racelab-docs-"));
    // The project's typedoc.json with another output folder; warnings are collected here rather
    // than failing the run, so that the reference is written and compared too.
    const r = spawnSync(
      process.execPath,
      [path.join(root, "node_modules/typedoc/bin/typedoc"), "--out", out, "--treatWarningsAsErrors", "false"],
      { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" }, maxBuffer: 64 << 20 },
    );
    assert.ifError(r.error);
    status = r.status;
    // eslint-disable-next-line no-control-regex
    log = (r.stdout + r.stderr).replace(/\x1b\[[0-9;]*m/g, "");
  });
  after(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it("TypeDoc runs without errors or warnings (every public symbol documented, every link resolved)", () => {
    const problems = log.split("\n").filter((l) => /^\[(warning|error)\]/.test(l) && !/Found \d+ errors and \d+ warnings/.test(l));
    assert.deepEqual(problems, [], `TypeDoc reported:\n${problems.join("\n")}`);
    assert.equal(status, 0, log);
  });

  it("a page is named after its symbol, kernel underscores kept (set_bit.md is set_bit(), __set_bit.md is __set_bit())", () => {
    const wrong: string[] = [];
    for (const f of files(out).filter((x) => /^(functions|variables|classes|interfaces|type-aliases)\//.test(x))) {
      const title = /^# \w[\w ]*: (.+?)(\(\))?(<.*>)?$/m.exec(readFileSync(path.join(out, f), "utf8"))?.[1]?.replace(/\\/g, "");
      const base = path.basename(f, ".md");
      // A name that differs from another only in case gets a -1 suffix (KREF_INIT and kref_init, on case-insensitive file systems).
      if (title === undefined || (base !== title && base.replace(/-\d+$/, "") !== title)) wrong.push(`${f}: ${title ?? "no title"}`);
    }
    assert.deepEqual(wrong, []);
    for (const name of ["__set_bit", "set_bit", "__clear_bit", "clear_bit", "__set_current_state", "set_current_state"])
      assert.match(readFileSync(path.join(out, `functions/${name}.md`), "utf8"), new RegExp(`^# Function: ${name.replace(/_/g, "\\\\_")}\\(\\)$`, "m"));
  });

  it("docs/api is the current reference (else run `npm run docs` and commit docs/api)", () => {
    const want = files(out);
    assert.ok(want.includes("README.md"), "the reference has an index, docs/api/README.md");
    const have = files(committed);
    const missing = want.filter((f) => !have.includes(f));
    const extra = have.filter((f) => !want.includes(f));
    const changed = want.filter((f) => have.includes(f) && readFileSync(path.join(out, f), "utf8") !== readFileSync(path.join(committed, f), "utf8"));
    const show = (what: string, l: string[]) => (l.length ? `\n  ${what}: ${l.slice(0, 10).join(", ")}${l.length > 10 ? `, ... (${l.length})` : ""}` : "");
    assert.ok(
      missing.length + extra.length + changed.length === 0,
      `docs/api is stale: run \`npm run docs\` and commit docs/api${show("missing", missing)}${show("no longer generated", extra)}${show("changed", changed)}`,
    );
  });
});
