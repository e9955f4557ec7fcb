#!/usr/bin/env node
/** Entry point of the `racelab` command (package.json "bin"). */
import { main } from "./program.js";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`racelab: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
