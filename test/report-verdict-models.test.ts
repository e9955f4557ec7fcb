// The report's "Verdict per fix" covers every memory model the notebook's recorded checks or its
// claims use, and names the models in the table itself. A new user's (trial 12) barrier bug, the
// waitqueue_active() lost wake-up that fails only under tso/pso, read "baseline pass 0 of 5
// executions" in the mail, HTML and PDF: the section explored sc alone, as no variant named tso.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { lostWakeupScenario } from "./fixtures/lost-wakeup.js";
import { buildReport, verdictsOf } from "../src/report/document.js";
import { assembleHtml } from "../src/report/html.js";
import { mailFromDocument } from "../src/report/mail.js";
import { checkedModels } from "../src/report/provenance.js";
import { verdictCell } from "../src/report/model.js";

const nb = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "markdown", source: "text", metadata: {} }] } as never;
const plain = (html: string) => html.replace(/<\/?span[^>]*>/g, "");

describe("verdict section: memory models", () => {
  it("names sc in the table when sc is all it explored", () => {
    const sc = lostWakeupScenario("lw-sc-only");
    const v = verdictsOf(sc);
    assert.deepEqual(v.memoryModels, ["sc"]);
    assert.deepEqual(v.rows.map((r) => verdictCell(r, v)), ["pass under sc", "pass under sc", "pass under sc", "pass under sc"]);
    const mail = mailFromDocument(buildReport(nb, "t.ipynb", { scenario: sc, verdicts: true }));
    assert.match(mail, /\n {2}baseline {8}pass under sc {2}0 of 5 executions explored\n/);
  });

  it("explores each fix under the models of the notebook's recorded checks: baseline FAIL under tso", () => {
    const sc = lostWakeupScenario("lw-recorded");
    // Two lines of a results.jsonl as `racelab run` records them (checkAll(sc, {}, { memoryModels: ["sc", "tso"] })).
    const recorded = ["sc", "tso"].map((m) => ({ kind: "check" as const, scenario: "lw-recorded", bundled: false, options: {}, result: { variant: "default", memoryModel: m } }));
    const checked = checkedModels([...recorded, { ...recorded[0]!, scenario: "other", result: { variant: "default", memoryModel: "pso" } }]);
    const doc = buildReport(nb, "t.ipynb", {
      scenario: sc,
      verdicts: true,
      provenance: { racelab: "0", commit: null, node: "v20", kernel: null, notebookSha256: "0", computed: [], reproduce: "x", checked },
    });
    const v = doc.verdicts!;
    assert.deepEqual(v.memoryModels, ["sc", "tso"], "pso of another scenario is not this one's");
    assert.equal(v.scOnly, false);
    const base = v.rows[0]!;
    assert.equal(verdictCell(base, v), "FAIL under tso; pass under sc");
    assert.equal(base.findingModel, "tso");
    assert.match(base.finding!, /^deadlock: waiter waits for wake-up in schedule\(\)/);
    assert.match(base.replay!, /--fix baseline --memory-model tso --schedule \S+$/);
    const mail = mailFromDocument(doc);
    assert.match(mail, /\n {2}baseline {8}FAIL under tso; pass under sc {2}tso: 1 of 6; sc: 0 of 5\n {2}smp-mb {10}pass under sc, tso {13}0 of 5 each\n/);
    assert.match(mail, /\nbaseline \(under tso\): deadlock: /);
    assert.match(plain(assembleHtml(doc)), /<tr><td>baseline<\/td><td><b>FAIL<\/b> under tso; pass under sc<\/td><td>tso: 1 of 6; sc: 0 of 5<\/td><\/tr>/);
    assert.match(plain(assembleHtml(doc)), /<code>baseline<\/code> \(under tso\): deadlock: /);
  });

  it("explores the models the scenario's claims name", () => {
    const v = verdictsOf(lostWakeupScenario("lw-claims", { claims: true }));
    assert.deepEqual(v.memoryModels, ["sc", "tso", "pso"]);
    assert.equal(verdictCell(v.rows[0]!, v), "FAIL under tso, pso; pass under sc");
    assert.equal(verdictCell(v.rows[1]!, v), "pass under sc, tso, pso");
  });

  it("says `tso`, not `tso [tso]`, for a variant named after its model, and gives --memory-model once", () => {
    const sc = lostWakeupScenario("lw-variants", { variants: true });
    const v = verdictsOf(sc);
    assert.deepEqual(v.variants, ["tso", "pso"]);
    const base = v.rows[0]!;
    assert.deepEqual(base.failsIn, ["tso", "pso"]);
    assert.equal(base.findingVariant, "tso");
    assert.match(base.replay!, /--fix baseline --variant tso --schedule \S+$/);
    assert.doesNotMatch(base.replay!, /--memory-model/);
    const mail = mailFromDocument(buildReport(nb, "t.ipynb", { scenario: sc, verdicts: true }));
    assert.match(mail, /\nIn the other variants \(tso, pso\):\n {2}baseline: fails in tso, pso\n/);
    assert.match(mail, /\nbaseline \(variant tso\): deadlock: /);
    // A recorded check of a variant under a model not its own is a variant-and-model pair of its own.
    const v2 = verdictsOf(sc, { checked: [{ variant: "pso", memoryModel: "sc" }] });
    assert.deepEqual(v2.variants, ["tso", "pso", "pso [sc]"]);
    assert.deepEqual(v2.rows[0]!.failsIn, ["tso", "pso"]);
  });
});

describe("verdict table: violating counts per memory model (new-user trial 14)", () => {
  it("gives every model its own count unless they are all equal, instead of merging equal ones into a shorter list", async () => {
    const { violatingCell, verdictGroups } = await import("../src/report/model.js");
    const m = (memoryModel: string, verdict: "pass" | "fail", violations: number, executions: number) => ({ memoryModel, verdict, violations, executions });
    const row = (models: ReturnType<typeof m>[]) => ({ fix: "f", verdict: models[0]!.verdict, violations: 0, executions: 0, finding: null, replay: null, findingVariant: null, failsIn: [], incompleteIn: [], models });
    const v = { memoryModel: "sc" };
    // Four models, sc and tso alike: "12 of 14, 172 of 180, 10,470 of 10,506" read as tso, pso, rmo.
    const fail = row([m("sc", "fail", 12, 14), m("tso", "fail", 12, 14), m("pso", "fail", 172, 180), m("rmo", "fail", 10470, 10506)]);
    assert.equal(violatingCell(fail, v), "sc: 12 of 14, tso: 12 of 14, pso: 172 of 180, rmo: 10,470 of 10,506");
    const pass = row([m("sc", "pass", 0, 2), m("tso", "pass", 0, 8), m("pso", "pass", 0, 224), m("rmo", "pass", 0, 224)]);
    assert.equal(violatingCell(pass, v), "sc: 0 of 2, tso: 0 of 8, pso: 0 of 224, rmo: 0 of 224");
    assert.equal(violatingCell(row([m("sc", "pass", 0, 4), m("tso", "pass", 0, 4)]), v), "0 of 4 each");
    assert.equal(violatingCell(row([m("tso", "fail", 1, 6), m("pso", "fail", 1, 6), m("sc", "pass", 0, 5)]), v), "tso, pso: 1 of 6 each; sc: 0 of 5");
    assert.equal(verdictGroups(fail, v).length, 1);
  });
});
