/**
 * A stepping session for notebook cells: run a scenario one step at a time, go back, replay a
 * schedule, and look at the modeled state and the trace after each step.
 *
 * ```ts
 * const s = new Session("ext4-delalloc-fallocate");
 * s.step("ext4_page_mkwrite", 3).show();   // three steps of one thread, then the state
 * s.back().show();                         // undo the last step (replays from the start)
 * s.run(counterexample.schedule).showDiagram();
 * ```
 * Going back replays the schedule without its last steps from the initial state: executions are
 * deterministic, so this restores the exact earlier state.
 *
 * Who waits for what: `s.threadStatus` gives each thread (store-buffer threads included) as
 * runnable, blocked (with the reason, e.g. `waits for wake-up in schedule() (TASK_UNINTERRUPTIBLE)`)
 * or finished, with its `__state` when it is not TASK_RUNNING and its next step; `show()` prints it
 * as its `threads` table.
 */
import { UsageError } from "../errors.js";
import { check, type CheckOptions, type CheckResult } from "../engine/check.js";
import { Execution, type TraceStep } from "../engine/execution.js";
import { ReplayStrategy, runOne } from "../engine/strategies/index.js";
import { findingKey } from "../engine/finding.js";
import { lookupScenario, resolveConfig, type AnyScenario } from "../engine/scenario.js";
import { formatSchedule, parseScheduleChoices } from "../engine/schedule.js";
import { clip } from "../engine/clip.js";
import { showValue } from "../engine/validate.js";
import { Cell, type MemoryModel } from "../engine/memory.js";
import { peek_sleep_state, task_state_name } from "../linux/sched.js";
import { isSelfTracked, untracked } from "../engine/track.js";
import type { RunConfig, Task } from "../engine/task.js";
import { replayCommandFor } from "../engine/replay-hint.js";
import { renderDiagram, stepsJson, stepText, type StepJson } from "../engine/trace.js";
import "../registry.js";
import { displayBundle, displayPre, tableBundle } from "./display.js";

/** Throws UsageError unless `n` (the step count given to `method`) is a non-negative integer. */
function count(method: string, n: unknown): void {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0)
    throw new UsageError(`Session.${method}: the number of steps must be a non-negative integer, got ${showValue(n)}`);
}

/**
 * The objects of an execution's state that kfree() freed (as the engine records it: the tracker's
 * freedBy(), which also makes a later access a use-after-free), by the path the state table
 * names them with (`obj`, `folios[2]`, as the default view does), with the thread that freed each.
 * An object reached only through a `Cell` (an RCU-published pointer) is `*<path of the Cell>`.
 */
function freedObjects(e: Execution): Map<string, string> {
  const out = new Map<string, string>();
  const seen = new Set<object>();
  const cells: [Cell<unknown>, string][] = [];
  const visit = (v: unknown, path: string, d: number): void => {
    v = untracked(v);
    if (v === null || typeof v !== "object" || seen.has(v) || d > 8) return;
    seen.add(v);
    if (v instanceof Cell) cells.push([v, path]);
    if (isSelfTracked(v)) return;
    const by = e.tracker.freedBy(v);
    if (by !== undefined && path !== "") out.set(path, by);
    if (v instanceof Map) for (const [k, x] of v) visit(x, `${path}[${String(k)}]`, d + 1);
    else if (!(v instanceof Set))
      for (const k of Object.keys(v)) visit((v as Record<string, unknown>)[k], Array.isArray(v) ? `${path}[${k}]` : path ? `${path}.${k}` : k, d + 1);
  };
  visit(e.state, "", 0);
  // Then what only a pointer leads to (the plain paths first, as the state table lists them).
  for (let i = 0; i < cells.length; i++) {
    const [c, path] = cells[i]!;
    visit(c.peek(), `*${path}`, 1);
  }
  return out;
}

/** True when the state-table key `key` names object `path` or a field of it. */
function under(key: string, path: string): boolean {
  return key === path || key.startsWith(`${path}.`) || key.startsWith(`${path}[`) || key.startsWith(`${path}->`);
}

/**
 * What the pending step of store-buffer thread `t` would do: make a store visible (`makes cond = 1
 * visible`) or, under rmo, apply an invalidation; with several alternatives, each with the choice
 * that picks it. Null when there is nothing to do.
 */
function pendingFlush(e: Execution, t: Task): string | null {
  const buf = e.buffers[t.id - e.buffers.length];
  if (buf === undefined) return null;
  const alts = [
    ...buf.eligible().map((i) => `makes ${buf.entries[i]!.text} visible`),
    ...buf.stale.map((x) => `applies the invalidation of ${x.cell.name} (stale until then: ${x.text})`),
  ];
  if (alts.length <= 1) return alts[0] ?? null;
  return alts.map((a, i) => `${a} (choice ${i})`).join(" or ");
}

/**
 * One thread of a {@link Session} and what it is doing now (see {@link Session.threadStatus}), e.g.
 * `{ name: "waiter", status: "blocked", why: "waits for wake-up in schedule() (TASK_UNINTERRUPTIBLE)",
 * taskState: "TASK_UNINTERRUPTIBLE", next: "schedule()" }`.
 */
export interface ThreadStatus {
  /** The thread's name, as `step()` takes it; under tso/pso a store-buffer thread is `<thread> store buffer`. */
  readonly name: string;
  /**
   * `runnable`: `step()` can take its next step now; `blocked`: it cannot yet (see `why`);
   * `finished`: its body has returned. A store-buffer thread never finishes: with no store to
   * make visible it is blocked.
   */
  readonly status: "runnable" | "blocked" | "finished";
  /**
   * When blocked, why, in the words of the error `step()` would throw: `waits for <object>` (what
   * its next step waits for: a lock, `wake-up in schedule() (TASK_UNINTERRUPTIBLE)`, a
   * completion), `waits for its stores to become visible` (a full barrier under tso/pso), `has no
   * buffered store to make visible` (a store-buffer thread), `retried <loop> more than <n> times:
   * waits for another thread to make progress`, or `is stopped (the execution halted)` after a BUG.
   */
  readonly why?: string;
  /**
   * The thread's kernel task state, `__state` in memory, when it is not TASK_RUNNING:
   * `TASK_UNINTERRUPTIBLE` or `TASK_INTERRUPTIBLE` from prepare_to_wait() or set_current_state()
   * until a wake-up sets TASK_RUNNING again; what try_to_wake_up() on another CPU reads. A
   * runnable thread can have one (between prepare_to_wait() and schedule()). A
   * __set_current_state() store still in the thread's store buffer (tso/pso) is not in memory yet:
   * it shows in the `<thread> store buffer` row of {@link Session.state} (`waiter->__state = 2`).
   */
  readonly taskState?: string;
  /**
   * What the thread's next step is, unless it has finished: its label as in the steps table
   * (`schedule()`, `if (!READ_ONCE(cond))`); for a store-buffer thread the store it makes visible
   * (`makes cond = 1 visible`; under pso, with several stores it may pick, each with the
   * `choose()` alternative that picks it). None for a store-buffer thread with nothing to do.
   */
  readonly next?: string;
}

/** Options of a {@link Session}: the configuration it steps through. */
export interface SessionOptions {
  /** Fix id; default `baseline`. */
  readonly fix?: string;
  /** Variant id; default `default`. */
  readonly variant?: string;
  /** Scenario parameters; defaults from the variant, then the scenario. */
  readonly params?: Record<string, number>;
  /** `sc` (default), `tso`, `pso` or `rmo`: under the store-buffer models each thread gets a store-buffer thread. */
  readonly memoryModel?: MemoryModel;
}

/**
 * Steps one execution of a scenario by hand (see the module comment): take steps of named
 * threads, go back, replay a schedule, and show the steps, the threads (who is blocked on what,
 * {@link Session.threadStatus}), the state and the race diagram as notebook tables. Methods that
 * change the position return the session, so calls chain.
 */
export class Session {
  /** The scenario stepped. */
  readonly scenario: AnyScenario;
  /** Its resolved configuration: fix, variant, every parameter, options and memory model. */
  readonly cfg: RunConfig<unknown>;
  private exec: Execution;
  private shown = 0;
  /** The step count before the first back() since the last show(), or null (see {@link show}). */
  private backFrom: number | null = null;
  /** {@link freed} for the schedule it was computed at. */
  private freedCache: { at: string; freed: Record<string, string> } | null = null;

  /** Throws UsageError for an unknown scenario, fix, variant or parameter. */
  constructor(scenario: string | AnyScenario, opts: SessionOptions = {}) {
    this.scenario = lookupScenario(scenario);
    this.cfg = resolveConfig(this.scenario, opts.fix ?? "baseline", opts.variant ?? "default", opts.params ?? {}, opts.memoryModel);
    this.exec = this.fresh();
  }

  private fresh(): Execution {
    return new Execution(this.scenario, this.cfg, { trace: true });
  }

  /**
   * Thread names, by index (under tso/pso the `<thread> store buffer` threads last); what each is
   * doing now is {@link threadStatus}.
   */
  get threads(): string[] {
    return this.exec.tasks.map((t) => t.name);
  }

  /**
   * Every thread, by index, and what it is doing now: runnable, blocked and why, or finished; its
   * task state (`__state`) when not TASK_RUNNING; its next step (see {@link ThreadStatus}). Under
   * tso/pso the store-buffer threads follow the scenario's threads. E.g. a lost wake-up under tso:
   * `waker` finished, `waiter` blocked, `waits for wake-up in schedule() (TASK_UNINTERRUPTIBLE)`,
   * `waker store buffer` runnable, next `makes cond = 1 visible`.
   */
  get threadStatus(): ThreadStatus[] {
    const e = this.exec;
    return e.tasks.map((t): ThreadStatus => {
      if (t.done) return { name: t.name, status: "finished" };
      const runnable = e.isEnabled(t.id);
      const sleep = t.daemon ? undefined : peek_sleep_state(t);
      const next = t.daemon ? pendingFlush(e, t) : (t.next?.label ?? null);
      return {
        name: t.name,
        status: runnable ? "runnable" : "blocked",
        ...(runnable ? {} : { why: e.whyBlocked(t.id) }),
        ...(sleep === undefined ? {} : { taskState: task_state_name(sleep) }),
        ...(next === null ? {} : { next }),
      };
    });
  }

  /** Names of the threads that can take a step now. */
  get runnable(): string[] {
    return this.exec.enabled().map((i) => this.exec.tasks[i]!.name);
  }

  /** True when no thread can run (all finished, deadlocked or stopped by a BUG). */
  get finished(): boolean {
    return this.exec.enabled().length === 0;
  }

  /** The schedule so far, in the form `replay` and `run()` accept. */
  get schedule(): string {
    return formatSchedule(this.exec.schedule, this.exec.choices);
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.exec.steps;
  }

  /**
   * The modeled state now, as a flat table: the scenario's view and, under tso/pso, one row per
   * thread, `<thread> store buffer`, listing the stores it has not made visible yet (see
   * {@link storeBuffers}). After a kfree(), each freed object of the state has a row of its own
   * (`obj`: `freed by kfree() in remover, step 7`, see {@link freed}), and the rows of its fields,
   * and of a pointer to it (`&obj`), end in ` [freed]`: what they show is freed memory, which a
   * thread can no longer read without a use-after-free.
   */
  get state(): Record<string, string | number | boolean> {
    const view = this.exec.view();
    const freed = Object.entries(this.freed);
    if (freed.length === 0) return { ...view, ...this.storeBuffers };
    const out: Record<string, string | number | boolean> = {};
    const placed = new Set<string>();
    const row = (path: string) => (path in view ? `${path} (freed)` : path);
    for (const [k, v] of Object.entries(view)) {
      const mine = freed.find(([p]) => under(k, p));
      if (mine !== undefined && !placed.has(mine[0])) {
        placed.add(mine[0]);
        out[row(mine[0])] = mine[1];
      }
      const target = freed.find(([p]) => p === `*${k}`);
      const pointsAt = target !== undefined || (typeof v === "string" && freed.some(([p]) => under(v, `&${p}`)));
      out[k] = mine !== undefined || pointsAt ? `${String(v)} [freed]` : v;
      // What only this pointer leads to, right after it.
      if (target !== undefined && !placed.has(target[0])) {
        placed.add(target[0]);
        out[row(target[0])] = target[1];
      }
    }
    for (const [p, what] of freed) if (!placed.has(p)) out[row(p)] = what;
    return { ...out, ...this.storeBuffers };
  }

  /**
   * The objects of the state that kfree() has freed so far (kfree_rcu()'s too, once its callback
   * ran), by their path in the state table (`obj`, `folios[2]`; `*gp` for an object only the
   * pointer `gp` leads to), each with who freed it and at which step:
   * `{ obj: "freed by kfree() in remover, step 7" }`. Empty while nothing is freed.
   */
  get freed(): Record<string, string> {
    const at = this.schedule;
    if (this.freedCache?.at === at) return this.freedCache.freed;
    const now = freedObjects(this.exec);
    const freed: Record<string, string> = {};
    if (now.size > 0) {
      // The step of each free: replay the steps, as back() does (executions are deterministic),
      // and keep the replay: an execution's engine state is global (access.ts), so the one made
      // last must be the one that steps on.
      const step = new Map<string, number>();
      const e = this.fresh();
      for (let i = 0; i < this.exec.steps; i++) {
        e.step(this.exec.schedule[i]!, null, this.exec.choices[i]);
        if (step.size < now.size) for (const p of freedObjects(e).keys()) if (now.has(p) && !step.has(p)) step.set(p, i + 1);
      }
      this.exec = e;
      for (const [p, by] of now) freed[p] = `freed by kfree() in ${by}${step.has(p) ? `, step ${step.get(p)!}` : ""}`;
    }
    this.freedCache = { at, freed };
    return freed;
  }

  /**
   * Under tso/pso, each thread's pending stores, keyed `<thread> store buffer`, oldest first:
   * `<cell> = <value>` joined by `; `, ` | ` where a barrier separates them, or `empty` (e.g.
   * `folio@1498.index = 1498 | folio@1498.order = 0`). Under sc, no entries.
   */
  get storeBuffers(): Record<string, string> {
    return Object.fromEntries(this.exec.buffers.map((b) => [b.name, b.describe()]));
  }

  /**
   * The `racelab replay` command that replays the steps taken so far, with `--variant`, `--param`
   * and `--memory-model` when they are not the defaults (see `replayCommandFor`).
   */
  get replayCommand(): string {
    const c = this.cfg;
    return replayCommandFor(
      { scenario: this.scenario.id, fix: c.fix, variant: c.variant, params: c.params, memoryModel: c.memoryModel ?? "sc", schedule: this.schedule },
      undefined,
      this.scenario,
    );
  }

  /** The trace so far (JSON contract's step shape). */
  get trace(): StepJson[] {
    return stepsJson(this.exec);
  }

  /** Findings so far as `"kind: message"` (end checks only once every thread has finished). */
  get findings(): string[] {
    if (this.finished) this.exec.finish();
    return this.exec.findings.map(findingKey);
  }

  private tid(thread: string | number): number {
    if (typeof thread === "number") {
      if (!Number.isInteger(thread) || thread < 0 || thread >= this.exec.tasks.length)
        throw new UsageError(`no thread ${thread} (threads 0..${this.exec.tasks.length - 1}: ${this.threads.join(", ")})`);
      return thread;
    }
    const i = this.exec.tasks.findIndex((t) => t.name === thread);
    if (i < 0) throw new UsageError(`no thread '${clip(String(thread))}' (threads: ${this.threads.join(", ")})`);
    return i;
  }

  /**
   * Takes `n` steps of one thread (default 1; 0 takes none). A choice step (`{ choices: n }`)
   * takes its alternative 0; {@link choose} takes another. Throws UsageError when `n` is not a
   * non-negative integer, or when the thread cannot run (finished, or blocked: the message names
   * what it waits for).
   */
  step(thread: string | number, n = 1): this {
    count("step", n);
    const tid = this.tid(thread);
    for (let k = 0; k < n; k++) this.take(tid, 0);
    return this;
  }

  /**
   * Takes one step of `thread` picking alternative `choice` of an explicit choice step (e.g. under
   * pso, which buffered store a store-buffer thread makes visible). Throws UsageError when the
   * thread cannot run or the choice is out of range.
   */
  choose(thread: string | number, choice: number): this {
    this.take(this.tid(thread), choice);
    return this;
  }

  /** Alternatives the thread's next step offers (1 unless it is a choice step). */
  alternatives(thread: string | number): number {
    return this.exec.tasks[this.tid(thread)]!.alternatives();
  }

  private take(tid: number, choice: number): void {
    const t = this.exec.tasks[tid]!;
    if (!this.exec.isEnabled(tid))
      throw new UsageError(`${t.name} cannot run: it ${this.exec.whyBlocked(t.id)}`);
    const n = t.alternatives();
    if (!Number.isInteger(choice) || choice < 0 || choice >= n) throw new UsageError(`${t.name}: choice ${choice} out of range 0..${n - 1}`);
    this.exec.step(tid, null, choice);
  }

  /** Runs `thread` until it finishes or blocks. */
  stepUntilBlocked(thread: string | number): this {
    const tid = this.tid(thread);
    while (this.exec.isEnabled(tid)) this.exec.step(tid);
    return this;
  }

  /**
   * Undoes the last `n` steps (default 1; all of them when `n` is larger than the steps taken),
   * replaying the shorter schedule from the initial state. Throws UsageError when `n` is not a
   * non-negative integer.
   */
  back(n = 1): this {
    count("back", n);
    const m = Math.max(0, this.exec.steps - n);
    if (m < this.exec.steps) this.backFrom = Math.max(this.backFrom ?? 0, this.exec.steps);
    const keep = this.exec.schedule.slice(0, m);
    const picks = this.exec.choices.slice(0, m);
    this.exec = this.fresh();
    keep.forEach((tid, i) => this.exec.step(tid, null, picks[i]));
    this.shown = Math.min(this.shown, keep.length);
    return this;
  }

  /** Starts over. */
  reset(): this {
    return this.back(this.exec.steps);
  }

  /**
   * Replays a schedule string from the initial state, then finishes the run without preemption.
   * Throws UsageError for a malformed schedule, one naming a thread that cannot run, or one with
   * steps left after no thread can run (the session is then unchanged).
   */
  run(schedule: string): this {
    const { tids, choices } = parseScheduleChoices(schedule, this.exec.tasks.length);
    this.exec = runOne(this.scenario, this.cfg, new ReplayStrategy(tids, choices), { trace: true }).exec;
    this.shown = 0;
    this.backFrom = null;
    return this;
  }

  /** The race diagram of the steps so far (columns per thread, `^^^^` under findings). */
  diagram(width = 75): string {
    if (this.finished) this.exec.finish();
    return renderDiagram(this.exec, width);
  }

  /**
   * Rows of the steps taken since the last `show()` (or all, with `all`): `#` (1-based step
   * number), thread, function, step (the label; a store-buffer step names the store it made
   * visible), source, and model (notes and findings, `; `-joined).
   */
  stepRows(all = false): Record<string, string | number>[] {
    const trace = this.exec.trace as TraceStep[];
    return trace.slice(all ? 0 : this.shown).map((s, i) => {
      const { label, notes } = stepText(this.exec, s);
      return {
        "#": (all ? 0 : this.shown) + i + 1,
        thread: this.exec.tasks[s.thread]!.name,
        function: s.site.fn,
        step: label,
        source: s.site.source,
        model: [...notes, ...s.findings.map(findingKey)].join("; "),
      };
    });
  }

  /**
   * Rows of the `threads` table of {@link show}: per thread (store-buffer threads included) its
   * status (`runnable`, `finished`, or `blocked: ` and why), its next step, and, when some thread's
   * task state is not TASK_RUNNING, a `__state` column (see {@link threadStatus}).
   */
  threadRows(): Record<string, string>[] {
    const ts = this.threadStatus;
    const states = ts.some((t) => t.taskState !== undefined);
    return ts.map((t) => ({
      thread: t.name,
      status: t.why === undefined ? t.status : `${t.status}: ${t.why}`,
      "next step": t.next ?? "",
      ...(states ? { __state: t.taskState ?? "" } : {}),
    }));
  }

  /**
   * Displays the steps taken since the last `show()`; the threads after them: who is runnable,
   * who is blocked and on what, who has finished, with each thread's next step and task state
   * (see {@link threadRows}); and the state (under tso/pso with each thread's pending stores, see
   * {@link state}), as one table each (text/html + text/plain); then the findings so far. Returns
   * nothing, so a cell ending in `.show()` prints nothing else. Needs the tslab kernel.
   */
  show(): void {
    const rows = this.stepRows();
    // After back() with no step taken since: where the session went back to, and from where (a
    // report read as if nothing happened; new-user trial 13).
    const back = this.backFrom !== null && this.backFrom > this.exec.steps ? ` (back from step ${this.backFrom})` : "";
    if (rows.length > 0) {
      const first = rows[0]!["#"];
      // (One step: "step 5", not "steps 5–5".)
      displayBundle(tableBundle(rows, undefined, Number(first) === this.exec.steps ? `step ${first}` : `steps ${first}–${this.exec.steps}`));
    } else if (back !== "" && this.exec.steps > 0)
      displayBundle(tableBundle(this.stepRows(true).slice(-1), undefined, `step ${this.exec.steps}, the last one now${back}`));
    this.shown = this.exec.steps;
    this.backFrom = null;
    const after = `after ${this.exec.steps} step${this.exec.steps === 1 ? "" : "s"}${back}`;
    displayBundle(tableBundle(this.threadRows(), undefined, `threads ${after}`));
    const st = this.state;
    const next = this.runnable.join(", ") || "none";
    displayBundle(
      tableBundle(
        Object.entries(st).map(([k, v]) => ({ state: k, value: v })),
        ["state", "value"],
        `state ${after} — runnable: ${next}`,
      ),
    );
    const fs = this.findings;
    if (fs.length > 0) displayPre(fs.map((f) => `finding: ${f}`).join("\n"));
  }

  /** Displays the race diagram. Needs the tslab kernel. */
  showDiagram(width = 75): void {
    displayPre(this.diagram(width));
  }

  /** Exhaustive check of this session's configuration. */
  check(opts: Omit<CheckOptions, "fix" | "variant" | "params"> = {}): CheckResult {
    return check(this.scenario, {
      ...opts,
      fix: this.cfg.fix,
      variant: this.cfg.variant,
      params: { ...this.cfg.params },
      memoryModel: this.cfg.memoryModel ?? "sc",
    });
  }
}
