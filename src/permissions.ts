/**
 * Turns Deno's permission errors into ones that name the flag to add.
 *
 * @module
 */

/** One permission bgtask may need: how Deno names it, and how a flag grants or denies it. */
interface Need {
  desc: Deno.PermissionDescriptor;
  /** The flag that grants it (`--allow-read=/s`). */
  allow: string;
  /** The flag family that denies it (`--deny-read`). */
  deny: string;
  /** What the deny flag covers, as said (`/s`, `bash`). */
  target: string;
}

function runNeed(): Need {
  return {
    desc: { name: "run", command: "bash" },
    allow: "--allow-run=bash",
    deny: "--deny-run",
    target: "bash",
  };
}

function pathNeed(name: "read" | "write", path: string): Need {
  const at = shellWord(path);
  return {
    desc: { name, path },
    allow: `--allow-${name}=${at}`,
    deny: `--deny-${name}`,
    target: at,
  };
}

function envNeed(): Need {
  return {
    desc: { name: "env", variable: "BGTASK_DIR" },
    allow: "--allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR",
    deny: "--deny-env",
    target: "BGTASK_DIR",
  };
}

/** A permission's state, "prompt" when Deno cannot answer (a deleted working directory). */
function stateOf(desc: Deno.PermissionDescriptor): Deno.PermissionState {
  try {
    return Deno.permissions.querySync(desc).state;
  } catch {
    return "prompt";
  }
}

/** Whether this process may do `desc` without asking (a prompt would stop a look). */
export function isGranted(desc: Deno.PermissionDescriptor): boolean {
  return stateOf(desc) === "granted";
}

/**
 * What to do for the needs that are not granted, as one phrase: `run again
 * with` the flags not given, and, for one refused, without any `--deny-…`
 * flag that covers it. (Deno reads "denied" both for a `--deny-…` flag, where
 * only dropping it helps, and for a prompt answered no or impossible, no
 * terminal, where the flag to add does: both are said.) Undefined when all
 * are granted.
 *
 * @param known States already found (a run permission just requested).
 */
function advise(needs: Need[], known = new Map<Need, Deno.PermissionState>()): string | undefined {
  const add: string[] = [];
  const drop: string[] = [];
  for (const need of needs) {
    const state = known.get(need) ?? stateOf(need.desc);
    if (state === "granted") continue;
    // Denied under a flag that grants the whole kind (`--allow-run
    // --deny-run=bash`): the allow flag is given already, only the deny
    // flag's going helps.
    const given = state === "denied" &&
      stateOf({ name: need.desc.name } as Deno.PermissionDescriptor) === "granted";
    if (!given && !add.includes(need.allow)) add.push(need.allow);
    const flag = `any ${need.deny} flag that covers ${need.target}`;
    if (state === "denied" && !drop.includes(flag)) drop.push(flag);
  }
  if (add.length === 0 && drop.length === 0) return undefined;
  if (add.length === 0) return `run again without ${drop.join(" or ")}`;
  // (With a flag to add, "denied" may be a prompt answered no: the deny flag, if any.)
  const without = drop.length === 0 ? "" : `, and without ${drop.join(" or ")}, if one was given`;
  return `run again with ${add.join(" ")}${without}`;
}

/** The path a Deno permission error names (`Requires write access to "/s/tasks/b1/kill"`). */
function refusedPath(e: unknown): { name: "read" | "write"; path: string } | undefined {
  const m = e instanceof Error
    ? /requires (read|write) access to "([^"]+)"/i.exec(e.message)
    : null;
  return m ? { name: m[1].toLowerCase() as "read" | "write", path: m[2] } : undefined;
}

/**
 * What to do for a permission bgtask lacks on a store: the flags among
 * `--allow-run=bash --allow-read=<store> --allow-write=<store>` (and
 * `--allow-env=…` for a store found from the environment) not given, and
 * the `--deny-…` flag to drop for one refused. A flag already given is not
 * named again.
 *
 * @param cause Deno's error: a path inside the store refused by a
 *   `--deny-…` flag of its own (`--deny-write=<store>/tasks`) is named.
 * @param write Whether `--allow-write` is needed too (not for a look).
 *
 * @example
 * ```ts
 * import { permissionAdvice } from "./permissions.ts";
 * import { ok } from "node:assert/strict";
 * ok(permissionAdvice("/nowhere/s", false).startsWith("run again with"));
 * ```
 */
export function permissionAdvice(
  dir: string,
  fromEnv = true,
  cause?: unknown,
  write = true,
): string {
  const needs = [runNeed(), pathNeed("read", dir), ...write ? [pathNeed("write", dir)] : []];
  if (fromEnv) needs.push(envNeed());
  const refused = refusedPath(cause);
  // (Granted for the store and refused inside it: a --deny-… of its own.)
  if (refused && stateOf({ name: refused.name, path: dir }) === "granted") {
    needs.push(pathNeed(refused.name, refused.path));
  }
  return advise(needs) ??
    // (Everything granted, yet refused: say the whole set, as before.)
    `run again with --allow-run=bash --allow-read=${shellWord(dir)} --allow-write=${
      shellWord(dir)
    }${fromEnv ? " --allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR" : ""}`;
}

/**
 * What to do for `--allow-run=bash` (without it, or under a `--deny-run`).
 *
 * @example
 * ```ts
 * import { runAdvice } from "./permissions.ts";
 * import { equal } from "node:assert/strict";
 * equal(typeof runAdvice(), "string");
 * ```
 */
export function runAdvice(): string {
  return advise([runNeed()]) ?? "run again with --allow-run=bash";
}

/**
 * What to do for a permission to listen on `address` (`127.0.0.1:8080`).
 *
 * @example
 * ```ts
 * import { netAdvice } from "./permissions.ts";
 * import { equal } from "node:assert/strict";
 * equal(typeof netAdvice("127.0.0.1:8080"), "string");
 * ```
 */
export function netAdvice(address: string): string {
  const need: Need = {
    desc: { name: "net", host: address },
    allow: `--allow-net=${address}`,
    deny: "--deny-net",
    target: address,
  };
  return advise([need]) ?? `run again with ${need.allow}`;
}

/** Where bash usually is: a flag may name one of these instead of `bash`. */
const BASH_PATHS = [
  "/bin/bash",
  "/usr/bin/bash",
  "/usr/local/bin/bash",
  "/opt/homebrew/bin/bash",
  "/run/current-system/sw/bin/bash",
];

/**
 * The bash Deno finds on this process's PATH when it may be looked for
 * without asking (`--allow-env=PATH`, read access to its folders); null
 * when PATH has none; undefined when it cannot be told.
 */
function bashOnPath(): string | null | undefined {
  if (stateOf({ name: "env", variable: "PATH" }) !== "granted") return undefined;
  const path = Deno.env.get("PATH");
  if (!path) return null;
  for (const folder of path.split(":")) {
    if (!folder.startsWith("/")) continue;
    const file = `${folder.replace(/\/+$/, "")}/bash`;
    if (stateOf({ name: "read", path: file }) !== "granted") return undefined;
    try {
      if (Deno.statSync(file).isFile) return file;
    } catch {
      // not there: the next folder
    }
  }
  return null;
}

/**
 * Why `--allow-run=bash` reads as not given, when that can be told: a flag
 * that names bash by another path (`--allow-run=/bin/bash`, while PATH's
 * bash is `/usr/bin/bash`: Deno compares the paths, not the files), or no
 * bash on PATH. "" when bash was simply not granted, or was denied.
 *
 * @param alone Whether `--allow-run=bash` is the only flag missing: then,
 *   when PATH cannot be looked at, say that bash may not be on it.
 *
 * @example
 * ```ts
 * import { bashGrantHint } from "./permissions.ts";
 * import { equal } from "node:assert/strict";
 * equal(typeof bashGrantHint(true), "string");
 * ```
 */
export function bashGrantHint(alone: boolean): string {
  if (stateOf({ name: "run", command: "bash" }) !== "prompt") return "";
  const given = BASH_PATHS.find((p) => stateOf({ name: "run", command: p }) === "granted");
  const onPath = bashOnPath();
  if (given !== undefined) {
    const found = onPath === undefined
      ? "bgtask runs the bash found on this process's PATH, and Deno grants a path, not a " +
        "file (the same bash by another path, a link or /bin for /usr/bin, is not granted)"
      : onPath === null
      ? "this process's PATH has no bash (bgtask runs the bash on PATH)"
      : `this process's PATH finds bash at ${onPath}`;
    return `; --allow-run=${given} was given, but ${found}: grant ` +
      (typeof onPath === "string" ? `--allow-run=${onPath} or ` : "") +
      "--allow-run=bash (which Deno looks up on PATH)";
  }
  const found = onPath === undefined ? bashFound() : onPath !== null;
  if (found === false) return `; bash is not on this process's PATH: ${PATH_ADVICE}`;
  if (found === undefined && alone) {
    return `; if it was given, bash is not on this process's PATH: ${PATH_ADVICE}`;
  }
  return "";
}

const PATH_ADVICE = "start it with a PATH that has bash (a cron job or an MCP client may " +
  "start it with almost none)";

/**
 * Whether bash is on this process's PATH, when that can be told without a
 * prompt: from PATH where it may be read, else from a start of "bash" that
 * Deno refuses (not found on PATH: false; found, and not granted: true).
 * That start is tried only where Deno cannot ask (no terminal), and only
 * while bash is not granted (nothing runs). Undefined when it cannot be told.
 *
 * @example
 * ```ts
 * import { bashFound } from "./permissions.ts";
 * import { ok } from "node:assert/strict";
 * ok([true, false, undefined].includes(bashFound()));
 * ```
 */
export function bashFound(): boolean | undefined {
  const onPath = bashOnPath();
  if (onPath !== undefined) return onPath !== null;
  if (stateOf({ name: "run", command: "bash" }) === "granted") return undefined;
  if (Deno.stdin.isTerminal() && Deno.stderr.isTerminal()) return undefined;
  try {
    // (Refused, as bash is not granted: Deno looks it up on PATH first.)
    const child = new Deno.Command("bash", {
      args: ["-c", ":"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    child.status.catch(() => {});
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    return isPermissionError(e) ? true : undefined;
  }
}

/**
 * A refusal of `--allow-run=bash` (`message`, which says to run again with
 * it) where bash is not on this process's PATH, said with that first: Deno
 * grants the flag to the bash it finds on PATH when it starts, so the flag
 * alone does not help (it may have been given). Undefined when bash is on
 * PATH, is granted by another path, or it cannot be told.
 *
 * @example
 * ```ts
 * import { bashPathFirst } from "./permissions.ts";
 * import { ok } from "node:assert/strict";
 * const said = bashPathFirst("Cannot spawn task: missing permission, run again with --allow-run=bash");
 * ok(said === undefined || said.includes("not on this process's PATH"));
 * ```
 */
export function bashPathFirst(message: string): string | undefined {
  if (stateOf({ name: "run", command: "bash" }) !== "prompt") return undefined;
  if (BASH_PATHS.some((p) => stateOf({ name: "run", command: p }) === "granted")) return undefined;
  const flags = /missing permission, run again with (--allow-run=bash(?: --allow-[^\s;(]+)*)/
    .exec(message);
  if (flags === null || bashFound() !== false) return undefined;
  return message.replace(
    flags[0],
    "bash is not on this process's PATH, where Deno looks for the bash --allow-run=bash " +
      `grants: ${PATH_ADVICE}, and with ${flags[1]}`,
  );
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
 * Rethrows a permission error with a message saying what to do; other errors pass through.
 *
 * @param e The caught error.
 * @param what What bgtask was doing ("Cannot spawn task").
 * @param advice What to do: "run again with --allow-run=bash" (see
 *   {@linkcode permissionAdvice}, {@linkcode runAdvice}).
 */
export function rethrowPermission(e: unknown, what: string, advice: string): never {
  const loader = loaderVariables(e);
  if (loader) throw loaderRefused(what, loader, e as Error);
  if (isPermissionError(e)) throw missingPermission(what, advice, e as Error);
  throw e;
}

/**
 * The dynamic loader's variables (`LD_*`, `DYLD_*`) Deno names when it
 * refuses to start a program with them in its environment under an
 * `--allow-run` with a list; undefined for any other error.
 */
function loaderVariables(e: unknown): string[] | undefined {
  if (!isPermissionError(e)) return undefined;
  const m = /to spawn subprocess with (.+?) environment variables?\./.exec((e as Error).message);
  return m ? m[1].split(", ") : undefined;
}

/**
 * The error for a spawn Deno refused for the loader's variables in this
 * process's environment (LD_LIBRARY_PATH under conda or CUDA, say): not a
 * flag missing from the usual ones (`--allow-run=bash` is given), but one to
 * widen, or the variables to leave out.
 *
 * @example
 * ```ts
 * import { rethrowPermission } from "./permissions.ts";
 * import { throws } from "node:assert/strict";
 * const deno = new Deno.errors.NotCapable(
 *   "Requires --allow-run permissions to spawn subprocess with LD_LIBRARY_PATH environment " +
 *     "variable. Alternatively, spawn with the environment variable unset.",
 * );
 * throws(
 *   () => rethrowPermission(deno, "Cannot spawn task", "run again with --allow-run=bash"),
 *   /LD_LIBRARY_PATH is set in this process's environment.*--allow-run without a list/,
 * );
 * ```
 */
function loaderRefused(what: string, names: string[], cause: Error): Deno.errors.NotCapable {
  const one = names.length === 1;
  const list = names.join(", ");
  return new Deno.errors.NotCapable(
    `${what}: ${list} ${one ? "is" : "are"} set in this process's environment, and Deno ` +
      "starts a program with a variable of the dynamic loader (LD_*, DYLD_*) in its " +
      "environment only under --allow-run without a list: run again with --allow-run in " +
      "place of --allow-run=bash (bash runs any command: this grants nothing more), or " +
      `unset ${one ? "it" : "them"} for bgtask (env ${names.map((n) => `-u ${n}`).join(" ")} …) ` +
      `and give ${one ? "it" : "them"} to the tasks that need ${
        one ? "it" : "them"
      } (bgtask run --env ${names[0]}=…, ` +
      "spawnShell's env)",
    { cause },
  );
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
  const run = runNeed();
  let state: Deno.PermissionState;
  try {
    state = Deno.permissions.querySync(run.desc).state;
    // (Refused by the request, under --no-prompt, it is still one never given.)
    if (state === "prompt" && Deno.permissions.requestSync(run.desc).state === "granted") {
      state = "granted";
    }
  } catch {
    // Deno resolves "bash" from this process's directory to answer, and
    // fails when that directory was deleted; the spawn itself (made from
    // `/`) says whether it may run, and names the flag if not.
    return;
  }
  if (state === "granted") return;
  const needs = [
    run,
    ...(store === undefined ? [] : [
      pathNeed("read", store),
      pathNeed("write", store),
    ]),
  ];
  throw missingPermission(what, advise(needs, new Map([[run, state]]))!);
}

/** The error for a missing permission: what failed, and what to do. */
function missingPermission(what: string, advice: string, cause?: Error): Deno.errors.NotCapable {
  // (Deno's own words name the path; its advice, a flag that may be given already, is left out.)
  const detail = cause
    ? ` (${cause.message.replace(/, run again with the --allow-[a-z]+ flag/, "")})`
    : "";
  return new Deno.errors.NotCapable(`${what}: missing permission, ${advice}${detail}`, { cause });
}
