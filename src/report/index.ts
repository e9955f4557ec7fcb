/**
 * Notebook reports: executed .ipynb -> one document model (model.ts, built by document.ts) ->
 * writers: self-contained HTML (html.ts; the PDF prints it, pdf.ts) and the mail writeup (mail.ts).
 */
export { writeFileAtomic } from "./atomic.js";
export { applyCellTags, type ViewCell, type Visibility } from "./cells.js";
export {
  buildReport,
  cellBlocks,
  dropRepeatedTitle,
  isoDate,
  markdownBlocks,
  notebookScenario,
  numberBlocks,
  reportDate,
  reportTitle,
  verdictsOf,
  type BuildOptions,
} from "./document.js";
export type * from "./model.js";
export { InputError } from "../errors.js";
export { assembleHtml, cellHtml, outputHtml, REPORT_CSP, REPORT_CSS, tableMinWidth, tableOfContents } from "./html.js";
export { mailEml, mailFromDocument, mailText, type EmlOptions, type MailOptions } from "./mail.js";
export { parseMarkdown, renderInline, renderMarkdown, renderTokens } from "./markdown.js";
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
export { cellOutputBlocks, cleanTerminalText, MIME_PRIORITY, outputBlocks, parseTextTable, pickMime } from "./outputs.js";
export { CHROMIUM_ARGS, DEFAULT_CHROMIUM, htmlToPdf, printPdf, withBrowser, type BrowserOptions, type PdfResult } from "./pdf.js";
export { sanitizeHtmlOutput, sanitizeSvgOutput } from "./sanitize.js";
