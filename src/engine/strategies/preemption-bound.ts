/**
 * Preemption-bounded search (Musuvathi and Qadeer, "Iterative Context Bounding for Systematic
 * Testing of Multithreaded Programs", PLDI 2007): every execution with at most `bound`
 * preemptions (switches away from a thread that could still run), without sleep sets (the two do
 * not combine soundly). check() minimizes a counterexample with it: bound 0, 1, ... below the
 * preemptions of the one found.
 */
import { DepthFirstSearch } from "./dfs.js";

/** Every execution with at most `bound` preemptions. */
export class PreemptionBoundedSearch extends DepthFirstSearch {
  constructor(bound: number) {
    super(`preemption-bound ${bound}`, { preemptionBound: bound });
  }
}
