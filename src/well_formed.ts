/**
 * Text that is written to the store must be well-formed UTF-16: a lone
 * surrogate (`"\ud800"`) has no UTF-8, and would be stored and run as
 * U+FFFD while the caller was told of the text it gave.
 *
 * @module
 */

/**
 * Throws a TypeError, prefixed with `what`, when `text` holds a lone
 * surrogate, naming `name` (the field), where the surrogate is, and the fix.
 *
 * @example
 * ```ts
 * import { requireWellFormed } from "./well_formed.ts";
 * import { throws } from "node:assert/strict";
 * requireWellFormed("echo é 😀", "the command", "Cannot spawn task");
 * throws(
 *   () => requireWellFormed("echo a\ud800", "the command", "Cannot spawn task"),
 *   /^TypeError: Cannot spawn task: the command holds a lone surrogate \(\\ud800 at index 6\)/,
 * );
 * ```
 */
export function requireWellFormed(text: string, name: string, what: string): void {
  if (text.isWellFormed()) return;
  const at = loneAt(text);
  const unit = text.charCodeAt(at).toString(16);
  throw new TypeError(
    `${what}: ${name} holds a lone surrogate (\\u${unit} at index ${at}), half of a ` +
      `character, which has no UTF-8 and would be stored as U+FFFD; remove it, or give ` +
      `the text's .toWellFormed() to mean U+FFFD`,
  );
}

/** Where the first lone surrogate of `text` is. */
function loneAt(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return i;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return i;
  }
  return -1;
}
