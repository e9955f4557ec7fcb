/**
 * Sanitizing untrusted notebook HTML and SVG outputs for the report, with sanitize-html and
 * strict allow-lists:
 *
 * - only listed tags survive; `<script>`, `<style>`, `<iframe>`, `<object>`, `<foreignObject>`,
 *   forms and every unknown tag are dropped (script/style text with them);
 * - only listed attributes survive: no event handlers (`on*`), no `style`, no `href`/`xlink:href`;
 *   `src` only on `<img>` and only as a `data:image/...;base64` URI;
 * - attribute values that reference anything with `url(...)` are dropped unless they point to a
 *   fragment in the same SVG (`url(#clip1)`); so are values with a backslash (CSS escapes spell
 *   `url(` as `\75 rl(` or `u\rl(`) and other CSS image functions (`image-set()`, `image()`,
 *   `element()`, `cross-fade()`, `src()`);
 * - `class` keeps only the classes the report styles outputs with (`racelab-table`, `racelab-pre`,
 *   `num`): an output cannot dress itself as the report's header or any other part of the page;
 * - ids are prefixed (and `url(#id)` references rewritten) so that outputs do not clash with each
 *   other or with the page.
 *
 * The page's Content-Security-Policy is a second line of defence, not the first.
 */
import sanitizeHtml from "sanitize-html";

const HTML_TAGS = [
  "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col",
  "p", "br", "hr", "div", "span", "b", "strong", "i", "em", "u", "s", "del", "ins", "code", "pre",
  "kbd", "samp", "var", "sub", "sup", "small", "mark", "abbr", "q", "cite", "blockquote",
  "ul", "ol", "li", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
  "figure", "figcaption", "details", "summary", "img", "wbr",
];

const SVG_TAGS = [
  "svg", "g", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "tspan",
  "title", "desc", "defs", "clipPath", "linearGradient", "radialGradient", "stop", "mask",
  "marker", "symbol",
  // Removed with everything inside them by the exclusive filter below:
  "foreignObject",
];
// htmlparser2 keeps SVG's camelCase tag names inside <svg> (and lower-cases them elsewhere).
SVG_TAGS.push(...SVG_TAGS.filter((t) => t !== t.toLowerCase()).map((t) => t.toLowerCase()));

const COMMON_ATTRS = ["class", "id", "title", "lang", "dir", "role", "aria-*"];

const SVG_ATTRS = [
  ...COMMON_ATTRS, "width", "height", "viewbox", "preserveaspectratio", "x", "y", "x1", "y1", "x2",
  "y2", "cx", "cy", "r", "rx", "ry", "d", "points", "transform", "fill", "fill-opacity", "fill-rule",
  "stroke", "stroke-width", "stroke-opacity", "stroke-dasharray", "stroke-dashoffset",
  "stroke-linecap", "stroke-linejoin", "stroke-miterlimit", "opacity", "clip-path", "clip-rule",
  "mask", "font-family", "font-size", "font-style", "font-weight", "font-variant", "text-anchor",
  "dominant-baseline", "alignment-baseline", "baseline-shift", "letter-spacing", "word-spacing",
  "text-decoration", "dx", "dy", "rotate", "textlength", "lengthadjust", "offset", "stop-color",
  "stop-opacity", "gradientunits", "gradienttransform", "clippathunits", "maskunits",
  "maskcontentunits", "markerwidth", "markerheight", "refx", "refy", "orient", "markerunits",
  "marker-start", "marker-mid", "marker-end", "pointer-events", "display", "visibility",
  "shape-rendering", "text-rendering", "vector-effect", "paint-order", "cursor", "version",
  "aria-roledescription", "aria-label", "aria-hidden",
];

/** Classes an output may carry: those racelab's own tables and blocks use (report/html.ts styles them). */
const OUTPUT_CLASSES = new Set(["racelab-table", "racelab-pre", "num"]);
/** CSS functions that fetch or embed an image, besides url(). */
const CSS_IMAGE_FUNCTIONS = /(?:^|[^\w-])(?:-webkit-)?(?:image-set|image|element|cross-fade|src)\s*\(/i;

const DATA_IMAGE = /^data:image\/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]+$/;
const LOCAL_URL = /^url\(\s*#([-\w.:]+)\s*\)$/;

/** Attribute filter shared by HTML and SVG mode: ids prefixed, external references dropped. */
function filterAttributes(prefix: string) {
  return (tagName: string, attribs: sanitizeHtml.Attributes): sanitizeHtml.Transformer extends (...a: never[]) => infer R ? R : never => {
    const out: sanitizeHtml.Attributes = {};
    for (const [name, value] of Object.entries(attribs)) {
      const v = String(value);
      if (name === "id") {
        out[name] = prefix + v;
        continue;
      }
      if (name === "class") {
        const keep = v.split(/\s+/).filter((c) => OUTPUT_CLASSES.has(c));
        if (keep.length > 0) out[name] = keep.join(" ");
        continue;
      }
      // CSS escapes can spell url( (\75 rl(, u\rl(); no allowed attribute needs a backslash.
      if (v.includes("\\") || CSS_IMAGE_FUNCTIONS.test(v)) continue;
      if (name === "src") {
        if (tagName === "img" && DATA_IMAGE.test(v)) out[name] = v.replace(/\s+/g, "");
        continue;
      }
      if (/url\s*\(/i.test(v)) {
        const m = LOCAL_URL.exec(v.trim());
        if (m) out[name] = `url(#${prefix}${m[1]})`;
        continue;
      }
      if (/^\s*(javascript|vbscript|data|file|https?|ftp):/i.test(v) || /^\s*\/\//.test(v)) continue;
      out[name] = v;
    }
    return { tagName, attribs: out };
  };
}

/**
 * Sanitize an HTML fragment from a notebook output (e.g. a racelab table, a pandas frame).
 * @param prefix prefix for element ids, unique per output (e.g. "o12-").
 * @returns HTML containing only allow-listed tags and attributes and no external references.
 */
export function sanitizeHtmlOutput(html: string, prefix: string): string {
  return sanitizeHtml(html, {
    allowedTags: HTML_TAGS,
    allowedAttributes: {
      "*": COMMON_ATTRS,
      td: ["colspan", "rowspan", "align", "headers"],
      th: ["colspan", "rowspan", "align", "scope", "headers"],
      col: ["span"],
      colgroup: ["span"],
      ol: ["start", "reversed", "type"],
      img: ["src", "alt", "width", "height"],
      details: ["open"],
    },
    allowedSchemes: ["data"],
    allowedSchemesByTag: { img: ["data"] },
    allowedSchemesAppliedToAttributes: ["src"],
    allowProtocolRelative: false,
    disallowedTagsMode: "discard",
    transformTags: { "*": filterAttributes(prefix) },
    // An image whose source was not a data: URI has nothing left to show.
    exclusiveFilter: (frame) => frame.tag === "img" && !frame.attribs["src"],
  });
}

/**
 * Sanitize an SVG image from a notebook output (e.g. a chart rendered by vega) for inline use in
 * the report's HTML. Tag and attribute names come out lower-case; the HTML parser restores SVG's
 * camelCase names (clipPath, viewBox) when the page is read.
 * @param prefix prefix for element ids, unique per output (e.g. "f3-").
 * @returns the `<svg>` element, or "" when nothing of it survives.
 */
export function sanitizeSvgOutput(svg: string, prefix: string): string {
  const body = svg.replace(/^\s*<\?xml[^>]*\?>/, "").replace(/<!DOCTYPE[^>]*>/i, "");
  const out = sanitizeHtml(body, {
    allowedTags: SVG_TAGS,
    allowedAttributes: { "*": SVG_ATTRS },
    allowedSchemes: [],
    allowedSchemesAppliedToAttributes: [],
    allowProtocolRelative: false,
    disallowedTagsMode: "discard",
    nonTextTags: ["script", "style", "textarea", "option", "noscript"],
    exclusiveFilter: (frame) => frame.tag.toLowerCase() === "foreignobject",
    parser: { recognizeSelfClosing: true },
    selfClosing: ["path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "stop"],
    transformTags: { "*": filterAttributes(prefix) },
  });
  return out.trim().startsWith("<svg") ? out.trim() : "";
}
