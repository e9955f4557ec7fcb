/** Notebook reports: executed .ipynb -> self-contained HTML and PDF. */
export { writeFileAtomic } from "./atomic.js";
export { applyCellTags, type ViewCell, type Visibility } from "./cells.js";
export {
  buildReport,
  dropRepeatedTitle,
  isoDate,
  numberFigures,
  renderCells,
  reportDate,
  reportTitle,
  type ReportCell,
  type ReportDocument,
} from "./document.js";
export { InputError } from "../errors.js";
export { assembleHtml, renderReportCell, REPORT_CSP, REPORT_CSS } from "./html.js";
export { renderMarkdown } from "./markdown.js";
export {
  joinText,
  parseNotebook,
  readNotebook,
  validateNotebook,
  type Notebook,
  type NotebookCell,
  type NotebookOutput,
  type RacelabMetadata,
} from "./notebook.js";
export { cleanTerminalText, MIME_PRIORITY, pickMime, renderOutput, renderOutputs, type OutputBlock } from "./outputs.js";
export { CHROMIUM_ARGS, DEFAULT_CHROMIUM, htmlToPdf, printPdf, withBrowser, type BrowserOptions, type PdfResult } from "./pdf.js";
export { sanitizeHtmlOutput, sanitizeSvgOutput } from "./sanitize.js";
