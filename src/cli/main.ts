#!/usr/bin/env -S node --v8-pool-size=0
/**
 * Entry point of the `racelab` command (package.json "bin"). The first line starts node with V8's
 * background thread pool sized to the machine (`V8_POOL_OPTION`, v8-tuning.ts; `env -S`: GNU
 * coreutils 8.30 and later, macOS, FreeBSD).
 */
// First of all, before the check worker starts: V8's inlining budgets for the search (v8-tuning.ts).
import "../engine/v8-tuning.js";
import { clip } from "../engine/clip.js";
import { startStandby } from "./standby.js";

// A check's worker starts loading the engine now, alongside the main thread's modules (standby.ts).
startStandby(process.argv.slice(2));
const { main } = await import("./program.js");

// A reader that stops early (`racelab list | head`) is not an error. Any other failure to write
// the output (ENOSPC: `racelab list > /dev/full`, EIO, ...) is one line on stderr and exit status 2,
// not a stack trace.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  const why = e.code === "ENOSPC" ? "no space left on device" : e.message.split("\n")[0];
  process.stderr.write(`racelab: cannot write to standard output: ${why}${e.code && !why.includes(e.code) ? ` (${e.code})` : ""}\n`);
  process.exit(2);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`racelab: ${clip(e instanceof Error ? e.message : String(e), 300)}\n`);
    process.exitCode = 2;
  },
);
