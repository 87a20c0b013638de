/**
 * The names each options object takes, and the check that refuses any
 * other: a JavaScript caller's `{ timeout: 5000 }` (for `timeoutMs`) would
 * otherwise pass unseen, and the task run without its timeout.
 *
 * @module
 */

import { kindOf } from "./ids.ts";
import { showValue } from "./ops/context.ts";
import type {
  BoundOptions,
  CleanOptions,
  CompletionsOptions,
  DrainOptions,
  FollowOptions,
  KillOptions,
  ListOptions,
  QueueOptions,
  ReadOptions,
  RemoveOptions,
  SpawnOptions,
  TaskManagerOptions,
  TerminalSize,
  WaitForLineOptions,
  WaitOptions,
  WriteStdinOptions,
} from "./types.ts";

/** Every name of `T`, listed once: a name added to `T` and not here fails type checking. */
function names<T>() {
  return <const K extends readonly (keyof T)[]>(
    ...keys: K & ([keyof T] extends [K[number]] ? unknown : "a name of the type is missing")
  ): readonly string[] => keys as unknown as string[];
}

/** Names by options type. */
export const OPTION_NAMES = {
  manager: names<TaskManagerOptions>()("dir", "killOnDispose"),
  spawn: names<SpawnOptions>()(
    "description",
    "cwd",
    "env",
    "timeoutMs",
    "maxOutputBytes",
    "graceMs",
    "queue",
    "after",
    "afterPolicy",
    "stdin",
    "columns",
    "rows",
  ),
  list: names<ListOptions>()("status", "queue", "ids", "last", "onDamaged"),
  bound: names<BoundOptions>()("maxBytes"),
  read: names<ReadOptions>()("offset", "maxBytes"),
  kill: names<KillOptions>()("graceMs", "signal"),
  wait: names<WaitOptions>()("signal", "until"),
  waitForLine: names<WaitForLineOptions>()("signal", "offset"),
  writeStdin: names<WriteStdinOptions>()("timeoutMs", "signal"),
  size: names<TerminalSize>()("columns", "rows"),
  drain: names<DrainOptions>()("consumer", "ephemeral", "signal", "handle", "wait"),
  completions: names<CompletionsOptions>()("consumer", "ephemeral", "signal"),
  peek: names<Omit<CompletionsOptions, "signal">>()("consumer", "ephemeral"),
  follow: names<FollowOptions>()("offset", "maxBytes", "signal", "onTruncated"),
  clean: names<CleanOptions>()(
    "olderThanMs",
    "status",
    "queue",
    "keep",
    "onDamaged",
    "unread",
    "onUnread",
    "onForgotten",
    "signal",
  ),
  remove: names<RemoveOptions>()("onUnread"),
  queue: names<QueueOptions>()("parallel"),
} as const;

/**
 * The kind of value the options that several methods share must have:
 * checked with the names (a `signal` that is no AbortSignal failed deep
 * inside, in a timer, after the call had returned).
 */
const KINDS: Record<
  string,
  { test: (v: unknown) => boolean; what: string; wrong?: (v: unknown) => string | undefined }
> = {
  signal: {
    test: (v) => v instanceof AbortSignal,
    what: "an AbortSignal (e.g. AbortSignal.timeout(5000))",
  },
  killOnDispose: { test: (v) => typeof v === "boolean", what: "true or false" },
  unread: { test: (v) => typeof v === "boolean", what: "true or false" },
  onDamaged: { test: (v) => typeof v === "function", what: "a function" },
  onUnread: { test: (v) => typeof v === "function", what: "a function" },
  onForgotten: { test: (v) => typeof v === "function", what: "a function" },
  handle: { test: (v) => typeof v === "function", what: "a function" },
  ids: {
    test: (v) => Array.isArray(v) && v.every((id) => typeof id === "string"),
    what: 'an array of task ids (e.g. ["b3", "b4"])',
    // An array with one wrong element: which one.
    wrong: (v) => {
      if (!Array.isArray(v)) return undefined;
      const at = v.findIndex((id) => typeof id !== "string");
      return `got an array whose ids[${at}] is ${kindOf(v[at])}, not a string`;
    },
  },
};

/**
 * Whether `value` is an object literal's kind of object (its prototype
 * `Object.prototype`, or none), not an object of a class: an AbortSignal, a
 * Map, an array.
 *
 * @example
 * ```ts
 * import { isPlainObject } from "./options.ts";
 * import { equal } from "node:assert/strict";
 * equal(isPlainObject({ signal: undefined }), true);
 * equal(isPlainObject(AbortSignal.abort()), false);
 * ```
 */
export function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Throws a TypeError, prefixed with `what`, for an options value that is
 * not an object or has a name `known` does not list (it suggests the name
 * most like it; a timeout given to a method that takes a `signal` is told to
 * use `AbortSignal.timeout(ms)`), or gives `signal`, a flag or a callback a value of the
 * wrong kind (undefined is always allowed: the option's default). The names in `own` are
 * the caller's to check (kill's `signal` is a signal's name, not an AbortSignal).
 *
 * @example
 * ```ts
 * import { checkOptionNames } from "./options.ts";
 * import { throws } from "node:assert/strict";
 * throws(
 *   () => checkOptionNames({ timeout: 5 }, ["timeoutMs", "cwd"], "Cannot spawn task"),
 *   /unknown option "timeout" \(did you mean timeoutMs\?\)/,
 * );
 * throws(
 *   () => checkOptionNames(AbortSignal.timeout(5), ["signal"], "Cannot wait"),
 *   /must be a plain object \(an AbortSignal was given\); give the signal as \{ signal \}/,
 * );
 * ```
 */
export function checkOptionNames(
  options: unknown,
  known: readonly string[],
  what: string,
  own: readonly string[] = [],
): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(`${what}: the options must be an object`);
  }
  // An object of a class (an AbortSignal given as `wait(id, signal)`, a Map)
  // has no option of its own to check, and passed as no options: a deadline
  // lost, a clean(signal) that removed every finished task.
  if (!isPlainObject(options)) {
    const proto = Object.getPrototypeOf(options);
    const signal = typeof AbortSignal !== "undefined" && options instanceof AbortSignal;
    throw new TypeError(
      `${what}: the options must be a plain object (${
        signal ? "an AbortSignal" : `a ${proto?.constructor?.name ?? "class"} object`
      } was given)${
        signal && known.includes("signal") ? "; give the signal as { signal }" : ""
      }; the options are ${known.join(", ")}`,
    );
  }
  for (const name of Object.keys(options)) {
    if (known.includes(name)) {
      const value = (options as Record<string, unknown>)[name];
      const kind = own.includes(name) ? undefined : KINDS[name];
      if (kind && value !== undefined && !kind.test(value)) {
        const got = kind.wrong?.(value) ?? `got ${showValue(value)}`;
        throw new TypeError(`${what}: ${name} must be ${kind.what}, ${got}`);
      }
      continue;
    }
    const like = likeliest(name, known);
    // `wait(id, { timeout: 5 })`: a method whose deadline is its signal says how to give one.
    const deadline = !like && known.includes("signal") && !own.includes("signal") &&
        /time|deadline/i.test(name)
      ? "; for a deadline, signal: AbortSignal.timeout(ms)"
      : "";
    throw new TypeError(
      `${what}: unknown option ${JSON.stringify(name)}${
        like ? ` (did you mean ${like}?)` : ""
      }; the options are ${known.join(", ")}${deadline}`,
    );
  }
}

/**
 * The known name a mistyped one most likely meant: the same but for case, a
 * prefix, an abbreviation (its letters in order, from the same first one:
 * `cols` for `columns`), or a few edits (a swap of two letters is one): 1 for
 * a name of up to 4 letters, 2 for a longer one, and fewer than the name has
 * letters (`tsp` is not taken for `mcp`, nor a two-letter name for any other);
 * undefined when none is close. The library's options and the CLI's verbs and
 * options share it.
 *
 * @example
 * ```ts
 * import { likeliest } from "./options.ts";
 * import { equal } from "node:assert/strict";
 * equal(likeliest("lsit", ["run", "list", "status"]), "list");
 * equal(likeliest("timout", ["timeout", "json"]), "timeout");
 * equal(likeliest("frobnicate", ["run", "list"]), undefined);
 * equal(likeliest("tsp", ["run", "mcp"]), undefined);
 * ```
 */
export function likeliest(name: string, known: readonly string[]): string | undefined {
  const low = name.toLowerCase();
  const byCase = known.find((k) => k.toLowerCase() === low);
  if (byCase) return byCase;
  const byPrefix = known.find((k) => {
    const kl = k.toLowerCase();
    return low.length >= 3 && (kl.startsWith(low) || low.startsWith(kl));
  });
  if (byPrefix) return byPrefix;
  const byAbbreviation = known.find((k) => low.length >= 3 && abbreviates(low, k.toLowerCase()));
  if (byAbbreviation) return byAbbreviation;
  let best: string | undefined;
  let bestDistance = Math.min(low.length <= 4 ? 2 : 3, low.length);
  for (const k of known) {
    const d = distance(low, k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

/** Whether `short` is `long`'s letters in order, starting with its first. */
function abbreviates(short: string, long: string): boolean {
  if (short[0] !== long[0]) return false;
  let at = 0;
  for (const c of short) {
    at = long.indexOf(c, at) + 1;
    if (at === 0) return false;
  }
  return true;
}

/**
 * Edit distance (insertions, deletions, substitutions, and swaps of two
 * letters side by side: `lsit` is 1 from `list`).
 */
function distance(a: string, b: string): number {
  let before: number[] = [];
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        next[j] = Math.min(next[j], before[j - 2] + 1);
      }
    }
    [before, row] = [row, next];
  }
  return row[b.length];
}
