import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

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
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    if (typeof data === "function") await data(tmp);
    else await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
