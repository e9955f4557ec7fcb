/**
 * Cell tags pass: decide which cells, inputs and outputs the report shows.
 *
 * Tags (as in nbconvert's TagRemovePreprocessor and Jupyter Book):
 * - `remove-cell`: the cell is dropped.
 * - `remove-input`: the code is dropped, the outputs stay.
 * - `remove-output`: the outputs are dropped, the code stays.
 * - `hide-input` / `hide-output`: shown collapsed (a `<details>` the reader can open).
 * JupyterLab's own collapse state (`metadata.jupyter.source_hidden` / `outputs_hidden`) counts as
 * hide-input / hide-output. Raw cells are dropped (they are meant for other formats), and so are
 * code cells with neither code nor outputs.
 */
import type { Notebook, NotebookCell } from "./notebook.js";
import { joinText } from "./notebook.js";

/** How a part of a cell appears in the report. */
export type Visibility = "show" | "hide" | "remove";

/** A cell as the report will show it. */
export interface ViewCell {
  /** 1-based position of the cell in the notebook (for messages). */
  number: number;
  cell: NotebookCell;
  input: Visibility;
  outputs: Visibility;
}

function tagsOf(cell: NotebookCell): Set<string> {
  return new Set(Array.isArray(cell.metadata.tags) ? cell.metadata.tags : []);
}

/**
 * Apply the cell tags of `nb` (see the module notes).
 * @returns the cells that remain, in order, each with its input/output visibility. Markdown cells
 *   always have input "show" and outputs "remove".
 */
export function applyCellTags(nb: Notebook): ViewCell[] {
  const out: ViewCell[] = [];
  nb.cells.forEach((cell, i) => {
    const tags = tagsOf(cell);
    if (tags.has("remove-cell") || cell.cell_type === "raw") return;
    if (cell.cell_type === "markdown") {
      if (joinText(cell.source).trim() === "") return;
      out.push({ number: i + 1, cell, input: "show", outputs: "remove" });
      return;
    }
    const jupyter = (cell.metadata["jupyter"] ?? {}) as { source_hidden?: unknown; outputs_hidden?: unknown };
    const input: Visibility =
      tags.has("remove-input") || joinText(cell.source).trim() === ""
        ? "remove"
        : tags.has("hide-input") || tags.has("hide-cell") || jupyter.source_hidden === true
          ? "hide"
          : "show";
    const outputs: Visibility =
      tags.has("remove-output") || (cell.outputs ?? []).length === 0
        ? "remove"
        : tags.has("hide-output") || tags.has("hide-cell") || jupyter.outputs_hidden === true
          ? "hide"
          : "show";
    if (input === "remove" && outputs === "remove") return;
    out.push({ number: i + 1, cell, input, outputs });
  });
  return out;
}
