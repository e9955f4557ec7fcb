/**
 * The mailing-list writeup (`racelab report --mail`): plain text of at most 75 columns (a `Link:`
 * tag, a URL or a schedule string alone on its line excepted), the verdict per fix up front with
 * the replay command of each counterexample, the race diagram with `^^^^`, markdown reflowed,
 * tables aligned or one record per row; and the `.eml` reply, parsed back with mailparser.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { simpleParser } from "mailparser";
import { reportNotebooks } from "../src/cli/report.js";
import { markdownToText, parseTextTable, shellLines, tableText, wrapText, MAIL_WIDTH } from "../src/report/mail.js";

const FIXTURE = "test/fixtures/executed.ipynb";

/** Lines wider than 75 columns that are not a tag, or one URL or schedule alone. */
function overWide(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => [...l].length > MAIL_WIDTH)
    .filter((l) => !/^[A-Z][A-Za-z-]+: \S+$/.test(l) && !/^\s*\S+$/.test(l));
}

test("wrapText fills lines, splits only overlong words that are not URLs or schedules", () => {
  assert.deepEqual(wrapText("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
  assert.deepEqual(wrapText("x".repeat(10), 4), ["xxxx", "xxxx", "xx"]);
  const url = "https://lore.kernel.org/r/20240517124005.347221-3-yi.zhang@huaweicloud.com";
  assert.deepEqual(wrapText(`see ${url} now`, 30), ["see", url, "now"]);
  assert.deepEqual(wrapText("one two three", 9, "- ", "  "), ["- one two", "  three"]);
});

test("markdownToText: headings underlined, lists hang, code kept, links keep their URL, tables aligned", () => {
  const lines = markdownToText(
    "## What races\n\nSome *emphasis* and `code` and [lore](https://lore.kernel.org/r/x@y).\n\n1. first item that is long enough to wrap around the line width for sure yes\n2. second\n\n```\nfoo();\n```\n\n| a | b |\n|---|---|\n| 1 | two |\n",
  );
  assert.deepEqual(lines.slice(0, 3), ["What races", "----------", ""]);
  assert.ok(lines.includes("Some emphasis and `code` and lore <https://lore.kernel.org/r/x@y>."));
  const item = lines.findIndex((l) => l.startsWith("1. first"));
  assert.ok(lines[item + 1]!.startsWith("   "), "an ordered item's continuation hangs under its text");
  assert.ok(lines.includes("    foo();"));
  assert.ok(lines.some((l) => /^ {2}a {2}b$/.test(l)));
});

test("tables: aligned when they fit, one record per row when not; text tables parsed back", () => {
  assert.deepEqual(tableText(["fix", "n"], [["baseline", "12"], ["recheck-es", "3432"]]), ["  fix            n", "  ----------  ----", "  baseline      12", "  recheck-es  3432"]);
  const wide = tableText(["claim", "observed"], [["c1", "x ".repeat(60).trim()]]);
  assert.ok(wide[0]!.startsWith("- c1: observed: x x"));
  assert.ok(wide.every((l) => l.length <= MAIL_WIDTH));
  const t = parseTextTable("cap\nfix         verdict\n----------  -------\nbaseline    FAIL\nrecheck-es  PASS");
  assert.deepEqual(t, { caption: "cap", header: ["fix", "verdict"], rows: [["baseline", "FAIL"], ["recheck-es", "PASS"]] });
  assert.equal(parseTextTable("no table here"), null);
  const cmd = shellLines("racelab replay ext4-delalloc-fallocate --fix baseline --variant write-vs-fallocate-no-inode-lock --schedule 0x7.1x7.0x8.2x3");
  assert.ok(cmd.length > 1 && cmd.slice(0, -1).every((l) => l.endsWith(" \\")) && cmd.every((l) => l.length <= MAIL_WIDTH));
});

test("a chart in the writeup: its title and the values it draws, as a table", async () => {
  const { mailText } = await import("../src/report/mail.js");
  const { chartBundle } = await import("../src/notebook/display.js");
  const b = await chartBundle({ title: "rates", data: { values: [{ fix: "baseline", rate: 0.47 }, { fix: "recheck-es", rate: 0 }] }, mark: "point", encoding: { x: { field: "fix" }, y: { field: "rate", type: "quantitative" } } });
  const nb = { cells: [{ cell_type: "code", source: "x", metadata: {}, outputs: [{ output_type: "display_data", data: b, metadata: {} }] }], metadata: {}, nbformat: 4, nbformat_minor: 5 };
  const text = mailText(nb as never, "x.ipynb", { scenario: null });
  assert.match(text, /\[chart: rates; drawn in the HTML and PDF reports; its values:\]\n\n {2}fix {9}rate\n {2}-{10} {2}-{4}\n {2}baseline {4}0\.47\n {2}recheck-es {5}0\n/);
});

test("report --mail: the writeup of an executed notebook and its .eml reply", async () => {
  const out = await mkdtemp(join(tmpdir(), "racelab-mail-"));
  try {
    const [r] = await reportNotebooks([FIXTURE], { mail: true, out, date: new Date(Date.UTC(2026, 0, 2)) });
    assert.equal(r!.html, null);
    const text = await readFile(r!.mail!, "utf8");
    assert.deepEqual(overWide(text), []);
    assert.match(text, /^Fixture: delalloc vs fallocate\n/);
    // The verdict per fix, from exploring the model, before the narrative.
    assert.match(text, /\n {2}baseline {4}FAIL {5}\d+ of \d+ executions\n {2}recheck-es {2}pass {5}0 of \d+ executions\n/);
    assert.match(text, /Reproduce with:\n {2}racelab replay ext4-delalloc-fallocate --fix baseline --schedule/);
    assert.ok(text.indexOf("verdict") < text.indexOf("^^^^"), "verdicts come first");
    assert.match(text, /\^\^\^\^/);
    assert.doesNotMatch(text, /checkAll\(|import \{/, "code cells are left out");
    assert.match(text, /\nLink: https:\/\/lore\.kernel\.org\/r\/20240101\.fixture@example\.org\n/);
    assert.match(text, /\n-- \nracelab \d+\.\d+\.\d+: test\/fixtures\/executed\.ipynb\n$/);
    const mail = await simpleParser(await readFile(r!.eml!));
    assert.equal(mail.subject, "Re: [PATCH v5 02/10] ext4: check the extent status again before inserting delalloc block");
    assert.equal(mail.inReplyTo, "<20240101.fixture@example.org>");
    assert.equal(mail.references, "<20240101.fixture@example.org>");
    assert.equal(mail.date?.toISOString(), "2026-01-02T00:00:00.000Z");
    assert.equal(mail.text, text);
    assert.match(mail.messageId ?? "", /^<racelab-[0-9a-f]{24}@localhost\.invalid>$/);
    // Deterministic: the same input gives the same bytes.
    const [again] = await reportNotebooks([FIXTURE], { mail: true, out, date: new Date(Date.UTC(2026, 0, 2)) });
    assert.equal(await readFile(again!.eml!, "utf8"), await readFile(r!.eml!, "utf8"));
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
