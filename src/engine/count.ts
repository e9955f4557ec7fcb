import { conflicts } from "./access.js";

/**
 * Counts the interleavings equivalent to one execution: the linear extensions of its
 * happens-before order (program order plus every pair of dependent steps, in execution order).
 *
 * The sleep-set explorer visits one execution per Mazurkiewicz trace, so the sum of these counts
 * over the executions it visits is the number of executions an unreduced search would run
 * (`naiveExecutions`). Dynamic programming over per-thread progress vectors; returns null when
 * the grid has more than `limit` points (too large to count cheaply).
 *
 * @param tids thread index of each step, in execution order
 * @param accs encoded accesses of each step (access.ts)
 */
export function countLinearizations(
  tids: readonly number[],
  accs: readonly (readonly number[])[],
  threads: number,
  limit = 200_000,
): number | null {
  const m = tids.length;
  const len = new Array<number>(threads).fill(0);
  for (const t of tids) len[t]!++;
  let size = 1;
  for (const n of len) {
    size *= n + 1;
    if (size > limit) return null;
  }
  // need[t][k]: for the k-th step of thread t, how many steps of each thread must precede it.
  // Vector clocks over program order and, per location, the earlier conflicting accesses.
  const need: Int32Array[][] = len.map(() => []);
  const vc: Int32Array[] = [];
  const last = new Array<number>(threads).fill(-1);
  const byLoc = new Map<number, number[]>(); // loc -> [event, encoded access, ...]
  for (let j = 0; j < m; j++) {
    const t = tids[j]!;
    const v = last[t]! >= 0 ? Int32Array.from(vc[last[t]!]!) : new Int32Array(threads);
    for (const a of accs[j]!) {
      const hist = byLoc.get(a >> 3);
      if (hist === undefined) continue;
      for (let h = 0; h < hist.length; h += 2) {
        const i = hist[h]!;
        if (tids[i] === t || !conflicts(hist[h + 1]!, a)) continue;
        const w = vc[i]!;
        for (let u = 0; u < threads; u++) if (w[u]! > v[u]!) v[u] = w[u]!;
      }
    }
    for (const a of accs[j]!) {
      const hist = byLoc.get(a >> 3);
      if (hist === undefined) byLoc.set(a >> 3, [j, a]);
      else hist.push(j, a);
    }
    need[t]!.push(Int32Array.from(v));
    v[t] = need[t]!.length;
    vc.push(v);
    last[t] = j;
  }
  const radix = new Array<number>(threads);
  let r = 1;
  for (let u = 0; u < threads; u++) {
    radix[u] = r;
    r *= len[u]! + 1;
  }
  const count = new Float64Array(size);
  count[0] = 1;
  const c = new Int32Array(threads);
  for (let idx = 0; idx < size; idx++) {
    // decode idx into progress vector c
    let rest = idx;
    for (let u = threads - 1; u >= 0; u--) {
      c[u] = Math.floor(rest / radix[u]!);
      rest -= c[u]! * radix[u]!;
    }
    const here = count[idx]!;
    if (here === 0) continue;
    for (let t = 0; t < threads; t++) {
      if (c[t]! >= len[t]!) continue;
      const req = need[t]![c[t]!]!;
      let ok = true;
      for (let u = 0; u < threads; u++)
        if (u !== t && c[u]! < req[u]!) {
          ok = false;
          break;
        }
      if (ok) count[idx + radix[t]!]! += here;
    }
  }
  return count[size - 1]!;
}
