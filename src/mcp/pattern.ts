/**
 * Regular expressions written by a model (`task_read`'s `grep`,
 * `task_wait`'s `pattern`): checked, and refused when they could stall the
 * server. The documented launch makes V8 fall back to its linear-time engine
 * for a pattern that backtracks too much, but only for a pattern that engine
 * can run: `linear_regexp.ts` rewrites the flag `i` away and refuses the
 * rest (a backreference, a lookaround, …), which could take hours on one
 * long line (every session waits meanwhile).
 *
 * @module
 */

import { ArgumentError } from "./args.ts";
import {
  FALLBACK_FLAG,
  linearFallback,
  linearRegExp,
  patternParts,
  PatternProblem,
  PatternTooLarge,
  quotedPattern,
} from "../linear_regexp.ts";

/**
 * Refuses a pattern (`what`: "grep", "pattern") in a server started without
 * V8's fallback to its linear-time engine: any pattern that backtracks badly
 * could then stall it, every session with it.
 */
function requireFallback(what: string): void {
  if (linearFallback()) return;
  throw new ArgumentError(
    `${what} cannot be used: this server was started without ${FALLBACK_FLAG}, so a pattern ` +
      "could stall it; ask the user to add that flag where the client starts bgtask mcp (see " +
      'bgtask\'s README, "Use from an agent"); task_read without grep, or task_wait until ' +
      '"output", work meanwhile',
  );
}

/**
 * A tool's pattern argument: {@linkcode modelPattern}, in a server that runs
 * with V8's linear-time fallback (else refused, naming the flag).
 */
export function toolPattern(source: string, what: string): RegExp {
  requireFallback(what);
  return modelPattern(source, what);
}

/**
 * A pattern as an answer names it: as the model wrote it, not as it was
 * rewritten for the linear engine (`/ready/i` is `/[rR][eE][aA][dD][yY]/`
 * compiled, `[0-9a-f]{40}` is three counts); between slashes unless it was
 * written as a literal.
 *
 * @example
 * ```ts
 * import { shownPattern } from "./pattern.ts";
 * import { equal } from "node:assert/strict";
 * equal(shownPattern("/ready/i"), "/ready/i");
 * equal(shownPattern("/error/"), "/error/");
 * equal(shownPattern("[0-9a-f]{40}"), "/[0-9a-f]{40}/");
 * ```
 */
export function shownPattern(source: string): string {
  return patternParts(source).literal ? source : `/${source}/`;
}

/**
 * A literal's flag `g` (`/FAIL/g`: models write it by habit) dropped, once:
 * each line is matched on its own, once, so it means nothing here (and a
 * global RegExp's `test` would carry `lastIndex` from one line to the next).
 */
function withoutGlobal(source: string): string {
  const literal = /^\/(.+)\/([a-z]+)$/s.exec(source);
  if (!literal || !literal[2].includes("g")) return source;
  // (Still a literal without it: `//api//g` is /\/api\//, as `//api//` is.)
  return `/${literal[1]}/${literal[2].replace("g", "")}`;
}

/**
 * The pattern, compiled; an {@linkcode ArgumentError} naming `what` when it
 * is not a regular expression, uses what V8's linear-time engine cannot
 * run, or is too large (over 4,096 characters: `MAX_PATTERN_CHARS`). A
 * pattern written as a literal (`/error/`, `/ready/i`) is read as one. No
 * error quotes more than 60 characters of it.
 *
 * @example
 * ```ts
 * import { modelPattern } from "./pattern.ts";
 * import { equal, throws } from "node:assert/strict";
 * equal(modelPattern("error|warn", "grep").test("a warning"), true);
 * equal(modelPattern("/Listening on/i", "pattern").test("listening on :3000"), true);
 * equal(modelPattern("/error/", "grep").test("error: x"), true);
 * equal(modelPattern("/FAIL/g", "grep").flags, ""); // (g means nothing per line)
 * equal(modelPattern("//api//g", "grep").test("GET /api/ 200"), true); // (as //api//)
 * equal(modelPattern("//api//g", "grep").test("GET api 200"), false);
 * throws(() => modelPattern("(a+)\\1", "grep"), /backreference/);
 * throws(() => modelPattern("a".repeat(5000), "grep"), /grep is 5,000 characters long, over the limit of 4,096/);
 * ```
 */
export function modelPattern(source: string, what: string): RegExp {
  const { body, flags, badFlags } = patternParts(withoutGlobal(source));
  if (badFlags) {
    throw new ArgumentError(
      `${what} ${quotedPattern(source)} reads as a regular expression literal whose flags may ` +
        `only be i, m and s (once each; g is accepted and means nothing here), got ${
          quotedPattern(flags)
        }`,
    );
  }
  try {
    return linearRegExp(body, flags);
  } catch (e) {
    if (e instanceof PatternTooLarge) throw new ArgumentError(`${what} ${e.message}: ${e.fix}`);
    if (e instanceof PatternProblem) {
      throw new ArgumentError(
        `${what} ${e.message}, which can take hours on one long line of output (the server ` +
          `would stall): ${e.fix}`,
      );
    }
    const inline = /^\(\?[a-z]+\)/.test(body)
      ? "; JavaScript has no (?i) at the start of a pattern: write /listening on/i for any case"
      : "; escape special characters like ( [ . * with a backslash";
    throw new ArgumentError(
      `${what} is not a valid regular expression (${(e as Error).message})${inline}`,
    );
  }
}
