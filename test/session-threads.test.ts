/**
 * Session says who waits for what (a new user's trial: stepping through a lost wake-up under tso,
 * `show()` listed only the runnable threads and never a task state, so learning that the waiter
 * sleeps in schedule() or that the waker has finished took a step() and its UsageError).
 * `Session.threadStatus` gives every thread (store-buffer threads included) as runnable, blocked
 * with whyBlocked()'s reason, or finished, with its `__state` when not TASK_RUNNING and its next
 * step; `show()` prints it as a `threads` table between the steps and the state table.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { captureDisplays } from "./fixtures/capture-displays.js";
import {
  Cell,
  DECLARE_WAIT_QUEUE_HEAD,
  DEFINE_WAIT,
  defineScenario,
  finish_wait,
  load,
  prepare_to_wait,
  schedule,
  Session,
  sitesIn,
  store,
  TASK_UNINTERRUPTIBLE,
  waitqueue_active,
  wake_up,
  type Task,
  type ThreadStatus,
} from "../src/index.js";

const at = sitesIn("lib/lost-wakeup.c", "v6.12");
const SETC = at("waker", "WRITE_ONCE(cond, 1)");
const ACTIVE = at("waker", "waitqueue_active(&wq)");
const WAKE = at("waker", "wake_up(&wq)");
const PREP = at("waiter", "prepare_to_wait(&wq, &wait, TASK_UNINTERRUPTIBLE)");
const COND = at("waiter", "if (!READ_ONCE(cond))");
const SCHED = at("waiter", "schedule()");
const FIN = at("waiter", "finish_wait(&wq, &wait)");

interface S {
  cond: Cell<number>;
  wq: ReturnType<typeof DECLARE_WAIT_QUEUE_HEAD>;
}

/** waker: WRITE_ONCE(cond, 1); if (waitqueue_active(&wq)) wake_up(&wq); waiter: prepare_to_wait(); if (!READ_ONCE(cond)) schedule(); finish_wait(). */
const lostWakeUp = defineScenario<S, Record<string, never>>({
  id: "session-threads-lost-wake-up",
  setup: () => ({
    state: { cond: new Cell("cond", 0), wq: DECLARE_WAIT_QUEUE_HEAD("wq") },
    threads: {
      *waker(t: Task, s: S) {
        yield SETC;
        store(t, s.cond, 1);
        if (yield* waitqueue_active(t, s.wq, ACTIVE)) yield* wake_up(t, s.wq, WAKE);
      },
      *waiter(t: Task, s: S) {
        const wait = DEFINE_WAIT(t);
        yield* prepare_to_wait(t, s.wq, wait, TASK_UNINTERRUPTIBLE, PREP);
        yield COND;
        if (load(t, s.cond) === 0) yield* schedule(t, SCHED);
        yield* finish_wait(t, s.wq, wait, FIN);
      },
    },
  }),
});

const idle: ThreadStatus = { name: "waiter store buffer", status: "blocked", why: "has no buffered store to make visible" };

test("under tso, threadStatus and show() say the waiter sleeps in schedule(), the waker has finished and its store is still buffered; back() restores the earlier listing", () => {
  const s = new Session(lostWakeUp, { memoryModel: "tso" });
  assert.deepEqual(s.threads, ["waker", "waiter", "waker store buffer", "waiter store buffer"], "thread names unchanged");
  assert.deepEqual(s.threadStatus, [
    { name: "waker", status: "runnable", next: "WRITE_ONCE(cond, 1)" },
    { name: "waiter", status: "runnable", next: "prepare_to_wait(&wq, &wait, TASK_UNINTERRUPTIBLE)" },
    { name: "waker store buffer", status: "blocked", why: "has no buffered store to make visible" },
    idle,
  ]);

  // The waker's store waits in its store buffer while waitqueue_active() finds the queue empty;
  // the waiter queues itself and sets TASK_UNINTERRUPTIBLE, still runnable.
  s.step("waker", 2).step("waiter");
  const before: ThreadStatus[] = [
    { name: "waker", status: "finished" },
    { name: "waiter", status: "runnable", taskState: "TASK_UNINTERRUPTIBLE", next: "if (!READ_ONCE(cond))" },
    { name: "waker store buffer", status: "runnable", next: "makes cond = 1 visible" },
    idle,
  ];
  assert.deepEqual(s.threadStatus, before);

  // It reads cond == 0 (the store is not visible yet) and goes to sleep: nobody will wake it.
  s.step("waiter");
  const lost: ThreadStatus[] = [
    { name: "waker", status: "finished" },
    {
      name: "waiter",
      status: "blocked",
      why: "waits for wake-up in schedule() (TASK_UNINTERRUPTIBLE)",
      taskState: "TASK_UNINTERRUPTIBLE",
      next: "schedule()",
    },
    { name: "waker store buffer", status: "runnable", next: "makes cond = 1 visible" },
    idle,
  ];
  assert.deepEqual(s.threadStatus, lost);
  assert.throws(() => s.step("waiter"), { message: "waiter cannot run: it waits for wake-up in schedule() (TASK_UNINTERRUPTIBLE)" }, "the same reason step() gives");
  assert.deepEqual(s.runnable, ["waker store buffer"]);

  const shown = captureDisplays(() => s.show());
  const threads = shown.find((t) => t.startsWith("threads after 4 steps\n"));
  assert.ok(threads !== undefined, shown.join("\n\n"));
  assert.match(threads, /^thread +status +next step +__state$/m);
  assert.match(threads, /^waker +finished *$/m);
  assert.match(threads, /^waiter +blocked: waits for wake-up in schedule\(\) \(TASK_UNINTERRUPTIBLE\) +schedule\(\) +TASK_UNINTERRUPTIBLE$/m);
  assert.match(threads, /^waker store buffer +runnable +makes cond = 1 visible *$/m);
  assert.match(threads, /^waiter store buffer +blocked: has no buffered store to make visible *$/m);
  // The state table and its caption are still there, after the threads table: the last display.
  assert.equal(shown.indexOf(threads), shown.length - 2);
  assert.match(shown.at(-1)!, /^state after 4 steps — runnable: waker store buffer\n/);
  assert.match(shown.at(-1)!, /^waker store buffer +cond = 1$/m);

  // The store lands too late: the waiter stays asleep, a deadlock.
  s.step("waker store buffer");
  assert.deepEqual(s.threadStatus, [lost[0], lost[1], { name: "waker store buffer", status: "blocked", why: "has no buffered store to make visible" }, idle]);
  assert.deepEqual(s.findings, ["deadlock: waiter waits for wake-up in schedule() (TASK_UNINTERRUPTIBLE) at waiter() (schedule())"]);

  s.back(2);
  assert.deepEqual(s.threadStatus, before, "back() restores the earlier listing");
  // Looking at the threads changed nothing: the same steps without looking give the same listing.
  assert.deepEqual(new Session(lostWakeUp, { memoryModel: "tso" }).step("waker", 2).step("waiter").threadStatus, before);
});

test("under sc there are no store-buffer threads and no __state column while every thread is TASK_RUNNING", () => {
  const s = new Session(lostWakeUp);
  s.step("waker");
  assert.deepEqual(s.threadStatus, [
    { name: "waker", status: "runnable", next: "waitqueue_active(&wq)" },
    { name: "waiter", status: "runnable", next: "prepare_to_wait(&wq, &wait, TASK_UNINTERRUPTIBLE)" },
  ]);
  assert.deepEqual(s.threadRows(), [
    { thread: "waker", status: "runnable", "next step": "waitqueue_active(&wq)" },
    { thread: "waiter", status: "runnable", "next step": "prepare_to_wait(&wq, &wait, TASK_UNINTERRUPTIBLE)" },
  ]);
  // Under sc the waker's store is visible at once: the waiter finds cond set and never sleeps.
  s.step("waker").step("waiter", 3);
  assert.deepEqual(s.threadStatus, [
    { name: "waker", status: "finished" },
    { name: "waiter", status: "finished" },
  ]);
});

test("under pso a store-buffer thread's next step lists each store it may make visible with its choice", () => {
  const A = at("writer", "WRITE_ONCE(a, 1)");
  const B = at("writer", "WRITE_ONCE(b, 2)");
  interface P {
    a: Cell<number>;
    b: Cell<number>;
  }
  const two = defineScenario<P, Record<string, never>>({
    id: "session-threads-pso",
    setup: () => ({
      state: { a: new Cell("a", 0), b: new Cell("b", 0) },
      threads: {
        *writer(t: Task, s: P) {
          yield A;
          store(t, s.a, 1);
          yield B;
          store(t, s.b, 2);
        },
      },
    }),
  });
  const s = new Session(two, { memoryModel: "pso" });
  s.step("writer", 2);
  assert.deepEqual(s.threadStatus[1], {
    name: "writer store buffer",
    status: "runnable",
    next: "makes a = 1 visible (choice 0) or makes b = 2 visible (choice 1)",
  });
  s.choose("writer store buffer", 1);
  assert.equal(s.threadStatus[1]!.next, "makes a = 1 visible");
});

test("show() after one step captions its steps table 'step 1', not 'steps 1–1' (a new user's trial)", () => {
  const s = new Session(lostWakeUp, { memoryModel: "tso" });
  s.step("waker");
  const one = captureDisplays(() => s.show());
  assert.ok(one.some((t) => t.startsWith("step 1\n")), one.join("\n\n"));
  // (show() lists the steps since the last show().)
  s.step("waker").step("waiter");
  const two = captureDisplays(() => s.show());
  assert.ok(two.some((t) => t.startsWith("steps 2–3\n")), two.join("\n\n"));
});

test("show() after back() says where the session went back to, and from which step (new-user trial 13: nothing was shown)", () => {
  const s = new Session(lostWakeUp);
  s.step("waker", 2).step("waiter");
  captureDisplays(() => s.show());
  s.back(2);
  const back = captureDisplays(() => s.show());
  assert.ok(back.some((t) => t.startsWith("step 1, the last one now (back from step 3)\n")), back.join("\n\n"));
  assert.ok(back.some((t) => t.startsWith("threads after 1 step (back from step 3)\n")), back.join("\n\n"));
  assert.ok(back.some((t) => t.startsWith("state after 1 step (back from step 3) — runnable:")), back.join("\n\n"));
  // A step after the back(): the new step only, and no more "back from".
  s.step("waiter");
  const next = captureDisplays(() => s.show());
  assert.ok(next.some((t) => t.startsWith("step 2\n")), next.join("\n\n"));
  assert.ok(!next.some((t) => t.includes("back from")), next.join("\n\n"));
  // Back to the start: no step to show, the threads table says it.
  s.reset();
  const start = captureDisplays(() => s.show());
  assert.ok(start.some((t) => t.startsWith("threads after 0 steps (back from step 2)\n")), start.join("\n\n"));
});
