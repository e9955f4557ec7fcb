/**
 * How the user ran racelab, so that the commands the CLI prints (the `replay` of a counterexample,
 * the `next:` of `racelab new`) can be pasted back as they are. In a project that installed
 * racelab, `racelab` is not on the PATH and the user types `npx racelab`; in this checkout the
 * README runs `node dist/cli/main.js`; after `npm link`, `racelab` (new-user trials 13 to 18 pasted
 * `racelab replay ...` and got `command not found`).
 */
import { realpathSync, statSync } from "node:fs";
import path from "node:path";
import { shellWord } from "../engine/replay-hint.js";

/** Real path of `p`, or null when it does not exist. */
function real(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

/**
 * The words that run this racelab CLI again from the current directory, joined for a POSIX shell:
 * - `npx racelab` when npx (npm exec) started it;
 * - `npm run -s racelab --` when the `racelab` script of a package.json did;
 * - `racelab` when the first `racelab` on $PATH is this very program (npm link, a global install);
 * - else `node <script>`, the script's path relative to the current directory when below it.
 *
 * `env` and `argv` default to the process's (parameters for tests). Never throws.
 */
export function racelabInvocation(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = process.argv, cwd = process.cwd()): string {
  if (env["npm_command"] === "exec") return "npx racelab";
  if ((env["npm_command"] === "run" || env["npm_command"] === "run-script") && env["npm_lifecycle_event"] === "racelab") return "npm run -s racelab --";
  const script = argv[1];
  if (script === undefined) return "racelab";
  const self = real(script);
  for (const dir of (env["PATH"] ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const cand = path.join(dir, "racelab");
    try {
      if (!statSync(cand).isFile()) continue;
    } catch {
      continue;
    }
    // The first racelab on the PATH is what `racelab` runs: this one, or another copy.
    if (self !== null && real(cand) === self) return "racelab";
    break;
  }
  const rel = path.relative(cwd, script);
  const shown = rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : script;
  return `node ${shellWord(shown)}`;
}

/** `line` with its leading `racelab ` replaced by {@link racelabInvocation}'s words. */
export function asInvoked(line: string): string {
  return line.startsWith("racelab ") ? `${racelabInvocation()} ${line.slice("racelab ".length)}` : line;
}
