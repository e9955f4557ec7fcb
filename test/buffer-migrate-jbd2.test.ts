import { test } from "node:test";
import assert from "node:assert/strict";
import { check, replay, type CheckResult } from "../src/engine/check.js";
import { evaluateClaims } from "../src/engine/claims.js";
import { runStrategy } from "../src/engine/runner.js";
import { SleepSetSearch, UnreducedSearch } from "../src/engine/strategies/index.js";
import { findingKey } from "../src/engine/finding.js";
import { resolveConfig } from "../src/engine/scenario.js";
import { renderDiagram } from "../src/engine/trace.js";
import { Session } from "../src/notebook/session.js";
import { getScenario } from "../src/scenarios/index.js";
import { newLoc, recordInto, resetLocations } from "../src/engine/access.js";
import { BufferHead } from "../src/linux/buffer_head.js";
import { BhLru, invalidate_bh_lrus } from "../src/linux/bh_lru.js";
import { JournalHead, jbd2_journal_add_journal_head, jbd2_journal_put_journal_head } from "../src/linux/journal_head.js";
import { BufferFolio } from "../src/linux/address_space.js";

const sc = getScenario("buffer-migrate-jbd2");

const LOST = /^invariant: .*(the update is lost|a metadata update was lost)/;
const SLEEP = "sleep-in-atomic: folio_mc_copy() may sleep while holding bd_mapping->i_private_lock";
const has = (r: CheckResult, re: RegExp) => Object.keys(r.findings).some((k) => re.test(k));

/** Verdict of every fix on every variant (exhaustive, default parameters). */
const VERDICTS: Record<string, Record<string, "pass" | "lost update" | "sleep-in-atomic">> = {
  baseline: { default: "pass", "bs-2048": "pass", "large-folio": "sleep-in-atomic", ext2: "pass", "journalled-file": "pass" },
  "no-private-lock": {
    default: "lost update",
    "bs-2048": "lost update",
    "large-folio": "lost update",
    ext2: "lost update",
    "journalled-file": "pass",
  },
  "meta-head": {
    default: "pass",
    "bs-2048": "lost update",
    "large-folio": "lost update",
    ext2: "lost update",
    "journalled-file": "pass",
  },
  "meta-all-buffers": { default: "pass", "bs-2048": "pass", "large-folio": "pass", ext2: "lost update", "journalled-file": "pass" },
  "journalled-aops-no-migrate": {
    default: "pass",
    "bs-2048": "pass",
    "large-folio": "sleep-in-atomic",
    ext2: "pass",
    "journalled-file": "pass",
  },
  "no-large-bdev-folios": { default: "pass", "bs-2048": "pass", "large-folio": "pass", ext2: "pass", "journalled-file": "pass" },
};

const results = new Map<string, CheckResult>();
const get = (fix: string, variant: string) => {
  const k = `${fix}/${variant}`;
  if (!results.has(k)) results.set(k, check(sc, { fix, variant, countNaive: true }));
  return results.get(k)!;
};

test("the scenario lists the thread's fixes and the issue's variants", () => {
  assert.deepEqual(
    sc.fixes.map((f) => f.id),
    ["baseline", "no-private-lock", "meta-head", "meta-all-buffers", "journalled-aops-no-migrate", "no-large-bdev-folios"],
  );
  assert.deepEqual(
    sc.variants.map((v) => v.id),
    ["default", "bs-2048", "large-folio", "ext2", "journalled-file"],
  );
  for (const f of sc.fixes) {
    assert.match(f.source.seed, /^000_714910fe023abd01\.txt$/);
    assert.ok(f.source.quote && f.source.quote.length > 20, `${f.id} cites its message`);
  }
});

test("every fix × variant: verdict, completeness and the kind of finding", () => {
  const t0 = performance.now();
  for (const [fix, row] of Object.entries(VERDICTS))
    for (const [variant, want] of Object.entries(row)) {
      const r = get(fix, variant);
      const where = `${fix}/${variant}: ${JSON.stringify(r.findings)}`;
      assert.equal(r.complete, true, where);
      assert.ok(r.naiveExecutions !== null && r.naiveExecutions > r.executions, where);
      if (want === "pass") {
        assert.equal(r.verdict, "pass", where);
        assert.equal(r.naiveViolations, 0, where);
      } else if (want === "lost update") {
        assert.equal(r.verdict, "fail", where);
        assert.ok(has(r, LOST), where);
        assert.ok(!has(r, /^sleep-in-atomic/), where);
      } else {
        assert.equal(r.verdict, "fail", where);
        assert.deepEqual(Object.keys(r.findings), [SLEEP], where);
      }
    }
  assert.ok(performance.now() - t0 < 5000, "exhaustive checks of every fix and variant take under 5 s");
});

test("a lost update is flagged at the store and by the end check, and jbd2 then commits the stale block", () => {
  const r = get("no-private-lock", "default");
  assert.ok(r.findings["invariant: ext4_ext_insert_extent(): update of block 0 lands in src, which migration replaced by dst: the update is lost"]! > 0);
  assert.ok(r.findings["invariant: block 0: the page cache (dst) holds version 0 after 1 update(s): a metadata update was lost"]! > 0);
  assert.ok(r.findings["invariant: jbd2 commits block 0 at version 0, without update 1: the metadata update is lost"]! > 0);
  // ext2 also hits the window between folio_mc_copy() and the freeze.
  const e = get("meta-head", "ext2");
  assert.ok(e.findings["invariant: __folio_migrate_mapping(): block 0 was written in src after folio_mc_copy() copied it; the update is lost"]! > 0);
});

test("every counterexample replays to its finding, with one preemption at most, drawn in 75 columns", () => {
  for (const [fix, row] of Object.entries(VERDICTS))
    for (const variant of Object.keys(row)) {
      const r = get(fix, variant);
      if (r.verdict === "pass") {
        assert.equal(r.counterexample, null);
        continue;
      }
      const ce = r.counterexample!;
      assert.ok(ce.preemptions <= 1, `${fix}/${variant}: ${ce.preemptions} preemptions`);
      const { result, exec } = replay(sc, { fix, variant, schedule: ce.schedule });
      assert.ok(result.findings.includes(ce.finding), `${fix}/${variant}: ${ce.schedule} gives ${result.findings}`);
      assert.equal(result.schedule, ce.schedule);
      for (const s of result.steps) assert.match(s.source, /^(mm|fs|block)\/[\w/.-]+\.c: \w+\(\)$/);
      const d = renderDiagram(exec);
      for (const line of d.split("\n")) assert.ok(line.length <= 75, `${fix}/${variant}: ${line}`);
      assert.match(d, /\^\^\^\^/);
    }
});

test("the race the lock closes: a lookup after the b_count check, before folio_set_bh()", () => {
  const r = get("no-private-lock", "default");
  const steps = replay(sc, { fix: "no-private-lock", schedule: r.counterexample!.schedule }).result.steps;
  const at = (thread: string, fn: string, label?: RegExp) =>
    steps.findIndex((s) => s.thread === thread && s.function === fn && (!label || label.test(s.label)));
  const checked = at("migrate_pages", "__buffer_migrate_folio", /b_count/);
  const looked = at("ext4_ext_map_blocks", "__find_get_block_slow", /get_bh/);
  const moved = at("migrate_pages", "__buffer_migrate_folio", /folio_set_bh/);
  const stored = at("ext4_ext_map_blocks", "ext4_ext_insert_extent");
  assert.ok(checked >= 0 && checked < looked && looked < moved && moved < stored, steps.map((s) => `${s.thread}:${s.function}`).join("\n"));
  // The same decisions under v6.15-rc1: the lookup spins on i_private_lock until the buffers point to dst.
  const s = new Session(sc, { fix: "baseline" });
  let guard = 0;
  while (!/no buffer referenced/.test(s.trace.at(-1)?.notes?.join(" ") ?? "") && guard++ < 40) s.step("migrate_pages");
  s.stepUntilBlocked("ext4_ext_map_blocks");
  assert.match(s.trace.at(-1)!.label, /__filemap_get_folio/);
  s.stepUntilBlocked("migrate_pages");
  s.stepUntilBlocked("ext4_ext_map_blocks");
  s.stepUntilBlocked("kjournald2");
  assert.equal(s.finished, true);
  assert.deepEqual(s.findings, []);
  assert.match(String(s.state["migration"]), /^-EAGAIN/, "the lookup's folio reference makes migration give up");
});

test("stepping: under baseline the lookup cannot take the buffer between the check and the move", () => {
  const s = new Session(sc, { fix: "baseline" });
  assert.deepEqual(s.threads, ["migrate_pages", "ext4_ext_map_blocks", "kjournald2"]);
  // Migration up to and including the second b_count check (the LRU's reference was dropped).
  let guard = 0;
  while (!/no buffer referenced/.test(s.trace.at(-1)?.notes?.join(" ") ?? "") && guard++ < 40) s.step("migrate_pages");
  assert.equal(s.state["i_private_lock"], "migrate_pages");
  s.step("ext4_ext_map_blocks", 2); // LRU miss, __filemap_get_folio(src)
  assert.throws(() => s.step("ext4_ext_map_blocks"), /waits for bd_mapping->i_private_lock/);
  assert.match(String(s.state["src"]), /^ref 4/);
  s.stepUntilBlocked("migrate_pages");
  assert.match(String(s.state["migration"]), /folio_ref_freeze failed|extra folio reference/);
  assert.equal(s.state["page cache"], "src");
  s.back(100);
  assert.equal(s.steps, 0);
  assert.throws(() => s.step("kjournald2"), /waits for the handle to stop/);
});

test("sleep-in-atomic: cond_resched() in folio_mc_copy() under i_private_lock, only for a large folio and only with the lock held", () => {
  const r = get("baseline", "large-folio");
  const { result, exec } = replay(sc, { fix: "baseline", variant: "large-folio", schedule: r.counterexample!.schedule });
  const step = result.steps.find((s) => s.finding?.startsWith("sleep-in-atomic"))!;
  assert.equal(step.function, "folio_mc_copy");
  assert.equal(step.label, "cond_resched()");
  assert.equal(step.source, "mm/util.c: folio_mc_copy()");
  assert.equal(r.counterexample!.preemptions, 0, "migration alone, no other thread needed");
  assert.match(renderDiagram(exec), /sleep-in-atomic: folio_mc_copy\(\) may sleep while\s+holding\s+bd_mapping->i_private_lock/);
  // The unlock moved before the copy (v2 1/8) or no large folio: no finding of that kind.
  for (const fix of ["no-private-lock", "meta-head", "no-large-bdev-folios"]) assert.ok(!has(get(fix, "large-folio"), /^sleep-in-atomic/), fix);
  assert.ok(!has(get("baseline", "default"), /^sleep-in-atomic/));
});

test("claims: outcomes of every claim of the thread", () => {
  const claims = evaluateClaims(sc);
  const byId = Object.fromEntries(claims.map((c) => [c.id, c]));
  assert.deepEqual(
    claims.map((c) => c.id),
    [
      "private-lock-closes-race",
      "meta-head-fixes-ext4-corruption",
      "meta-head-bs-lt-ps",
      "meta-head-breaks-ext2",
      "journalled-aops-no-migrate-bdev",
      "large-folio-sleep-in-atomic",
      "jh-reference-protects-jbd2",
      "spinlock-does-not-protect",
    ],
  );
  for (const id of [
    "private-lock-closes-race",
    "meta-head-bs-lt-ps",
    "meta-head-breaks-ext2",
    "journalled-aops-no-migrate-bdev",
    "large-folio-sleep-in-atomic",
    "jh-reference-protects-jbd2",
  ])
    assert.equal(byId[id]!.holds, true, `${id}: ${byId[id]!.observed}`);
  const mh = byId["meta-head-fixes-ext4-corruption"]!;
  assert.equal(mh.holds, false, mh.observed);
  assert.match(mh.observed, /lost updates in 5 of 6 checks: default \(fresh=1\), bs-2048,/);
  const sp = byId["spinlock-does-not-protect"]!;
  assert.equal(sp.holds, false, sp.observed);
  assert.match(sp.observed, /no lost update in any of 16 exhaustive checks/);
  assert.match(sp.observed, /closed by i_private_lock/);
  for (const c of claims) assert.match(c.source, /^000_714910fe023abd01\.txt: (Luis Chamberlain|Matthew Wilcox|Jan Kara), 2025-04-1\d, "\[v2,1\/8\]/);
});

test("udelay(2000) adds no behaviour: the same executions and verdicts with the delay step", () => {
  for (const variant of ["default", "bs-2048", "ext2"])
    for (const fix of ["baseline", "no-private-lock"]) {
      const a = get(fix, variant);
      const b = check(sc, { fix, variant, params: { udelay: 2000 }, countNaive: true });
      assert.equal(b.executions, a.executions, `${fix}/${variant}`);
      assert.deepEqual(b.findings, a.findings, `${fix}/${variant}`);
      assert.ok(b.naiveExecutions! > a.naiveExecutions!, "the delay step is there: more interleavings, none new in effect");
    }
});

test("buffer not in an LRU, and a never-journalled extent block (BH_Meta clear)", () => {
  for (const v of ["default", "ext2"]) {
    assert.equal(check(sc, { variant: v, params: { lru: 0 } }).verdict, "pass", v);
    assert.ok(has(check(sc, { fix: "no-private-lock", variant: v, params: { lru: 0 } }), LOST), v);
  }
  // The meta test cannot protect a buffer's first journalled update, even at bs == PAGE_SIZE.
  const fresh = check(sc, { fix: "meta-head", variant: "default", params: { fresh: 1 } });
  assert.ok(has(fresh, LOST), JSON.stringify(fresh.findings));
  assert.ok(has(check(sc, { fix: "meta-all-buffers", variant: "bs-2048", params: { fresh: 1 } }), LOST));
  assert.equal(check(sc, { fix: "baseline", variant: "default", params: { fresh: 1 } }).verdict, "pass");
});

test("sleep sets lose nothing: same outcomes as the unreduced search on small configurations", () => {
  for (const [fix, variant] of [
    ["baseline", "ext2"],
    ["meta-head", "ext2"],
    ["baseline", "journalled-file"],
    ["journalled-aops-no-migrate", "journalled-file"],
  ] as const) {
    const cfg = resolveConfig(sc, fix, variant, {});
    const outcomes = (sleepSets: boolean) => {
      const set = new Set<string>();
      const st = runStrategy(sc, cfg, sleepSets ? new SleepSetSearch() : new UnreducedSearch(), {}, (v) => {
        set.add(JSON.stringify([[...new Set(v.exec.findings.map(findingKey))].sort(), v.exec.view()]));
      });
      assert.equal(st.complete, true);
      return set;
    };
    const reduced = outcomes(true);
    const all = outcomes(false);
    assert.deepEqual([...reduced].sort(), [...all].sort(), `${fix}/${variant}`);
  }
});

test("journalled-aops-no-migrate: the data=journal folio goes through fallback_migrate_folio()", () => {
  const r = get("journalled-aops-no-migrate", "journalled-file");
  const s = new Session(sc, { fix: "journalled-aops-no-migrate", variant: "journalled-file" });
  s.stepUntilBlocked("migrate_pages");
  assert.equal(s.state["migration"], "success");
  assert.ok(s.trace.some((st) => st.function === "fallback_migrate_folio"));
  assert.ok(!s.trace.some((st) => st.function === "__buffer_migrate_folio"));
  // The write then finds the migrated folio without buffers and creates them.
  s.stepUntilBlocked("ext4_journalled_write");
  assert.ok(s.trace.some((st) => st.notes?.includes("no buffers: create_empty_buffers()")));
  assert.equal(r.verdict, "pass");
  const b = new Session(sc, { fix: "baseline", variant: "journalled-file" });
  b.stepUntilBlocked("migrate_pages");
  assert.ok(b.trace.some((st) => st.function === "__buffer_migrate_folio"));
});

test("results are deterministic apart from elapsedMs", () => {
  const a = check(sc, { fix: "meta-head", variant: "bs-2048" });
  const b = check(sc, { fix: "meta-head", variant: "bs-2048" });
  assert.deepEqual({ ...a, elapsedMs: 0 }, { ...b, elapsedMs: 0 });
});

test("PCT finds the lost update under no-private-lock; uniform random scheduling rarely does", () => {
  const ex = get("no-private-lock", "ext2");
  const pct = check(sc, { fix: "no-private-lock", variant: "ext2", mode: "pct", runs: 2000, seed: 5 });
  assert.ok(pct.violations > 0);
  for (const k of Object.keys(pct.findings)) assert.ok(k in ex.findings, k);
  const rnd = check(sc, { fix: "no-private-lock", variant: "ext2", mode: "random", runs: 2000, seed: 5 });
  assert.ok(rnd.violations < pct.violations, "the window is narrow: a lookup between the b_count check and folio_set_bh()");
  assert.equal(check(sc, { variant: "ext2", mode: "pct", runs: 2000, seed: 5 }).violations, 0);
});

test("linux models: b_count, LRU references, journal_head references", () => {
  resetLocations();
  const probe: number[] = [];
  const f = new BufferFolio("f", 0, 0, 3, 1);
  const bh = new BufferHead(7, { size: 4096, folio: f, offset: 0, count: 0 });
  const lru = new BhLru(1);
  const jh = new JournalHead(7);
  recordInto(probe);
  lru.install(bh);
  assert.equal(bh.b_count!.peek(), 1);
  assert.equal(lru.lookup(7), bh);
  assert.equal(bh.b_count!.peek(), 2);
  assert.equal(invalidate_bh_lrus([lru]), 1);
  assert.equal(bh.b_count!.peek(), 1);
  jbd2_journal_add_journal_head(bh, jh);
  assert.equal(bh.b_count!.peek(), 2, "BH_JBD elevates b_count by one");
  assert.equal(bh.get().jbd, true);
  jbd2_journal_put_journal_head(bh, jh);
  assert.equal(bh.b_count!.peek(), 1);
  assert.equal(bh.peekPrivate(), null);
  recordInto(null);
  assert.ok(probe.length > 0, "every operation records accesses");
  // A buffer_head without cache options allocates exactly one location (the ext4 model's).
  resetLocations();
  new BufferHead(0);
  assert.equal(newLoc("next"), 1);
  assert.throws(() => new BufferHead(1).get_bh(), /no buffer-cache fields/);
});

test("the notebook: nbformat 4.5 with cell ids, the racelab kernel and the thread's metadata", async () => {
  const { readFile } = await import("node:fs/promises");
  const nb = JSON.parse(await readFile(new URL("../notebooks/buffer-migrate-jbd2.ipynb", import.meta.url), "utf8"));
  assert.equal(nb.nbformat, 4);
  assert.equal(nb.nbformat_minor, 5);
  assert.equal(nb.metadata.kernelspec.name, "racelab");
  assert.deepEqual(nb.metadata.racelab, {
    scenario: "buffer-migrate-jbd2",
    title: "Buffer-head folio migration vs jbd2",
    inReplyTo: "<20250410014945.2140781-2-mcgrof@kernel.org>",
  });
  const ids = nb.cells.map((c: { id: string }) => c.id);
  assert.equal(new Set(ids).size, ids.length);
  const src = nb.cells.map((c: { source: string[] }) => c.source.join("")).join("\n");
  assert.match(src, /from "\.";/);
  for (const call of ["showChecks(", "showViolationsChart(", "showCounterexample(", "showClaims(", "showLeftOut(", "new Session("])
    assert.ok(src.includes(call), call);
  assert.match(src, /The open question/);
});
