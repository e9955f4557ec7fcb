/**
 * Fixes and variants of `ext4-writeback-credits`, and where they come from: the seed thread
 * "[v2,1/8] migrate: fix skipping metadata buffer heads on migration" (Davidlohr Bueso's WARN on
 * 6.15-rc1, 2025-04-15), Jan Kara's reply in the same thread on 2025-04-23 (after the seed file
 * ends) and his patch, mainline 32a93f5bc9b9 "ext4: fix calculation of credits for extent tree
 * modification".
 */
import type { Fix, SourceRef, Variant } from "../../engine/scenario.js";
import type { CreditsOptions } from "./state.js";

export const SEED: SourceRef = {
  seed: "000_714910fe023abd01.txt",
  author: "Davidlohr Bueso",
  date: "2025-04-15",
  subject: "[v2,1/8] migrate: fix skipping metadata buffer heads on migration",
  link: "https://lore.kernel.org/r/20250410014945.2140781-2-mcgrof@kernel.org",
};
export const from = (author: string, date: string, quote: string, link?: string): SourceRef => ({
  ...SEED,
  author,
  date,
  quote,
  ...(link ? { link } : {}),
});
/** Jan Kara's reply of 2025-04-23 in the thread, with the patch attached (not in the seed file). */
export const JAN_2025_04_23 = "https://lore.kernel.org/r/jwciumjkfwwjeoklsi6ubcspcjswkz5s5gtttzpjqft6dtb7sp@c4ae6y5pix5w";

export const fixes: Fix<CreditsOptions>[] = [
  {
    id: "baseline",
    title: "v6.15-rc1",
    description:
      "ext4_ext_index_trans_blocks() reserves depth * 3 (writeback, bpp extents) or depth * 2 (one extent) index/leaf " +
      "credits, with depth = ext_depth(inode) read before the handle starts and before i_data_sem is taken.",
    source: from(
      "Davidlohr Bueso",
      "2025-04-15",
      "WARNING: CPU: 3 PID: 87221 at fs/jbd2/transaction.c:1552 jbd2_journal_dirty_metadata+0x21c/0x230 [jbd2]",
    ),
    options: {},
  },
  {
    id: "credits-max-depth",
    title: "32a93f5bc9b9: count EXT4_MAX_EXTENT_DEPTH",
    description:
      "Jan Kara's fix, mainline 32a93f5bc9b9 (\"ext4: fix calculation of credits for extent tree modification\"): " +
      "ext4_ext_index_trans_blocks() uses EXT4_MAX_EXTENT_DEPTH (5) instead of ext_depth(inode).",
    source: from(
      "Jan Kara",
      "2025-04-23",
      "Modify ext4_ext_index_trans_blocks() to count with the worst case of maximum tree depth.",
      JAN_2025_04_23,
    ),
    options: { maxDepthCredits: true },
  },
];

export const variants: Variant<CreditsOptions>[] = [
  {
    id: "default",
    title: "AGGRESSIVE_TEST node sizes (3/4 in the root, 6/5 in a block)",
    description:
      "The extent tree with the node limits extents.c compiles in under AGGRESSIVE_TEST, so that six direct writes " +
      "reshape it; the credit arithmetic is the kernel's for 2 KiB blocks (bpp 2) at any node size.",
    options: {},
  },
  {
    id: "bs-2048",
    title: "2 KiB-block node sizes (4/4 in the root, 169/169 in a block)",
    description:
      "The same writes with a 2 KiB-block filesystem's node sizes: they fit in one leaf, so no split and no second " +
      "level; the race needs about 4 x 169 extent insertions in the writeback's window.",
    options: { geometry: "bs-2048" },
  },
];
