/** The project a file belongs to, as the racelab kernel finds it. */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * The nearest folder at or above `dir` with a `package.json` (the project root, where the racelab
 * kernel starts a notebook's cells, so where a notebook's relative paths start) and the package's
 * name; null when there is none.
 */
export function projectOf(dir: string): { root: string; name: string | null } | null {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const pj = path.join(d, "package.json");
    if (existsSync(pj)) {
      try {
        const name = (JSON.parse(readFileSync(pj, "utf8")) as { name?: unknown }).name;
        return { root: d, name: typeof name === "string" ? name : null };
      } catch {
        return { root: d, name: null };
      }
    }
    if (path.dirname(d) === d) return null;
  }
}
