/**
 * Markdown cells -> HTML with markdown-it, for a report that loads nothing from outside.
 *
 * - `html: false`: raw HTML in markdown (`<script>`, `<img onerror>`, ...) is escaped as text.
 * - Links: in-page links (`#anchor`), `https:` and `mailto:` links are links (`rel="noreferrer
 *   noopener"`; following one is the reader's choice, opening the report loads nothing); any other
 *   target (http:, relative files, javascript:) is rendered as the link text followed by the
 *   target as plain text. A link's text is followed by its URL in small print, so it reads on
 *   paper too.
 * - Images: notebook attachments (`attachment:name`) and inline `data:image/...;base64` images
 *   become data-URI images; any other image is replaced by a visible "[image omitted]" note.
 * - Headings get slug ids so in-page links work.
 *
 * The report's document model keeps markdown as markdown-it tokens ({@link parseMarkdown}); the
 * HTML writer renders them with {@link renderTokens} and {@link renderInline}.
 */
import MarkdownIt, { type Env, type MarkdownIt as MarkdownItT, type Token } from "markdown-it";
import { escapeHtml } from "../notebook/display.js";

/** Attachments of a markdown cell: name -> MIME bundle (base64 image data). */
export type Attachments = Record<string, Record<string, unknown>>;

interface RenderEnv extends Env {
  attachments?: Attachments;
  links?: (string | null)[];
  slugs?: Map<string, number>;
}

const IMAGE_MIMES = ["image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"];
const DATA_IMAGE = /^data:image\/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]+$/;

/** Slug of a heading as Jupyter makes it: spaces -> "-", other characters kept (then escaped). */
export function headingSlug(text: string): string {
  return text.trim().replace(/\s+/g, "-");
}

/** `data:` URI of an attachment image, or null when the attachment is missing or not an image. */
function attachmentUri(name: string, attachments: Attachments | undefined): string | null {
  const bundle = attachments?.[name];
  if (!bundle) return null;
  for (const mime of IMAGE_MIMES) {
    const raw = bundle[mime];
    const b64 = typeof raw === "string" ? raw : Array.isArray(raw) ? raw.join("") : null;
    if (b64 !== null && /^[A-Za-z0-9+/=\s]+$/.test(b64)) return `data:${mime};base64,${b64.replace(/\s+/g, "")}`;
  }
  return null;
}

/** Code spans up to this many characters never break across lines (CSS `white-space: nowrap`). */
export const SHORT_CODE = 32;

/**
 * Inline code as HTML: `<code>` (kept on one line by the report's CSS, so that `--memory-model`
 * never breaks at its hyphens), or `<code class="long">` for one longer than {@link SHORT_CODE}
 * characters, which wraps.
 */
export function inlineCode(text: string): string {
  return `<code${[...text].length > SHORT_CODE ? ' class="long"' : ""}>${escapeHtml(text)}</code>`;
}

/**
 * Text as HTML with each word that holds a hyphen (`lock-check`, `dev->buf`, `--memory-model`)
 * kept whole (`<span class="nw">`) when it is short: a line breaks at spaces, not at `-`. The
 * other words pass through `rest` once escaped (default: as they are).
 */
export function keepHyphens(text: string, rest: (escaped: string) => string = (e) => e): string {
  return text
    .split(/(\s+)/)
    .map((w) => (shortHyphenated(w) ? `<span class="nw">${escapeHtml(w)}</span>` : rest(escapeHtml(w))))
    .join("");
}

/** A word {@link keepHyphens} keeps whole: one with a hyphen (`lock-check`, `--memory-model`), 24 characters at most. */
export function shortHyphenated(w: string): boolean {
  return /\S-|-\S/.test(w) && [...w].length <= 24;
}

function createRenderer(): MarkdownItT {
  const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
  const rules = md.renderer.rules;

  rules.code_inline = (tokens: Token[], idx: number): string => inlineCode(tokens[idx]!.content);
  rules.link_open = (tokens: Token[], idx: number, _opts, envArg): string => {
    const env = envArg as RenderEnv;
    const href = String(tokens[idx]!.attrGet("href") ?? "");
    env.links ??= [];
    if (/^#[^\s"'<>]*$/.test(href)) {
      env.links.push(null);
      return `<a href="${escapeHtml(href)}">`;
    }
    env.links.push(href);
    if (/^(https:\/\/|mailto:)[^\s"'<>]+$/i.test(href)) return `<a class="link" href="${escapeHtml(href)}" rel="noreferrer noopener">`;
    return '<span class="link">';
  };
  rules.link_close = (tokens: Token[], idx: number, _opts, envArg): string => {
    const env = envArg as RenderEnv;
    const href = env.links?.pop() ?? null;
    if (href === null) return "</a>";
    const close = /^(https:\/\/|mailto:)[^\s"'<>]+$/i.test(href) ? "</a>" : "</span>";
    // Autolinks (<https://...>) already show their target as the link text.
    const open = tokens.slice(0, idx).reverse().find((t) => t.type === "link_open");
    if (open?.markup === "autolink" || open?.markup === "linkify") return close;
    return `${close} <span class="url">&lt;${escapeHtml(decodeURI_(href))}&gt;</span>`;
  };
  rules.image = (tokens: Token[], idx: number, _opts, envArg): string => {
    const env = envArg as RenderEnv;
    const token = tokens[idx]!;
    const src = String(token.attrGet("src") ?? "");
    const alt = token.children ? md.renderer.renderInlineAsText(token.children, md.options, env) : token.content;
    let uri: string | null = null;
    if (src.startsWith("attachment:")) uri = attachmentUri(decodeURI_(src.slice("attachment:".length)), env.attachments);
    else if (DATA_IMAGE.test(src)) uri = src;
    if (uri === null) {
      return `<span class="omitted">[image omitted: ${escapeHtml(alt || decodeURI_(src))}]</span>`;
    }
    return `<img src="${escapeHtml(uri)}" alt="${escapeHtml(alt)}">`;
  };
  rules.heading_open = (tokens: Token[], idx: number, _opts, envArg): string => {
    const env = envArg as RenderEnv;
    env.slugs ??= new Map();
    const slug = uniqueSlug(headingSlug(inlineText(tokens[idx + 1]?.children ?? [])), env.slugs);
    return `<${tokens[idx]!.tag} id="${escapeHtml(slug)}">`;
  };
  return md;
}

/**
 * `slug`, or `slug-1`, `slug-2`, ... when it was taken before (as Jupyter numbers repeated
 * headings); records it in `slugs`.
 */
export function uniqueSlug(slug: string, slugs: Map<string, number>): string {
  const n = slugs.get(slug) ?? 0;
  slugs.set(slug, n + 1);
  return n > 0 ? `${slug}-${n}` : slug;
}

/**
 * Inline tokens as plain text: text and code spans' text, a link's text without its target, an
 * image's alt text; line breaks as spaces.
 */
export function inlineText(children: readonly Token[]): string {
  let out = "";
  for (const t of children) {
    if (t.type === "text" || t.type === "code_inline" || t.type === "html_inline") out += t.content;
    else if (t.type === "softbreak" || t.type === "hardbreak") out += " ";
    else if (t.type === "image") out += inlineText(t.children ?? []);
  }
  return out;
}

function decodeURI_(s: string): string {
  try {
    return decodeURI(s);
  } catch {
    return s;
  }
}

let shared: MarkdownItT | null = null;

function renderer(): MarkdownItT {
  shared ??= createRenderer();
  return shared;
}

/** Markdown source as markdown-it block tokens (raw HTML off: it stays text). */
export function parseMarkdown(source: string): Token[] {
  return renderer().parse(source, {});
}

/**
 * Block tokens (from {@link parseMarkdown}) as HTML safe to embed in the report (see the module
 * notes). `slugs`: heading ids already used in the document (updated).
 */
export function renderTokens(tokens: readonly Token[], attachments?: Attachments | null, slugs?: Map<string, number>): string {
  const md = renderer();
  const env: RenderEnv = { slugs: slugs ?? new Map() };
  if (attachments) env.attachments = attachments;
  return md.renderer.render(tokens as Token[], md.options, env);
}

/** Inline tokens (a heading's) as HTML, with the same link and image rules as {@link renderTokens}. */
export function renderInline(children: readonly Token[], attachments?: Attachments | null): string {
  const md = renderer();
  const env: RenderEnv = {};
  if (attachments) env.attachments = attachments;
  return md.renderer.renderInline(children as Token[], md.options, env);
}

/**
 * Render markdown to HTML safe to embed in the report (see the module notes).
 *
 * @param source the markdown text.
 * @param attachments the cell's `attachments`, for `![](attachment:name)` images.
 * @param slugs heading ids already used in the document (updated), so ids stay unique across cells.
 */
export function renderMarkdown(source: string, attachments?: Attachments, slugs?: Map<string, number>): string {
  return renderTokens(parseMarkdown(source), attachments, slugs);
}
