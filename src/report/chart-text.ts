/**
 * A chart's values as a small text table, for the mail writeup: {@link chartTable} lives in
 * src/notebook/cell-text.ts, so that a chart's `text/plain` in the notebook is the same table.
 */
export { CHART_TABLE_ROWS, chartCell, chartTable } from "../notebook/cell-text.js";
