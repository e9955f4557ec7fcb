/** The scenario registry. */
import { UsageError } from "../errors.js";
import { type AnyScenario } from "../engine/scenario.js";
import { clip } from "../engine/clip.js";
import { bufferMigrateJbd2 } from "./buffer-migrate-jbd2/index.js";
import { ext4DelallocFallocate } from "./ext4-delalloc-fallocate/index.js";
import { ext4WritebackCredits } from "./ext4-writeback-credits/index.js";
import { filemapFolioSplit } from "./filemap-folio-split/index.js";

/** Every scenario racelab ships, in listing order. */
export const scenarios: readonly AnyScenario[] = [ext4DelallocFallocate, filemapFolioSplit, bufferMigrateJbd2, ext4WritebackCredits];

/** The scenario with this id. Throws UsageError naming the known ids otherwise. */
export function getScenario(id: string): AnyScenario {
  const sc = scenarios.find((s) => s.id === id);
  if (!sc) throw new UsageError(`unknown scenario '${clip(id)}' (known: ${scenarios.map((s) => s.id).join(", ")})`);
  return sc;
}
