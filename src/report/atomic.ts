import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Temp files of atomic writes in progress (removed by {@link removePendingWrites} on a signal). */
const pending = new Set<string>();

/**
 * Removes, synchronously, the temp files of every atomic write still in progress: what a command
 * calls when SIGINT or SIGTERM stops it, so that nothing half-written is left. Never throws.
 */
export function removePendingWrites(): void {
  for (const p of pending) rmSync(p, { force: true, recursive: true });
  pending.clear();
}

/**
 * Creates folder `dir` and its missing parents, like `mkdir -p`. Node's own `mkdir(dir, {
 * recursive: true })` loops forever where the kernel refuses a folder with ENOENT although its
 * parent exists (`/proc/nope`); this one creates each level once and throws the error.
 * @throws the fs error (ENOENT, EACCES, ENOTDIR, ...) of the level that cannot be created.
 */
export async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") {
      if ((await stat(dir)).isDirectory()) return;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: "ENOTDIR" });
    }
    if (code !== "ENOENT" || dirname(dir) === dir) throw e;
  }
  await ensureDir(dirname(dir));
  try {
    await mkdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
}

/**
 * Write `data` to `path` atomically: write a temp file in the same folder, then rename it over
 * `path`. Readers see the old file or the complete new one, never a partial file; on failure the
 * temp file is removed and `path` is left as it was. Creates the parent folder when missing.
 *
 * @param data the content, or a function that produces it into the temp file path (for writers
 *   such as a browser's PDF printer that want a path); if it throws, nothing is renamed.
 * @throws the underlying fs error (or the producer's error) after cleaning up.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array | ((tmpPath: string) => Promise<void>),
): Promise<void> {
  const dir = dirname(path);
  await ensureDir(dir);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  pending.add(tmp);
  try {
    if (typeof data === "function") await data(tmp);
    else await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  } finally {
    pending.delete(tmp);
  }
}
