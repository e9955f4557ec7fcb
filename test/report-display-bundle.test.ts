// Display helpers: the MIME bundles a notebook cell sends (src/notebook/display.ts).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  chartBundle,
  displayChart,
  displayTable,
  escapeHtml,
  preBundle,
  tableBundle,
  TABLE_MIME,
  VEGALITE_MIME,
} from "../src/notebook/display.js";

const spec = {
  title: "Failures per fix",
  data: { values: [{ fix: "baseline", failures: 6 }, { fix: "recheck", failures: 0 }] },
  mark: "bar",
  encoding: { x: { field: "fix", type: "nominal" }, y: { field: "failures", type: "quantitative" } },
};

describe("chartBundle", () => {
  it("has Vega-Lite JSON (an object), SVG and text in one bundle", async () => {
    const b = await chartBundle(spec);
    assert.deepEqual(Object.keys(b).sort(), [VEGALITE_MIME, "image/png", "image/svg+xml", "text/plain"].sort());
    assert.equal(VEGALITE_MIME, "application/vnd.vegalite.v5+json");
    assert.equal(typeof b[VEGALITE_MIME], "object");
    assert.deepEqual(b[VEGALITE_MIME], spec);
    assert.notEqual(b[VEGALITE_MIME], spec, "the bundle holds a copy, not the caller's object");
    const svg = b["image/svg+xml"] as string;
    assert.match(svg, /^<svg[\s>]/);
    assert.match(svg, /<\/svg>$/);
    assert.match(svg, />baseline</, "axis labels are rendered as SVG text");
    // The text form carries the values drawn, not a placeholder.
    assert.equal(b["text/plain"], "<Vega-Lite chart: Failures per fix>\nfix       failures\n--------  --------\nbaseline         6\nrecheck          0");
  });

  it("gives a rates chart's text the mail's table: 3 significant digits, rates in %, the log floor as 0", async () => {
    // New-user trial 12: the notebook's text/plain printed 0.00009999999999999999 and 17-digit bounds.
    const { ratesAll, ratesChart } = await import("../src/notebook/views.js");
    const { chartTable } = await import("../src/report/chart-text.js");
    const { lostWakeupScenario } = await import("./fixtures/lost-wakeup.js");
    const spec = ratesChart(ratesAll(lostWakeupScenario("lw-rates-text"), { runs: 400, memoryModel: "tso" }));
    const text = (await chartBundle(spec))["text/plain"] as string;
    assert.doesNotMatch(text, /0\.0000999|\d\.\d{4,}/, text);
    const lines = text.split("\n");
    assert.match(lines[0]!, /^<Vega-Lite chart: .*failure rate per fix>$/);
    const t = chartTable(spec)!;
    assert.ok(t.rows.some((r) => r.some((c) => /^\d+(\.\d+)?%$/.test(c))), "rates in %");
    // Every row of the mail's table, cell for cell, in the notebook's text.
    t.rows.forEach((r, i) => assert.deepEqual(lines[i + 3]!.trim().split(/\s{2,}/), r.filter((c) => c !== ""), lines[i + 3]));
    assert.match(text, /\nsmp-mb +.* 0%? /);
  });

  it("renders deterministically, whatever was rendered before", async () => {
    const a = await chartBundle(spec);
    await chartBundle({ ...spec, mark: "line" });
    const b = await chartBundle(spec);
    assert.equal(a["image/svg+xml"], b["image/svg+xml"]);
  });

  it("refuses external data instead of touching the network", async () => {
    await assert.rejects(
      chartBundle({ ...spec, data: { url: "https://example.com/data.json" } }),
      /offline.*data\.values/,
    );
  });

  it("rejects a spec that is not a plain object", async () => {
    await assert.rejects(chartBundle("bar" as unknown as Record<string, unknown>), TypeError);
  });
});

describe("tableBundle", () => {
  it("escapes every cell, caption and header, and aligns the text form", () => {
    const b = tableBundle([{ "<k>": "<script>x</script>", n: 12 }, { "<k>": "a&b", n: 3 }], undefined, "Cap <i>");
    assert.deepEqual(Object.keys(b).sort(), [TABLE_MIME, "text/html", "text/plain"].sort());
    // The structure, for the reports: the texts as they are (not escaped), numbers as text, numeric columns.
    assert.deepEqual(b[TABLE_MIME], { caption: "Cap <i>", columns: ["<k>", "n"], rows: [["<script>x</script>", "12"], ["a&b", "3"]], numeric: [false, true] });
    const html = b["text/html"] as string;
    assert.doesNotMatch(html, /<script|<i>|<k>/);
    assert.match(html, /<caption>Cap &lt;i&gt;<\/caption>/);
    assert.match(html, /<th>&lt;k&gt;<\/th>/);
    assert.match(html, /<td>&lt;script&gt;x&lt;\/script&gt;<\/td>/);
    assert.match(html, /<td class="num">12<\/td>/);
    assert.equal(b["text/plain"], ["Cap <i>", "<k>                 n", "------------------  --", "<script>x</script>  12", "a&b                  3"].join("\n"));
  });

  it("takes array rows with explicit columns", () => {
    const b = tableBundle([["baseline", 1]], ["fix", "n"]);
    assert.match(b["text/html"] as string, /<thead><tr><th>fix<\/th><th>n<\/th><\/tr><\/thead>/);
  });
});

describe("display outside the kernel", () => {
  it("fails with a clear message instead of printing nothing", async () => {
    assert.throws(() => displayTable([{ a: 1 }]), /not running inside the tslab Jupyter kernel/);
    await assert.rejects(displayChart(spec), /not running inside the tslab Jupyter kernel/);
  });
});

describe("preBundle / escapeHtml", () => {
  it("keeps the diagram as text", () => {
    const b = preBundle("CPU0 <a>\n  ^^^^");
    assert.equal(b["text/html"], '<pre class="racelab-pre">CPU0 &lt;a&gt;\n  ^^^^</pre>');
    assert.equal(b["text/plain"], "CPU0 <a>\n  ^^^^");
    assert.equal(escapeHtml(`&<>"'`), "&amp;&lt;&gt;&quot;&#39;");
  });
});

describe("tableBundle soft breaks", () => {
  it("puts a <wbr> after _ / . between word characters only (never inside an escape)", () => {
    const b = tableBundle([{ f: "ext4_page_mkwrite", p: "fs/ext4/inode.c", x: "</script>" }]);
    assert.match(b["text/html"] as string, /<td>ext4_<wbr>page_<wbr>mkwrite<\/td><td>fs\/<wbr>ext4\/<wbr>inode.<wbr>c<\/td><td>&lt;\/script&gt;<\/td>/);
    assert.match(b["text/plain"] as string, /ext4_page_mkwrite/);
  });
  it("keeps words shorter than 13 characters whole: a thread name is not cut into `acme_` / `setup` (new-user trial 24)", () => {
    const b = tableBundle([{ thread: "acme_setup", fn: "acme_send_cmd" }]);
    assert.match(b["text/html"] as string, /<td>acme_setup<\/td><td>acme_<wbr>send_<wbr>cmd<\/td>/);
  });
});

describe("tableBundle digit grouping", () => {
  it("groups the thousands of every integer in a table that holds one of five digits or more, in all three forms", () => {
    const b = tableBundle([
      { fix: "baseline", interleavings: 8445206, year: 2024, rate: 0.4745 },
      { fix: "meta-head", interleavings: 8984, year: 2025, rate: 12345.5 },
      { fix: "big", interleavings: 10n ** 20n, year: 2026, rate: 1 },
    ]);
    const data = b[TABLE_MIME] as { rows: string[][]; numeric: boolean[] };
    assert.deepEqual(
      data.rows.map((r) => r.slice(1)),
      [
        ["8,445,206", "2,024", "0.4745"],
        ["8,984", "2,025", "12345.5"],
        ["100,000,000,000,000,000,000", "2,026", "1"],
      ],
    );
    assert.deepEqual(data.numeric, [false, true, true, true]);
    assert.match(b["text/html"] as string, /<td class="num">8,445,206<\/td><td class="num">2,024<\/td>/);
    assert.match(b["text/plain"] as string, /^baseline\s+8,445,206\s+2,024\s+0\.4745$/m);
    // One table, one rule: `7,480` beside `10,000` (trial 22 read `7480` there as a bug).
    const rates = tableBundle([{ executions: 10_000, failing: 7480 }])[TABLE_MIME] as { rows: string[][] };
    assert.deepEqual(rates.rows[0], ["10,000", "7,480"]);
    // A table of smaller integers (years, block numbers) keeps its digits as they are.
    assert.deepEqual((tableBundle([{ n: 9999, year: 2024 }])[TABLE_MIME] as { rows: string[][] }).rows[0], ["9999", "2024"]);
  });
});

describe("counts beyond 2^53", () => {
  it("are printed as approximations, never as false digits", async () => {
    const { numberText } = await import("../src/notebook/display.js");
    assert.equal(numberText(103076424677861100), "≈1.03 × 10^17");
    assert.equal(numberText(2 ** 53 - 1), "9007199254740991");
    assert.equal(numberText(0.25), "0.25");
    const b = tableBundle([{ interleavings: 103076424677861100 }]);
    assert.match(b["text/plain"] as string, /≈1\.03 × 10\^17/);
    assert.doesNotMatch(b["text/html"] as string, /103076424677861100/);
  });
});

describe("chart bundle PNG", () => {
  it("carries an image/png of the chart (for front ends that drop an untrusted notebook's SVG)", async () => {
    const b = await chartBundle({ title: "t", data: { values: [{ fix: "a", n: 1 }] }, mark: "bar", encoding: { x: { field: "fix" }, y: { field: "n", type: "quantitative" } } });
    const png = Buffer.from(String(b["image/png"]), "base64");
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "a PNG signature");
    assert.ok(png.length > 1000 && png.length < 200_000, `${png.length} bytes`);
  });
});
