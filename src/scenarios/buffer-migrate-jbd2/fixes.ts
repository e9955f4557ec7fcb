/**
 * Fixes and variants of `buffer-migrate-jbd2`, and the thread they come from: "[v2,1/8] migrate:
 * fix skipping metadata buffer heads on migration" (Luis Chamberlain, 2025-04-10) and its reviews.
 * A fix is a version of the code (mainline v6.15-rc1, before ebdf4de5642fb6, the v2 1/8 patch and
 * the reviewers' alternatives); a variant is which filesystem uses the buffers, with which block
 * size and folio size.
 */
import type { Fix, SourceRef, Variant } from "../../engine/scenario.js";
import type { BmOptions } from "./state.js";

export const SEED: SourceRef = {
  seed: "000_714910fe023abd01.txt",
  author: "Luis Chamberlain",
  date: "2025-04-10",
  subject: "[v2,1/8] migrate: fix skipping metadata buffer heads on migration",
  link: "https://lore.kernel.org/r/20250410014945.2140781-2-mcgrof@kernel.org",
};
export const from = (author: string, date: string, quote: string): SourceRef => ({ ...SEED, author, date, quote });

export const fixes: Fix<BmOptions>[] = [
  {
    id: "baseline",
    title: "v6.15-rc1",
    description:
      "Mainline at v6.15-rc1: i_private_lock held from the b_count check until folio_set_bh() moved every buffer " +
      "(ebdf4de5642fb6); bdev folios may be large; ext4_journalled_aops migrate with buffer_migrate_folio_norefs.",
    source: from("Luis Chamberlain", "2025-04-10", "The commit ebdf4de5642fb6 (...) added a spin lock to prevent races with page migration"),
    options: {},
  },
  {
    id: "no-private-lock",
    title: "before ebdf4de5642fb6",
    description:
      "i_private_lock released right after the b_count loop, as before ebdf4de5642fb6 (\"mm: migrate: fix reference " +
      "check race between __find_get_block() and migration\", 2019): a lookup can take a reference after the check.",
    source: from(
      "Luis Chamberlain",
      "2025-04-10",
      "we can can reproduce fs corruption on ext4 by just removing the spinlock and stress testing the filesystem with generic/750",
    ),
    options: { privateLockUntil: "after-check" },
  },
  {
    id: "meta-head",
    title: "v2 1/8: buffer_meta(head), unlock moved",
    description:
      "The v2 1/8 patch: `if (buffer_meta(head)) return -EAGAIN;` after the refcount check, and spin_unlock() moved " +
      "back to right after the b_count loop.",
    source: from("Luis Chamberlain", "2025-04-10", "By checking for buffer_meta() and bailing on migration we fix the existing racy ext4 corruption"),
    options: { metaCheck: "head", privateLockUntil: "after-check" },
  },
  {
    id: "meta-all-buffers",
    title: "v2 1/8 with the meta test on every buffer",
    description:
      "Matthew Wilcox's change to the v2 1/8 patch: `if (buffer_meta(bh)) goto unlock;` for every buffer inside " +
      "buffer_migrate_lock_buffers() instead of the head-only test; the moved spin_unlock() of the patch is kept.",
    source: from(
      "Matthew Wilcox",
      "2025-04-10",
      "This isn't enough on filesystems with bs<PS. You're only testing the meta bit on the first buffer_head on the folio",
    ),
    options: { metaCheck: "all", privateLockUntil: "after-check" },
  },
  {
    id: "journalled-aops-no-migrate",
    title: "drop .migrate_folio from ext4_journalled_aops",
    description:
      "Luis Chamberlain's alternative: ext4_journalled_aops without .migrate_folio, so data=journal files migrate " +
      "through fallback_migrate_folio(); everything else as v6.15-rc1.",
    source: from("Luis Chamberlain", "2025-04-14", "the other alternative for now is to just disable migration for jbd2"),
    options: { journalledMigrate: false },
  },
  {
    id: "no-large-bdev-folios",
    title: "no large folios in the block device page cache",
    description:
      "Jan Kara's suggestion for the sleep-in-atomic reports: keep the block device page cache at its minimum folio " +
      "order (mapping_set_folio_order_range(min, min), as Matthew Wilcox proposed), everything else as v6.15-rc1.",
    source: from(
      "Jan Kara",
      "2025-04-15",
      "If you look for a fast way to fixup sleep in atomic issues, then I'd suggest just disabling large pages for block device page cache.",
    ),
    options: { largeBdevFolios: false },
  },
  {
    id: "bh-migrate",
    title: "v6.15-rc4: BH_Migrate, folio-locked lookups (2d900efff915)",
    description:
      "The fix that landed for the sleep-in-atomic (series \"fs/buffer: split pagecache lookups into atomic or blocking\", " +
      "7ffe3de53a88 .. 2d900efff915 \"mm/migrate: fix sleep in atomic for large folios and buffer heads\"): migration " +
      "sets BH_Migrate on the head buffer and drops i_private_lock right after the b_count check; lookups that may sleep " +
      "take the folio lock instead of i_private_lock; atomic lookups bail out while BH_Migrate is set.",
    source: {
      ...SEED,
      author: "Davidlohr Bueso",
      date: "2025-04-17",
      subject: "[PATCH 7/7] mm/migrate: fix sleep in atomic for large folios and buffer heads",
      link: "https://lore.kernel.org/r/20250418015921.132400-8-dave@stgolabs.net",
      quote:
        "As a consequence of the pagecache lookup path taking the folio lock this serializes against migration paths, so they can wait for each other. For the private_lock atomic case, a new BH_Migrate flag is introduced which enables the lookup to bail.",
    },
    options: { bhMigrate: true, privateLockUntil: "after-check" },
  },
];

export const variants: Variant<BmOptions>[] = [
  {
    id: "default",
    title: "ext4 on the block device, 4096-byte blocks",
    description:
      "The block device mapping's 4 KiB folio holds one 4096-byte ext4 extent block (the buffer is its head); an " +
      "extent update journals it while compaction migrates the folio.",
    options: {},
  },
  {
    id: "bs-2048",
    title: "ext4 on the block device, 2048-byte blocks",
    description: "Two 2048-byte blocks per 4 KiB folio; the extent block journalled is the second buffer, not the head.",
    options: { blockSize: 2048 },
  },
  {
    id: "large-folio",
    title: "ext4 on the block device, large block-device folio",
    description:
      "The folio is an order-1 (8 KiB) folio in the block device page cache with two 4096-byte blocks; the extent " +
      "block is the second. folio_mc_copy() calls cond_resched() between its pages.",
    options: { largeFolio: true },
  },
  {
    id: "ext2",
    title: "ext2 on the block device",
    description:
      "A simple buffer_head filesystem: __ext2_write_inode() gets the inode table block with sb_bread(), stores into " +
      "it, mark_buffer_dirty(), brelse() — no journal, no buffer lock; it relies on migration's i_private_lock.",
    options: { user: "ext2" },
  },
  {
    id: "journalled-file",
    title: "ext4 data=journal file mapping",
    description:
      "The migrated folio belongs to a data=journal file (ext4_journalled_aops); a buffered write journals block 0 " +
      "under the folio lock and kjournald2 commits and checkpoints it.",
    options: { user: "ext4-journalled" },
  },
];
