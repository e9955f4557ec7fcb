// The memory models on the kernel's own litmus tests (tools/memory-model/litmus-tests, copied in
// src/scenarios/filemap-folio-split/litmus/ with their "Result:" lines).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { parseLitmus, runLitmus } from "../src/engine/litmus.js";

const DIR = "src/scenarios/filemap-folio-split/litmus";
const files = readdirSync(DIR).filter((f) => f.endsWith(".litmus")).sort();

// What each model reaches for the tests LKMM allows ("Sometimes"). sc reaches none of them.
// tso, pso and rmo are stronger than LKMM where a load would have to read a store that comes
// later (LB), and tso where stores to different locations would be reordered (MP): documented
// limitations, pinned here.
const SOMETIMES: Record<string, { tso: string; pso: string; rmo: string }> = {
  "SB+poonceonces": { tso: "Sometimes", pso: "Sometimes", rmo: "Sometimes" },
  "SB+rfionceonce-poonceonces": { tso: "Sometimes", pso: "Sometimes", rmo: "Sometimes" },
  "MP+poonceonces": { tso: "Never", pso: "Sometimes", rmo: "Sometimes" },
  "LB+poonceonces": { tso: "Never", pso: "Never", rmo: "Never" },
};

test("the litmus files are the kernel's, with a Result line each", () => {
  assert.ok(files.length >= 10, files.join(", "));
  for (const f of files) assert.ok(parseLitmus(readFileSync(`${DIR}/${f}`, "utf8")).expected !== null, f);
});

for (const f of files) {
  const lit = parseLitmus(readFileSync(`${DIR}/${f}`, "utf8"));
  test(`${lit.name}: LKMM says ${lit.expected}; no model allows what LKMM forbids`, () => {
    const sc = runLitmus(lit, "sc");
    const tso = runLitmus(lit, "tso");
    const pso = runLitmus(lit, "pso");
    const rmo = runLitmus(lit, "rmo");
    if (lit.expected === "Never") for (const r of [sc, tso, pso, rmo]) assert.equal(r.observed, "Never", `${r.model}: ${r.finalStates.join(" | ")}`);
    if (lit.expected === "Sometimes") {
      assert.equal(sc.observed, "Never", "sc is the strongest model");
      const want = SOMETIMES[lit.name];
      assert.ok(want, `add ${lit.name} to SOMETIMES`);
      assert.equal(tso.observed, want.tso);
      assert.equal(pso.observed, want.pso);
      assert.equal(rmo.observed, want.rmo);
    }
    // A result that differs from the LKMM's says so, and why: never silently.
    for (const r of [sc, tso, pso, rmo]) {
      assert.equal(r.agrees, r.observed === lit.expected, r.model);
      if (r.agrees) assert.equal(r.note, null, r.model);
      else assert.match(r.note!, new RegExp(`^racelab's ${r.model} model is stronger than the LKMM here \\(.+\\): the outcome the LKMM allows is not reached, so a pass under ${r.model} does not rule it out$`), r.model);
    }
    if (lit.name === "LB+poonceonces") assert.match(pso.note!, /pso never reorders loads/);
    if (lit.name === "MP+poonceonces") assert.match(tso.note!, /x86 forbids this outcome too/);
    // Weaker models only add final states.
    for (const s of sc.finalStates) assert.ok(tso.finalStates.includes(s) && pso.finalStates.includes(s), s);
    for (const s of tso.finalStates) assert.ok(pso.finalStates.includes(s), `pso lacks tso state ${s}`);
    for (const s of pso.finalStates) assert.ok(rmo.finalStates.includes(s), `rmo lacks pso state ${s}`);
  });
}

// Message passing with smp_wmb() on the writer only (not one of the kernel's files: the pairing
// rule of Documentation/memory-barriers.txt, "SMP BARRIER PAIRING"; LKMM allows the outcome, as
// nothing orders P1's loads). pso keeps loads in order, so only rmo reaches it; smp_rmb(),
// smp_load_acquire() and an address dependency each forbid it again under rmo.
const MP_WMB = (reader: string) => `C MP+wmbonceonce+${reader}

(*
 * Result: ${reader === "poonceonces" ? "Sometimes" : "Never"}
 *)

{
\tint x;
\tint y;
}

P0(int *x, int *y)
{
\tWRITE_ONCE(*x, 1);
\tsmp_wmb();
\tWRITE_ONCE(*y, 1);
}

P1(int *x, int *y)
{
\tint r0;
\tint r1;

${reader === "poonceonces" ? "\tr0 = READ_ONCE(*y);\n\tr1 = READ_ONCE(*x);" : reader === "rmbonceonce" ? "\tr0 = READ_ONCE(*y);\n\tsmp_rmb();\n\tr1 = READ_ONCE(*x);" : "\tr0 = smp_load_acquire(y);\n\tr1 = READ_ONCE(*x);"}
}

exists (1:r0=1 /\\ 1:r1=0)
`;

test("rmo reorders a reader's loads: MP with smp_wmb() alone is reached, smp_rmb() or an acquire closes it", () => {
  const open = parseLitmus(MP_WMB("poonceonces"));
  assert.equal(runLitmus(open, "pso").observed, "Never", "pso never reorders loads");
  const rmo = runLitmus(open, "rmo");
  assert.equal(rmo.observed, "Sometimes", rmo.finalStates.join(" | "));
  assert.equal(rmo.agrees, true);
  for (const reader of ["rmbonceonce", "acquireonce"]) {
    const r = runLitmus(parseLitmus(MP_WMB(reader)), "rmo");
    assert.equal(r.observed, "Never", `${reader}: ${r.finalStates.join(" | ")}`);
  }
});

test("litmus parsing errors are clear", () => {
  assert.throws(() => parseLitmus("C X\n{}\nP0(int *x)\n{\n\tcmpxchg(x, 0, 1);\n}\nexists (x=1)\n"), /unsupported statement 'cmpxchg\(x, 0, 1\)'/);
  assert.throws(() => parseLitmus("nothing"), /missing 'C <name>'/);
});

test("smp_wmb() and smp_rmb() are no step: `yield* smp_wmb(t)` (written as for smp_mb()) is the plain call (new-user trial 16)", async () => {
  const { check, defineScenario, sitesIn, Cell, READ_ONCE, WRITE_ONCE, smp_wmb, smp_rmb } = await import("../src/index.js");
  const at = sitesIn("lib/mp.c", "v6.12");
  const A = at("w", "store data"), B = at("w", "store flag"), C = at("r", "load flag"), D = at("r", "load data");
  const make = (form: "plain" | "yield*" | "none") =>
    defineScenario({
      id: `mp-${form === "yield*" ? "yield" : form}`,
      setup: () => ({
        state: { data: new Cell("data", 0), flag: new Cell("flag", 0) },
        threads: {
          *w(t, s) {
            yield A;
            WRITE_ONCE(t, s.data, 1);
            if (form === "plain") smp_wmb(t);
            if (form === "yield*") yield* smp_wmb(t);
            yield B;
            WRITE_ONCE(t, s.flag, 1);
          },
          *r(t, s) {
            yield C;
            const f = READ_ONCE(t, s.flag);
            if (form === "yield*") yield* smp_rmb(t);
            else smp_rmb(t);
            yield D;
            if (f === 1 && READ_ONCE(t, s.data) === 0) t.bug("flag seen before data");
          },
        },
      }),
    });
  for (const memoryModel of ["pso", "rmo"] as const) {
    const plain = check(make("plain"), { memoryModel });
    const yielded = check(make("yield*"), { memoryModel });
    assert.equal(plain.verdict, "pass", memoryModel);
    assert.deepEqual({ ...yielded, scenario: "", elapsedMs: 0 }, { ...plain, scenario: "", elapsedMs: 0 }, memoryModel);
    // (Without the barrier the reader sees the flag first: the barrier is what passes.)
    assert.equal(check(make("none"), { memoryModel }).verdict, "fail", memoryModel);
  }
});
