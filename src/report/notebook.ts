/**
 * Reading Jupyter notebooks (nbformat 4): the types racelab relies on and a shape check that
 * turns bad input into a one-line {@link InputError}.
 */
import { InputError } from "../errors.js";
import { readFile } from "node:fs/promises";

/** nbformat stores text as a string or as a list of lines (each with its newline). */
export type MultilineString = string | string[];

/** One output of a code cell. */
export interface NotebookOutput {
  output_type: "stream" | "display_data" | "execute_result" | "error" | string;
  /** stream: "stdout" | "stderr". */
  name?: string;
  /** stream text. */
  text?: MultilineString;
  /** display_data / execute_result: MIME type -> data (multiline string or JSON for +json types). */
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  execution_count?: number | null;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

/** One cell. */
export interface NotebookCell {
  cell_type: "code" | "markdown" | "raw";
  id?: string;
  source: MultilineString;
  metadata: { tags?: string[]; [key: string]: unknown };
  outputs?: NotebookOutput[];
  execution_count?: number | null;
  /** markdown cells: attachment name -> MIME bundle (base64 for images). */
  attachments?: Record<string, Record<string, unknown>>;
}

/** The `racelab` notebook metadata (README, "Notebooks and reports"): scenario id, title, the Message-Id replied to. */
export interface RacelabMetadata {
  scenario?: string;
  title?: string;
  inReplyTo?: string;
  [key: string]: unknown;
}

/** A notebook, nbformat 4. */
export interface Notebook {
  nbformat: 4;
  nbformat_minor: number;
  metadata: { racelab?: RacelabMetadata; [key: string]: unknown };
  cells: NotebookCell[];
}

/** Join a multiline string as nbformat stores it. Anything else gives "". */
export function joinText(s: unknown): string {
  if (typeof s === "string") return s;
  if (Array.isArray(s)) return s.filter((x) => typeof x === "string").join("");
  return "";
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function isMultiline(v: unknown): boolean {
  return typeof v === "string" || (Array.isArray(v) && v.every((x) => typeof x === "string"));
}

/**
 * Check that `value` has the basic nbformat 4 shape racelab reads: `nbformat` 4, `cells` a list of
 * code/markdown/raw cells with string (or list of strings) sources, code cell `outputs` a list of
 * objects with an `output_type`. Missing `metadata` objects are filled in as `{}`.
 *
 * @param name how to call the input in messages (usually its path).
 * @throws InputError with a one-line reason.
 */
export function validateNotebook(value: unknown, name: string): Notebook {
  if (!isObject(value)) throw new InputError(`${name}: not a notebook (top level is not a JSON object)`);
  if (value["nbformat"] !== 4) {
    throw new InputError(`${name}: not an nbformat 4 notebook (nbformat is ${JSON.stringify(value["nbformat"] ?? null)})`);
  }
  if (!Array.isArray(value["cells"])) throw new InputError(`${name}: not a notebook ("cells" is not a list)`);
  if (value["metadata"] === undefined) value["metadata"] = {};
  if (!isObject(value["metadata"])) throw new InputError(`${name}: notebook "metadata" is not an object`);
  if (typeof value["nbformat_minor"] !== "number") value["nbformat_minor"] = 0;
  const racelab = value["metadata"]["racelab"];
  if (racelab !== undefined && !isObject(racelab)) {
    throw new InputError(`${name}: notebook metadata "racelab" is not an object`);
  }
  value["cells"].forEach((cell: unknown, i: number) => {
    const where = `${name}: cell ${i + 1}`;
    if (!isObject(cell)) throw new InputError(`${where} is not an object`);
    const type = cell["cell_type"];
    if (type !== "code" && type !== "markdown" && type !== "raw") {
      throw new InputError(`${where}: unknown cell_type ${JSON.stringify(type ?? null)}`);
    }
    if (!isMultiline(cell["source"])) throw new InputError(`${where}: source is not a string or a list of strings`);
    if (cell["metadata"] === undefined) cell["metadata"] = {};
    if (!isObject(cell["metadata"])) throw new InputError(`${where}: metadata is not an object`);
    const tags = cell["metadata"]["tags"];
    if (tags !== undefined && !(Array.isArray(tags) && tags.every((t) => typeof t === "string"))) {
      throw new InputError(`${where}: metadata.tags is not a list of strings`);
    }
    if (type === "code") {
      if (cell["outputs"] === undefined) cell["outputs"] = [];
      if (!Array.isArray(cell["outputs"])) throw new InputError(`${where}: outputs is not a list`);
      cell["outputs"].forEach((o: unknown, j: number) => {
        if (!isObject(o) || typeof o["output_type"] !== "string") {
          throw new InputError(`${where}: output ${j + 1} has no output_type`);
        }
        // The fields the report reads, in the types nbformat gives them.
        const tb = o["traceback"];
        if (tb !== undefined && !(Array.isArray(tb) && tb.every((l) => typeof l === "string")))
          throw new InputError(`${where}: output ${j + 1}: traceback is not a list of strings`);
        for (const k of ["ename", "evalue", "name"])
          if (o[k] !== undefined && typeof o[k] !== "string") throw new InputError(`${where}: output ${j + 1}: ${k} is not a string`);
        if (o["text"] !== undefined && !isMultiline(o["text"])) throw new InputError(`${where}: output ${j + 1}: text is not a string or a list of strings`);
        if (o["data"] !== undefined && !isObject(o["data"])) throw new InputError(`${where}: output ${j + 1}: data is not an object`);
      });
    }
  });
  return value as unknown as Notebook;
}

/**
 * Parse notebook JSON text and validate it (see {@link validateNotebook}).
 * @throws InputError when the text is not JSON or not an nbformat 4 notebook.
 */
export function parseNotebook(text: string, name: string): Notebook {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${name}: not a notebook (invalid JSON: ${(e as Error).message.split("\n")[0]})`);
  }
  return validateNotebook(value, name);
}

/**
 * Read and validate a notebook file.
 * @throws InputError when the path does not end in .ipynb, cannot be read, or is not a notebook.
 */
export async function readNotebook(path: string): Promise<Notebook> {
  if (!path.endsWith(".ipynb")) throw new InputError(`${path}: not a notebook (expected a .ipynb file)`);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (e as Error).message;
    throw new InputError(`${path}: ${why}`);
  }
  return parseNotebook(text, path);
}
