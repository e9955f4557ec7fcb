/** How error messages quote user input (its own module so that any module can import it). */

/**
 * `text` made fit to echo in a one-line error message: control characters escaped (`\n`, `\t`,
 * `\u001b`) and anything past `max` characters (default 80) cut off and replaced by `…`.
 */
export function clip(text: string, max = 80): string {
  let s = text;
  if (s.length > max) {
    let end = max;
    const c = s.charCodeAt(end - 1);
    if (c >= 0xd800 && c <= 0xdbff) end--; // do not split a surrogate pair
    s = `${s.slice(0, end)}…`;
  }
  return s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (ch) =>
    ch === "\n" ? "\\n" : ch === "\r" ? "\\r" : ch === "\t" ? "\\t" : `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
