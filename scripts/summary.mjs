// `npm start`'s closing summary: per executed notebook in reports/, what it computed (from the
// results `racelab run` recorded: checks, how many found a violation, rate runs) and its files.
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2] ?? "reports";
const names = readdirSync(dir).filter((f) => f.endsWith(".ipynb") && !f.startsWith(".")).map((f) => f.slice(0, -6)).sort();
const rows = [["notebook", "checks", "violating", "rate runs", "files"]];
for (const name of names) {
  const res = join(dir, `${name}.results.jsonl`);
  const lines = existsSync(res) ? readFileSync(res, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l)) : [];
  const checks = lines.filter((l) => l.kind === "check");
  const fails = checks.filter((l) => l.result && l.result.verdict === "fail").length;
  const files = [".html", ".pdf", ".mail.txt", ".eml", ".racelab.tar.gz"].filter((s) => existsSync(join(dir, name + s))).map((s) => s.slice(1)).join(" ");
  rows.push([name, String(checks.length), String(fails), String(lines.length - checks.length), files]);
}
const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const [k, r] of rows.entries()) {
  console.log(r.map((c, i) => (i > 0 && i < 4 ? c.padStart(w[i]) : c.padEnd(w[i]))).join("  ").trimEnd());
  if (k === 0) console.log(w.map((n) => "-".repeat(n)).join("  "));
}
console.log(`\nindex: ${join(dir, "index.html")}; check an archive with: node dist/cli/main.js verify ${join(dir, "<name>.racelab.tar.gz")}`);
