/**
 * Colour, only when it is wanted: `--color always`, or (`--color auto`, the
 * default) stdout is a terminal, `NO_COLOR` is not set (read through
 * `Deno.noColor`, which needs no permission) and the terminal is not a dumb
 * one (`TERM=dumb`: Emacs' M-x shell; read when `--allow-env` grants `TERM`).
 *
 * @module
 */

import type { TaskStatus } from "../../mod.ts";
import { UsageError } from "./errors.ts";
import { quote } from "./escape.ts";

/** Wraps text in one SGR style, or leaves it plain. */
export type Paint = (text: string) => string;

/** The styles the CLI uses. */
export interface Style {
  /** Whether styles do anything. */
  enabled: boolean;
  /** Table headers. */
  bold: Paint;
  /** Secondary text. */
  dim: Paint;
  /** The colour of a status word. */
  status(status: TaskStatus): Paint;
}

function sgr(enabled: boolean, open: number, close: number): Paint {
  return enabled ? (text) => `\x1b[${open}m${text}\x1b[${close}m` : (text) => text;
}

/**
 * Styles that colour when `enabled`, and are the identity otherwise.
 *
 * @example
 * ```ts
 * import { makeStyle } from "./style.ts";
 * import { equal } from "node:assert/strict";
 * equal(makeStyle(false).status("failed")("failed"), "failed"); // no escapes
 * ```
 */
export function makeStyle(enabled: boolean): Style {
  const colours: Record<TaskStatus, Paint> = {
    queued: sgr(enabled, 2, 22),
    running: sgr(enabled, 36, 39),
    paused: sgr(enabled, 35, 39),
    completed: sgr(enabled, 32, 39),
    failed: sgr(enabled, 31, 39),
    killed: sgr(enabled, 33, 39),
  };
  return {
    enabled,
    bold: sgr(enabled, 1, 22),
    dim: sgr(enabled, 2, 22),
    status: (s) => colours[s],
  };
}

/**
 * Whether stdout is coloured, by `--color WHEN`: `always` and `never` say
 * so (a flag overrides `NO_COLOR` and `TERM=dumb`, as no-color.org asks);
 * `auto` (the default) colours a terminal when `NO_COLOR` is unset and
 * `TERM` is not `dumb`.
 *
 * @throws {UsageError} For any other value.
 *
 * @example
 * ```ts
 * import { wantColor } from "./style.ts";
 * import { equal, throws } from "node:assert/strict";
 * equal(wantColor("always"), true);
 * equal(wantColor("never"), false);
 * equal(typeof wantColor(), "boolean"); // auto: a terminal without NO_COLOR
 * throws(() => wantColor("yes"), /--color takes auto, always or never/);
 * ```
 */
export function wantColor(when: string = "auto"): boolean {
  switch (when) {
    case "always":
      return true;
    case "never":
      return false;
    case "auto":
      return !Deno.noColor && Deno.stdout.isTerminal() && !dumbTerminal();
  }
  throw new UsageError(
    `option --color takes auto, always or never, got ${quote(when)} (see bgtask --help)`,
  );
}

/**
 * Whether `TERM` says the terminal is a dumb one (`TERM=dumb`: Emacs' M-x
 * shell, some editors' and CI's consoles): it shows no colour and no
 * cursor movement, so no colour and no spinner redrawn in place. Read only
 * when `--allow-env` grants `TERM` (no prompt): without it, false.
 *
 * @example
 * ```ts
 * import { dumbTerminal } from "./style.ts";
 * import { equal } from "node:assert/strict";
 * equal(typeof dumbTerminal(), "boolean");
 * ```
 */
export function dumbTerminal(): boolean {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: "TERM" }).state !== "granted") {
      return false;
    }
    return Deno.env.get("TERM") === "dumb";
  } catch {
    return false;
  }
}
