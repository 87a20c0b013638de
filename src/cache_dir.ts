/**
 * Where the store lives by default.
 *
 * @module
 */

import { join, resolve } from "./path.ts";
import { rethrowPermission } from "./permissions.ts";
import { startsWithTilde } from "./store_path.ts";

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch (e) {
    if (e instanceof Deno.errors.InvalidData) {
      // (Deno's own message names no variable: "environment variable was not valid unicode".)
      throw new Error(
        `Cannot find the bgtask store: $${name} holds bytes that are not UTF-8, which Deno ` +
          `cannot read; name the store explicitly (bgtask --dir DIR, new TaskManager({ dir })), ` +
          `or set ${name} to a path that is UTF-8`,
        { cause: e },
      );
    }
    rethrowPermission(
      e,
      `Cannot find the bgtask store (reading $${name})`,
      "run again with --allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR (or name the store explicitly)" +
        alsoNeeded(),
    );
  }
}

/**
 * What else a process refused the environment will need once it finds the
 * store, so that one more try is enough: bash, and the store itself.
 */
function alsoNeeded(): string {
  const missing = (d: Deno.PermissionDescriptor) =>
    Deno.permissions.querySync(d).state !== "granted";
  const more = [
    missing({ name: "run", command: "bash" }) ? "--allow-run=bash" : "",
    // (Given for the store alone, they cannot be told from none here: its path is not known.)
    missing({ name: "read" }) || missing({ name: "write" })
      ? "--allow-read and --allow-write on the store, if not given ($BGTASK_DIR, else bgtask " +
        "in the cache folder)"
      : "",
  ].filter(Boolean);
  return more.length === 0 ? "" : `; then it needs ${more.join(" and ")}`;
}

/**
 * The user's cache directory as the platform defines it: `$XDG_CACHE_HOME` or
 * `~/.cache` on Linux, `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on Windows.
 *
 * Requires `--allow-env=HOME,XDG_CACHE_HOME` (`LOCALAPPDATA` on Windows).
 *
 * Relative values are ignored (for `XDG_CACHE_HOME` as the XDG spec says;
 * for `HOME` too: a relative one would name another folder in every working
 * directory), as if unset.
 *
 * @param os The platform; defaults to the running one.
 * @returns An absolute path.
 * @throws {Error} When the variables it needs are unset (or relative), or
 *   hold bytes that are not UTF-8 (naming the variable).
 *
 * @example
 * ```ts
 * import { cacheDir } from "@bgtask/bgtask";
 * import { ok } from "node:assert/strict";
 * ok(cacheDir("darwin").endsWith("/Library/Caches"));
 * ```
 */
export function cacheDir(os: typeof Deno.build.os = Deno.build.os): string {
  // (A library's caller gives `dir`, the CLI's `--dir`: both are named.)
  const store = "give the store: a dir to new TaskManager, --dir DIR to the CLI, or $BGTASK_DIR";
  if (os === "windows") {
    const local = env("LOCALAPPDATA");
    if (!local) {
      throw new Error(
        `Cannot find the cache directory: %LOCALAPPDATA% is not set (${store}; or set it)`,
      );
    }
    return local;
  }
  // XDG_CACHE_HOME first (not on macOS): set, HOME is not read, so that
  // --allow-env needs no HOME then. The XDG spec says relative values are
  // invalid and must be ignored.
  const xdg = os === "darwin" ? undefined : env("XDG_CACHE_HOME");
  if (xdg && xdg.startsWith("/")) return xdg;
  // A relative HOME is ignored, as the XDG spec has a relative
  // XDG_CACHE_HOME ignored: it would name another store in every directory.
  const given = env("HOME");
  const home = given?.startsWith("/") ? given : undefined;
  // What is wrong with each variable that is of no use: unset, or relative.
  const said = (name: string, value: string | undefined) =>
    value === undefined
      ? `$${name} is not set`
      : `$${name} is ${JSON.stringify(value)}, a relative path, which is ignored`;
  const fix = `(${store}; or set HOME)`;
  if (os === "darwin") {
    if (!home) throw new Error(`Cannot find the cache directory: ${said("HOME", given)} ${fix}`);
    return join(home, "Library", "Caches");
  }
  if (!home) {
    const why = given === undefined && xdg === undefined
      ? "neither $XDG_CACHE_HOME nor $HOME is set"
      : `${said("HOME", given)}, and ${said("XDG_CACHE_HOME", xdg)}`;
    throw new Error(`Cannot find the cache directory: ${why} ${fix}`);
  }
  return join(home, ".cache");
}

/**
 * The default store: `$BGTASK_DIR` when set, else `<cache dir>/bgtask`. A
 * relative `BGTASK_DIR` (`.bgtask`) names a folder in the working directory,
 * so each directory has a store of its own (a project's, for an MCP server
 * started there): unlike a relative `HOME` or `XDG_CACHE_HOME`, which are
 * passed over, it is taken as meant, resolved where it is read.
 *
 * Requires `--allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR`.
 *
 * @example
 * ```ts
 * import { defaultStoreDir } from "@bgtask/bgtask";
 * import { ok } from "node:assert/strict";
 * ok(defaultStoreDir().endsWith("/bgtask") || !!Deno.env.get("BGTASK_DIR"));
 * ```
 */
export function defaultStoreDir(): string {
  const override = env("BGTASK_DIR");
  if (override && startsWithTilde(override)) {
    throw new Error(
      `Cannot find the bgtask store: $BGTASK_DIR is ${JSON.stringify(override)}, which starts ` +
        `with "~": a shell expands it only unquoted at a word's start (BGTASK_DIR=~/x, not ` +
        `BGTASK_DIR="~/x"); set it to the full path ("$HOME/x")`,
    );
  }
  if (override) return resolve(override);
  return join(cacheDir(), "bgtask");
}
