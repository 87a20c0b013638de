/**
 * The signals a kill may send first ({@linkcode KillOptions.signal}), and
 * the check of one given: the library, the CLI and the MCP server take the
 * same list.
 *
 * @module
 */

import type { KillOptions, KillSignal } from "./types.ts";

/**
 * Every first signal a kill takes, the default first. Frozen, as
 * {@linkcode TASK_STATUSES} is: bgtask checks values against it.
 *
 * @example
 * ```ts
 * import { KILL_SIGNALS } from "@bgtask/bgtask";
 * import { equal } from "node:assert/strict";
 * equal(KILL_SIGNALS[0], "SIGTERM");
 * equal(KILL_SIGNALS.includes("SIGINT"), true);
 * ```
 */
export const KILL_SIGNALS: readonly KillSignal[] = Object.freeze(Object.keys(
  {
    SIGTERM: 0,
    SIGINT: 0,
    SIGHUP: 0,
    SIGQUIT: 0,
    SIGUSR1: 0,
    SIGUSR2: 0,
    SIGKILL: 0,
  } satisfies Record<KillSignal, 0>, // (a signal added to KillSignal and not here fails type checking)
) as KillSignal[]);

/**
 * The signal a name means, as kill(1) takes names: with or without `SIG`,
 * in any case; undefined for one not in {@linkcode KILL_SIGNALS}.
 *
 * @example
 * ```ts
 * import { killSignalNamed } from "./kill_signal.ts";
 * import { equal } from "node:assert/strict";
 * equal(killSignalNamed("int"), "SIGINT");
 * equal(killSignalNamed("SIGusr1"), "SIGUSR1");
 * equal(killSignalNamed("STOP"), undefined);
 * ```
 */
export function killSignalNamed(name: string): KillSignal | undefined {
  const wanted = `SIG${name.toUpperCase().replace(/^SIG/, "")}`;
  return KILL_SIGNALS.find((s) => s === wanted);
}

/** The list as an error names it: `"SIGTERM", "SIGINT", …`. */
export const KILL_SIGNALS_TEXT: string = KILL_SIGNALS.map((s) => `"${s}"`).join(", ");

/**
 * The first signal of a kill with `options` (SIGTERM when none is given);
 * a TypeError, prefixed with `what`, naming the value and the signals taken,
 * for any other value.
 *
 * @example
 * ```ts
 * import { killSignalOf } from "./kill_signal.ts";
 * import { equal, throws } from "node:assert/strict";
 * equal(killSignalOf({}, "Cannot kill task"), "SIGTERM");
 * equal(killSignalOf({ signal: "SIGINT" }, "Cannot kill task"), "SIGINT");
 * throws(
 *   () => killSignalOf({ signal: "INT" as "SIGINT" }, "Cannot kill task"),
 *   /signal must be one of "SIGTERM", .*, got "INT" \(a string\); did you mean "SIGINT"\?/,
 * );
 * ```
 */
export function killSignalOf(options: KillOptions, what: string): KillSignal {
  const v: unknown = options.signal;
  if (v === undefined) return "SIGTERM";
  if (typeof v === "string" && (KILL_SIGNALS as readonly string[]).includes(v)) {
    return v as KillSignal;
  }
  let got = typeof v === "string"
    ? `${JSON.stringify(v)} (a string)`
    : typeof v === "number"
    ? `${v} (a number: give its name)`
    : v instanceof AbortSignal
    ? "an AbortSignal (a kill takes none: it ends within its grace and 5 s more)"
    : v === null
    ? "null"
    : `a value of type ${typeof v}`;
  // "INT", "sigint", "SIG_INT": the name it most likely meant.
  const like = typeof v === "string" ? killSignalNamed(v.replace(/^SIG_/i, "SIG")) : undefined;
  if (like) got += `; did you mean "${like}"?`;
  throw new TypeError(`${what}: signal must be one of ${KILL_SIGNALS_TEXT}, got ${got}`);
}
