/**
 * Benchmark of the `buffer-migrate-jbd2` scenario: exhaustive check of every fix × variant
 * (target: under 5 s in all, no preemption bound). `benchBufferMigrate()` returns Markdown; run this
 * file directly to print it: `node --import tsx bench/buffer-migrate-jbd2.ts`.
 */
import { fileURLToPath } from "node:url";
import { check, getScenario } from "../src/index.js";

const fmt = (n: number) => n.toLocaleString("en-US");

/** Exhaustive checks of every fix and variant; a Markdown table and the total time. */
export async function benchBufferMigrate(): Promise<string> {
  const sc = getScenario("buffer-migrate-jbd2");
  check(sc, { fix: "baseline", variant: "default" }); // warm-up (JIT), not counted
  const rows: string[] = [];
  let executions = 0;
  let allComplete = true;
  const t0 = performance.now();
  for (const f of sc.fixes)
    for (const v of sc.variants) {
      const r = check(sc, { fix: f.id, variant: v.id });
      executions += r.executions;
      allComplete &&= r.complete;
      const inter = r.naiveExecutions === null ? "n/a" : fmt(r.naiveExecutions);
      rows.push(
        `| ${f.id} | ${v.id} | ${r.verdict} | ${fmt(r.executions)} | ${inter} | ${r.complete} | ${r.elapsedMs.toFixed(1)} |`,
      );
    }
  const total = performance.now() - t0;
  return [
    `## Exhaustive: every fix and variant of buffer-migrate-jbd2 (default parameters)`,
    ``,
    `| fix | variant | verdict | executions | interleavings | complete | ms |`,
    `|---|---|---|---:|---:|---|---:|`,
    ...rows,
    ``,
    `total: ${total.toFixed(0)} ms for ${sc.fixes.length * sc.variants.length} checks, ${fmt(executions)} executions, ` +
      `${allComplete ? "all complete (no bound)" : "SOME INCOMPLETE"} (target < 5000 ms)`,
    ``,
  ].join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(await benchBufferMigrate());
