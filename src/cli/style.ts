/**
 * Colour, only when it is wanted: stdout is a terminal and `NO_COLOR` is not
 * set (read through `Deno.noColor`, which needs no permission).
 *
 * @module
 */

import type { TaskStatus } from "../../mod.ts";

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
 * True when stdout should be coloured: it is a terminal and `NO_COLOR` is unset.
 *
 * @example
 * ```ts
 * import { wantColor } from "./style.ts";
 * import { equal } from "node:assert/strict";
 * equal(typeof wantColor(), "boolean");
 * ```
 */
export function wantColor(): boolean {
  return !Deno.noColor && Deno.stdout.isTerminal();
}
