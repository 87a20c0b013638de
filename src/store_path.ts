/**
 * The store folder a caller names: a path or a `file:` URL, never a path
 * that starts with `~` (which only a shell expands).
 *
 * @module
 */

/**
 * Whether `path` starts with `~` as a shell's home shorthand (`~`, `~/x`,
 * `~user/x`): a word the shell did not expand (quoted, or after `=` as in
 * `--dir=~/x`) reaches bgtask as it is, and would name a folder called `~`
 * in the working directory.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { startsWithTilde } from "./store_path.ts";
 * equal(startsWithTilde("~/.cache/bgtask"), true);
 * equal(startsWithTilde("./~/x"), false);
 * equal(startsWithTilde("/tmp/~x"), false);
 * ```
 */
export function startsWithTilde(path: string): boolean {
  return /^~[^/]*(\/|$)/.test(path);
}

/**
 * The folder `dir` names: a path as it is, a `file:` URL as its path.
 *
 * @throws {TypeError} For an empty path, another type, a URL of another
 *   scheme, or a path that starts with `~` (see {@linkcode startsWithTilde}),
 *   each saying what to give instead.
 *
 * @example
 * ```ts
 * import { equal, throws } from "node:assert/strict";
 * import { storeFolder } from "./store_path.ts";
 * equal(storeFolder(new URL("file:///tmp/my%20store")), "/tmp/my store");
 * throws(() => storeFolder("~/store"), /full path/);
 * ```
 */
export function storeFolder(dir: unknown): string {
  const what = "Cannot open the store";
  if (dir instanceof URL) {
    if (dir.protocol !== "file:" || (dir.host !== "" && dir.host !== "localhost")) {
      throw new TypeError(
        `${what}: dir ${JSON.stringify(dir.href)} is no file: URL on this machine; give a path ` +
          `or a file: URL (new URL("./store/", import.meta.url))`,
      );
    }
    return decodeURIComponent(dir.pathname);
  }
  if (typeof dir !== "string" || dir === "") {
    throw new TypeError(`${what}: dir must be a non-empty path (a string) or a file: URL`);
  }
  if (startsWithTilde(dir)) {
    throw new TypeError(
      `${what}: dir ${JSON.stringify(dir)} starts with "~", which a shell expands but Deno ` +
        `does not: give the full path (the home folder's, from $HOME), or ` +
        `${JSON.stringify("./" + dir)} for a folder named "${dir.split("/")[0]}" here`,
    );
  }
  return dir;
}
