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
    assert.match(text, /\n {2}baseline {4}FAIL under sc {2}\d+ of \d+ executions explored\n {2}recheck-es {2}pass under sc {2}0 of \d+ executions explored\n/);
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

/** A notebook of display outputs and markdown cells, for mailText. */
function notebookOf(...cells: ({ md: string } | { data: Record<string, unknown> })[]) {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: cells.map((c) =>
      "md" in c
        ? { cell_type: "markdown", source: c.md, metadata: {} }
        : { cell_type: "code", source: "x", metadata: {}, execution_count: 1, outputs: [{ output_type: "display_data", data: c.data, metadata: {} }] },
    ),
  } as never;
}

test("a long or wide table is printed whole in the writeup (one record per row when too wide), up to 60 rows, then counted", async () => {
  const { mailText, MAIL_TABLE_ROWS } = await import("../src/report/mail.js");
  const { tableBundle } = await import("../src/notebook/display.js");
  const modes = ["uniform random", "PCT d=3", "timed (window 1,000 ns)"];
  const fixes = ["baseline", "lock-check", "delay", "recheck", "cmpxchg", "lock-all"];
  // The failure-rate table of a new user's trial: 18 rows, too wide for aligned columns.
  const rows = modes.flatMap((m) => fixes.map((f, i) => ({ fix: f, scheduler: m, executions: 20000, failing: i * 1000, "failure rate [95% CI]": `${i * 5}.00% [${i * 5}.00%, ${i * 5 + 1}.00%]`, "MTTF at 1.00 attempts/s": m.startsWith("timed") ? "1.7 s [1.7 s, 1.8 s]" : "—" })));
  const text = mailText(notebookOf({ data: tableBundle(rows, undefined, "failure rate per fix") }), "x.ipynb", { scenario: null });
  assert.doesNotMatch(text, /rows, in the HTML and PDF reports\]/);
  assert.match(text, /Table 1\. failure rate per fix:\n\nEvery row: executions: 20,000\.\n\n- baseline: scheduler: uniform random; failing: 0;/);
  assert.equal(text.match(/^- /gm)?.length, 18, text);
  assert.doesNotMatch(text, /\[95%\n|MTTF at\n/, "a column's name stays on one line");
  assert.ok(text.replace(/\n {4}/g, " ").includes("- lock-all: scheduler: timed (window 1,000 ns); failing: 5,000; failure rate [95% CI]: 25.00% [25.00%, 26.00%]; MTTF at 1.00 attempts/s: 1.7 s [1.7 s, 1.8 s]\n"), text);
  assert.deepEqual(overWide(text), []);
  // Past 60 rows: the first 60, and how many were left out.
  const long = Array.from({ length: 75 }, (_, i) => ({ step: i + 1, thread: `cpu${i % 2}`, site: `site_${i}` }));
  const lt = mailText(notebookOf({ data: tableBundle(long, undefined, "steps") }), "x.ipynb", { scenario: null });
  assert.equal(MAIL_TABLE_ROWS, 60);
  assert.match(lt, /\n +60 {2}cpu1 {4}site_59\n\n {2}\.\.\. and 15 more rows, in the HTML and PDF reports\n/);
  assert.doesNotMatch(lt, /site_60/);
  // A one-column table: each row alone, no trailing colon.
  const one = mailText(notebookOf({ data: tableBundle([{ "left out or simplified": "Two callers; kmalloc() never fails; the pool stands in for the two allocations, and more words to need records." }], undefined, "left out") }), "x.ipynb", { scenario: null });
  assert.match(one, /- Two callers; kmalloc\(\) never fails; the pool stands in for the two\n {4}allocations, and more words to need records\.\n/);
  assert.doesNotMatch(one, /records\.:/);
});

test("chart values in the writeup: a table of the encoded fields, rounded, percent for rates, the log-scale floor as 0, in the data's order", async () => {
  const { mailText } = await import("../src/report/mail.js");
  const { chartTable } = await import("../src/report/chart-text.js");
  const { ratesChart, firstFailureChart, rateSweepChart, violationsChart, checkAll } = await import("../src/notebook/views.js");
  const { rates } = await import("../src/engine/rates.js");
  const sc = "ext4-delalloc-fallocate";
  const results = (["random", "pct"] as const).flatMap((mode) => ["baseline", "recheck-es"].map((fix) => rates(sc, { fix, mode, runs: 400, seed: 1 })));
  assert.ok(results.some((r) => r.failures === 0) && results.some((r) => r.failures > 0));
  const t = chartTable(ratesChart(results) as Record<string, unknown>)!;
  assert.deepEqual(t.header, ["fix", "scheduler", "rate", "lo", "hi"]);
  assert.deepEqual(t.rows.map((r) => r.slice(0, 2)), results.map((r) => [r.fix, r.mode === "pct" ? `PCT d=${r.pctDepth}` : "uniform random"]));
  for (const [k, r] of results.entries()) {
    const row = t.rows[k]!;
    if (r.failures === 0) assert.deepEqual(row.slice(2, 4), ["0%", "0%"], "the log-scale floor is a zero");
    else assert.equal(row[2], `${Number((r.rate * 100).toPrecision(3))}%`);
    for (const cell of row) assert.doesNotMatch(cell, /\d{6,}/, "no 16-digit floats");
  }
  // The runs to the first failure: no record keyed by a float or by nothing; `none in N` kept.
  const ff = chartTable(firstFailureChart(results) as Record<string, unknown>)!;
  assert.deepEqual(ff.header.slice(0, 4), ["fix", "scheduler", "first", "expected"]);
  for (const row of ff.rows) for (const cell of row) assert.doesNotMatch(cell, /\d\.\d{4,}/);
  // A violations chart: fix, kind, count (its y is a computed field).
  const v = chartTable(violationsChart(checkAll(sc)) as Record<string, unknown>)!;
  assert.deepEqual(v.header, ["fix", "kind", "count"]);
  // A sweep: the line, the swept parameter, the rate.
  const sweep = [0, 1].flatMap((d) => ["baseline"].map((fix) => ({ ...results[0]!, fix, params: { ...results[0]!.params, blocks: d + 1 } })));
  assert.deepEqual(chartTable(rateSweepChart(sweep, "blocks") as Record<string, unknown>)!.header.slice(0, 3), ["line", "blocks", "rate"]);
  // In the writeup.
  const { chartBundle } = await import("../src/notebook/display.js");
  const text = mailText(notebookOf({ data: await chartBundle(ratesChart(results)) }), "x.ipynb", { scenario: null });
  assert.match(text, /its values:\]\n\n {2}fix {9}scheduler {8}rate {5}lo {6}hi\n.*\n {2}baseline {4}uniform random +\d+(\.\d)?% +\d/);
  assert.doesNotMatch(text, /0\.0000099|\d\.\d{6,}/);
});

test("markdown code blocks are kept verbatim in the writeup, however long their lines", () => {
  const code = "if (!READ_ONCE(dev->buf)) {           /* check */\n\tWRITE_ONCE(dev->buf, buf);      /* act: overwrites the other CPU's buffer */\n}";
  const lines = markdownToText("Before.\n\n```c\n" + code + "\n```\n\nAfter.");
  assert.deepEqual(lines.slice(2, 5), code.split("\n").map((l) => "    " + l));
  assert.equal(lines[6], "After.");
});

test("the .eml body is the writeup as it is: 8bit (7bit when ASCII), format=fixed, no quoted-printable", async () => {
  const { mailEml } = await import("../src/report/mail.js");
  const text = "Title — with a dash\n\n  fix         verdict  violating\n  ----------  -------  ------------------\n  baseline    FAIL     4 of 6 executions\n\n" + "x".repeat(90) + "\n";
  const eml = await mailEml(text, { date: new Date(Date.UTC(2026, 0, 2)), subject: "[PATCH] x", inReplyTo: "a@b" });
  assert.match(eml, /^Content-Transfer-Encoding: 8bit$/m);
  assert.match(eml, /^Content-Type: text\/plain; charset=utf-8; format=fixed$/m);
  assert.doesNotMatch(eml, /quoted-printable|=\n/);
  assert.ok(eml.endsWith("\n\n" + text), "the body is the text, byte for byte");
  const mail = await simpleParser(eml);
  assert.equal(mail.text, text);
  const ascii = await mailEml("plain\n", { date: new Date(Date.UTC(2026, 0, 2)), subject: "x", inReplyTo: null });
  assert.match(ascii, /^Content-Transfer-Encoding: 7bit$/m);
  // A line longer than SMTP allows (998 octets) is still encoded.
  const huge = await mailEml("y".repeat(1200) + "\n", { date: new Date(Date.UTC(2026, 0, 2)), subject: "x", inReplyTo: null });
  assert.match(huge, /^Content-Transfer-Encoding: quoted-printable$/m);
  assert.equal((await simpleParser(huge)).text, "y".repeat(1200) + "\n");
});

test("a record whose first cell ends a sentence has no '.:' (a claim's statement)", async () => {
  // New-user trial 12: 'loses no wake-up.: expected: ...'.
  const { tableRecords } = await import("../src/report/mail.js");
  const lines = tableRecords(["claim", "expected"], [["The test loses no wake-up.", "baseline/default passes"], ["Alone.", ""]]);
  assert.deepEqual(lines, ["- The test loses no wake-up: expected: baseline/default passes", "- Alone."]);
  // New-user trial 22: 'init_hw().: source: —' after a call; an ellipsis stays.
  assert.deepEqual(tableRecords(["claim", "source"], [["It runs init_hw().", "—"], ["And then...", "x"]]), ["- It runs init_hw(): source: —", "- And then...: source: x"]);
});
