/**
 * The claims about the credits WARN, from the seed thread (Davidlohr Bueso's report, Luis
 * Chamberlain's summary of the traces) and from Jan Kara's reply of 2025-04-23 and his patch
 * 32a93f5bc9b9, each checked against the model (`racelab claims ext4-writeback-credits`).
 */
import type { CheckResult } from "../../engine/check.js";
import type { Claim } from "../../engine/scenario.js";
import { from, JAN_2025_04_23 } from "./fixes.js";

const WARN = /^warning: jbd2_journal_dirty_metadata\(\): (\S+)'s handle has no credits left/;
const warns = (r: CheckResult) => Object.keys(r.findings).filter((k) => WARN.test(k));
const who = (r: CheckResult) => warns(r).map((k) => WARN.exec(k)![1]).join(", ");
const DEFAULTS: Record<string, number> = { extents: 2, writes: 6, spread: 1, commit: 1, udelay: 0 };
const paramText = (r: CheckResult) => {
  const p = Object.entries(r.params).filter(([k, v]) => DEFAULTS[k] !== v);
  return p.length === 0 ? "" : ` (${p.map(([k, v]) => `${k}=${v}`).join(", ")})`;
};
const summary = (r: CheckResult) =>
  `${r.fix}/${r.variant}${paramText(r)}: ${r.verdict}` +
  (r.violations > 0 ? ` in ${r.violations} of ${r.executions} executions (WARN in ${who(r)})` : ` in all ${r.executions} executions`);

export const claims: Claim[] = [
  {
    id: "credits-depth-race",
    statement:
      "The credit reservation for page writeback is racy: credits are reserved from the current tree depth, and by the " +
      "time ext4_ext_map_blocks() runs another process may have modified the extent tree, so more blocks must be " +
      "modified than were reserved.",
    source: from(
      "Jan Kara",
      "2025-04-23",
      "we reserve number of transaction credits based on current tree depth. However by the time we get to ext4_ext_map_blocks() another process could have modified the extent tree",
      JAN_2025_04_23,
    ),
    expected: "baseline: some interleaving runs writeback's handle out of credits; with no other writer (writes=0) none does",
    evaluate(ctx) {
      const race = ctx.check("baseline", "default");
      const alone = ctx.check("baseline", "default", { writes: 0 });
      return {
        observed: `${summary(race)}; ${summary(alone)}`,
        holds: warns(race).some((k) => k.includes("ext4_do_writepages")) && alone.verdict === "pass" && alone.complete,
      };
    },
  },
  {
    id: "independent-of-migration",
    statement:
      "The WARN is not metadata corruption from folio migration but a bug in ext4's transaction credit computation, " +
      "completely independent of page migration.",
    source: from(
      "Jan Kara",
      "2025-04-23",
      "this is actually not a case of metadata corruption but rather a bug in ext4 transaction credit computation that is completely independent of page migration",
      JAN_2025_04_23,
    ),
    expected: "the model, which has no migration (no migrate_pages thread, no buffer lookup racing a move), reaches the WARN",
    evaluate(ctx) {
      const r = ctx.check("baseline", "default");
      return {
        observed: `${summary(r)}; the threads are ext4_do_writepages, ext4_dio_write_iter and kjournald2: no folio is migrated (the WARN needs no migration; whether migration could cause one too is buffer-migrate-jbd2's question)`,
        holds: warns(r).length > 0,
      };
    },
  },
  {
    id: "max-depth-fix",
    statement: "Counting ext4_ext_index_trans_blocks() with the worst case of maximum tree depth fixes the credit shortfall.",
    source: from(
      "Jan Kara",
      "2025-04-23",
      "Modify ext4_ext_index_trans_blocks() to count with the worst case of maximum tree depth.",
      JAN_2025_04_23,
    ),
    expected: "credits-max-depth: no interleaving runs a handle out of credits, on either variant, one group or many",
    evaluate(ctx) {
      const rs = [
        ctx.check("credits-max-depth", "default"),
        ctx.check("credits-max-depth", "bs-2048"),
        ctx.check("credits-max-depth", "default", { spread: 0 }),
        ctx.check("credits-max-depth", "default", { commit: 0 }),
      ];
      return { observed: rs.map(summary).join("; "), holds: rs.every((r) => r.verdict === "pass" && r.complete) };
    },
  },
  {
    id: "no-delay-needed",
    statement: "The WARN triggers on vanilla 6.15-rc1 without the artificial udelay().",
    source: from(
      "Davidlohr Bueso",
      "2025-04-15",
      "fyi I was actually able to trigger this on a vanilla 6.15-rc1 kernel, not even having to add the artificial delay.",
    ),
    expected: "baseline reaches the WARN with udelay=0; udelay(2000) in the buffer lookup changes no verdict",
    evaluate(ctx) {
      const plain = ctx.check("baseline", "default");
      const delayed = ctx.check("baseline", "default", { udelay: 2000 });
      return {
        observed: `${summary(plain)}; ${summary(delayed)}`,
        holds: warns(plain).length > 0 && delayed.verdict === plain.verdict && delayed.violations === plain.violations,
      };
    },
  },
  {
    id: "small-block-filesystems",
    statement:
      "Journal metadata failure during extent tree growth is seen repeatedly on small-block (2k) filesystems under stress.",
    source: from(
      "Luis Chamberlain",
      "2025-04-10",
      "Journal metadata failure during extent tree growth causes read-only fallback. Seen repeatedly on small-block (2k) filesystems under stress (e.g. fsstress).",
    ),
    expected:
      "the shortfall needs writeback to map two extents in one handle (bpp = 2: the rest of a 4 KiB page after a short " +
      "allocation, only with blocks smaller than the page) and allocations spread over block groups; one extent per handle never runs short",
    evaluate(ctx) {
      const two = ctx.check("baseline", "default");
      const one = ctx.check("baseline", "default", { extents: 1 });
      const oneGroup = ctx.check("baseline", "default", { spread: 0 });
      return {
        observed: [two, one, oneGroup].map(summary).join("; "),
        holds: warns(two).length > 0 && one.verdict === "pass" && one.complete && oneGroup.verdict === "pass" && oneGroup.complete,
      };
    },
  },
];
