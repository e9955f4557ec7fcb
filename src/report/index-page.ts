/**
 * `reports/index.html`: every report in a folder, one row per executed notebook (`<name>.ipynb`
 * with racelab metadata or a kernelspec), with its title, scenario(s), the date of the executed
 * copy and links to whichever of `<name>.html`, `.pdf`, `.mail.txt`, `.eml` and
 * `.racelab.tar.gz` exist. Self-contained like the reports: inline CSS, no script, the same
 * Content-Security-Policy; every notebook-provided text is escaped; links are relative file names.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { escapeHtml } from "../notebook/display.js";
import { writeFileAtomic } from "./atomic.js";
import { isoDate } from "./document.js";
import { REPORT_CSP, REPORT_CSS } from "./html.js";

/** Writes `<dir>/index.html` (atomically) and returns its path. */
export async function writeReportIndex(dir: string): Promise<string> {
  const names = (await readdir(dir)).filter((f) => f.endsWith(".ipynb") && !f.startsWith(".")).sort();
  const have = new Set(await readdir(dir));
  const rows: string[] = [];
  for (const f of names) {
    const name = f.slice(0, -".ipynb".length);
    let meta: { title?: unknown; scenario?: unknown; scenarios?: unknown } = {};
    try {
      const nb = JSON.parse(await readFile(join(dir, f), "utf8")) as { metadata?: { racelab?: typeof meta; kernelspec?: unknown } };
      if (nb.metadata?.racelab === undefined && nb.metadata?.kernelspec === undefined) continue;
      meta = nb.metadata.racelab ?? {};
    } catch {
      continue;
    }
    const title = typeof meta.title === "string" ? meta.title : name;
    const scenario = typeof meta.scenario === "string" ? meta.scenario : Array.isArray(meta.scenarios) ? meta.scenarios.filter((s) => typeof s === "string").join(", ") : "";
    const date = isoDate((await stat(join(dir, f))).mtime);
    const links = [
      [".html", "HTML"],
      [".pdf", "PDF"],
      [".mail.txt", "mail"],
      [".eml", ".eml"],
      [".racelab.tar.gz", "archive"],
      [".ipynb", "notebook"],
    ]
      .filter(([s]) => have.has(name + s!))
      .map(([s, label]) => `<a href="${escapeHtml(encodeURIComponent(name + s!))}">${label}</a>`)
      .join(" · ");
    rows.push(`<tr><td>${escapeHtml(title)}</td><td><code>${escapeHtml(scenario)}</code></td><td>${date}</td><td>${links}</td></tr>`);
  }
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>racelab reports</title>
<style>${REPORT_CSS}</style></head>
<body><main>
<header class="report"><h1>racelab reports</h1><p class="meta"><span>${rows.length} report${rows.length === 1 ? "" : "s"}</span></p></header>
<table><thead><tr><th>report</th><th>scenario</th><th>executed</th><th>files</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody></table>
</main></body></html>
`;
  const out = join(dir, "index.html");
  await writeFileAtomic(out, html);
  return out;
}
