/**
 * Fixes and variants of `ext4-delalloc-fallocate`, and the thread they come from: "[PATCH v5 02/10]
 * ext4: check the extent status again before inserting delalloc block" (Zhang Yi, 2024-05-17).
 * A fix is the patch's code path (an option the threads read); a variant is which paths race,
 * including the counterfactuals that remove a lock to show what it protects.
 */
import type { Fix, SourceRef, Variant } from "../../engine/scenario.js";
import type { Ext4Options } from "./state.js";

export const SEED: SourceRef = {
  seed: "002_33cfda33f14e83de.txt",
  author: "Zhang Yi",
  date: "2024-05-17",
  subject: "[PATCH v5 02/10] ext4: check the extent status again before inserting delalloc block",
  link: "https://lore.kernel.org/r/20240517124005.347221-3-yi.zhang@huaweicloud.com",
};
export const quote = (q: string): SourceRef => ({ ...SEED, quote: q });

export const fixes: Fix<Ext4Options>[] = [
  {
    id: "baseline",
    title: "before the patch",
    description: "ext4_da_map_blocks() as at 8e4e5cdf2fde: no re-check after down_write(i_data_sem).",
    source: quote("ext4_da_map_blocks looks up for any extent entry in the extent status tree (w/o i_data_sem)"),
    options: {},
  },
  {
    id: "recheck-es",
    title: "re-check the es tree under i_data_sem (v5 02/10)",
    description:
      "After down_write(i_data_sem) at add_delayed:, look up the extent status tree again; a non-hole entry " +
      "means `goto found`; no entry means an on-disk lookup; only a hole still inserts the delayed extent.",
    source: quote(
      "Fix the problem by looking up extent status tree again while the i_data_sem is held in write mode. " +
        "If it still can't find any entry, then we insert a new da entry into the extent status tree.",
    ),
    options: { recheckEs: true },
  },
];

export const variants: Variant<Ext4Options>[] = [
  {
    id: "default",
    title: "ext4_page_mkwrite vs ext4_fallocate",
    description: "A write fault on a shared mapping and a mode-0 fallocate of the same block.",
    options: {},
  },
  {
    id: "write-vs-mkwrite",
    title: "buffered write vs ext4_page_mkwrite",
    description: "Both paths take the folio lock around ext4_da_map_blocks().",
    options: { racers: "write-mkwrite" },
  },
  {
    id: "write-vs-fallocate",
    title: "buffered write vs ext4_fallocate",
    description: "Both paths hold inode_lock (i_rwsem).",
    options: { racers: "write-fallocate" },
  },
  {
    id: "write-vs-mkwrite-no-folio-lock",
    title: "counterfactual: write vs mkwrite without the folio lock",
    description: "As write-vs-mkwrite with folio_lock() removed from both paths: tests that the folio lock is what makes it safe.",
    options: { racers: "write-mkwrite", folioLock: false },
  },
  {
    id: "write-vs-fallocate-no-inode-lock",
    title: "counterfactual: write vs fallocate without the inode lock",
    description: "As write-vs-fallocate with inode_lock() removed from both paths: tests that the inode lock is what makes it safe.",
    options: { racers: "write-fallocate", inodeLock: false },
  },
];
