/**
 * The claims of the `buffer-migrate-jbd2` thread, each quoting its message, as checks against the
 * model (`racelab claims buffer-migrate-jbd2`). A claim may fail: that is a finding too.
 */
import type { CheckResult } from "../../engine/check.js";
import type { Claim } from "../../engine/scenario.js";
import { fixes, from, variants } from "./fixes.js";

const LOST = /^invariant: .*(the update is lost|the metadata update is lost|a metadata update was lost)/;
const JBD_STALE = /^invariant: jbd2 log buffer points to/;
const SLEEP = /^sleep-in-atomic: /;
const has = (r: CheckResult, re: RegExp) => Object.keys(r.findings).some((k) => re.test(k));
const PARAM_DEFAULTS: Record<string, number> = { udelay: 0, lru: 1, fresh: 0, atomic: 0 };
const paramText = (r: CheckResult) => {
  const p = Object.entries(r.params).filter(([k, v]) => PARAM_DEFAULTS[k] !== v);
  return p.length === 0 ? "" : ` (${p.map(([k, v]) => `${k}=${v}`).join(", ")})`;
};
/** What kinds of findings a check has, in words. */
const kinds = (r: CheckResult) => {
  const out: string[] = [];
  if (has(r, LOST)) out.push("lost update");
  if (has(r, JBD_STALE)) out.push("stale jbd2 log buffer");
  if (has(r, SLEEP)) out.push("sleep-in-atomic");
  const other = Object.keys(r.findings).filter((k) => !LOST.test(k) && !JBD_STALE.test(k) && !SLEEP.test(k));
  return [...out, ...other].join(", ");
};
const summary = (r: CheckResult) =>
  `${r.fix}/${r.variant}${paramText(r)}: ${r.verdict}` +
  (r.violations > 0 ? ` in ${r.violations} of ${r.executions} executions (${kinds(r)})` : ` in all ${r.executions} executions`);
const BDEV_VARIANTS = ["default", "bs-2048", "large-folio", "ext2"];

export const claims: Claim[] = [
  {
    id: "private-lock-closes-race",
    statement:
      "ebdf4de5642fb6's i_private_lock closes the race it was added for: without it a __find_get_block() reference " +
      "taken after the b_count check lets an update land in the old folio.",
    source: from(
      "Luis Chamberlain",
      "2025-04-10",
      "we can can reproduce fs corruption on ext4 by just removing the spinlock and stress testing the filesystem",
    ),
    expected: "no-private-lock loses an update on default and ext2; baseline loses none",
    evaluate(ctx) {
      const rs = ["default", "ext2"].flatMap((v) => [ctx.check("no-private-lock", v), ctx.check("baseline", v)]);
      const holds = rs.every((r) => (r.fix === "no-private-lock" ? has(r, LOST) : r.verdict === "pass" && r.complete));
      return { observed: rs.map(summary).join("; "), holds };
    },
  },
  {
    id: "meta-head-fixes-ext4-corruption",
    statement:
      "Checking buffer_meta() and bailing out of migration fixes the racy ext4 corruption (jbd2's buffers are the only " +
      "ones __ext4_handle_dirty_metadata() marks BH_Meta).",
    source: from(
      "Luis Chamberlain",
      "2025-04-10",
      "By checking for buffer_meta() and bailing on migration we fix the existing racy ext4 corruption",
    ),
    expected: "meta-head loses no ext4 metadata update on any block-device variant",
    evaluate(ctx) {
      const rs = ["default", "bs-2048", "large-folio"].flatMap((v) => [ctx.check("meta-head", v), ctx.check("meta-head", v, { fresh: 1 })]);
      const lost = rs.filter((r) => has(r, LOST));
      return {
        observed:
          lost.length === 0
            ? `no lost update in ${rs.length} checks`
            : `lost updates in ${lost.length} of ${rs.length} checks: ${lost.map((r) => `${r.variant}${paramText(r)}`).join(", ")}; ` +
              `passes only where the journalled buffer is the head and already BH_Meta: ` +
              rs.filter((r) => !has(r, LOST)).map((r) => `${r.variant}${paramText(r)}`).join(", "),
        holds: lost.length === 0,
      };
    },
  },
  {
    id: "meta-head-bs-lt-ps",
    statement:
      "The v2 1/8 buffer_meta(head) test is not enough when block size < page size: only the first buffer is tested.",
    source: from(
      "Matthew Wilcox",
      "2025-04-10",
      "This isn't enough on filesystems with bs<PS. You're only testing the meta bit on the first buffer_head on the folio and not on the rest of them.",
    ),
    expected: "meta-head loses an update of the second (BH_Meta) buffer on bs-2048 but not on default; meta-all-buffers loses none on bs-2048",
    evaluate(ctx) {
      const small = ctx.check("meta-head", "bs-2048");
      const big = ctx.check("meta-head", "default");
      const all = ctx.check("meta-all-buffers", "bs-2048");
      const second = /update of block 1 lands|block 1 was written/;
      return {
        observed: [small, big, all].map(summary).join("; "),
        holds:
          has(small, LOST) && Object.keys(small.findings).some((k) => second.test(k)) && big.verdict === "pass" && all.verdict === "pass",
      };
    },
  },
  {
    id: "meta-head-breaks-ext2",
    statement: "The v2 1/8 patch's moved spin_unlock() breaks simple filesystems such as ext2.",
    source: from("Jan Kara", "2025-04-10", "No, you've just broken all simple filesystems (like ext2) with this patch."),
    expected: "meta-head loses ext2's inode update; baseline does not",
    evaluate(ctx) {
      const v2 = ctx.check("meta-head", "ext2");
      const base = ctx.check("baseline", "ext2");
      return { observed: `${summary(v2)}; ${summary(base)}`, holds: has(v2, LOST) && base.verdict === "pass" && base.complete };
    },
  },
  {
    id: "journalled-aops-no-migrate-bdev",
    statement:
      "Dropping .migrate_folio from ext4_journalled_aops does not change the block device mapping case, where the corruption is.",
    source: from(
      "Jan Kara",
      "2025-04-15",
      "I suspect this won't fix the corruption you're seeing because that happens in the block device mapping.",
    ),
    expected: "journalled-aops-no-migrate explores exactly what baseline explores on every block-device variant; it changes only journalled-file",
    evaluate(ctx) {
      const same = BDEV_VARIANTS.map((v) => {
        const a = ctx.check("baseline", v);
        const b = ctx.check("journalled-aops-no-migrate", v);
        return {
          v,
          eq: a.executions === b.executions && a.verdict === b.verdict && JSON.stringify(a.findings) === JSON.stringify(b.findings),
        };
      });
      const jb = ctx.check("baseline", "journalled-file");
      const jn = ctx.check("journalled-aops-no-migrate", "journalled-file");
      const changed = jb.executions !== jn.executions;
      return {
        observed:
          same.map((x) => `${x.v}: ${x.eq ? "identical" : "DIFFERENT"}`).join(", ") +
          `; journalled-file: baseline ${jb.executions} executions (${jb.verdict}), fix ${jn.executions} (${jn.verdict})`,
        holds: same.every((x) => x.eq) && changed,
      };
    },
  },
  {
    id: "large-folio-sleep-in-atomic",
    statement:
      "With large block-device folios, baseline can sleep (cond_resched() in folio_mc_copy()) while holding i_private_lock; " +
      "without large bdev folios it cannot.",
    source: from(
      "Jan Kara",
      "2025-04-15",
      "That is the new functionality that actually triggered all these investigations and sleep-in-atomic reports.",
    ),
    expected: "baseline/large-folio reports sleep-in-atomic; no-large-bdev-folios/large-folio does not",
    evaluate(ctx) {
      const b = ctx.check("baseline", "large-folio");
      const f = ctx.check("no-large-bdev-folios", "large-folio");
      const d = ctx.check("baseline", "default");
      return {
        observed: [b, f, d].map(summary).join("; "),
        holds: has(b, SLEEP) && !has(f, SLEEP) && f.complete && !has(d, SLEEP),
      };
    },
  },
  {
    id: "jh-reference-protects-jbd2",
    statement:
      "jbd2's journal_head holds a b_count reference, which protects the buffer jbd2 is writing from migration.",
    source: from(
      "Jan Kara",
      "2025-04-10",
      "jbd2 holds bh reference (its private jh structure attached to bh->b_private holds it) and that is expected to protect jbd2 from anybody else mucking with the bh.",
    ),
    expected: "in no fix and no variant does kjournald2 log through a buffer whose folio migration replaced",
    evaluate(ctx) {
      const rs = fixes.flatMap((f) => variants.filter((v) => v.id !== "ext2").map((v) => ctx.check(f.id, v.id)));
      const bad = rs.filter((r) => has(r, JBD_STALE));
      return {
        observed:
          bad.length === 0
            ? `no stale jbd2 log buffer in ${rs.length} checks (every fix on every variant with kjournald2), ` +
              `${rs.filter((r) => has(r, LOST)).length} of which lose the update through the lookup path before jbd2 holds the buffer`
            : bad.map(summary).join("; "),
        holds: bad.length === 0 && rs.every((r) => r.complete),
      };
    },
  },
  {
    id: "spinlock-does-not-protect",
    statement:
      "The spin lock doesn't in the end protect against corruption: with udelay(2000) before spin_lock() in " +
      "__find_get_block_slow() the same ext4 corruption reproduces on vanilla Linux.",
    source: from(
      "Luis Chamberlain",
      "2025-04-10",
      "It turns out that the spin lock doesn't in the end protect against corruption, it *helps* reduce the possibility",
    ),
    expected:
      "what this model can test: baseline (the lock held) loses a buffer update through the modeled lookup and " +
      "migration paths, with the delay or without. The jbd2_journal_dirty_metadata() credits WARN (-ENOSPC) of the " +
      "reports is not a lost update and is outside this model (modeled in ext4-writeback-credits)",
    evaluate(ctx) {
      const settings: Record<string, number>[] = [{}, { udelay: 2000 }, { lru: 0 }, { udelay: 2000, lru: 0 }];
      const rs = ["default", "bs-2048", "large-folio", "ext2"].flatMap((v) => settings.map((p) => ctx.check("baseline", v, p)));
      const lost = rs.filter((r) => has(r, LOST));
      const execs = (p: Record<string, number>) =>
        rs.filter((r) => JSON.stringify(r.params) === JSON.stringify({ ...PARAM_DEFAULTS, ...p })).reduce((n, r) => n + r.executions, 0);
      return {
        observed:
          lost.length === 0
            ? `no lost update in any of ${rs.length} exhaustive checks of baseline (default, bs-2048, large-folio, ext2; ` +
              `with and without udelay(2000), buffer in an LRU or not): ${execs({})} executions without the delay, ` +
              `${execs({ udelay: 2000 })} with it — the window modeled is closed by i_private_lock either way. ` +
              `This model has no journal credits, so it can say nothing of the jbd2_journal_dirty_metadata() WARN ` +
              `(-ENOSPC) in the reports: that is scenario ext4-writeback-credits`
            : lost.map(summary).join("; "),
        holds: lost.length > 0,
      };
    },
  },
  {
    id: "unlock-needs-alternative",
    statement:
      "The i_private_lock critical section can be reduced (the unlock moved back to after the b_count check) only after " +
      "providing an alternative way to protect buffer users from migration.",
    source: from(
      "Jan Kara",
      "2025-04-10",
      "You can reduce the spinlock critical section only after providing alternative way to protect them from migration.",
    ),
    expected:
      "with the unlock moved and nothing else (no-private-lock, meta-head) updates are lost; with BH_Migrate and " +
      "folio-locked lookups (bh-migrate, 2d900efff915) none is, on every variant, for sleeping and atomic lookups, and " +
      "the large folio no longer sleeps under the lock",
    evaluate(ctx) {
      const moved = [ctx.check("no-private-lock", "default"), ctx.check("meta-head", "ext2")];
      const settings: Record<string, number>[] = [{}, { atomic: 1 }, { atomic: 1, lru: 0 }];
      const fixed = variants.flatMap((v) => settings.map((p) => ctx.check("bh-migrate", v.id, p)));
      const bad = fixed.filter((r) => r.verdict !== "pass" || !r.complete);
      return {
        observed:
          moved.map(summary).join("; ") +
          `; bh-migrate: ${bad.length === 0 ? `pass in all ${fixed.length} checks (5 variants; sleeping lookups, atomic lookups, atomic lookups with the LRU empty)` : bad.map(summary).join("; ")}`,
        holds: moved.every((r) => has(r, LOST)) && bad.length === 0,
      };
    },
  },
];
