/**
 * The racelab side of `npm run bench:spin` (bench/spin.ts runs it, one child process a
 * measurement): plain JavaScript on the built package, run with plain `node`, because checks run
 * about 1.5x slower in a process started with `--import tsx` (measured on ext4 blocks=3, warm).
 *
 *   node bench/spin-child.mjs one  N REDUCTION FIX   one check; its result as JSON (counterexample
 *                                                    dropped) with the process's peak RSS (maxRssMiB);
 *                                                    a `progress: ` line on stderr every 10 s
 *   node bench/spin-child.mjs warm N REDUCTION FIX   six checks in one process; {"times": [elapsedMs, ...]}
 *
 * Exit status 1 with `Name: message` on stderr when a check throws; 2 on bad arguments.
 */
import { check, getScenario } from "../dist/index.js";

const SCENARIO = "ext4-delalloc-fallocate";
const [mode, n, reduction, fix] = process.argv.slice(2);
if ((mode !== "one" && mode !== "warm") || !/^[1-9]\d*$/.test(n ?? "") || !reduction || !fix) {
  process.stderr.write("usage: node bench/spin-child.mjs one|warm N REDUCTION FIX\n");
  process.exit(2);
}
const fmt = (v) => v.toLocaleString("en-US");
// Any reduction name is passed through: check() rejects the ones it does not know.
const opts = { fix, params: { blocks: Number(n) }, reduction };
try {
  if (mode === "warm") {
    const times = [];
    for (let i = 0; i < 6; i++) times.push(check(getScenario(SCENARIO), opts).elapsedMs);
    process.stdout.write(JSON.stringify({ times }));
  } else {
    let last = 0;
    const onProgress = (done, _total, p) => {
      if (p.elapsedMs - last < 10_000) return;
      last = p.elapsedMs;
      const rate = p.elapsedMs > 0 ? Math.round((p.states || done) / (p.elapsedMs / 1000)) : 0;
      process.stderr.write(`progress: ${fmt(done)} executions, ${fmt(p.states)} states (${fmt(rate)}/s), ${fmt(p.steps)} steps, ${Math.round(p.elapsedMs / 1000)} s\n`);
    };
    const r = check(getScenario(SCENARIO), { ...opts, onProgress });
    const maxRssMiB = process.resourceUsage().maxRSS / 1024;
    process.stdout.write(JSON.stringify({ ...r, counterexample: null, maxRssMiB }));
  }
} catch (e) {
  process.stderr.write(`${e.name}: ${e.message}\n`);
  process.exit(1);
}
