import { test } from "node:test";
import assert from "node:assert/strict";
import { check, replay } from "../src/engine/check.js";
import { evaluateClaims } from "../src/engine/claims.js";
import { getScenario } from "../src/scenarios/index.js";

const sc = getScenario("filemap-folio-split");
const BUG = "bug: VM_BUG_ON_FOLIO(!folio_contains(folio, index): folio@1498 order 0, index 1499)";
const WRONG = "invariant: filemap_get_entry() returned folio@1498 (not containing index 1499)";
const LIVELOCK = "livelock: filemap_fault: retry_find retried more than 3 times";
const kinds = (f: Record<string, number>) => [...new Set(Object.keys(f).map((k) => k.split(":")[0]))].sort();

test("baseline: folio_split() (truncate) reaches the VM_BUG_ON without any reordering; the uniform split does not", () => {
  const r = check(sc, { fix: "baseline", variant: "default" });
  assert.equal(r.memoryModel, "sc");
  assert.equal(r.complete, true);
  assert.ok(r.findings[BUG]! > 0, JSON.stringify(r.findings));
  assert.equal(r.counterexample!.finding, BUG);
  const rep = replay(sc, { fix: "baseline", schedule: r.counterexample!.schedule });
  assert.equal(rep.result.finding, BUG);
  // The lookup got folio@1498 from the slot of 1499 between the unfreeze of folio@1498 and __xa_store(folio@1499).
  const labels = rep.result.steps.map((s) => `${s.thread}: ${s.label}`);
  const unfreeze1498 = labels.findIndex((l, i) => l.includes("folio_ref_unfreeze(new_folio)") && rep.result.steps[i]!.notes?.some((n) => n.includes("folio@1498 unfrozen")));
  const get = labels.findIndex((l) => l.startsWith("filemap_fault: folio_try_get"));
  assert.ok(unfreeze1498 >= 0 && unfreeze1498 < labels.lastIndexOf(labels[get]!), labels.join("\n"));
  assert.equal(check(sc, { fix: "baseline", variant: "uniform-split" }).verdict, "pass");
  assert.ok(check(sc, { fix: "baseline", variant: "folio-lock-lookup" }).findings[BUG]! > 0);
});

test("each fix per variant (sequential consistency)", () => {
  const expect: Record<string, Record<string, string[]>> = {
    baseline: { default: ["bug", "invariant"], "uniform-split": [], "folio-lock-lookup": ["bug", "invariant"], "find-lock-entries": ["bug", "invariant"], "reload-returns-head": ["bug", "invariant"], "persistent-corruption": ["bug", "invariant"] },
    "rfc-retry": { default: ["invariant"], "uniform-split": [], "folio-lock-lookup": ["invariant"], "find-lock-entries": ["invariant"], "reload-returns-head": ["invariant"], "persistent-corruption": ["invariant", "livelock"] },
    "warn-retry": { default: ["invariant", "warning"], "uniform-split": [], "folio-lock-lookup": ["invariant", "warning"], "find-lock-entries": ["invariant", "warning"], "reload-returns-head": ["invariant", "warning"], "persistent-corruption": ["invariant", "livelock", "warning"] },
    "split-original-folio": { default: [], "uniform-split": [], "folio-lock-lookup": [], "find-lock-entries": [], "reload-returns-head": ["bug", "invariant"], "persistent-corruption": ["bug", "invariant"] },
  };
  for (const [fix, byVariant] of Object.entries(expect))
    for (const [variant, want] of Object.entries(byVariant)) {
      const r = check(sc, { fix, variant });
      assert.equal(r.complete, true, `${fix}/${variant}`);
      assert.deepEqual(kinds(r.findings), want, `${fix}/${variant}: ${JSON.stringify(r.findings)}`);
    }
});

test("relaxed-stores: no store reordering under pso (or tso) lets the uniform split hand out a wrong folio", () => {
  for (const fix of ["baseline", "split-original-folio"]) {
    const r = check(sc, { fix, variant: "relaxed-stores" });
    assert.equal(r.memoryModel, "pso");
    assert.equal(r.complete, true);
    assert.equal(r.verdict, "pass", JSON.stringify(r.findings));
    assert.equal(check(sc, { fix, variant: "relaxed-stores", memoryModel: "tso" }).verdict, "pass");
  }
  // The fixed folio_split() stays correct under pso too (order-2 folio so the search completes).
  const fixed = check(sc, { fix: "split-original-folio", variant: "default", memoryModel: "pso", params: { order: 2 } });
  assert.equal(fixed.complete, true);
  assert.equal(fixed.verdict, "pass");
  // ...and the race of v6.18.7 is there under pso as under sc.
  assert.ok(check(sc, { fix: "baseline", variant: "default", memoryModel: "pso", params: { order: 2 } }).findings[BUG]! > 0);
});

test("persistent corruption: the retries livelock; warn-retry warns on every retry", () => {
  for (const fix of ["rfc-retry", "warn-retry"]) {
    const r = check(sc, { fix, variant: "persistent-corruption" });
    assert.ok(r.findings[LIVELOCK]! > 0, JSON.stringify(r.findings));
    const rep = replay(sc, { fix, variant: "persistent-corruption", schedule: r.counterexample!.schedule });
    assert.equal(rep.result.finding, LIVELOCK);
    const warnings = rep.result.findings.filter((f) => f.startsWith("warning:")).length;
    // One warning per attempt: the first, three retries, and the quiet retry past the bound (the
    // split has finished: no other thread can make progress, so the lookup tries once more alone).
    assert.equal(warnings, fix === "warn-retry" ? 5 : 0, "one warning per attempt: the first, three retries and the quiet retry");
  }
});

test("claims: the worked example and the retry livelock hold; 'xas_reload catches it', 'old head', 'memory ordering' do not", () => {
  const byId = Object.fromEntries(evaluateClaims(sc).map((c) => [c.id, c]));
  assert.equal(byId["worked-example"]!.holds, true, byId["worked-example"]!.observed);
  assert.equal(byId["reload-catches-split"]!.holds, false);
  assert.equal(byId["reload-returns-head"]!.holds, false);
  assert.equal(byId["rfc-hides"]!.holds, true);
  assert.equal(byId["retry-livelock"]!.holds, true);
  assert.equal(byId["memory-ordering"]!.holds, false);
  assert.match(byId["worked-example"]!.observed, /offset 23; before: 16 = folio@1024 order 9, 17\.\.23 = sibling -> 16; order-8 split: 20 = folio@1280 order 8, 23 = sibling -> 20; order-0 split: 23 = node \(shift 0\)/);
});

test("no finding depends on the number of runs: exhaustive ignores it, random finds a subset", () => {
  const a = check(sc, { fix: "baseline", variant: "default", runs: 1 });
  const b = check(sc, { fix: "baseline", variant: "default", runs: 50_000 });
  assert.deepEqual({ ...a, elapsedMs: 0 }, { ...b, elapsedMs: 0 });
  for (const runs of [200, 2000]) {
    const r = check(sc, { fix: "baseline", variant: "default", mode: "random", runs, seed: 5 });
    for (const k of Object.keys(r.findings)) assert.ok(k in a.findings, `${runs} runs: ${k}`);
  }
  assert.ok(a.findings[WRONG]! > 0);
});
