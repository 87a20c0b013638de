/**
 * POSIX path joining and resolving, as `node:path` does them, for the store's
 * paths and a task's working directory.
 *
 * Why not `node:path`: importing any `node:` module starts Deno's Node
 * compatibility layer, which costs 10–20 ms in every process that imports
 * bgtask — every CLI call among them (measured in BENCHMARKS.md). bgtask runs
 * where bash and process groups do (Linux, macOS), so paths are POSIX.
 * `tests/path_test.ts` checks these against `node:path`'s POSIX functions.
 *
 * @module
 */

/**
 * `path` with `.` and `..` segments and repeated slashes collapsed; a
 * trailing slash is kept. `..` never climbs above the root of an absolute
 * path; an empty relative result is `.`.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { normalize } from "./path.ts";
 * equal(normalize("/a//b/../c/."), "/a/c");
 * equal(normalize("../a/./b/"), "../a/b/");
 * ```
 */
export function normalize(path: string): string {
  if (path === "") return ".";
  const absolute = path.startsWith("/");
  const trailing = path.endsWith("/");
  const body = segments(path, absolute).join("/");
  if (body === "") return absolute ? "/" : trailing ? "./" : ".";
  return (absolute ? "/" : "") + body + (trailing ? "/" : "");
}

/**
 * The parts joined with `/`, then normalized (empty parts are skipped).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { join } from "./path.ts";
 * equal(join("/store", "tasks", "b1"), "/store/tasks/b1");
 * equal(join("a/", "/b", "../c"), "a/c");
 * ```
 */
export function join(...parts: string[]): string {
  const joined = parts.filter((p) => p !== "").join("/");
  return joined === "" ? "." : normalize(joined);
}

/**
 * The absolute, normalized path that `paths` name when applied from left to
 * right as `cd` would; relative to the working directory until one of them is
 * absolute. No trailing slash (but `/`). Reads the working directory only
 * when no part is absolute, which needs `--allow-read`.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { resolve } from "./path.ts";
 * equal(resolve("/srv/app", "logs", "../run"), "/srv/app/run");
 * equal(resolve("/srv/app", "/tmp/x/"), "/tmp/x");
 * ```
 */
export function resolve(...paths: string[]): string {
  let path = "";
  for (let i = paths.length - 1; i >= 0 && !path.startsWith("/"); i--) {
    if (paths[i] !== "") path = path === "" ? paths[i] : `${paths[i]}/${path}`;
  }
  if (!path.startsWith("/")) path = path === "" ? Deno.cwd() : `${Deno.cwd()}/${path}`;
  return "/" + segments(path, true).join("/");
}

/** The segments of `path` once `.`, `..` and empty ones are applied. */
function segments(path: string, absolute: boolean): string[] {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") out.push(part);
    else if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else if (!absolute) out.push("..");
  }
  return out;
}
