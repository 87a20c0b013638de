/**
 * Turns Deno's permission errors into ones that name the flag to add.
 *
 * @module
 */

/**
 * The flags bgtask needs, for the given store; `--allow-env` only for a
 * store found from the environment (not one given by path).
 */
export function permissionFlags(dir: string, fromEnv = true): string {
  const at = shellWord(dir);
  return `--allow-run=bash --allow-read=${at} --allow-write=${at}` +
    (fromEnv ? " --allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR" : "");
}

/**
 * `s` as one shell word, to paste into a command line: as it is when it
 * holds nothing the shell would split or expand, else single-quoted.
 *
 * @example
 * ```ts
 * import { shellWord } from "./permissions.ts";
 * import { equal } from "node:assert/strict";
 * equal(shellWord("/home/me/.cache/bgtask"), "/home/me/.cache/bgtask");
 * equal(shellWord("/home/h ö/it's"), "'/home/h ö/it'\\''s'");
 * ```
 */
export function shellWord(s: string): string {
  return /^[\w./,:@%+=-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * True for Deno's permission-denied errors (NotCapable in Deno 2, PermissionDenied
 * before). An EACCES from the operating system ("os error 13") is not one: no
 * `--allow-*` flag would help, so it must not be reported as a missing flag.
 */
export function isPermissionError(e: unknown): boolean {
  return e instanceof Deno.errors.NotCapable ||
    (e instanceof Deno.errors.PermissionDenied && !/\(os error \d+\)/.test(String(e)));
}

/**
 * Whether this process may run bash (`--allow-run=bash`): look at processes,
 * signal them, tell who it is itself.
 *
 * @example
 * ```ts
 * import { mayRunBash } from "./permissions.ts";
 * import { equal } from "node:assert/strict";
 * equal(typeof mayRunBash(), "boolean");
 * ```
 */
export function mayRunBash(): boolean {
  return Deno.permissions.querySync({ name: "run", command: "bash" }).state === "granted";
}

/**
 * Rethrows a permission error with a message naming `flag`; other errors pass through.
 *
 * @param e The caught error.
 * @param what What bgtask was doing ("Cannot spawn task").
 * @param flag The flag that grants it (`--allow-run=bash`).
 */
export function rethrowPermission(e: unknown, what: string, flag: string): never {
  if (isPermissionError(e)) throw missingPermission(what, flag, e as Error);
  throw e;
}

/**
 * Makes sure bash may be run before anything is written to the store, so a
 * spawn refused for want of `--allow-run=bash` uses up no id. On a terminal
 * without the flag Deno asks, as it would have at the spawn itself.
 *
 * @param what What bgtask was doing ("Cannot spawn task").
 * @param store The store's folder: the error then also names the store's
 *   flags that are missing, so that one run again is enough.
 */
export function requireRunBash(what: string, store?: string): void {
  const desc = { name: "run", command: "bash" } as const;
  let state: Deno.PermissionState;
  try {
    state = Deno.permissions.querySync(desc).state;
    if (state === "prompt") state = Deno.permissions.requestSync(desc).state;
  } catch {
    // Deno resolves "bash" from this process's directory to answer, and
    // fails when that directory was deleted; the spawn itself (made from
    // `/`) says whether it may run, and names the flag if not.
    return;
  }
  if (state === "granted") return;
  const flags = ["--allow-run=bash"];
  for (const name of store === undefined ? [] : ["read", "write"] as const) {
    if (Deno.permissions.querySync({ name, path: store }).state !== "granted") {
      flags.push(`--allow-${name}=${store}`);
    }
  }
  throw missingPermission(what, flags.join(" "));
}

/** The error for a missing permission: what failed, and the flag to add. */
function missingPermission(what: string, flag: string, cause?: Error): Deno.errors.NotCapable {
  const detail = cause ? ` (${cause.message})` : "";
  return new Deno.errors.NotCapable(
    `${what}: missing permission, run again with ${flag}${detail}`,
    { cause },
  );
}
