/**
 * The claims of the `ext4-delalloc-fallocate` thread, each quoting its message, as checks against
 * the model (`racelab claims ext4-delalloc-fallocate`). A claim may fail: that is a finding too.
 */
import { hasFinding, summarizeCheck } from "../../engine/claims.js";
import type { Claim } from "../../engine/scenario.js";
import { quote } from "./fixes.js";

const LEAK = /^warning: i_reserved_data_blocks \(\d+\) not cleared!$/;
const REPLACED = /^invariant: ext4_es_insert_delayed_block\(\) replaced an allocated/;
const has = hasFinding;
const summary = summarizeCheck;

export const claims: Claim[] = [
  {
    id: "race",
    statement:
      "ext4_page_mkwrite() and ext4_fallocate() can race: the delayed extent replaces the unwritten one " +
      "and the extra reserved block is never released (i_reserved_data_blocks(1) not cleared!).",
    source: quote("But this can race between ext4_page_mkwrite() & ext4 fallocate path"),
    expected: "baseline/default fails with the leak warning, and the delayed extent replaces the unwritten one",
    evaluate(ctx) {
      const r = ctx.check("baseline", "default");
      return { observed: summary(r), holds: has(r, LEAK) && has(r, REPLACED) };
    },
  },
  {
    id: "patch-closes-race",
    statement: "Looking up the extent status tree again while i_data_sem is held in write mode closes the race.",
    source: quote("Fix the problem by looking up extent status tree again while the i_data_sem is held in write mode."),
    expected: "recheck-es/default passes in every interleaving",
    evaluate(ctx) {
      const r = ctx.check("recheck-es", "default");
      return { observed: summary(r), holds: r.verdict === "pass" && r.complete };
    },
  },
  {
    id: "write-vs-mkwrite-safe",
    statement: "Buffered write vs ext4_page_mkwrite() is safe because of the folio lock.",
    source: quote("1. ext4 buffered-write path v/s ext4_page_mkwrite(), because of the folio lock"),
    expected: "baseline/write-vs-mkwrite passes; without the folio lock it fails",
    evaluate(ctx) {
      const safe = ctx.check("baseline", "write-vs-mkwrite");
      const without = ctx.check("baseline", "write-vs-mkwrite-no-folio-lock");
      return {
        observed: `${summary(safe)}; ${summary(without)}`,
        holds: safe.verdict === "pass" && safe.complete && without.verdict === "fail",
      };
    },
  },
  {
    id: "write-vs-fallocate-safe",
    statement: "Buffered write vs ext4_fallocate() is safe because of the inode lock.",
    source: quote("2. ext4 buffered write path v/s ext4 fallocate because of the inode lock."),
    expected: "baseline/write-vs-fallocate passes; without the inode lock it fails",
    evaluate(ctx) {
      const safe = ctx.check("baseline", "write-vs-fallocate");
      const without = ctx.check("baseline", "write-vs-fallocate-no-inode-lock");
      return {
        observed: `${summary(safe)}; ${summary(without)}`,
        holds: safe.verdict === "pass" && safe.complete && without.verdict === "fail",
      };
    },
  },
];
