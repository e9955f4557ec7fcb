/**
 * struct list_head: circular doubly linked lists.
 *
 * Source: include/linux/list.h (INIT_LIST_HEAD, list_add, list_add_tail, list_del,
 * list_del_init, list_move, list_move_tail, list_empty, list_is_singular, list_first_entry,
 * list_for_each_entry, list_for_each_entry_safe), include/linux/rculist.h (list_add_rcu,
 * list_add_tail_rcu, list_del_rcu, list_for_each_entry_rcu), include/linux/poison.h
 * (LIST_POISON1/2) and lib/list_debug.c (CONFIG_DEBUG_LIST checks), v6.12.
 *
 * A list_head is a plain object `{ next, prev }`, tracked field by field like any plain state
 * (engine/track.ts): the list functions are plain memory code, like `s.x = 1`, and are called
 * inside a step (after a `yield`); every `next`/`prev` read and write they make is recorded, so
 * the reduction sees exactly which list links two steps share. In setup(), before any thread
 * runs, pass `null` for the task to build the initial lists (nothing is recorded then, and a
 * corruption check throws). Entries must be reachable from the state by their own fields (an
 * array of them, or kmalloc()) to be named: the walk that names setup state follows `next`/`prev`
 * to the list_heads (after everything else, so an entry's head is named after its entry,
 * `state.obj.node`) but not back to the entries that embed them. The state view shows where the
 * links point (`&obj.node`, the head itself, `LIST_POISON1`). Entries embed their list_head:
 * make it with `LIST_HEAD_INIT(entry)` (setting container_of) and store it in a field of the
 * entry, e.g. `const foo = { id: 1, list: null as unknown as list_head }; foo.list =
 * LIST_HEAD_INIT(foo);`. A list's head is `LIST_HEAD_INIT()` with no container. kfree() of an
 * entry frees its embedded list_head too, so a list walk that reaches a freed entry is a
 * use-after-free finding.
 *
 * Granularity: a list function is memory code inside the step that calls it, so it is atomic
 * with the rest of that step. Two list functions that change the same links from two threads
 * never interleave inside each other, as `__list_del()`'s two stores (`next->prev = prev;
 * WRITE_ONCE(prev->next, next)`) and `__list_add()`'s four can in the kernel when no lock orders
 * them: racelab does not explore that corruption. check() warns instead, under every memory
 * model, when two threads write the same links with no lock held at every one of those writes
 * (engine/plain-fields.ts, from 20 random executions), and the report's verdict table then says
 * `pass (warning)`. To explore the interleavings inside, write the loads and stores as steps of
 * their own.
 *
 * Findings: list_del() poisons the entry's links (LIST_POISON1/2); a list walk or list_del()
 * that meets the poison is `bug: general protection fault ... LIST_POISON1` (the kernel's oops on
 * 0xdead000000000100). The CONFIG_DEBUG_LIST checks of __list_add_valid_or_report() and
 * __list_del_entry_valid_or_report() are `warning` findings with the kernel's messages (object
 * names in place of addresses), and the operation is skipped, as the kernel does without
 * CONFIG_BUG_ON_DATA_CORRUPTION.
 *
 * Memory model: links are tracked plain fields, sequentially consistent (a write is visible to
 * every CPU at once). Under tso and pso the list functions that write links are ordered after the
 * thread's buffered stores as the kernel's WRITE_ONCE()s of them would be (engine/memory.ts
 * orderStores()): under tso every buffered store becomes visible first, under pso those before the
 * thread's last smp_wmb() or release, so `WRITE_ONCE(c->data, 3); smp_wmb(); list_add(&c->node,
 * &head)` publishes an initialized entry. RCU lists (include/linux/rculist.h): list_add_rcu(),
 * list_add_tail_rcu(), list_del_rcu() and list_for_each_entry_rcu(); list_replace_rcu(),
 * list_splice_rcu() and the hlist variants are left out, as are hlist, list_splice, list_cut and
 * list_sort.
 */
import { orderStores } from "../engine/memory.js";
import type { Task } from "../engine/task.js";
import { markListHead, untracked } from "../engine/track.js";
import { container_of, embed } from "./slab.js";

/** struct list_head. */
export interface list_head {
  /** The next entry (the head itself at the end of the list; LIST_POISON1 after list_del()). */
  next: list_head;
  /** The previous entry (the head itself at the start of the list; LIST_POISON2 after list_del()). */
  prev: list_head;
}

/** LIST_POISON1: `next` of a list_del()ed entry (0xdead000000000100). */
export const LIST_POISON1: list_head = Object.freeze({ name: "LIST_POISON1" }) as unknown as list_head;
/** LIST_POISON2: `prev` of a list_del()ed entry (0xdead000000000122). */
export const LIST_POISON2: list_head = Object.freeze({ name: "LIST_POISON2" }) as unknown as list_head;

const same = (a: unknown, b: unknown) => untracked(a) === untracked(b);

/**
 * LIST_HEAD_INIT(name): a new, empty list_head (pointing to itself). With `container`, it is the
 * list_head embedded in that entry (container_of() returns it; kfree() of the entry frees it).
 * Create entries' heads in setup() or in a step; the object is tracked once it is stored in
 * shared state (or returned by kmalloc()).
 */
export function LIST_HEAD_INIT(container?: object): list_head {
  const h = {} as list_head;
  h.next = h;
  h.prev = h;
  markListHead(h);
  if (container !== undefined) embed(h, container);
  return h;
}

/** LIST_HEAD(name): LIST_HEAD_INIT() for a list's head. */
export const LIST_HEAD = (): list_head => LIST_HEAD_INIT();

/**
 * The first argument of the list functions: the running thread inside a step, or `null` in
 * setup() to build the initial lists (`list_add_tail(null, obj.node, list)`: nothing is recorded
 * before the threads run, and a corruption check throws instead of reporting).
 */
export type Ctx = Task | null;

function tracked(t: Ctx, h: list_head): list_head {
  return t === null ? h : t.tracker.wrap(h);
}

/** A short name of a list_head for messages (`foo#0.list`, `state.queue`). */
function nm(t: Ctx, h: unknown): string {
  if (same(h, LIST_POISON1)) return "LIST_POISON1";
  if (same(h, LIST_POISON2)) return "LIST_POISON2";
  if (h === null || h === undefined) return "NULL";
  return t === null ? "list_head" : t.tracker.idOf(h as object);
}

function warn(t: Ctx, msg: string): void {
  if (t === null) throw new Error(msg);
  t.warn(msg);
}

function poisoned(t: Ctx, at: list_head, field: "next" | "prev", v: list_head): void {
  if (!same(v, LIST_POISON1) && !same(v, LIST_POISON2)) return;
  const msg = `general protection fault, probably for non-canonical address 0xdead0000000001${same(v, LIST_POISON1) ? "00" : "22"}: ${nm(t, at)}->${field} is ${nm(t, v)} (a list_del()ed entry)`;
  if (t === null) throw new Error(msg);
  t.bug(msg);
}

/** INIT_LIST_HEAD(list): WRITE_ONCE(list->next, list); list->prev = list. Inside a step. */
export function INIT_LIST_HEAD(t: Ctx, list: list_head): void {
  const l = tracked(t, list);
  if (t !== null) orderStores(t);
  l.next = l;
  l.prev = l;
}

/** __list_add_valid_or_report(): the CONFIG_DEBUG_LIST checks of an add; false (and a warning) when corrupt. */
function listAddValid(t: Ctx, nw: list_head, prev: list_head, next: list_head): boolean {
  const corrupt = (msg: string) => {
    warn(t, msg);
    return false;
  };
  if (!same(next.prev, prev))
    return corrupt(`list_add corruption. next->prev should be prev (${nm(t, prev)}), but was ${nm(t, next.prev)}. (next=${nm(t, next)}).`);
  if (!same(prev.next, next))
    return corrupt(`list_add corruption. prev->next should be next (${nm(t, next)}), but was ${nm(t, prev.next)}. (prev=${nm(t, prev)}).`);
  if (same(nw, prev) || same(nw, next))
    return corrupt(`list_add double add: new=${nm(t, nw)}, prev=${nm(t, prev)}, next=${nm(t, next)}.`);
  return true;
}

function __list_add(t: Ctx, nw: list_head, prev: list_head, next: list_head): void {
  if (!listAddValid(t, nw, prev, next)) return;
  if (t !== null) orderStores(t);
  next.prev = nw;
  nw.next = next;
  nw.prev = prev;
  prev.next = nw; // WRITE_ONCE
}

/**
 * __list_add_rcu() (include/linux/rculist.h): `nw`'s links, then rcu_assign_pointer(prev->next,
 * nw) and next->prev = nw. The release orders every earlier store of the thread before `nw` is
 * reachable: under tso and pso each buffered store becomes visible first.
 */
function __list_add_rcu(t: Ctx, nw: list_head, prev: list_head, next: list_head): void {
  if (!listAddValid(t, nw, prev, next)) return;
  if (t !== null) orderStores(t, true);
  nw.next = next;
  nw.prev = prev;
  prev.next = nw; // rcu_assign_pointer(list_next_rcu(prev), new)
  next.prev = nw;
}

/**
 * list_add_rcu(new, head) (include/linux/rculist.h, v6.12): inserts `nw` after `head` so that RCU
 * readers walking the list see it whole: every store the thread made before (its fields' `Cell`
 * stores included) is visible before `head->next` points to it (rcu_assign_pointer()). Serialize
 * updaters with a lock, as the kernel requires. Inside a step.
 */
export function list_add_rcu(t: Ctx, nw: list_head, head: list_head): void {
  insert(t, nw, head, false, __list_add_rcu);
}

/** list_add_tail_rcu(new, head): as {@link list_add_rcu}, before `head` (a queue). Inside a step. */
export function list_add_tail_rcu(t: Ctx, nw: list_head, head: list_head): void {
  insert(t, nw, head, true, __list_add_rcu);
}

/**
 * list_del_rcu(entry) (include/linux/rculist.h, v6.12): unlinks the entry and poisons only its
 * `prev` (LIST_POISON2): `next` stays, so a reader standing on the entry walks on. Free the entry
 * only after a grace period (synchronize_rcu(), kfree_rcu(), call_rcu()); list_del() instead
 * poisons `next` too, and a reader on the entry then oopses on LIST_POISON1. Inside a step.
 */
export function list_del_rcu(t: Ctx, entry: list_head): void {
  const e = tracked(t, entry);
  __list_del_entry(t, e);
  e.prev = LIST_POISON2;
}

/**
 * list_for_each_entry_rcu(pos, head, member) (include/linux/rculist.h, v6.12): the entries,
 * lazily, as {@link list_for_each_entry} walks them, each `next` loaded with rcu_dereference()
 * (a plain load in racelab's memory models: loads are never reordered). Call it inside
 * rcu_read_lock() (or holding the updaters' lock): an entry freed under the walk is a
 * use-after-free finding. Left out: CONFIG_PROVE_RCU_LIST's check that the caller is a reader.
 */
export function list_for_each_entry_rcu<T extends object>(t: Ctx, head: list_head): Generator<T, void, undefined> {
  return list_for_each_entry<T>(t, head);
}

/** list_add(new, head): inserts `nw` after `head` (a stack). Inside a step. */
export function list_add(t: Ctx, nw: list_head, head: list_head): void {
  insert(t, nw, head, false, __list_add);
}

/** list_add_tail(new, head): inserts `nw` before `head` (a queue). Inside a step. */
export function list_add_tail(t: Ctx, nw: list_head, head: list_head): void {
  insert(t, nw, head, true, __list_add);
}

/** Inserts `nw` after `head` (`tail`: before it) with `add` (__list_add or __list_add_rcu), the poison checked first. */
function insert(t: Ctx, nw: list_head, head: list_head, tail: boolean, add: typeof __list_add): void {
  const h = tracked(t, head);
  const neighbour = tail ? h.prev : h.next;
  poisoned(t, h, tail ? "prev" : "next", neighbour);
  if (tail) add(t, tracked(t, nw), neighbour, h);
  else add(t, tracked(t, nw), h, neighbour);
}

/** __list_del_entry_valid_or_report(): the CONFIG_DEBUG_LIST checks of a delete. */
function listDelValid(t: Ctx, entry: list_head): boolean {
  const prev = entry.prev;
  const next = entry.next;
  const corrupt = (msg: string) => {
    warn(t, msg);
    return false;
  };
  if (same(next, LIST_POISON1)) return corrupt(`list_del corruption, ${nm(t, entry)}->next is LIST_POISON1 (dead000000000100)`);
  if (same(prev, LIST_POISON2)) return corrupt(`list_del corruption, ${nm(t, entry)}->prev is LIST_POISON2 (dead000000000122)`);
  if (!same(prev.next, entry))
    return corrupt(`list_del corruption. prev->next should be ${nm(t, entry)}, but was ${nm(t, prev.next)}. (prev=${nm(t, prev)})`);
  if (!same(next.prev, entry))
    return corrupt(`list_del corruption. next->prev should be ${nm(t, entry)}, but was ${nm(t, next.prev)}. (next=${nm(t, next)})`);
  return true;
}

function __list_del_entry(t: Ctx, e: list_head): boolean {
  if (!listDelValid(t, e)) return false;
  if (t !== null) orderStores(t);
  const prev = e.prev;
  const next = e.next;
  next.prev = prev;
  prev.next = next; // WRITE_ONCE
  return true;
}

/** list_del(entry): unlinks the entry and poisons its links (LIST_POISON1/2). Inside a step. */
export function list_del(t: Ctx, entry: list_head): void {
  const e = tracked(t, entry);
  __list_del_entry(t, e);
  e.next = LIST_POISON1;
  e.prev = LIST_POISON2;
}

/** list_del_init(entry): unlinks the entry and makes it an empty list again. Inside a step. */
export function list_del_init(t: Ctx, entry: list_head): void {
  const e = tracked(t, entry);
  __list_del_entry(t, e);
  INIT_LIST_HEAD(t, e);
}

/** list_move(list, head): list_del from its list, list_add to `head`. Inside a step. */
export function list_move(t: Ctx, list: list_head, head: list_head): void {
  const e = tracked(t, list);
  if (__list_del_entry(t, e)) list_add(t, e, head);
}

/** list_move_tail(list, head): list_del from its list, list_add_tail to `head`. Inside a step. */
export function list_move_tail(t: Ctx, list: list_head, head: list_head): void {
  const e = tracked(t, list);
  if (__list_del_entry(t, e)) list_add_tail(t, e, head);
}

/** list_empty(head): READ_ONCE(head->next) == head. Inside a step. */
export function list_empty(t: Ctx, head: list_head): boolean {
  const h = tracked(t, head);
  return same(h.next, h);
}

/** list_is_singular(head): one entry exactly. Inside a step. */
export function list_is_singular(t: Ctx, head: list_head): boolean {
  const h = tracked(t, head);
  return !list_empty(t, h) && same(h.next, h.prev);
}

/** list_entry(ptr): container_of(ptr); throws Error for a head without container (a modeling mistake). */
export function list_entry<T extends object>(t: Ctx, ptr: list_head): T {
  const c = container_of<T>(ptr);
  if (c === null) throw new Error(`list_entry(${nm(t, ptr)}): not a list_head embedded with LIST_HEAD_INIT(entry)`);
  return t === null ? c : t.tracker.wrap(c);
}

/** list_first_entry(head): the first entry (the list must not be empty). Inside a step. */
export function list_first_entry<T extends object>(t: Ctx, head: list_head): T {
  const h = tracked(t, head);
  const first = h.next;
  poisoned(t, h, "next", first);
  return list_entry<T>(t, first);
}

/** list_first_entry_or_null(head): the first entry, or null when empty. Inside a step. */
export function list_first_entry_or_null<T extends object>(t: Ctx, head: list_head): T | null {
  const h = tracked(t, head);
  const first = h.next;
  poisoned(t, h, "next", first);
  return same(first, h) ? null : list_entry<T>(t, first);
}

/**
 * list_for_each_entry(pos, head, member): the entries, lazily: each step of the iteration reads
 * `pos->member.next` when the loop advances, as the C does after the body, so a body that yields
 * spreads the walk over steps and a walk that meets a list_del()ed entry oopses on the poison.
 * A body that deletes `pos` must use list_for_each_entry_safe().
 */
export function* list_for_each_entry<T extends object>(t: Ctx, head: list_head): Generator<T, void, undefined> {
  const h = tracked(t, head);
  let pos = h.next;
  poisoned(t, h, "next", pos);
  while (!same(pos, h)) {
    yield list_entry<T>(t, pos);
    const next = pos.next;
    poisoned(t, pos, "next", next);
    pos = next;
  }
}

/** list_for_each_entry_safe(pos, n, head, member): like list_for_each_entry() but reads the next entry before the body runs. */
export function* list_for_each_entry_safe<T extends object>(t: Ctx, head: list_head): Generator<T, void, undefined> {
  const h = tracked(t, head);
  let pos = h.next;
  poisoned(t, h, "next", pos);
  while (!same(pos, h)) {
    const n = pos.next;
    poisoned(t, pos, "next", n);
    yield list_entry<T>(t, pos);
    pos = n;
  }
}
