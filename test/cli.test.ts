import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BIN = "dist/cli/main.js";
/** A path for a scenario file of a test's own, in a new temporary folder. */
function scenarioFile(name: string): string {
  return join(mkdtempSync(join(tmpdir(), "racelab-cli-")), name);
}

function racelab(...args: string[]) {
  assert.ok(existsSync(BIN), "build first (npm test builds)");
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("check --json follows the contract and is byte-identical apart from elapsedMs", () => {
  const a = racelab("check", "ext4-delalloc-fallocate", "--json");
  const b = racelab("check", "ext4-delalloc-fallocate", "--json");
  assert.equal(a.code, 0, a.stderr);
  const strip = (s: string) => s.replace(/"elapsedMs": [\d.]+/, '"elapsedMs": 0');
  assert.equal(strip(a.stdout), strip(b.stdout));
  const r = JSON.parse(a.stdout);
  assert.deepEqual(Object.keys(r).slice(0, 11), [
    "scenario", "fix", "variant", "params", "mode", "memoryModel", "seed", "executions", "sleepBlocked", "naiveExecutions", "naiveViolations",
  ]);
  assert.equal(r.verdict, "fail");
  assert.deepEqual(r.params, { blocks: 1 });
  const step = r.counterexample.steps[0];
  assert.deepEqual(Object.keys(step).slice(0, 4), ["thread", "function", "label", "source"]);
});

test("check --all-fixes --all-variants prints an array; --fail-on-finding sets exit 1", () => {
  const r = racelab("check", "ext4-delalloc-fallocate", "--all-fixes", "--all-variants", "--json");
  const arr = JSON.parse(r.stdout);
  assert.equal(arr.length, 10);
  assert.equal(racelab("check", "ext4-delalloc-fallocate", "--fail-on-finding").code, 1);
  assert.equal(racelab("check", "ext4-delalloc-fallocate", "--fix", "recheck-es", "--fail-on-finding").code, 0);
});

test("a reduced pass says what it rests on (the reduction and the sampled cross-check); an unreduced one says every interleaving", () => {
  const reduced = racelab("check", "ext4-delalloc-fallocate", "--fix", "recheck-es");
  assert.match(reduced.stdout, /^ext4-delalloc-fallocate recheck-es\/default: pass \(sleep-sets; cross-check: 200 unreduced samples agree\) — 12 executions, /);
  const none = racelab("check", "ext4-delalloc-fallocate", "--fix", "recheck-es", "--reduction", "none", "--variant", "write-vs-mkwrite");
  assert.match(none.stdout, /: pass \(every interleaving\) — \d+ executions/);
  const nocc = racelab("check", "ext4-delalloc-fallocate", "--fix", "recheck-es", "--cross-check", "0");
  assert.match(nocc.stdout, /: pass \(sleep-sets; no cross-check\) — /);
});

test("replay --json reproduces the counterexample's finding", () => {
  const ce = JSON.parse(racelab("check", "ext4-delalloc-fallocate", "--json").stdout).counterexample;
  const r = racelab("replay", "ext4-delalloc-fallocate", "--fix", "baseline", "--schedule", ce.schedule, "--json");
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.finding, ce.finding);
  assert.deepEqual(j.steps, ce.steps);
  const text = racelab("replay", "ext4-delalloc-fallocate", "--fix", "baseline", "--schedule", ce.schedule);
  assert.match(text.stdout, /\^\^\^\^/);
  // What ran, named above the diagram: scenario, fix, variant, memory model, schedule, steps.
  assert.equal(text.stdout.split("\n")[0], `ext4-delalloc-fallocate baseline/default [sc]: schedule ${j.schedule}, ${j.steps.length} steps`);
  // Into a file: 75 columns, a mail's; COLUMNS widens it (new-user trial 24 set COLUMNS=140 in vain).
  const widest = (out: string) => Math.max(...out.split("\n").filter((l) => /^-{10,}/.test(l)).map((l) => l.trimEnd().length));
  assert.ok(widest(text.stdout) <= 76, `${widest(text.stdout)} columns`);
  const wide = spawnSync(process.execPath, [BIN, "replay", "ext4-delalloc-fallocate", "--schedule", ce.schedule], { encoding: "utf8", env: { ...process.env, COLUMNS: "140" } });
  assert.ok(widest(wide.stdout) > 100 && widest(wide.stdout) <= 140, `${widest(wide.stdout)} columns with COLUMNS=140`);
});

test("replay without --fix replays baseline, as check defaults to it (a new user's trial: replay required --fix)", () => {
  const ce = JSON.parse(racelab("check", "ext4-delalloc-fallocate", "--json").stdout).counterexample;
  const given = racelab("replay", "ext4-delalloc-fallocate", "--fix", "baseline", "--schedule", ce.schedule, "--json");
  const dflt = racelab("replay", "ext4-delalloc-fallocate", "--schedule", ce.schedule, "--json");
  assert.equal(dflt.code, 0, dflt.stderr);
  assert.equal(dflt.stdout, given.stdout);
  assert.equal(JSON.parse(dflt.stdout).fix, "baseline");
  assert.match(racelab("replay", "--help").stdout, /--fix <id> +fix id \(default: "baseline"\)/);
  // Another fix is still taken when given.
  assert.equal(JSON.parse(racelab("replay", "ext4-delalloc-fallocate", "--fix", "recheck-es", "--schedule", "0", "--json").stdout).fix, "recheck-es");
});

test("the progress line of a check whose executions are cut at the step bound says so, not only '0 executions (0/s)' (a new user's trial)", async () => {
  const { progressText } = await import("../src/cli/program.js");
  assert.equal(
    progressText(0, null, { elapsedMs: 10_000, sleepBlocked: 1431, states: 0, steps: 13_307_904, cut: 2 }),
    "0 executions finished (0/s), 2 cut at the step bound of 10,000 steps (a thread that never finishes?), 1,431 redundant prefixes pruned, 13,307,904 steps, 10 s",
  );
  // Without cut executions, as before.
  assert.equal(progressText(1200, 10_000, { elapsedMs: 2000, sleepBlocked: 5, states: 0, steps: 100, cut: 0 }), "1,200/10,000 executions (600/s), 2 s, ~15 s left");
  // rates --exact while it enumerates (new-user trial 21 read 106 s of it as 9 sampled runs/s).
  assert.equal(
    progressText(0, 20_000, { elapsedMs: 12_000, sleepBlocked: 0, states: 0, steps: 0, exact: 112_702 }),
    "exact: 112,702 interleavings (at most 1,000,000) before the 20,000 sampled executions, 12 s",
  );
});

test("claims --time-limit bounds each check: a pass claim on a check cut short does not hold and says incomplete (new-user trial 23 waited on an rmo claim with no way out)", () => {
  const r = racelab("claims", "ext4-delalloc-fallocate", "--time-limit", "0.001", "--json");
  assert.equal(r.code, 0, r.stderr);
  const claims = JSON.parse(r.stdout) as { expected: string; observed: string; holds: boolean }[];
  const fix = claims.find((c) => c.expected.startsWith("recheck-es/default passes"))!;
  assert.deepEqual([fix.holds, /^recheck-es\/default: incomplete/.test(fix.observed)], [false, true], fix.observed);
  const full = JSON.parse(racelab("claims", "ext4-delalloc-fallocate", "--json").stdout) as { expected: string; holds: boolean }[];
  assert.equal(full.find((c) => c.expected.startsWith("recheck-es/default passes"))!.holds, true, "without the limit it holds");
  const bad = racelab("claims", "ext4-delalloc-fallocate", "--time-limit", "0");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^racelab: --time-limit must be a positive number of seconds, got '0'\n$/);
});

test("claims --json: statement, source, expected, observed, holds", () => {
  const r = racelab("claims", "ext4-delalloc-fallocate", "--json");
  const claims = JSON.parse(r.stdout);
  assert.equal(claims.length, 4);
  for (const c of claims) {
    assert.deepEqual(Object.keys(c), ["id", "scenario", "source", "statement", "expected", "observed", "holds"]);
    assert.equal(c.holds, true);
  }
});

test("bad input: one line on stderr, exit status 2", () => {
  const cases: string[][] = [
    ["check", "no-such-scenario"],
    ["check", "ext4-delalloc-fallocate", "--fix", "nope"],
    ["check", "ext4-delalloc-fallocate", "--variant", "nope"],
    ["check", "ext4-delalloc-fallocate", "--param", "blocks=99"],
    ["check", "ext4-delalloc-fallocate", "--param", "blocks"],
    ["check", "ext4-delalloc-fallocate", "--mode", "sideways"],
    ["check", "ext4-delalloc-fallocate", "--mode", "random", "--runs", "0"],
    ["replay", "ext4-delalloc-fallocate", "--fix", "baseline", "--schedule", "0.zz"],
    ["replay", "ext4-delalloc-fallocate", "--fix", "baseline", "--schedule", "2"],
    ["replay", "ext4-delalloc-fallocate", "--fix", "baseline", "--schedule", "9"],
    ["frobnicate"],
  ];
  for (const args of cases) {
    const r = racelab(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "", args.join(" "));
  }
});

test("list --json names the scenario, its fixes and variants", () => {
  const [s] = JSON.parse(racelab("list", "--json").stdout);
  assert.equal(s.id, "ext4-delalloc-fallocate");
  assert.deepEqual(s.fixes.map((f: { id: string }) => f.id), ["baseline", "recheck-es"]);
  assert.ok(s.variants.some((v: { id: string }) => v.id === "default"));
});

test("--version and -V print package.json's version, exit status 0", () => {
  const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
  for (const flag of ["--version", "-V"]) assert.deepEqual(racelab(flag), { code: 0, stdout: `${version}\n`, stderr: "" }, flag);
});

test("a reader that stops early (| head) is not an error", () => {
  const r = spawnSync("bash", ["-c", `node ${BIN} check ext4-delalloc-fallocate --all-fixes --all-variants | head -1; echo "status=\${PIPESTATUS[0]}"`], { encoding: "utf8" });
  assert.match(r.stdout, /status=0/);
  assert.doesNotMatch(r.stderr, /EPIPE/);
});

// ---- Input checks (issue 8, section 4). A bad value must be refused at once: without the
// checks, some of these would run for ever (the timeout turns that into a failure). ----
function racelabWithin(ms: number, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: ms, maxBuffer: 1 << 24 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const S = "ext4-delalloc-fallocate";

test("numeric options: NaN, negative, fractional and huge values are one-line errors (exit 2) echoing the text given", () => {
  const cases: [string[], RegExp][] = [
    [["--mode", "random", "--runs", "100000000000000000000"], /--runs must be an integer from 1 to 1,000,000,000, got '100000000000000000000'/],
    [["--mode", "random", "--runs", "1000000001"], /--runs .* got '1000000001'/],
    [["--mode", "random", "--runs", "1e20"], /--runs .* got '1e20'/],
    [["--mode", "random", "--runs", "NaN"], /--runs .* got 'NaN'/],
    [["--mode", "random", "--runs", "-1"], /--runs .* got '-1'/],
    [["--mode", "random", "--seed", "9007199254740992"], /--seed must be an integer from 0 to 9,007,199,254,740,991 \(2\^53 - 1\), got '9007199254740992'/],
    [["--mode", "random", "--seed", "18446744073709551617"], /--seed .* got '18446744073709551617'/],
    [["--mode", "random", "--seed", "-1"], /--seed .* got '-1'/],
    [["--mode", "random", "--seed", "1.5"], /--seed .* got '1\.5'/],
    [["--max-executions", "99999999999999999999"], /--max-executions .* got '99999999999999999999'/],
    [["--max-executions", "0"], /--max-executions .* got '0'/],
    [["--cross-check", "10000001"], /--cross-check must be an integer from 0 to 10,000,000, got '10000001'/],
    [["--param", "blocks=99999999999999999999"], /parameter blocks=99999999999999999999 out of range: an integer from 1 to/],
  ];
  for (const [args, re] of cases) {
    const r = racelabWithin(30_000, "check", S, ...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(" "));
    assert.equal(r.stdout, "", args.join(" "));
  }
});

test("--seed takes every seed up to 2^53 - 1 exactly", () => {
  const r = racelabWithin(60_000, "check", S, "--mode", "random", "--runs", "5", "--seed", "9007199254740991", "--json");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /"seed": 9007199254740991,/);
});

test("replay: steps after every thread finished are an error naming the first extra step", () => {
  const ce = JSON.parse(racelab("check", S, "--json").stdout).counterexample;
  const n = ce.steps.length;
  const r = racelab("replay", S, "--fix", "baseline", "--schedule", `${ce.schedule}.1x3`);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`schedule step ${n + 1}: thread 1 \\(ext4_fallocate\\) cannot run: every thread has finished after step ${n} \\(the schedule has 3 steps too many\\)`));
  assert.equal(r.stdout, "");
});

test("commander's errors read like the others: 'racelab: ' first, the suggestion on the same line, no literal \\n (a new user's trial)", () => {
  const cases: [string[], RegExp][] = [
    [["check", S, "--all-fix"], /^racelab: unknown option '--all-fix' \(did you mean --all-fixes\?\)\n$/],
    [["chek"], /^racelab: unknown command 'chek' \(did you mean check\?\)\n$/],
    [["rates", S, "--memory-model", "x86"], /^racelab: option '--memory-model <model>' argument 'x86' is invalid\. Allowed choices are sc, tso, pso, rmo\.\n$/],
  ];
  for (const [args, want] of cases) {
    const r = racelab(...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, want);
    assert.equal(r.stdout, "");
  }
});

test("the summary line groups thousands as the progress line does (2,000 random executions, 1,514 states; a new user's trial saw 2922 next to 2,846)", () => {
  const rnd = racelab("check", S, "--mode", "random", "--runs", "2000", "--fix", "recheck-es");
  assert.match(rnd.stdout, /— 2,000 random executions, seed 1/);
  const sc = racelab("check", S, "--fix", "recheck-es", "--param", "blocks=2", "--reduction", "state-caching");
  // (State caching: the states lead; `1 executions` read as a typo and said nothing of the search.)
  assert.match(sc.stdout, /— 1,514 states \(1 execution to an end state not seen before; hash collision probability \S+\), \d+ ms$/m);
  const one = racelab("check", S, "--mode", "random", "--runs", "1");
  assert.match(one.stdout, /— 1 random execution, seed 1, \d+ ms$/m);
});

test("elapsed times read as ms under a second, then as seconds (a summary line said 13087.3 ms)", async () => {
  const { elapsedText } = await import("../src/engine/runner.js");
  assert.deepEqual([0.4, 559.3, 999.4, 999.6, 1152, 9_994, 13_087.3, 1_234_567].map(elapsedText), ["0 ms", "559 ms", "999 ms", "1 s", "1.15 s", "9.99 s", "13.1 s", "1,234.6 s"]);
});

test("error messages clip echoed input to 80 characters (a 100 KB argument is not echoed whole)", () => {
  const long = "z".repeat(100_000);
  const cases: string[][] = [
    ["replay", S, "--fix", "baseline", "--schedule", long],
    ["replay", S, "--fix", "baseline", "--schedule", `0.${long}`],
    ["check", long],
    ["check", `./${long}.ts`],
    ["check", S, "--fix", long],
    ["check", S, "--variant", long],
    ["check", S, "--param", long],
    ["check", S, "--param", `${long}=1`],
    ["check", S, "--runs", long],
    ["check", S, "--mode", long],
    ["check", S, "--fix", "line one\nline two"],
    [long],
    ["check", S, `--${long}`],
  ];
  for (const args of cases) {
    const r = racelab(...args);
    const what = args.map((a) => a.slice(0, 20)).join(" ");
    assert.equal(r.code, 2, `${what}: ${r.stderr.slice(0, 300)}`);
    assert.ok(r.stderr.length < 400, `${what}: ${r.stderr.length} characters on stderr`);
    assert.equal(r.stderr.trim().split("\n").length, 1, `${what}: ${r.stderr.slice(0, 300)}`);
  }
  assert.match(racelab("check", S, "--fix", long).stderr, new RegExp(`unknown fix '${"z".repeat(80)}…'`));
});

test("output that cannot be written (racelab list > /dev/full) is one line on stderr, exit 2, no stack trace", { skip: !existsSync("/dev/full") }, () => {
  for (const args of [["list"], ["list", "--json"], ["check", S, "--json"]]) {
    const fd = openSync("/dev/full", "w");
    try {
      const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", stdio: ["ignore", fd, "pipe"], timeout: 60_000 });
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr, "racelab: cannot write to standard output: no space left on device (ENOSPC)\n", args.join(" "));
    } finally {
      closeSync(fd);
    }
  }
  const r = spawnSync("bash", ["-c", `node ${BIN} list | head -1 >/dev/null; echo "status=\${PIPESTATUS[0]}"`], { encoding: "utf8" });
  assert.match(r.stdout, /status=0/);
  assert.equal(r.stderr, "");
});

test("options the mode ignores get a one-line note on stderr; the output is unchanged", () => {
  const plain = racelab("check", S, "--json");
  assert.equal(plain.stderr, "");
  const strip = (s: string) => s.replace(/"elapsedMs": [\d.]+/, '"elapsedMs": 0');
  const r = racelab("check", S, "--runs", "5", "--json");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "racelab: note: --runs is ignored in exhaustive mode (it sets the executions of --mode random and pct)\n");
  assert.equal(strip(r.stdout), strip(plain.stdout));
  const seeded = racelab("check", S, "--seed", "3", "--cross-check", "0", "--json");
  assert.match(seeded.stderr, /^racelab: note: --seed is ignored: .*--cross-check 0 turns off\n$/);
  assert.equal(racelab("check", S, "--seed", "3", "--json").stderr, "", "the seed drives the cross-check's sampling");
  const rnd = racelab("check", S, "--mode", "random", "--runs", "10", "--max-executions", "5", "--reduction", "none", "--json");
  assert.equal(rnd.code, 0, rnd.stderr);
  assert.deepEqual(rnd.stderr.trim().split("\n"), [
    "racelab: note: --max-executions is ignored in random mode (it applies to exhaustive mode)",
    "racelab: note: --reduction is ignored in random mode (it applies to exhaustive mode)",
  ]);
});

test("racelab litmus runs the kernel's litmus tests under each model and says where racelab is stronger than LKMM; bad files are one line, exit 2", () => {
  const dir = "src/scenarios/filemap-folio-split/litmus";
  const r = racelab("litmus", `${dir}/MP+poonceonces.litmus`, `${dir}/MP+fencewmbonceonce+fencermbonceonce.litmus`, "--json");
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { name: string; model: string; expected: string; observed: string; agrees: boolean }[];
  assert.deepEqual(
    rows.map((x) => `${x.name} ${x.model} ${x.observed} ${x.agrees}`),
    [
      "MP+poonceonces sc Never false",
      "MP+poonceonces tso Never false",
      "MP+poonceonces pso Sometimes true",
      "MP+poonceonces rmo Sometimes true",
      "MP+fencewmbonceonce+fencermbonceonce sc Never true",
      "MP+fencewmbonceonce+fencermbonceonce tso Never true",
      "MP+fencewmbonceonce+fencermbonceonce pso Never true",
      "MP+fencewmbonceonce+fencermbonceonce rmo Never true",
    ],
  );
  const text = racelab("litmus", `${dir}/LB+poonceonces.litmus`, "--memory-model", "rmo");
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^LB\+poonceonces \(LKMM: Sometimes; exists .*\)\n {2}rmo {2}Never .* executions {2}racelab's rmo model is stronger than the LKMM here/);
  for (const [args, msg] of [
    [["litmus", "/nonexistent.litmus"], /^racelab: \/nonexistent\.litmus: cannot read \(ENOENT\)\n$/],
    [["litmus", "package.json"], /^racelab: package\.json: litmus: missing 'C <name>' line\n$/],
  ] as const) {
    const bad = racelab(...args);
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, "");
    assert.match(bad.stderr, msg);
  }
});

test("rates --all-variants runs every variant, as check does (new-user trial 21 tried it)", () => {
  const r = racelab("rates", "ext4-delalloc-fallocate", "--all-fixes", "--all-variants", "--runs", "20", "--json");
  assert.equal(r.code, 0, r.stderr);
  const rows = (JSON.parse(r.stdout) as { fix: string; variant: string }[]).map((x) => `${x.fix}/${x.variant}`);
  const sc = JSON.parse(racelab("list", "--json").stdout) as { id: string; fixes: { id: string }[]; variants: { id: string }[] }[];
  const ext4 = sc.find((s) => s.id === "ext4-delalloc-fallocate")!;
  assert.deepEqual(rows, ext4.fixes.flatMap((f) => ext4.variants.map((v) => `${f.id}/${v.id}`)));
  assert.ok(ext4.variants.length > 1);
});

test("rates --exact says a fix that cannot fail has probability 0, not 0.000%", () => {
  const r = racelab("rates", "ext4-delalloc-fallocate", "--fix", "recheck-es", "--exact", "--runs", "50");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\n {2}exact probability under the uniform random scheduler: 0 \(no execution fails\)\n/);
  const b = racelab("rates", "ext4-delalloc-fallocate", "--fix", "baseline", "--exact", "--runs", "50");
  assert.match(b.stdout, /\n {2}exact probability under the uniform random scheduler: \d+\.\d+%\n/);
});

test("racelab run: a cell that cannot find the racelab module says where to import it from (new-user trial 13)", async () => {
  const { formatFailure } = await import("../src/cli/run.js");
  const msg = formatFailure("notebooks/x.ipynb", {
    cell: 3,
    id: "a1764451",
    source: 'import { check } from "racelab";',
    message: "1:148 - Cannot find module 'racelab' or its corresponding type declarations.",
  });
  assert.match(msg, /^notebooks\/x\.ipynb: cell 3 \(id a1764451\) failed: 1:148 - Cannot find module 'racelab' .*\(cells import racelab from "racelab" in a project that installed it, from "\.\/dist" \(or "\."\) in a racelab checkout after npm run build\)/);
  const other = formatFailure("x.ipynb", { cell: 2, id: null, source: "", message: "1:1 - Cannot find name 'foo'." });
  assert.equal(other, "x.ipynb: cell 2 failed: 1:1 - Cannot find name 'foo'.");
});

test("racelab report: a notebook that defines its scenario in its own cells (the tutorial) is no reason for a warning; one that names an unknown scenario is", async () => {
  const { definedInCells } = await import("../src/cli/report.js");
  const { readNotebook } = await import("../src/report/notebook.js");
  const tutorial = await readNotebook("notebooks/writing-a-scenario.ipynb");
  assert.equal(tutorial.metadata.racelab?.scenario, "rcu-lookup-vs-free");
  assert.equal(definedInCells(tutorial, "rcu-lookup-vs-free"), true);
  assert.equal(definedInCells(tutorial, "rcu-lookup"), false, "the whole id");
  assert.equal(definedInCells(await readNotebook("notebooks/ext4-delalloc-fallocate.ipynb"), "ext4-delalloc-fallocate"), false);
});

test("check: every line names its memory model when the command checked several, or when sc is not the variant's own (new-user trial 20)", () => {
  const r = racelab("check", "test/fixtures/lost-wakeup.ts", "--memory-model", "sc,pso,rmo");
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n").filter((l) => l.startsWith("lost-wakeup "));
  assert.deepEqual(
    lines.map((l) => /^lost-wakeup baseline\/default( \[\w+\])?:/.exec(l)?.[1]),
    [" [sc]", " [pso]", " [rmo]"],
    r.stdout,
  );
  // rmo ran in the same command: no note sending the reader to it.
  assert.ok(!/^note: /m.test(r.stdout), r.stdout);
  // A variant whose own model is pso, checked under sc alone: the line says [sc].
  const v = racelab("check", "filemap-folio-split", "--variant", "relaxed-stores", "--memory-model", "sc", "--mode", "random", "--runs", "50");
  assert.match(v.stdout, /^filemap-folio-split baseline\/relaxed-stores \[sc\]: /m, v.stdout + v.stderr);
  const own = racelab("check", "filemap-folio-split", "--variant", "relaxed-stores", "--mode", "random", "--runs", "50");
  assert.match(own.stdout, /^filemap-folio-split baseline\/relaxed-stores \[pso\]: /m, own.stdout + own.stderr);
  const plain = racelab("check", "test/fixtures/lost-wakeup.ts");
  assert.match(plain.stdout, /^lost-wakeup baseline\/default: /m, "sc, the variant's own model, and the only one: no tag");
});

test("check: a passing tso or pso check is followed by one note that those models never reorder loads (rmo does); violations are grouped by thousands (new-user trial 14)", () => {
  const r = racelab("check", "test/fixtures/lost-wakeup.ts", "--all-fixes", "--memory-model", "pso");
  assert.equal(r.code, 0, r.stderr);
  const notes = r.stdout.split("\n").filter((l) => l.startsWith("note: "));
  assert.deepEqual(notes, [
    "note: pso reorders only stores (a store buffer per CPU), never a thread's loads: a reader's ordering (smp_rmb(), smp_load_acquire(), test_bit_acquire(), an acquire after a lockless test) is tested only by --memory-model rmo",
  ]);
  const sc = racelab("check", "test/fixtures/lost-wakeup.ts", "--all-fixes");
  assert.ok(!/^note: /m.test(sc.stdout), sc.stdout);
  const many = racelab("check", "ext4-delalloc-fallocate", "--mode", "random", "--runs", "20000");
  assert.match(many.stdout, /FAIL: \d{1,3},\d{3} violating — 20,000 random executions/);
  // The per-finding counts and the unreduced count too (new-user trial 24 read `1338 ×` beside `3,118 violating`).
  assert.match(many.stdout, /^ {2}\d{1,3},\d{3} × /m, many.stdout);
  const naive = racelab("check", "ext4-delalloc-fallocate", "--count-naive");
  assert.match(naive.stdout, /\(\d{1,3}(,\d{3})+ without reduction\)/, naive.stdout);
});

test("check: with several findings, the counterexample line says which one it shows and how to see another (new-user trial 14)", () => {
  const several = racelab("check", "ext4-delalloc-fallocate");
  assert.match(several.stdout, /\n  \(it shows '[^']+'; --counterexample-for TEXT shows an execution whose finding contains TEXT\)\n/);
  const one = racelab("check", "test/fixtures/lost-wakeup.ts", "--memory-model", "tso");
  assert.match(one.stdout, /1 × deadlock/);
  assert.ok(!one.stdout.includes("--counterexample-for TEXT"), one.stdout);
});

test("check --memory-model takes several models, comma-separated, and checks each in turn (new-user trial 14 had to loop)", () => {
  const r = racelab("check", "test/fixtures/lost-wakeup.ts", "--memory-model", "sc,tso");
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n").filter((l) => l.startsWith("lost-wakeup "));
  assert.equal(lines.length, 2, r.stdout);
  assert.match(lines[0]!, /^lost-wakeup baseline\/default \[sc\]: pass/);
  assert.match(lines[1]!, /^lost-wakeup baseline\/default \[tso\]: FAIL: 1 violating/);
  const json = JSON.parse(racelab("check", "test/fixtures/lost-wakeup.ts", "--memory-model", "pso,sc", "--json").stdout) as { memoryModel: string; verdict: string }[];
  assert.deepEqual(json.map((x) => [x.memoryModel, x.verdict]), [["pso", "fail"], ["sc", "pass"]]);
  for (const [arg, msg] of [["sc,x86", /^racelab: --memory-model: unknown memory model 'x86' \(known: sc, tso, pso, rmo; several comma-separated\)\n$/], ["tso,tso", /names a model twice/]] as const) {
    const bad = racelab("check", "test/fixtures/lost-wakeup.ts", "--memory-model", arg);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, msg);
  }
});

test("a check where the model's own code threw says so on its verdict line, not only `FAIL: n violating` (new-user trial 16)", async () => {
  const file = scenarioFile("typo.ts");
  writeFileSync(
    file,
    `import { defineScenario, sitesIn } from "racelab";
const at = sitesIn("lib/typo.c", "v6.12");
const A = at("f", "store"), B = at("g", "load");
export default defineScenario({
  id: "typo",
  setup: () => ({
    state: { x: 0 },
    threads: {
      *t1(t, s) { yield A; s.x = 1; yield* (undefined as any); },
      *t2(t, s) { yield B; void s.x; },
    },
  }),
});
`,
  );
  const r = racelab("check", file);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stdout, /^typo baseline\/default: FAIL: \d+ violating \(in every one the model's own code threw: an error in the model, see below\)/m);
  assert.match(r.stdout, /× error: t1 at f\(\) \(store\): TypeError: /);
});

test("a pass with a warning says so on its line, and --strict exits 1 for it, for a violation and for an incomplete search (new-user trial 16)", async () => {
  const file = scenarioFile("plain-sb.ts");
  // Store buffering on plain fields: racelab never buffers them, so tso reorders nothing (a warning).
  writeFileSync(
    file,
    `import { defineScenario, sitesIn } from "racelab";
const at = sitesIn("lib/sb.c", "v6.12");
const A = at("w", "store cond"), B = at("w", "load queued"), C = at("r", "store queued"), D = at("r", "load cond");
export default defineScenario({
  id: "plain-sb",
  setup: () => ({
    state: { cond: 0, queued: 0, missed: 0 },
    threads: {
      *w(t, s) { yield A; s.cond = 1; yield B; if (s.queued === 0) s.missed++; },
      *r(t, s) { yield C; s.queued = 1; yield D; if (s.cond === 0) s.missed++; },
    },
  }),
  endChecks: [{ name: "one sees the other", check: (s, r) => { if (s.missed === 2) r.report("invariant", "both missed"); } }],
});
`,
  );
  const tso = racelab("check", file, "--memory-model", "tso");
  assert.equal(tso.code, 0, tso.stderr);
  assert.match(tso.stdout, /^plain-sb baseline\/default \[tso\]: pass \(a warning below; sleep-sets; cross-check: \d+ unreduced samples agree\)/m);
  assert.equal(racelab("check", file, "--memory-model", "tso", "--strict").code, 1);
  assert.equal(racelab("check", file, "--memory-model", "tso", "--fail-on-finding").code, 0);
  // sc: a clean pass (no plain-field warning under sc), 0 under --strict.
  const sc = racelab("check", file, "--strict");
  assert.equal(sc.code, 0, sc.stdout);
  assert.match(sc.stdout, /: pass \(sleep-sets; /);
  // A violation and an incomplete search.
  assert.equal(racelab("check", "ext4-delalloc-fallocate", "--strict").code, 1);
  assert.equal(racelab("check", "ext4-delalloc-fallocate", "--fix", "recheck-es", "--param", "blocks=2", "--max-executions", "5", "--strict").code, 1);
  assert.equal(racelab("check", "ext4-delalloc-fallocate", "--fix", "recheck-es", "--strict").code, 0);
  // A warning that only names the reduction used instead (dpor under pso) leaves the pass sound:
  // --strict exits 0 (new-user trial 18).
  const dpor = racelab("check", "test/fixtures/lost-wakeup.ts", "--fix", "smp-mb", "--memory-model", "pso", "--reduction", "dpor", "--strict");
  assert.match(dpor.stdout, /warning: --reduction dpor is not used under pso/);
  assert.equal(dpor.code, 0, dpor.stdout);
});

test("isReductionFallback() knows the two warnings that only name the reduction used instead, and no other", async () => {
  const { isReductionFallback, DPOR_PSO_WARNING } = await import("../src/engine/check.js");
  assert.ok(isReductionFallback(DPOR_PSO_WARNING));
  assert.ok(isReductionFallback(DPOR_PSO_WARNING.replace("under pso", "under rmo")));
  const { check, getScenario } = await import("../src/index.js");
  // (The text state caching gives where a step observes RCU state; scenario-api.test.ts makes one.)
  assert.ok(
    isReductionFallback(
      "state caching is off: a step observes rcu_state, state no fingerprint covers (racelab's RCU state lives outside the scenario's state, as does a newLoc(name) without an owner); the search used sleep sets",
    ),
  );
  assert.ok(!isReductionFallback("plain fields state.cond are written by one thread and read by another with no lock in common"));
  assert.ok(check(getScenario("ext4-delalloc-fallocate"), { fix: "recheck-es" }).warnings.every((w) => !isReductionFallback(w)));
});

test("the commands the CLI prints name it as the user ran it (npx, npm run, a racelab on the PATH, else node and the script)", async () => {
  const { racelabInvocation } = await import("../src/cli/invocation.js");
  const dir = mkdtempSync(join(tmpdir(), "racelab-inv-"));
  const script = join(dir, "pkg", "dist", "cli", "main.js");
  mkdirSync(join(dir, "pkg", "dist", "cli"), { recursive: true });
  writeFileSync(script, "");
  const bin = join(dir, "bin");
  mkdirSync(bin);
  symlinkSync(script, join(bin, "racelab"));
  const other = join(dir, "other");
  mkdirSync(other);
  writeFileSync(join(other, "racelab"), "");
  const argv = ["node", script];
  assert.equal(racelabInvocation({ npm_command: "exec", PATH: bin }, argv, dir), "npx racelab");
  assert.equal(racelabInvocation({ npm_command: "run", npm_lifecycle_event: "racelab", PATH: "" }, argv, dir), "npm run -s racelab --");
  // Another npm script (npm test, npm start) that runs the CLI: not `npm run racelab`.
  assert.equal(racelabInvocation({ npm_command: "run", npm_lifecycle_event: "start", PATH: "" }, argv, dir), "node pkg/dist/cli/main.js");
  // The first racelab on the PATH is this one (npm link): `racelab`.
  assert.equal(racelabInvocation({ PATH: `/nonexistent:${bin}:${other}` }, argv, dir), "racelab");
  // It is another copy: `racelab` would run that one.
  assert.equal(racelabInvocation({ PATH: `${other}:${bin}` }, argv, dir), "node pkg/dist/cli/main.js");
  // Outside the current directory: the absolute path, quoted for the shell when it needs it.
  assert.equal(racelabInvocation({ PATH: "" }, ["node", "/opt/my tools/main.js"], dir), "node '/opt/my tools/main.js'");
});

test("rates --exact says when the exact probability was not computed (it left the line out; new-user trial 19)", () => {
  const file = scenarioFile("spin.ts");
  writeFileSync(
    file,
    `import { defineScenario, sitesIn } from "racelab";
const POLL = sitesIn("lib/spin.c", "v6.12")("spin", "while (!READ_ONCE(s->go))");
export default defineScenario({
  id: "spin-forever",
  setup: () => ({
    state: { go: 0 },
    threads: {
      *a(t, s) { for (;;) { yield POLL; if (s.go) break; } },
      *b(t, s) { for (;;) { yield POLL; if (s.go) break; } },
    },
  }),
});
`,
  );
  const r = racelab("rates", file, "--exact", "--runs", "10");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^  exact probability: not computed \(more than 1,000,000 interleavings, an execution past the step bound, or the run stopped first\)$/m);
  assert.match(r.stdout, /warning: 10 of 10 executions ran past the step bound/);
});
