// A flag one thread sets and another tests, modeled as a plain field of the state, is never
// buffered: a barrier bug on it passes under tso/pso. A new user's lost wake-up with `cond` a plain
// field passed under tso with no word (trial 12); the check now says which fields those are.
import { test } from "node:test";
import assert from "node:assert/strict";
import { check, defineScenario, getScenario, sitesIn, Cell, READ_ONCE, WRITE_ONCE, Spinlock, spin_lock, spin_unlock, afterAll, complete, wait_for_completion, DECLARE_COMPLETION, type Task } from "../src/index.js";

const at = sitesIn("drivers/example/flag.c", "v6.12");
const SET = at("writer", "dev->ready = 1");
const TEST = at("reader", "if (dev->ready)");
const LOCK = at("f", "spin_lock(&dev->lock)");
const UNLOCK = at("f", "spin_unlock(&dev->lock)");
const CHECK = at("checker", "after both");

const DONE = at("writer", "complete(&dev->done)");
const WAIT = at("reader", "wait_for_completion(&dev->done)");

type How = "plain" | "cell" | "locked" | "after-all" | "completion" | "completion-read-first";
interface S {
  ready: number;
  flag: Cell<number>;
  lock: InstanceType<typeof Spinlock>;
  done: ReturnType<typeof DECLARE_COMPLETION>;
  seen: number;
}

const mk = (how: How) =>
  defineScenario<S, object>({
    id: `flag-${how}`,
    setup: () => ({
      state: { ready: 0, flag: new Cell("dev->flag", 0), lock: new Spinlock("dev->lock"), done: DECLARE_COMPLETION("dev->done"), seen: 0 },
      threads: {
        *writer(t: Task, s) {
          if (how === "locked") yield* spin_lock(t, s.lock, LOCK);
          yield SET;
          if (how === "cell") WRITE_ONCE(t, s.flag, 1);
          else s.ready = 1;
          if (how === "locked") yield* spin_unlock(t, s.lock, UNLOCK);
          if (how.startsWith("completion")) yield* complete(t, s.done, DONE);
        },
        *reader(t: Task, s) {
          if (how === "completion-read-first") {
            // Reads the result before waiting for it: the race stays, and so does the warning.
            yield TEST;
            s.seen = s.ready;
            yield* wait_for_completion(t, s.done, WAIT);
            return;
          }
          if (how === "completion") yield* wait_for_completion(t, s.done, WAIT);
          if (how === "after-all") {
            yield* afterAll(t, CHECK);
            s.seen = s.ready;
            return;
          }
          if (how === "locked") yield* spin_lock(t, s.lock, LOCK);
          yield TEST;
          s.seen = how === "cell" ? READ_ONCE(t, s.flag) : s.ready;
          if (how === "locked") yield* spin_unlock(t, s.lock, UNLOCK);
        },
      },
    }),
  });

const plainWarning = (how: How, memoryModel: "sc" | "tso" | "pso" | "rmo") =>
  check(mk(how), { memoryModel }).warnings.filter((w) => w.startsWith("plain field"));

test("a plain field written by one thread and read by another with no common lock is named under tso, pso and rmo, not under sc; a Cell, a common lock or a thread after all the others is not", () => {
  for (const mm of ["tso", "pso", "rmo"] as const)
    assert.deepEqual(plainWarning("plain", mm), [
      `plain field state.ready is written by one thread and read by another with no lock in common, and racelab never buffers a plain field's store, whatever the memory model: this ${mm} check reorders no access to it; if one publishes data or is a flag another thread tests, make it a Cell written with WRITE_ONCE()/smp_store_release() and read with READ_ONCE()/smp_load_acquire()`,
    ]);
  assert.deepEqual(plainWarning("plain", "sc"), []);
  for (const how of ["cell", "locked", "after-all"] as const) assert.deepEqual(plainWarning(how, "tso"), [], how);
  // Published with complete() and read after wait_for_completion(): ordered (both are fully
  // ordered steps on the completion), so no warning (new-user trial 24); read before the wait, named.
  for (const mm of ["tso", "pso", "rmo"] as const) {
    assert.deepEqual(plainWarning("completion", mm), [], mm);
    assert.equal(plainWarning("completion-read-first", mm).length, 1, mm);
  }
});

// New-user trial 13: an unlocked list_del_init() racing a locked one of the next entry passed
// under sc with no word: a list function runs inside the one atomic step that calls it, so the
// interleavings inside two of them, which corrupt a list in the kernel, are never explored.
import { LIST_HEAD, LIST_HEAD_INIT, list_del_init, list_empty, type list_head } from "../src/index.js";
import { verdictsOf } from "../src/report/document.js";
import { verdictCell, passWarnings } from "../src/report/model.js";
import { verdictLines } from "../src/report/mail.js";

const lt = sitesIn("drivers/example/obj.c", "v6.12");
const L = {
  check: lt("obj_teardown", "if (!list_empty(&obj->node))"),
  lock: lt("obj_teardown", "spin_lock(&lock)"),
  del: lt("obj_teardown", "list_del_init(&obj->node)"),
  unlock: lt("obj_teardown", "spin_unlock(&lock)"),
};
interface LS {
  lock: InstanceType<typeof Spinlock>;
  list: list_head;
  a: { id: number; node: list_head };
  b: { id: number; node: list_head };
}
/** cpu0 tears `a` down, cpu1 `b`, its neighbour on the list: with the lock (`locked`), or with none (`no-lock`). */
const teardown = defineScenario<LS, { lock: boolean }>({
  id: "list-neighbours",
  fixes: [
    { id: "no-lock", options: { lock: false } },
    { id: "locked", options: { lock: true } },
  ],
  setup: (cfg) => {
    const list = LIST_HEAD();
    const a = { id: 1, node: null as unknown as list_head };
    const b = { id: 2, node: null as unknown as list_head };
    a.node = LIST_HEAD_INIT(a);
    b.node = LIST_HEAD_INIT(b);
    // head <-> a <-> b (linked by hand in setup(): nothing is recorded before the threads run)
    list.next = a.node;
    a.node.prev = list;
    a.node.next = b.node;
    b.node.prev = a.node;
    b.node.next = list;
    list.prev = b.node;
    const body = (who: "a" | "b") =>
      function* (t: Task, s: LS) {
        yield L.check;
        if (list_empty(t, s[who].node)) return;
        if (cfg.options.lock) yield* spin_lock(t, s.lock, L.lock);
        yield L.del;
        list_del_init(t, s[who].node);
        if (cfg.options.lock) yield* spin_unlock(t, s.lock, L.unlock);
      };
    return { state: { lock: new Spinlock("lock"), list, a, b }, threads: { cpu0: body("a"), cpu1: body("b") } };
  },
});

test("list links two threads write with no lock in common are a warning under every memory model; with a common lock, none", () => {
  for (const memoryModel of ["sc", "tso", "pso"] as const) {
    const r = check(teardown, { fix: "no-lock", memoryModel });
    assert.equal(r.verdict, "pass", memoryModel);
    const w = r.warnings.filter((x) => x.startsWith("list_head link"));
    assert.equal(w.length, 1, `${memoryModel}: ${r.warnings.join(" | ")}`);
    assert.match(w[0]!, /written by two threads with no lock in common, and racelab runs a list function .* inside the one atomic step that calls it/);
    assert.ok(!r.warnings.some((x) => x.startsWith("plain field")), "list links are not called plain fields");
    const ok = check(teardown, { fix: "locked", memoryModel });
    assert.ok(!ok.warnings.some((x) => /written by two threads/.test(x)), `${memoryModel}: ${ok.warnings.join(" | ")}`);
  }
});

test("under tso a lockless list_empty() against a locked list_del_init() is named as a list link never reordered, not as a plain field to make a Cell", () => {
  const r = check(teardown, { fix: "locked", memoryModel: "tso" });
  assert.equal(r.verdict, "pass");
  const w = r.warnings.filter((x) => x.startsWith("list_head link"));
  assert.equal(w.length, 1, r.warnings.join(" | "));
  assert.match(w[0]!, /written by one thread and read by another with no lock in common \(a lockless list_empty\(\) or list walk\), and racelab writes list links straight to memory, whatever the memory model: this tso check reorders no store/);
  assert.ok(!r.warnings.some((x) => x.startsWith("plain field")), r.warnings.join(" | "));
  // Under sc the read needs no word: nothing is reordered under sc anyway.
  assert.deepEqual(check(teardown, { fix: "locked" }).warnings, []);
});

test("the report's verdict table says `pass (warning)` for a pass with a warning, and prints the warning under it", () => {
  const v = verdictsOf(teardown);
  const row = (fix: string) => v.rows.find((r) => r.fix === fix)!;
  assert.equal(verdictCell(row("no-lock"), v), "pass (warning) under sc");
  assert.equal(verdictCell(row("locked"), v), "pass under sc");
  assert.deepEqual(passWarnings(row("locked")), []);
  const [w] = passWarnings(row("no-lock"));
  assert.match(w!, /^no-lock passes under sc with a warning: list_head links? .* written by two threads/);
  const mail = verdictLines(v).join("\n");
  assert.match(mail, /no-lock +pass \(warning\) under sc/);
  assert.match(mail.replace(/\n\s*/g, " "), /no-lock passes under sc with a warning: list_head link/);
});

test("the state view shows where list links point (&entry.node, the head itself, LIST_POISON1), and an entry's head is named after its entry", async () => {
  const { replay, list_del } = await import("../src/index.js");
  const links = (state: unknown) => Object.fromEntries(Object.entries(teardown.view(state as LS)).filter(([k]) => k.includes("next") || k.includes("prev")));
  // In setup(): head <-> a <-> b.
  const setupState = (teardown.setup({ fix: "no-lock", variant: "default", params: {}, options: { lock: false } } as never) as { state: LS }).state;
  assert.deepEqual(links(setupState), {
    "list.next": "&a.node", "list.prev": "&b.node", "a.node.next": "&b.node", "a.node.prev": "&list", "b.node.next": "&list", "b.node.prev": "&a.node",
  });
  // Both torn down (list_del_init()): every head points to itself.
  const { exec } = replay(teardown, { fix: "no-lock", schedule: "0x2.1x2" });
  assert.deepEqual(links(exec.state), { "list.next": "&list", "list.prev": "&list", "a.node.next": "&a.node", "a.node.prev": "&a.node", "b.node.next": "&b.node", "b.node.prev": "&b.node" });
  // A list_del()ed entry's links are the poison values, by name (they were `{"name":"LIST_POISON1"}`),
  // and a message names the entry's head after its entry (`state.a.node`, not `state.list.next`).
  const poisoned = defineScenario<LS, object>({
    id: "list-del-twice",
    setup: () => {
      const { state } = teardown.setup({ fix: "no-lock", variant: "default", params: {}, options: { lock: false } } as never) as { state: LS };
      const del = function* (t: Task, s: LS) {
        yield L.del;
        list_del(t, s.a.node);
      };
      return { state, threads: { cpu0: del, cpu1: del } };
    },
  });
  const r = replay(poisoned, { schedule: "0.1" }).exec;
  const view = poisoned.view(r.state);
  assert.equal(view["a.node.next"], "LIST_POISON1");
  assert.equal(view["a.node.prev"], "LIST_POISON2");
  assert.deepEqual(r.findings.map((f) => f.message), ["list_del corruption, state.a.node->next is LIST_POISON1 (dead000000000100)"]);
});

test("a warning given under several memory models is printed once under the verdict table, naming them", () => {
  const v = verdictsOf(teardown, { checked: [{ variant: "default", memoryModel: "tso", fix: "locked", params: {} } as never, { variant: "default", memoryModel: "pso", fix: "locked", params: {} } as never] });
  const row = v.rows.find((r) => r.fix === "locked")!;
  assert.equal(verdictCell(row, v), "pass (warning) under tso, pso; pass under sc");
  const ws = passWarnings(row);
  assert.equal(ws.length, 1, ws.join("\n"));
  assert.match(ws[0]!, /^locked passes under tso, pso with a warning: list_head link .* this check reorders no store/);
});

test("a scenario's bookkeeping fields (and their elements) are left out of the plain-field warning (new-user trial 14: a count of inits warned on every check)", () => {
  const counted = (bookkeeping?: string[]) =>
    defineScenario<{ ready: number; inits: number[] }, object>({
      id: `bookkeeping-${bookkeeping?.join("-") ?? "none"}`,
      ...(bookkeeping !== undefined ? { bookkeeping } : {}),
      setup: () => ({
        state: { ready: 0, inits: [0] },
        threads: {
          *writer(t: Task, s) {
            yield SET;
            s.ready = 1;
            s.inits[0]!++;
          },
          *reader(t: Task, s) {
            yield TEST;
            s.inits[0] = s.inits[0]! + s.ready;
          },
        },
      }),
    });
  const named = (bk?: string[]) => check(counted(bk), { memoryModel: "pso" }).warnings.filter((w) => w.startsWith("plain field"));
  assert.match(named()[0]!, /^plain fields state\.inits\.0, state\.ready are written/);
  assert.match(named(["inits"])[0]!, /^plain field state\.ready is written/);
  assert.deepEqual(named(["inits", "ready"]), []);
  // buffer-migrate-jbd2 lists its `updates`: no warning is left under pso.
  assert.ok(!check(getScenario("buffer-migrate-jbd2"), { memoryModel: "pso" }).warnings.some((w) => w.startsWith("plain field")));
});
