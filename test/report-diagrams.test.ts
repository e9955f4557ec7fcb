/**
 * Race diagrams of three threads (columns of 23 characters at 75): steps wrap at token boundaries
 * (spaces, after `(` `,` `;`), an identifier is never split unless it alone is wider than the
 * column, a `//` is never left alone on a line, and the `^^^^` spans every line of the step. The
 * same in the mail writeup, which rewraps a diagram drawn wider than 75 columns.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { check, defineScenario, renderDiagram, replay, replayCounterexample, sitesIn, type Task } from "../src/index.js";
import { wrapTokens } from "../src/engine/trace.js";
import { fitDiagram, MAIL_WIDTH } from "../src/report/mail.js";

const at = sitesIn("lib/rcu-list.c", "v6.12");
const READ = at("search_and_reference", "p = rcu_dereference(gp)");
const LOCK = at("delete", "spin_lock(&list_lock)");
const ASSIGN = at("delete", "rcu_assign_pointer(gp, NULL)");
const PUT = at("kref_put", "refcount_dec_and_test(&p->ref.refcount)");
const GET = at("kref_get_unless_zero", "refcount_inc_not_zero(&p->ref.refcount)");
const CB = at("rcu_do_batch", "invoke a callback whose grace period ended");

const threeThreads = defineScenario<{ freed: boolean }, Record<string, never>>({
  id: "three-thread-diagram",
  setup: () => ({
    state: { freed: false },
    threads: {
      *reader(t: Task, s) {
        yield READ;
        yield GET;
        if (s.freed) t.bug("use-after-free: reader accesses obj->ref after kfree() by rcu_do_batch");
      },
      *remover() {
        yield LOCK;
        yield ASSIGN;
        yield PUT;
      },
      *rcu_do_batch(_t: Task, s) {
        yield CB;
        s.freed = true;
      },
    },
  }),
});

/**
 * Identifiers of the step labels that fit a column line after `// `: none may be cut in two
 * (`// refcount_inc_not_zero(` is wider than 23 columns, so that one is split after a `_`).
 */
const IDENTIFIERS = ["spin_lock", "list_lock", "rcu_assign_pointer", "rcu_dereference", "refcount"];

function checkDiagram(lines: readonly string[]): void {
  for (const l of lines) assert.ok([...l].length <= MAIL_WIDTH, `too wide: ${l}`);
  for (const l of lines) assert.doesNotMatch(l, /^\s*\/\/\s*$/, "a // alone on its line");
  const text = lines.join("\n");
  for (const id of IDENTIFIERS)
    for (let k = 2; k < id.length - 1; k++) assert.ok(!text.includes(`${id.slice(0, k)}\n`) || !new RegExp(`${id.slice(0, k)}\\n\\s+${id.slice(k)}`).test(text), `${id} split at ${k}:\n${text}`);
  // The ^^^^ under the reader's last step reaches the end of every line of that step.
  const caret = lines.findIndex((l) => /^\s*\^{4,}$/.test(l));
  assert.ok(caret > 0, text);
  let first = caret - 1;
  while (first > 0 && !/^\s*\/\//.test(lines[first]!)) first--;
  const end = Math.max(...lines.slice(first, caret).map((l) => l.length));
  assert.equal(lines[caret]!.length, end, `the ^^^^ spans the step's lines:\n${lines.slice(first, caret + 1).join("\n")}`);
}

test("wrapTokens: spaces first, then after ( , ; inside a token; // stays with its first token; identifiers split only when wider than a line", () => {
  assert.deepEqual(wrapTokens("// spin_lock(&list_lock)", 23, "     "), ["// spin_lock(", "     &list_lock)"]);
  assert.deepEqual(wrapTokens("// rcu_assign_pointer(gp, NULL)", 23, "     "), ["// rcu_assign_pointer(", "     gp, NULL)"]);
  assert.deepEqual(wrapTokens("// p = rcu_dereference(gp)", 23, "     "), ["// p = rcu_dereference(", "     gp)"]);
  // Spaces suffice: no break inside the call.
  assert.deepEqual(wrapTokens("// add_delayed: down_write(i_data_sem)", 36, "     "), ["// add_delayed:", "     down_write(i_data_sem)"]);
  // Too wide even alone: split after '_', never leaving ')' behind.
  assert.deepEqual(wrapTokens("// filemap_invalidate_unlock_shared()", 36, "     "), ["// filemap_invalidate_unlock_", "     shared()"]);
  assert.deepEqual(wrapTokens("replaced an allocated (unwritten) extent", 30), ["replaced an allocated", "  (unwritten) extent"]);
  // A continuation as wide as the column is split rather than printed flush left, where it read as a step of its own.
  assert.deepEqual(wrapTokens("// timeout: spin_unlock_irqrestore(&dev->lock)", 23, "     "), ["// timeout:", "     spin_unlock_", "     irqrestore(", "     &dev->lock)"]);
  assert.deepEqual(wrapTokens("// timeout: spin_unlock_irqrestore(&dev->lock)", 24, "     "), ["// timeout:", " spin_unlock_irqrestore(", "     &dev->lock)"]);
});

test("a three-thread race diagram wraps at token boundaries, never leaves // alone, underlines the whole step", () => {
  // reader reads gp, remover runs, the callback frees, then the reader's get is the use-after-free.
  const { exec } = replay(threeThreads, { schedule: "0.1x3.2.0" });
  const text = renderDiagram(exec);
  const lines = text.split("\n");
  assert.match(lines[0]!, /^reader {19}remover {18}rcu_do_batch$/);
  checkDiagram(lines);
  assert.match(text, /\/\/ spin_lock\(\n {30}&list_lock\)/);
  assert.match(text, /\/\/ rcu_assign_pointer\(\n {30}gp, NULL\)/);
});

test("the mail rewraps a wider diagram the same way", () => {
  const { exec } = replay(threeThreads, { schedule: "0.1x3.2.0" });
  const wide = renderDiagram(exec, 110).split("\n");
  assert.ok(wide.some((l) => l.length > MAIL_WIDTH));
  const fitted = fitDiagram(wide, 0);
  checkDiagram(fitted);
  // As renderDiagram draws it at 75 columns, down to the ^^^^ (the finding's lines hang differently).
  const narrow = renderDiagram(exec).split("\n");
  const caret = narrow.findIndex((l) => /^\s*\^{4,}$/.test(l));
  assert.deepEqual(fitted.slice(0, caret + 1), narrow.slice(0, caret + 1));
});

test("race diagram: a name's underline is its column's width; a store-buffer step is '(store buffer)', not a call", async () => {
  // New-user trial 12: 8 dashes under `waker`, and `store buffer()` over a store made visible.
  const { replay, renderDiagram } = await import("../src/index.js");
  const { lostWakeupScenario } = await import("./fixtures/lost-wakeup.js");
  const { exec } = replay(lostWakeupScenario("lw-diagram"), { fix: "baseline", memoryModel: "tso", schedule: "0x2.1x2.2" });
  const lines = renderDiagram(exec).split("\n");
  assert.match(lines[0]!, /^waker +waiter +waker store buffer$/);
  assert.equal(lines[1], ["-".repeat(23), "-".repeat(23), "-".repeat(23)].join("  "), "each column's width, as its steps wrap");
  assert.ok(lines.some((l) => /^ +\(store buffer\)$/.test(l)), lines.join("\n"));
  assert.ok(!lines.some((l) => l.includes("store buffer()")), lines.join("\n"));
  // Nor in the step table's source column (Session.stepRows(), JSON steps): no C function there.
  const { stepsJson } = await import("../src/index.js");
  const sources = stepsJson(exec).map((s) => s.source);
  assert.ok(sources.includes("(memory model): store buffer"), sources.join(" | "));
  assert.ok(!sources.some((s) => s.endsWith("store buffer()")), sources.join(" | "));
  assert.ok(sources.every((s) => s === "(memory model): store buffer" || s.endsWith("()")), sources.join(" | "));
});

test("race diagram: what a step noted with t.say() is drawn under it as '// -> note' (new-user trials 12, 13 and 15 missed what a test returned)", async () => {
  const { defineScenario, sitesIn, replay, renderDiagram, Cell, READ_ONCE, WRITE_ONCE } = await import("../src/index.js");
  const at = sitesIn("drivers/example/flag.c", "v6.12");
  const sc = defineScenario<{ flag: InstanceType<typeof Cell<number>> }, object>({
    id: "say-in-diagram",
    setup: () => ({
      state: { flag: new Cell("dev->flag", 0) },
      threads: {
        *setter(t, s) {
          yield at("setter", "WRITE_ONCE(dev->flag, 1)");
          WRITE_ONCE(t, s.flag, 1);
        },
        *tester(t, s) {
          yield at("tester", "if (READ_ONCE(dev->flag))");
          const v = READ_ONCE(t, s.flag);
          t.say(`READ_ONCE(dev->flag) = ${v}`);
        },
      },
    }),
  });
  const lines = renderDiagram(replay(sc, { schedule: "1.0" }).exec).split("\n");
  const i = lines.findIndex((l) => l.includes("// if (READ_ONCE(dev->flag))"));
  assert.ok(i >= 0, lines.join("\n"));
  assert.match(lines[i + 1]!, /^\/\/ -> READ_ONCE\(dev->flag\) = 0$/, lines.join("\n"));
});

test("narrow columns: an identifier breaks after its `_` and its rest stays whole; a thread name wraps instead of being cut (new-user trial 16)", async () => {
  // `TASK_UNINTERRUPTIBLE)` in a 17-column line: not `TASK_UNINTERRUPTIB` / `LE)`.
  const lines = wrapTokens("// prepare_to_wait(&wq, &wait, TASK_UNINTERRUPTIBLE)", 17, "     ");
  assert.ok(lines.includes("     TASK_"), lines.join("|"));
  assert.ok(lines.some((l) => l.trim() === "UNINTERRUPTIBLE)" && l.length <= 17), lines.join("|"));
  assert.ok(lines.every((l) => l.length <= 17));
  // Four columns in 75: `waker store buffer` wraps in its header.
  const { loadScenario } = await import("../src/registry.js");
  const sc = await loadScenario("test/fixtures/lost-wakeup.ts");
  const r = check(sc, { memoryModel: "rmo" });
  const text = renderDiagram(replayCounterexample(sc, r)!);
  const [h1, h2] = text.split("\n");
  assert.match(h1!, /waker store +waiter store$/);
  assert.match(h2!, /^ +buffer +buffer$/);
  assert.ok(!text.includes("buffe\n") && !/UNINTERRUPTIB\s*\n\s*LE\)/.test(text), text);
});

test("a deadlock's diagram shows where each stuck thread waits, in its column; the finding names a site labelled fn() once (new-user trial 16)", async () => {
  const at = sitesIn("kernel/sched/core.c", "v6.12");
  const SLEEP = at("schedule", "schedule()");
  const { DECLARE_WAIT_QUEUE_HEAD, prepare_to_wait, schedule, DEFINE_WAIT, TASK_UNINTERRUPTIBLE } = await import("../src/index.js");
  const PREP = at("waiter", "prepare_to_wait()");
  const sleeper = defineScenario({
    id: "sleeps-forever",
    setup: () => ({
      state: { wq: DECLARE_WAIT_QUEUE_HEAD("wq") },
      threads: {
        *waiter(t: Task, s) {
          const wait = DEFINE_WAIT(t);
          yield* prepare_to_wait(t, s.wq, wait, TASK_UNINTERRUPTIBLE, PREP);
          yield* schedule(t, SLEEP);
        },
        *other(t: Task) {
          yield at("other", "return");
        },
      },
    }),
  });
  const r = check(sleeper);
  assert.equal(r.verdict, "fail");
  const key = Object.keys(r.findings)[0]!;
  assert.match(key, /^deadlock: waiter waits for .* at schedule\(\)$/);
  const text = renderDiagram(replayCounterexample(sleeper, r)!);
  assert.match(text, /\nschedule\(\)\n\/\/ schedule\(\)\n\/\/ -> blocked: waits for wake-up in\n/);
});
