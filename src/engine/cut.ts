/**
 * Why executions ran past the step bound (10,000 steps, runner.ts): what a check's warning says
 * when it had to cut executions. A thread that never finishes (`while (true) yield SITE`, a retry
 * loop not declared with `t.retry()`, a spin on state no other thread changes) makes every
 * execution that runs it long enough a cut one; the check then explores for a long time with no
 * execution done. The diagnosis runs the scenario again, without preemption first (each thread
 * runs while it can), then a few uniformly random schedules, until one is cut, and names the
 * thread that took most of its steps and the step it repeated most.
 */
import type { AnyScenario } from "./scenario.js";
import { RandomStrategy, ReplayStrategy, runOne } from "./strategies/index.js";
import type { RunConfig } from "./task.js";

/** Random executions tried after the one without preemption. */
const RANDOM_TRIES = 16;

/**
 * The thread that dominates a cut execution: `cpu0 took 9,999 of the 10,000 steps, 9,999 of them
 * at f() (load)`, or null when none of the executions tried was cut (an interleaving the search
 * reached and these did not). Never throws: a model error here is left to the check.
 */
export function cutDiagnosis(sc: AnyScenario, cfg: RunConfig<unknown>, seed: number): string | null {
  try {
    const random = new RandomStrategy(seed);
    for (let i = 0; i <= RANDOM_TRIES; i++) {
      const { exec, cut } = runOne(sc, cfg, i === 0 ? new ReplayStrategy([]) : random, { trace: true });
      if (!cut) continue;
      const steps = new Map<number, number>();
      for (const tid of exec.schedule) steps.set(tid, (steps.get(tid) ?? 0) + 1);
      const [tid, n] = [...steps].reduce((a, b) => (b[1] > a[1] ? b : a));
      const sites = new Map<string, number>();
      for (const s of exec.trace ?? []) {
        if (s.thread !== tid) continue;
        const at = `${s.site.fn}() (${s.site.label})`;
        sites.set(at, (sites.get(at) ?? 0) + 1);
      }
      const top = [...sites].reduce<[string, number] | null>((a, b) => (a === null || b[1] > a[1] ? b : a), null);
      const fmt = (x: number) => x.toLocaleString("en-US");
      const where = top === null ? "" : `, ${top[1] === n ? "all" : fmt(top[1])} of them at ${top[0]}`;
      return `${exec.tasks[tid]!.name} took ${fmt(n)} of the ${fmt(exec.steps)} steps${where}`;
    }
  } catch {
    // (The check reports the model's errors itself.)
  }
  return null;
}

/**
 * The advice after a diagnosis: what to change in the model. A loop the kernel bounds only by
 * another CPU's progress is declared with `t.retry(loop, bound)` (past the bound with no other
 * thread able to progress, a `livelock` finding) or waits with a blocking primitive.
 */
export const CUT_ADVICE =
  "a loop that can go round forever should call t.retry(loop, bound) each time round (past the bound, with no other thread " +
  "able to make progress, it is a livelock finding), or wait with a blocking primitive instead of spinning";
