/**
 * `racelab new <id>`: scaffolds a scenario file (`<id>.ts`) and a notebook (`<id>.ipynb`) that
 * runs it, ready for `racelab check ./<id>.ts` and Jupyter. The scenario is a small working race
 * (a lost update on a plain field, closed by a spinlock) for the user to replace with theirs.
 * Refuses to overwrite existing files (exit 2) unless `--force`; writes atomically.
 */
import { UsageError } from "../errors.js";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { clip } from "../engine/clip.js";
import { writeFileAtomic } from "../report/atomic.js";
import { projectOf } from "./project.js";
import { racelabInvocation } from "./invocation.js";
import { shellWord } from "../engine/replay-hint.js";

const ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;


/** The scenario file's text. */
export function scenarioTemplate(id: string): string {
  const ident = id.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  return `/**
 * Scenario \`${id}\`: <one line: which code paths race, on what>.
 *
 * Thread: <lore link of the message>. Kernel: <version>, <files read>.
 * Each thread is a generator: one \`yield SITE\` per atomic step; the code after a yield, up to the
 * next one, is that step. Shared state lives in the object setup() returns: its plain fields are
 * tracked, racelab's kernel objects (Spinlock, Cell, refcount_t, ...) track themselves.
 *
 *   racelab check ./${id}.ts --all-fixes          # every interleaving of every fix
 *   racelab replay ./${id}.ts --fix baseline --schedule 0.1.0.1
 */
import { defineScenario, sitesIn, spin_lock, spin_unlock, Spinlock, type Task } from "racelab";

// Every step names its kernel function, source file and version.
const at = sitesIn("lib/example.c", "v6.12");
const LOAD = at("example_inc", "v = ex->count");
const STORE = at("example_inc", "ex->count = v + 1");
// The fix's steps come from a factory of their own: a check of another fix, where they never run,
// then does not note them as steps that ran in no interleaving (CheckResult.unreachedSteps). So
// do baseline lines that a fix replaces (WRITE_ONCE(gp, p) where the fix has smp_store_release()):
// one factory per group of lines that only some fixes or variants run.
const fix = sitesIn("lib/example.c", "v6.12");
const LOCK = fix("example_inc", "spin_lock(&ex->lock)");
const UNLOCK = fix("example_inc", "spin_unlock(&ex->lock)");

/** The modeled state: one struct example. */
interface State {
  count: number;
  lock: Spinlock;
}

/** Options that fixes and variants set (read as cfg.options in the threads). */
interface Options {
  locked: boolean;
}

/** example_inc(): a read-modify-write of ex->count, under ex->lock when the fix takes it. */
function* example_inc(t: Task, s: State, locked: boolean) {
  if (locked) yield* spin_lock(t, s.lock, LOCK);
  yield LOAD;
  const v = s.count;
  yield STORE;
  s.count = v + 1;
  if (locked) yield* spin_unlock(t, s.lock, UNLOCK);
}

export const ${ident} = defineScenario<State, Options>({
  id: "${id}",
  title: "${id}: <title>",
  kernel: "v6.12",
  defaults: { locked: false },
  fixes: [{ id: "take-lock", title: "take ex->lock around the update", options: { locked: true } }],
  setup: (cfg) => ({
    state: { count: 0, lock: new Spinlock("ex->lock") },
    threads: {
      cpu0: (t: Task, s: State) => example_inc(t, s, cfg.options.locked),
      cpu1: (t: Task, s: State) => example_inc(t, s, cfg.options.locked),
    },
  }),
  endChecks: [
    {
      name: "no lost update",
      check(s, r) {
        if (s.count !== 2) r.report("invariant", \`lost update: count = \${s.count}, expected 2\`);
      },
    },
  ],
  claims: [
    { id: "race", statement: "Without the lock an update is lost.", fix: "baseline", verdict: "fail", finding: /lost update/ },
    { id: "lock-closes-it", statement: "Taking ex->lock closes the race.", fix: "take-lock", verdict: "pass" },
  ],
  leftOut: ["<what the model simplifies, one sentence each>"],
});

export default ${ident};
`;
}

function cell(type: "markdown" | "code", id: string, source: string, tags: string[] = []): Record<string, unknown> {
  const lines = source.split("\n").map((l, i, a) => (i < a.length - 1 ? l + "\n" : l));
  const c: Record<string, unknown> = { cell_type: type, id, metadata: tags.length > 0 ? { tags } : {}, source: lines };
  if (type === "code") Object.assign(c, { execution_count: null, outputs: [] });
  return c;
}

/** The notebook's text: loads the scenario file, checks every fix, draws the counterexample. */
export function notebookTemplate(id: string, importFrom: string, scenarioPath: string): string {
  const nb = {
    cells: [
      cell("markdown", "title", `# ${id}\n\n<What races, who says what on the list, and what this notebook shows.>`),
      cell(
        "code",
        "load",
        `import { loadScenario, checkAll, showChecks, showCounterexample, showClaims, showLeftOut, Session } from "${importFrom}";\nconst sc = await loadScenario("${scenarioPath}");`,
      ),
      cell("markdown", "checks-md", "## Every interleaving of every fix"),
      cell("code", "checks", "const results = checkAll(sc);\nshowChecks(results);"),
      cell("markdown", "ce-md", "## The race, step by step"),
      cell("code", "ce", `const failing = results.find((r) => r.verdict === "fail");\nif (failing) showCounterexample(failing, 75, sc);`),
      cell(
        "code",
        "step",
        `// The race by hand: the counterexample again, step by step. From here s.back(n) undoes steps and\n` +
          `// s.step(thread, n) takes n steps of one thread (s.threads names them), to try other orders.\n` +
          `if (failing) {\n` +
          `  const { fix, variant, params, memoryModel } = failing;\n` +
          `  const s = new Session(sc, { fix, variant, params, memoryModel });\n` +
          `  s.run(failing.counterexample!.schedule).show();\n` +
          `}`,
      ),
      cell("markdown", "claims-md", "## The thread's claims, and what the model leaves out"),
      cell("code", "claims", "showClaims(sc);\nshowLeftOut(sc);"),
    ],
    metadata: {
      kernelspec: { name: "racelab", display_name: "racelab (TypeScript)", language: "typescript" },
      language_info: { name: "typescript", file_extension: ".ts", mimetype: "text/typescript" },
      racelab: { scenario: id, title: id, file: scenarioPath },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
  return JSON.stringify(nb, null, 1) + "\n";
}

/** Registers `racelab new`. */
export function registerNewCommand(program: Command): void {
  program
    .command("new")
    .description("scaffold a scenario file <id>.ts and a notebook <id>.ipynb that checks it")
    .argument("<id>", "scenario id, lowercase-hyphenated (e.g. rcu-lookup-vs-free)")
    .option("--dir <dir>", "folder to write into, made if missing (default: the current folder)", ".")
    .option("--force", "overwrite existing files")
    .action(async (id: string, o: { dir: string; force?: boolean }) => {
      if (!ID.test(id)) throw new UsageError(`scenario id '${clip(id)}' must be lowercase-hyphenated, e.g. rcu-lookup-vs-free`);
      const dir = path.resolve(o.dir);
      if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`not a folder: ${clip(o.dir)}`);
      const ts = path.join(dir, `${id}.ts`);
      const nbPath = path.join(dir, `${id}.ipynb`);
      for (const f of [ts, nbPath])
        if (existsSync(f) && !o.force) throw new UsageError(`${path.relative(process.cwd(), f) || f} exists (use --force to overwrite)`);
      mkdirSync(dir, { recursive: true });
      // The notebook's kernel runs in the project root (kernel/racelab-kernel): import racelab
      // from there, and load the scenario by its path from there.
      const project = projectOf(dir);
      const root = project?.root ?? dir;
      const importFrom = project?.name === "racelab" ? "./dist" : "racelab";
      let rel = path.relative(root, ts).split(path.sep).join("/");
      if (!rel.startsWith(".")) rel = `./${rel}`;
      await writeFileAtomic(ts, scenarioTemplate(id));
      await writeFileAtomic(nbPath, notebookTemplate(id, importFrom, rel));
      process.stdout.write(`${ts}\n${nbPath}\n`);
      process.stderr.write(`next: ${racelabInvocation()} check ${shellWord(path.relative(process.cwd(), ts) || ts)} --all-fixes\n`);
    });
}
