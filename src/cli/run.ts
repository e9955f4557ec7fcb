/**
 * `racelab run [<notebook.ipynb> ...]`
 *
 * Executes notebooks headless through Jupyter (nbclient, Debian's python3-nbclient) with this
 * package's `racelab` kernel (a private kernel spec on JUPYTER_PATH, whatever kernel/install.sh
 * registered user-wide), and writes each executed copy atomically to
 * `reports/<name>.ipynb`. Default: every `notebooks/*.ipynb`. Progress goes to stderr (a bar per
 * notebook on a terminal, one line per notebook otherwise); the written paths go to stdout.
 *
 * Exit status: 0 all notebooks ran, 1 a cell failed (the message names notebook and cell) or
 * Jupyter is unusable, 2 a missing/invalid notebook path.
 */
import { InputError } from "../errors.js";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createHash } from "node:crypto";
import { basename, dirname, join, relative, resolve } from "node:path";
import { createInterface } from "node:readline";
import type { Command } from "commander";
import cliProgress from "cli-progress";
import { clip } from "../engine/clip.js";
import { readNotebook } from "../report/notebook.js";
import { PACKAGE_ROOT } from "../report/provenance.js";
import { ensureDir } from "../report/atomic.js";
import { notebookInputsHash } from "./run-inputs.js";

/** Largest per-cell timeout, seconds (11.6 days): bounded, so that the number reaches the Python side as written. */
const MAX_TIMEOUT_SEC = 1_000_000;

/**
 * A fresh private Jupyter data folder (for JUPYTER_PATH) holding this package's `racelab` kernel
 * spec, registered there by kernel/install.sh --prefix (the same template fill as a user-wide
 * install), so that `racelab run` executes notebooks with this checkout's kernel whatever
 * kernel/install.sh last registered user-wide (another checkout's, or one since deleted).
 * JUPYTER_PATH comes before the user and system folders in Jupyter's search; the folder goes after
 * the caller's own JUPYTER_PATH entries, so a spec the caller names there still wins. The caller
 * removes the folder. Throws with install.sh's message when it fails.
 */
async function privateKernelDir(python: string): Promise<string> {
  const prefix = await mkdtemp(join(tmpdir(), "racelab-jupyter-"));
  const r = spawnSync("bash", [join(PACKAGE_ROOT, "kernel", "install.sh"), "--prefix", prefix], {
    encoding: "utf8",
    env: { ...process.env, RACELAB_PYTHON: python, PATH: `${dirname(process.execPath)}:${process.env["PATH"] ?? ""}` },
  });
  if (r.status !== 0) {
    await rm(prefix, { recursive: true, force: true });
    throw new Error(`cannot make this checkout's kernel spec: ${(r.stderr || r.stdout || String(r.error ?? "")).trim().split("\n")[0]}`);
  }
  return prefix;
}

/** SHA-256 of every file under `dir` (names and contents, in sorted order); "" when it does not exist. */
async function treeHash(dir: string): Promise<string> {
  const h = createHash("sha256");
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) h.update(p.slice(dir.length)).update("\0").update(await readFile(p)).update("\0");
    }
  };
  await walk(dir);
  return h.digest("hex");
}

/**
 * The cache key of running `notebook` (its bytes) with `kernel`: SHA-256 over the notebook, this
 * racelab's build (every file of dist/), its package-lock.json, the kernel name, Node's version
 * and `inputs` (the hash of the local files the notebook loads, {@link notebookInputsHash}).
 * `racelab run` stores it in the executed copy's metadata (`racelab.run.key`) and skips a
 * notebook whose copy has the same key and no error output.
 */
export async function runKey(notebook: Buffer, kernel: string, build?: string, inputs = ""): Promise<string> {
  const b = build ?? (await buildFingerprint());
  return createHash("sha256")
    .update(notebook)
    .update("\0")
    .update(b)
    .update("\0")
    .update(kernel)
    .update("\0")
    .update(process.version)
    .update("\0")
    .update(inputs)
    .digest("hex");
}

let fingerprint: Promise<string> | null = null;
/** SHA-256 of this racelab's dist/ and package-lock.json, computed once per process. */
function buildFingerprint(): Promise<string> {
  fingerprint ??= (async () => {
    const lock = await readFile(join(PACKAGE_ROOT, "package-lock.json")).catch(() => Buffer.alloc(0));
    return createHash("sha256").update(await treeHash(join(PACKAGE_ROOT, "dist"))).update(lock).digest("hex");
  })();
  return fingerprint;
}

/** True when `out` is an executed copy made with `key` and without an error output. */
async function upToDate(out: string, key: string): Promise<boolean> {
  try {
    const nb = JSON.parse(await readFile(out, "utf8")) as {
      metadata?: { racelab?: { run?: { key?: string } } };
      cells?: { outputs?: { output_type?: string }[] }[];
    };
    if (nb.metadata?.racelab?.run?.key !== key) return false;
    return !(nb.cells ?? []).some((c) => (c.outputs ?? []).some((o) => o.output_type === "error"));
  } catch {
    return false;
  }
}

/** The Jupyter (Python) process running the current notebook, if any. */
let active: ChildProcess | null = null;
/** Why {@link stopNotebooks} was called, or null. */
let stopRequested: string | null = null;

/**
 * Asks a running {@link runNotebooks} to stop (the CLI calls it on SIGINT and SIGTERM): the
 * current notebook's Jupyter process gets SIGTERM, on which nbclient shuts its kernel down (then
 * SIGKILL after 10 s), and no further notebook starts. The stopped notebook counts as failed
 * (`stopped: <reason>`); its old executed copy, if any, is kept.
 */
export function stopNotebooks(reason: string): void {
  stopRequested = reason;
  const child = active;
  if (child === null) return;
  child.kill("SIGTERM");
  setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }, 10_000).unref();
}

/**
 * Files a run writes only for itself (the results file being recorded, a notebook copy with
 * parameters injected, the private kernel folder): removed when the run ends, and by the CLI's
 * exit handler when a second SIGINT or SIGTERM ends the process at once (new-user trial 18 found a
 * `.name.results.<pid>.jsonl` left behind by a killed run).
 */
const ownTemp = new Set<string>();

/** Removes what {@link ownTemp} still holds, synchronously (it runs in an `exit` handler too). */
export function removeOwnTemp(): void {
  for (const p of ownTemp) rmSync(p, { recursive: true, force: true });
  ownTemp.clear();
}

/** Whether process `pid` is alive on this machine (EPERM: alive, another user's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes, in `dir`, the per-process files of `name`'s earlier runs whose process is gone (one
 * killed with SIGKILL cleans nothing up): `.<name>.results.<pid>.jsonl` and
 * `.<name>.parameters-<pid>.ipynb`.
 */
async function sweepStale(dir: string, name: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return;
  }
  const esc = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const re = new RegExp(`^\\.${esc}\\.(?:results\\.(\\d+)\\.jsonl|parameters-(\\d+)\\.ipynb)$`);
  for (const e of entries) {
    const m = re.exec(e);
    if (m === null) continue;
    const pid = Number(m[1] ?? m[2]);
    if (pid !== process.pid && !alive(pid)) await rm(join(dir, e), { force: true });
  }
}

/** Python with Jupyter when neither an option nor RACELAB_PYTHON names one. */
export const DEFAULT_PYTHON = "/usr/bin/python3";

/** Options of {@link runNotebooks}. */
export interface RunOptions {
  /** Folder for the executed copies; default "reports". */
  outDir?: string;
  /** Jupyter kernel name; default "racelab". */
  kernel?: string;
  /** Per-cell timeout in whole seconds, 1 to 1,000,000; default 900. */
  timeoutSec?: number;
  /** Python with nbclient; default $RACELAB_PYTHON or /usr/bin/python3. */
  python?: string;
  /** Show progress bars (default: when stderr is a terminal). */
  progress?: boolean;
  /** Progress/status lines; default stderr. */
  log?: (line: string) => void;
  /** Re-execute a notebook even when its executed copy is up to date (see {@link runKey}). Default false. */
  force?: boolean;
  /**
   * Papermill-style parameters, name to value as given on the command line (`-p RUNS=100000`):
   * see {@link injectParameters}. Default none.
   */
  parameters?: Readonly<Record<string, string>>;
}

/**
 * A notebook with parameters injected, as papermill does: after the cell tagged `parameters`, a
 * new code cell tagged `injected-parameters` redeclares each one (`const RUNS = 100000;`; tslab
 * lets a later cell redeclare a name). A value that parses as JSON (a number, true, false, null,
 * a quoted string, an array, an object) is used as it is, anything else as a string. Throws
 * InputError when the notebook has no `parameters` cell or the cell declares no such name
 * (`const`, `let` or `var`).
 */
export function injectParameters(nb: { cells: { cell_type: string; metadata?: { tags?: unknown }; source: unknown }[] }, params: Readonly<Record<string, string>>, name: string): typeof nb {
  const i = nb.cells.findIndex((c) => c.cell_type === "code" && Array.isArray(c.metadata?.tags) && (c.metadata!.tags as unknown[]).includes("parameters"));
  if (i < 0) throw new InputError(`${name}: -p given, but no code cell is tagged 'parameters'`);
  const src = Array.isArray(nb.cells[i]!.source) ? (nb.cells[i]!.source as string[]).join("") : String(nb.cells[i]!.source);
  const declared = [...src.matchAll(/\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)/g)].map((m) => m[1]!);
  const lines: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (!declared.includes(k))
      throw new InputError(`${name}: -p ${clip(k)}: the parameters cell declares ${declared.length > 0 ? declared.join(", ") : "nothing"}`);
    let literal: string;
    try {
      JSON.parse(v);
      literal = v;
    } catch {
      literal = JSON.stringify(v);
    }
    lines.push(`const ${k} = ${literal};\n`);
  }
  const cell = { cell_type: "code", id: "injected-parameters", execution_count: null, metadata: { tags: ["injected-parameters"] }, outputs: [], source: lines };
  return { ...nb, cells: [...nb.cells.slice(0, i + 1), cell, ...nb.cells.slice(i + 1)] };
}

/** Where and why a notebook stopped. */
export interface CellFailure {
  /** 1-based position of the cell in the notebook. */
  cell: number;
  /** nbformat cell id, when the notebook has ids. */
  id: string | null;
  /** First line of the cell's code. */
  source: string;
  /** What went wrong: the error, the compiler message or the timeout, possibly several lines. */
  message: string;
}

/** Outcome of one notebook. */
export interface RunResult {
  notebook: string;
  /** Path of the executed copy, or null when the notebook failed (the old copy, if any, is kept). */
  output: string | null;
  ok: boolean;
  /** Code cells executed. */
  cellsRun: number;
  /** Code cells to execute. */
  cells: number;
  elapsedMs: number;
  failure: CellFailure | null;
  /** True when the executed copy was up to date and the notebook was not run again. */
  cached: boolean;
}

/**
 * The Python side: runs one notebook with nbclient and reports JSON lines on fd 3 (the kernel's
 * own stdout/stderr stay on 1/2). With "--check" it only checks that Jupyter and the kernel exist.
 */
const EXECUTE_PY = String.raw`
import json, os, sys
try:
    ev = os.fdopen(3, "w", buffering=1, encoding="utf-8")
except OSError:
    ev = sys.stdout
def emit(**kw):
    ev.write(json.dumps(kw) + "\n")
    ev.flush()
try:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
except Exception as e:
    emit(event="fatal", reason="jupyter", message="%s: %s" % (type(e).__name__, e))
    sys.exit(3)

if sys.argv[1] == "--check":
    try:
        spec = KernelSpecManager().get_kernel_spec(sys.argv[2])
        emit(event="ok", argv=spec.argv)
    except NoSuchKernel:
        emit(event="fatal", reason="kernel", message="no Jupyter kernel named %r" % sys.argv[2])
        sys.exit(3)
    sys.exit(0)

src, dst, kernel_name, timeout, run_key = sys.argv[1:6]
# The notebook as the user named it (src may be a copy with injected parameters), for the
# report's reproduce command.
source = sys.argv[6] if len(sys.argv) > 6 else src
nb = nbformat.read(src, as_version=4)
skip_tag = "skip-execution"
def runnable(c):
    return c.cell_type == "code" and c.source.strip() and skip_tag not in c.metadata.get("tags", [])
total = sum(1 for c in nb.cells if runnable(c))
emit(event="start", cells=total)
state = {"done": 0, "current": None}

def first_line(cell):
    for line in cell.source.splitlines():
        if line.strip():
            return line.strip()[:120]
    return ""

def on_cell_execute(cell, cell_index):
    state["current"] = cell_index
    emit(event="cell", index=cell_index, done=state["done"], total=total, source=first_line(cell))

def on_cell_executed(cell, cell_index, execute_reply):
    if (execute_reply or {}).get("content", {}).get("status") != "ok":
        return
    state["done"] += 1
    emit(event="cell_done", index=cell_index, done=state["done"], total=total)

def failure(message):
    i = state["current"]
    cell = nb.cells[i] if i is not None else None
    details = []
    if cell is not None:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                tb = "\n".join(o.get("traceback") or [])
                details.append(tb if tb.strip() else "%s: %s" % (o.get("ename"), o.get("evalue")))
            elif o.get("output_type") == "stream" and o.get("name") == "stderr":
                details.append(o.get("text", ""))
    emit(event="error", index=i, id=(cell.get("id") if cell is not None else None),
         source=(first_line(cell) if cell is not None else ""),
         message=message, details="".join(d if d.endswith("\n") else d + "\n" for d in details))

client = NotebookClient(
    nb, kernel_name=kernel_name, timeout=int(timeout), allow_errors=False, record_timing=True,
    skip_cells_with_tag=skip_tag, resources={"metadata": {"path": os.path.dirname(os.path.abspath(src))}},
    on_cell_execute=on_cell_execute, on_cell_executed=on_cell_executed)
try:
    client.execute()
except CellTimeoutError:
    failure("timed out after %s s" % timeout)
    sys.exit(4)
except DeadKernelError as e:
    failure("the kernel died (%s)" % e)
    sys.exit(4)
except CellExecutionError as e:
    # A TypeScript diagnostic is its own message ("1:7 - Type 'string' is not assignable ...").
    failure(e.evalue if e.ename == "TypeScript" else "%s: %s" % (e.ename, e.evalue) if e.evalue or e.ename != "<Error>" else "the cell raised an error")
    sys.exit(4)
except NoSuchKernel:
    emit(event="fatal", reason="kernel", message="no Jupyter kernel named %r" % kernel_name)
    sys.exit(3)
except Exception as e:
    if state["current"] is not None:
        failure("%s: %s" % (type(e).__name__, e))
        sys.exit(4)
    emit(event="fatal", reason="start", message="%s: %s" % (type(e).__name__, e))
    sys.exit(3)

# What the cache compares next time (see runKey in run.ts).
nb.metadata.setdefault("racelab", {})["run"] = {"key": run_key, "source": source}
tmp = os.path.join(os.path.dirname(dst) or ".", ".%s.%d.tmp" % (os.path.basename(dst), os.getpid()))
try:
    with open(tmp, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)
    os.replace(tmp, dst)
except OSError as e:
    emit(event="fatal", reason="write", message="cannot write the executed copy %s: %s" % (dst, e.strerror or e))
    sys.exit(5)
finally:
    if os.path.exists(tmp):
        os.unlink(tmp)
emit(event="done", cells=state["done"])
`;

interface PyEvent {
  event: "ok" | "fatal" | "start" | "cell" | "cell_done" | "error" | "done";
  [key: string]: unknown;
}

/** Run the Python side; collect its events, stream them to `onEvent`, keep the tail of its output. */
function runPython(
  python: string,
  args: string[],
  onEvent: (e: PyEvent) => void,
  jupyterPath?: string,
  extraEnv: Record<string, string> = {},
): Promise<{ code: number | null; events: PyEvent[]; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: "1", PYTHONUNBUFFERED: "1", ...extraEnv };
  // After the caller's own JUPYTER_PATH (an explicit choice wins), before every user-wide or system kernel.
  if (jupyterPath !== undefined) env["JUPYTER_PATH"] = [process.env["JUPYTER_PATH"], jupyterPath].filter((p) => p).join(":");
  return new Promise((resolvePromise, reject) => {
    const child = spawn(python, ["-Xfrozen_modules=off", "-c", EXECUTE_PY, ...args], {
      stdio: ["ignore", "pipe", "pipe", "pipe"],
      env,
    });
    active = child;
    let output = "";
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString("utf8")).slice(-20_000);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    const events: PyEvent[] = [];
    const lines = createInterface({ input: child.stdio[3] as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      let e: PyEvent;
      try {
        e = JSON.parse(line) as PyEvent;
      } catch {
        return;
      }
      events.push(e);
      onEvent(e);
    });
    child.on("error", (err: NodeJS.ErrnoException) => {
      reject(
        new Error(
          err.code === "ENOENT"
            ? `Jupyter not found: ${python} does not exist (install Debian's python3-nbclient, jupyter-client and python3-ipykernel, or run 'npm start')`
            : `cannot start ${python}: ${err.message}`,
        ),
      );
    });
    child.on("close", (code) => {
      if (active === child) active = null;
      lines.close();
      resolvePromise({ code, events, output });
    });
  });
}

/** Indent a block of text for a message. */
function indent(text: string, prefix = "    "): string {
  return text
    .replace(/\s+$/, "")
    .split("\n")
    .map((l) => prefix + l)
    .join("\n");
}

/** Drop tslab's and node's own stack frames from an error text (they say nothing about the cell). */
export function cleanDetails(text: string): string {
  return text
    .split("\n")
    .filter((l) => !/^\s+at .*(node_modules[\\/]tslab[\\/]|\(node:|node:vm|sigintHandlersWrap)/.test(l))
    .join("\n")
    .trim();
}

/**
 * The line that best says what went wrong in a failed cell's stderr/traceback: a TypeScript
 * diagnostic from tslab ("1:7 - Type 'string' is not ...") or a JavaScript error line
 * ("Error: boom", "TypeError: x is not a function").
 */
export function errorSummary(details: string): string | null {
  const lines = details.split("\n").map((l) => l.trim());
  return (
    lines.find((l) => /^\d+:\d+ - /.test(l)) ??
    lines.find((l) => /^[\w$.]*(Error|Exception)(: |$)/.test(l)) ??
    null
  );
}

/**
 * What to do about a cell's error message, or "": where the racelab package is imported from
 * (a new user's notebook in a checkout imported "racelab", which only a project that installed
 * it has).
 */
export function failureHint(message: string): string {
  if (/Cannot find module '(racelab|\.\/dist|\.)'/.test(message))
    return ` (cells import racelab from "racelab" in a project that installed it, from "./dist" (or ".") in a racelab checkout after npm run build)`;
  return "";
}

/** Message text of a failure: one summary line, then the cell's first line and the details. */
export function formatFailure(notebook: string, f: CellFailure): string {
  const id = f.id ? ` (id ${f.id})` : "";
  // cell 0: the notebook ran (or did not start) but failed outside any cell.
  const msg = f.message + failureHint(f.message);
  const head = f.cell === 0 ? `${notebook}: ${msg}` : `${notebook}: cell ${f.cell}${id} failed: ${msg}`;
  const src = f.source ? `\n${indent("> " + f.source)}` : "";
  return head + src;
}

/** The notebooks `racelab run` runs by default: notebooks/*.ipynb, sorted. */
export async function defaultNotebooks(dir = "notebooks"): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith(".ipynb") && !n.startsWith("."))
    .sort()
    .map((n) => join(dir, n));
}

/**
 * Check that Python has nbclient and that the Jupyter kernel is registered.
 * @throws Error with the fix to apply when either is missing.
 */
export async function checkJupyter(python: string, kernel: string, jupyterPath?: string): Promise<void> {
  const r = await runPython(python, ["--check", kernel], () => undefined, jupyterPath);
  const fatal = r.events.find((e) => e.event === "fatal");
  if (r.code === 0 && !fatal) return;
  if (fatal?.["reason"] === "jupyter") {
    throw new Error(
      `Jupyter not usable with ${python} (${String(fatal["message"])}); install Debian's python3-nbclient, ` +
        "jupyter-client and python3-ipykernel (or run 'npm start')",
    );
  }
  if (fatal?.["reason"] === "kernel") {
    throw new Error(`${String(fatal["message"])}; register it with kernel/install.sh (or run 'npm start')`);
  }
  throw new Error(`Jupyter check failed with ${python}: ${r.output.trim().split("\n").slice(-1)[0] ?? "exit " + r.code}`);
}

/**
 * Execute notebooks headless and write the executed copies.
 *
 * All paths are validated (exist, .ipynb, nbformat 4) and Jupyter is checked before anything
 * runs; notebooks then run one after the other, each in a fresh kernel, and a failing notebook
 * does not stop the others.
 *
 * @param paths notebooks to run; empty: every notebooks/*.ipynb.
 * @returns one result per notebook, in order.
 * @throws InputError (exit 2) for a missing/invalid notebook path, no notebooks found, or two
 *   notebooks with the same file name; Error when Jupyter or the kernel is missing, or the
 *   kernel cannot start.
 */
export async function runNotebooks(paths: readonly string[], opts: RunOptions = {}): Promise<RunResult[]> {
  const outDir = opts.outDir ?? "reports";
  const kernel = opts.kernel ?? "racelab";
  const timeoutSec = opts.timeoutSec ?? 900;
  const python = opts.python ?? process.env["RACELAB_PYTHON"] ?? DEFAULT_PYTHON;
  const log = opts.log ?? ((l: string) => process.stderr.write(l + "\n"));
  const progress = opts.progress ?? (process.stderr.isTTY === true && !process.env["CI"]);

  const list = paths.length > 0 ? [...paths] : await defaultNotebooks();
  if (list.length === 0) throw new InputError("no notebook given and notebooks/ has no .ipynb files");
  const outputs = new Map<string, string>();
  for (const p of list) {
    await readNotebook(p);
    const out = join(outDir, basename(p));
    const other = outputs.get(out);
    if (other !== undefined) throw new InputError(`${other} and ${p} would both be written to ${out}`);
    outputs.set(out, p);
  }
  if (!Number.isInteger(timeoutSec) || timeoutSec <= 0 || timeoutSec > MAX_TIMEOUT_SEC)
    throw new InputError(`bad timeout: ${timeoutSec} (a whole number of seconds from 1 to 1,000,000)`);
  // The `racelab` kernel is this package's own (see privateKernelDir); another name is looked up
  // as Jupyter finds it.
  const prefix = kernel === "racelab" ? await privateKernelDir(python) : undefined;
  if (prefix !== undefined) ownTemp.add(prefix);
  const jupyterPath = prefix === undefined ? undefined : join(prefix, "share", "jupyter");
  try {
    return await runAll(list, outDir, kernel, timeoutSec, python, log, progress, jupyterPath, opts.force === true, opts.parameters ?? {});
  } finally {
    if (prefix !== undefined) {
      await rm(prefix, { recursive: true, force: true });
      ownTemp.delete(prefix);
    }
  }
}

async function runAll(
  list: readonly string[],
  outDir: string,
  kernel: string,
  timeoutSec: number,
  python: string,
  log: (line: string) => void,
  progress: boolean,
  jupyterPath: string | undefined,
  force: boolean,
  parameters: Readonly<Record<string, string>>,
): Promise<RunResult[]> {
  // Parameters: each notebook runs as a copy with them injected, next to it (so its kernel starts
  // in the same folder); checked for every notebook before any runs.
  const sources = new Map<string, Buffer>();
  for (const nbPath of list) {
    const bytes = await readFile(nbPath);
    sources.set(nbPath, Object.keys(parameters).length === 0 ? bytes : Buffer.from(JSON.stringify(injectParameters(JSON.parse(bytes.toString("utf8")), parameters, nbPath), null, 1) + "\n"));
  }
  await checkJupyter(python, kernel, jupyterPath);

  await ensureDir(outDir).catch((e: NodeJS.ErrnoException) => {
    throw new InputError(`--out ${clip(outDir)}: cannot create the folder (${e.code ?? e.message})`);
  });
  const results: RunResult[] = [];
  stopRequested = null;
  for (const nbPath of list) {
    if (stopRequested !== null) break;
    const out = join(outDir, basename(nbPath));
    const started = Date.now();
    const source = sources.get(nbPath)!;
    const key = await runKey(source, kernel, undefined, await notebookInputsHash(nbPath, source));
    if (!force && (await upToDate(out, key))) {
      const cells = (JSON.parse(await readFile(nbPath, "utf8")) as { cells: { cell_type: string; source: unknown }[] }).cells.filter(
        (c) => c.cell_type === "code",
      ).length;
      log(`racelab run: ${nbPath}: unchanged since its last run (same notebook, same local files it loads, racelab build and lockfile), not re-executed (--force runs it) -> ${out}`);
      results.push({ notebook: nbPath, output: out, ok: true, cellsRun: 0, cells, elapsedMs: Date.now() - started, failure: null, cached: true });
      continue;
    }
    let bar: cliProgress.SingleBar | null = null;
    let cells = 0;
    let done = 0;
    const name = nbPath.length > 40 ? "…" + nbPath.slice(-39) : nbPath;
    if (progress) {
      bar = new cliProgress.SingleBar(
        {
          format: `${name} [{bar}] {value}/{total} cells {status}`,
          barsize: 24,
          hideCursor: true,
          clearOnComplete: false,
          stream: process.stderr,
          fps: 10,
        },
        cliProgress.Presets.shades_classic,
      );
    } else {
      log(`racelab run: ${nbPath} ...`);
    }
    // The results the notebook computes (check(), rates()), for `racelab archive` and `verify`.
    const stem = basename(nbPath, ".ipynb");
    await sweepStale(outDir, stem);
    await sweepStale(dirname(nbPath), stem);
    const recorded = join(outDir, `.${stem}.results.${process.pid}.jsonl`);
    await rm(recorded, { force: true });
    ownTemp.add(recorded);
    let runPath = nbPath;
    if (Object.keys(parameters).length > 0) {
      runPath = join(dirname(nbPath), `.${stem}.parameters-${process.pid}.ipynb`);
      ownTemp.add(runPath);
      await writeFile(runPath, source);
    }
    const attempt = () =>
      runPython(python, [resolve(runPath), resolve(out), kernel, String(timeoutSec), key, relative(process.cwd(), resolve(nbPath)) || nbPath], (e) => {
        if (e.event === "start") {
          cells = Number(e["cells"]);
          bar?.start(Math.max(cells, 1), 0, { status: "starting kernel" });
        } else if (e.event === "cell") {
          bar?.update(Number(e["done"]), { status: `> ${String(e["source"]).slice(0, 40)}` });
        } else if (e.event === "cell_done") {
          done = Number(e["done"]);
          bar?.update(done, { status: "" });
        }
      }, jupyterPath, { RACELAB_RECORD: resolve(recorded) });
    let r: Awaited<ReturnType<typeof attempt>>;
    try {
      r = await attempt();
      // A kernel that did not start (it died at once, or did not answer within nbclient's 60 s,
      // seen once under load) has run no cell: start it once more before calling the run failed.
      const notStarted = r.events.find((e) => e.event === "fatal" && e["reason"] === "start");
      if (notStarted !== undefined && stopRequested === null) {
        log(`racelab run: ${nbPath}: the kernel did not start (${String(notStarted["message"])}); starting it once more`);
        r = await attempt();
      }
    } finally {
      if (runPath !== nbPath) {
        await rm(runPath, { force: true });
        ownTemp.delete(runPath);
      }
    }
    const resultsPath = join(outDir, `${basename(nbPath, ".ipynb")}.results.jsonl`);
    if (r.code === 0 && r.events.some((e) => e.event === "done")) {
      // Kept beside the executed copy (an empty file when the notebook computed nothing).
      await writeFile(recorded, "", { flag: "a" });
      await rename(recorded, resultsPath);
    } else await rm(recorded, { force: true });
    ownTemp.delete(recorded);
    const elapsedMs = Date.now() - started;
    if (stopRequested !== null && !r.events.some((e) => e.event === "done")) {
      bar?.stop();
      const failure: CellFailure = { cell: 0, id: null, source: "", message: `stopped: ${stopRequested}` };
      log(`racelab run: ${nbPath}: stopped (${stopRequested}); the kernel was shut down, the old copy (if any) kept`);
      results.push({ notebook: nbPath, output: null, ok: false, cellsRun: done, cells, elapsedMs, failure, cached: false });
      break;
    }
    const err = r.events.find((e) => e.event === "error");
    const fatal = r.events.find((e) => e.event === "fatal");
    const ok = r.code === 0 && r.events.some((e) => e.event === "done");
    if (bar) {
      bar.update(done, { status: ok ? `ok (${(elapsedMs / 1000).toFixed(1)} s)` : "FAILED" });
      bar.stop();
    }
    if (ok) {
      if (!progress) log(`racelab run: ${nbPath}: ${done} cells ok (${(elapsedMs / 1000).toFixed(1)} s) -> ${out}`);
      results.push({ notebook: nbPath, output: out, ok: true, cellsRun: done, cells, elapsedMs, failure: null, cached: false });
      continue;
    }
    let failure: CellFailure;
    if (err) {
      const index = typeof err["index"] === "number" ? err["index"] : -1;
      const details = cleanDetails(String(err["details"] ?? ""));
      const generic = String(err["message"]) === "the cell raised an error";
      const summary = generic ? (errorSummary(details) ?? String(err["message"])) : String(err["message"]);
      failure = {
        cell: index + 1,
        id: typeof err["id"] === "string" ? err["id"] : null,
        source: String(err["source"] ?? ""),
        message: summary + (details && details !== summary ? `\n${details}` : ""),
      };
    } else if (fatal && fatal["reason"] === "write") {
      failure = { cell: 0, id: null, source: "", message: String(fatal["message"]) };
    } else if (fatal) {
      if (fatal["reason"] === "kernel") {
        throw new Error(`${String(fatal["message"])}; register it with kernel/install.sh`);
      }
      const tail = r.output.trim().split("\n").slice(-8).join("\n");
      throw new Error(`${nbPath}: the kernel did not start: ${String(fatal["message"])}${tail ? "\n" + indent(tail) : ""}`);
    } else {
      const tail = r.output.trim().split("\n").slice(-8).join("\n");
      failure = { cell: 0, id: null, source: "", message: `Jupyter exited with status ${r.code}${tail ? "\n" + tail : ""}` };
    }
    const [head, ...rest] = failure.message.split("\n");
    const text = formatFailure(nbPath, { ...failure, message: head ?? "" });
    log(`racelab run: ${text}${rest.length ? "\n" + indent(rest.join("\n")) : ""}`);
    results.push({ notebook: nbPath, output: null, ok: false, cellsRun: done, cells, elapsedMs, failure, cached: false });
  }
  return results;
}

/**
 * CLI wrapper: run {@link runNotebooks}, print the executed copies' paths on stdout. SIGINT or
 * SIGTERM stops the run and its kernel ({@link stopNotebooks}); a second one exits at once.
 * @returns the exit status: 0 all ran, 1 a notebook failed or Jupyter is unusable, 2 bad input,
 *   130 / 143 stopped by SIGINT / SIGTERM.
 */
export async function runCommand(paths: readonly string[], opts: RunOptions = {}): Promise<number> {
  let signal: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signal !== null) process.exit(sig === "SIGINT" ? 130 : 143); // a second one: at once
    signal = sig;
    process.stderr.write(`racelab run: ${sig}: stopping the notebook and its kernel (again to quit at once)\n`);
    stopNotebooks(sig);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // (A second signal exits at once: no finally runs, this does.)
  process.on("exit", removeOwnTemp);
  try {
    const results = await runNotebooks(paths, opts);
    if (signal !== null) return signal === "SIGINT" ? 130 : 143;
    for (const r of results) if (r.output) process.stdout.write(r.output + "\n");
    const failed = results.filter((r) => !r.ok);
    if (failed.length > 0) {
      process.stderr.write(`racelab run: ${failed.length} of ${results.length} notebook(s) failed: ${failed.map((r) => r.notebook).join(", ")}\n`);
      return 1;
    }
    return 0;
  } catch (e) {
    process.stderr.write(`racelab run: ${(e as Error).message}\n`);
    return e instanceof InputError ? 2 : 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("exit", removeOwnTemp);
  }
}

/**
 * Add the `run` subcommand to a commander program. The action sets `process.exitCode`.
 * @returns the subcommand.
 */
export function registerRunCommand(program: Command): Command {
  return program
    .command("run")
    .description("execute notebooks headless (Jupyter + racelab kernel); executed copies go to reports/")
    .argument("[notebooks...]", "notebooks to run (default: notebooks/*.ipynb)")
    .option("--out <dir>", "folder for the executed copies", "reports")
    .option("--timeout <seconds>", "per-cell timeout", "900")
    .option("--kernel <name>", "Jupyter kernel", "racelab")
    .option("--force", "re-execute notebooks whose executed copy is up to date")
    .option("-p, --parameter <name=value>", "set a parameter of the cell tagged 'parameters' (papermill style), repeatable", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action(async (paths: string[], o: { out: string; timeout: string; kernel: string; force?: boolean; parameter: string[] }) => {
      const parameters: Record<string, string> = {};
      for (const item of o.parameter) {
        const m = /^([A-Za-z_$][\w$]*)=(.*)$/s.exec(item);
        if (!m) {
          process.stderr.write(`racelab run: -p: expected name=value (name a TypeScript identifier), got ${JSON.stringify(clip(item))}\n`);
          process.exitCode = 2;
          return;
        }
        parameters[m[1]!] = m[2]!;
      }
      const timeoutSec = Number(o.timeout);
      if (!/^\d{1,7}$/.test(o.timeout) || timeoutSec <= 0 || timeoutSec > MAX_TIMEOUT_SEC) {
        process.stderr.write(
          `racelab run: --timeout: expected a whole number of seconds from 1 to 1,000,000, got ${JSON.stringify(clip(o.timeout))}\n`,
        );
        process.exitCode = 2;
        return;
      }
      process.exitCode = await runCommand(paths, { outDir: o.out, timeoutSec, kernel: o.kernel, force: o.force === true, parameters });
    });
}

