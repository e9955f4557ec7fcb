// Every step of every shipped scenario names a kernel function and the file it is in
// (Site.fn, Site.source = "<file>: <fn>()", Site.version). This test checks each (file, version,
// function) against test/fixtures/kernel-functions.json: which functions are defined in which
// file at which version, each entry gathered by reading the file (or the patch hunks named
// there) and recording what was read. A site whose function is not defined in its file — say
// ext4_es_insert_delayed_block() attributed to fs/ext4/inode.c, which only calls it — fails, and
// so does a new site citing a (file, version) nobody has read yet: read it, then add the entry.
//
// The sites are collected twice: every Site exported (at any depth) by src/scenarios/*/sites.ts,
// and every site an exhaustive exploration of every fix and variant of every scenario actually
// steps through (which includes sites made at run time, such as filemap-folio-split's XArray
// store steps). The XArray model's store steps can name other lib/xarray.c functions at other
// parameters; those names are read from src/linux/xarray.ts and checked too.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import type { Site } from "../src/engine/site.js";
import { resolveConfig } from "../src/engine/scenario.js";
import { runStrategy } from "../src/engine/runner.js";
import { makeStrategy } from "../src/engine/strategies/index.js";
import { scenarios } from "../src/scenarios/index.js";
import { storeSite } from "../src/scenarios/filemap-folio-split/sites.js";
import type { XaStoreStep } from "../src/linux/xarray.js";

interface FactEntry {
  readonly versions: string[];
  readonly read: string;
  readonly functions: Record<string, string>;
}
const facts = JSON.parse(readFileSync("test/fixtures/kernel-functions.json", "utf8")) as { files: Record<string, FactEntry[]> };

const isSite = (v: unknown): v is Site =>
  v !== null && typeof v === "object" && typeof (v as Site).fn === "string" && typeof (v as Site).source === "string" && typeof (v as Site).version === "string";

/** Every Site reachable from a module's exports (objects of sites, nested objects, arrays). */
function exportedSites(v: unknown, out: Set<Site>, seen = new Set<unknown>()): Set<Site> {
  if (v === null || typeof v !== "object" || seen.has(v)) return out;
  seen.add(v);
  if (isSite(v)) out.add(v);
  else for (const k of Object.keys(v)) exportedSites((v as Record<string, unknown>)[k], out, seen);
  return out;
}

/** Every site a kernel thread steps through in an exhaustive exploration of every fix and variant (store-buffer daemons excluded). */
function steppedSites(id: string): Set<Site> {
  const sc = scenarios.find((s) => s.id === id)!;
  const out = new Set<Site>();
  for (const fix of sc.fixes)
    for (const variant of sc.variants) {
      const cfg = resolveConfig(sc, fix.id, variant.id, {});
      const stats = runStrategy(sc, cfg, makeStrategy("sleep-sets", { seed: 1, runs: 1, pctDepth: 3 }), { trace: true, maxExecutions: 100_000 }, (v) => {
        for (const s of v.exec.trace!) if (v.exec.tasks[s.thread]?.daemon !== true) out.add(s.site);
        return false;
      });
      assert.equal(stats.complete, true, `${id} ${fix.id}/${variant.id}: the exploration must complete to see every site`);
    }
  return out;
}

/** What is wrong with one site against the facts, or null. */
function problem(site: Site): string | null {
  const suffix = `: ${site.fn}()`;
  if (!site.source.endsWith(suffix)) return `site ${site.fn} (${site.label}): source "${site.source}" does not end in "${suffix}"`;
  const file = site.source.slice(0, -suffix.length);
  const entry = facts.files[file]?.find((e) => e.versions.includes(site.version));
  if (entry === undefined)
    return `${file} @ ${site.version} (site ${site.fn}: ${site.label}): no entry in test/fixtures/kernel-functions.json — read the file at that version and record what it defines`;
  if (!Object.hasOwn(entry.functions, site.fn))
    return `${site.fn}() is not defined in ${file} @ ${site.version} (site label "${site.label}"); read: ${entry.read.slice(0, 160)}...`;
  return null;
}

function check(sites: Iterable<Site>): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const s of sites) {
    const key = `${s.source}@${s.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const p = problem(s);
    if (p !== null) problems.push(p);
  }
  return problems.sort();
}

const dirs = readdirSync("src/scenarios", { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

test("the facts file: every entry says what was read and lists at least one function", () => {
  for (const [file, entries] of Object.entries(facts.files))
    for (const e of entries) {
      assert.ok(e.versions.length > 0, `${file}: an entry without versions`);
      assert.ok(e.read.trim().length > 40, `${file} @ ${e.versions.join(", ")}: 'read' must say which copy was read`);
      assert.ok(Object.keys(e.functions).length > 0, `${file} @ ${e.versions.join(", ")}: no functions`);
      for (const [fn, where] of Object.entries(e.functions)) assert.ok(where.trim() !== "", `${file}: ${fn} without evidence`);
    }
  // One entry per (file, version): an ambiguous lookup would make the test depend on the order.
  for (const [file, entries] of Object.entries(facts.files)) {
    const versions = entries.flatMap((e) => e.versions);
    assert.equal(new Set(versions).size, versions.length, `${file}: a version listed in two entries`);
  }
});

test("every shipped scenario has a sites.ts and is explored here", () => {
  assert.deepEqual(dirs, scenarios.map((s) => s.id).sort());
  for (const d of dirs) assert.ok(readdirSync(`src/scenarios/${d}`).includes("sites.ts"), `src/scenarios/${d}/sites.ts`);
});

for (const id of dirs) {
  test(`${id}: every site's function is defined in its file at its version`, async () => {
    const mod: unknown = await import(`../src/scenarios/${id}/sites.js`);
    const exported = exportedSites(mod, new Set());
    assert.ok(exported.size > 0, `src/scenarios/${id}/sites.ts exports no sites`);
    const stepped = steppedSites(id);
    assert.ok(stepped.size > 0);
    const problems = check([...exported, ...stepped]);
    assert.deepEqual(problems, [], `\n${problems.join("\n")}`);
  });
}

test("filemap-folio-split: every lib/xarray.c function the XArray model's store steps can name is defined there", () => {
  // storeSite() turns an XaStoreStep's source ("lib/xarray.c: xas_split()") into a site; the
  // sources are the `${XARRAY_C}: name()` strings of src/linux/xarray.ts.
  const text = readFileSync("src/linux/xarray.ts", "utf8");
  const names = [...new Set([...text.matchAll(/\$\{XARRAY_C\}: (\w+)\(\)/g)].map((m) => m[1]!))].sort();
  assert.ok(names.includes("xas_try_split") && names.includes("xas_store"), names.join(", "));
  const sites = names.map((n) => storeSite({ source: `lib/xarray.c: ${n}()`, code: "(check)" } as XaStoreStep, "site-sources test"));
  const problems = check(sites);
  assert.deepEqual(problems, [], `\n${problems.join("\n")}`);
});
