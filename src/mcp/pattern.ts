/**
 * Regular expressions written by a model (`task_read`'s `grep`,
 * `task_wait`'s `pattern`): checked, and refused when they could stall the
 * server. The documented launch makes V8 fall back to its linear-time engine
 * for a pattern that backtracks too much, but that engine cannot run a
 * backreference or a lookaround: such a pattern could still take hours on
 * one long line (every session waits meanwhile), so it is refused.
 *
 * @module
 */

import { ArgumentError } from "./args.ts";

/**
 * The pattern, compiled; an {@linkcode ArgumentError} naming `what` when it
 * is not a regular expression, or uses a backreference or a lookaround. A
 * pattern written as a literal with flags (`/ready/i`) is read as one.
 *
 * @example
 * ```ts
 * import { modelPattern } from "./pattern.ts";
 * import { equal, throws } from "node:assert/strict";
 * equal(modelPattern("error|warn", "grep").test("a warning"), true);
 * equal(modelPattern("/Listening on/i", "pattern").test("listening on :3000"), true);
 * throws(() => modelPattern("(a+)\\1", "grep"), /backreference/);
 * ```
 */
export function modelPattern(source: string, what: string): RegExp {
  // Written as a literal with flags (`/listening on/i`), as models often
  // do: read as one (the slashes would otherwise be looked for, and the
  // pattern never match). Without flags, `/api/` is text to find.
  const literal = /^\/(.+)\/([a-z]+)$/s.exec(source);
  const body = literal ? literal[1] : source;
  const flags = literal ? literal[2] : "";
  if (/[^imsu]/.test(flags) || new Set(flags).size !== flags.length) {
    throw new ArgumentError(
      `${what} ${JSON.stringify(source)} reads as a regular expression literal whose flags may ` +
        `only be i, m, s and u (once each), got "${flags}"`,
    );
  }
  let re: RegExp;
  try {
    re = new RegExp(body, flags);
  } catch (e) {
    const inline = /^\(\?[a-z]+\)/.test(body)
      ? `; JavaScript has no (?i) at the start of a pattern: wrap the part in (?i:…), ` +
        `e.g. (?i:listening on), or write /listening on/i`
      : "; escape special characters like ( [ . * with a backslash";
    throw new ArgumentError(
      `${what} is not a valid regular expression (${(e as Error).message})${inline}`,
    );
  }
  const risky = riskyPart(body);
  if (risky) {
    throw new ArgumentError(
      `${what} uses a ${risky}, which can take hours on one long line of output (the server ` +
        "would stall): write it without (match the text itself, or filter in two steps)",
    );
  }
  return re;
}

/** "backreference" or "lookaround" when the source has one (outside a character class). */
function riskyPart(source: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") {
      const next = source[i + 1] ?? "";
      if (!inClass && (/[1-9]/.test(next) || source.startsWith("k<", i + 1))) {
        return "backreference";
      }
      i++;
    } else if (inClass) {
      if (c === "]") inClass = false;
    } else if (c === "[") {
      inClass = true;
    } else if (c === "(" && /^\(\?(?:<?[=!])/.test(source.slice(i, i + 4))) {
      return "lookaround";
    }
  }
  return undefined;
}
