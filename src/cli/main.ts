#!/usr/bin/env node
/** Entry point of the `racelab` command (package.json "bin"). */
import { main } from "./program.js";

// A reader that stops early (`racelab list | head`) is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`racelab: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
