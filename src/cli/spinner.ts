/**
 * A one-line spinner with the elapsed time, on stderr, shown only when stderr
 * is a terminal.
 *
 * @module
 */

import { every } from "../timers.ts";
import { formatDuration } from "./duration.ts";
import { cutToWidth } from "./escape.ts";
import { dumbTerminal } from "./style.ts";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const CLEAR_LINE = "\r\x1b[2K";
const encoder = new TextEncoder();

/** The terminal's width; 80 when it says 0 (`script` without a size, `docker run -t`), as tables take it. */
function columns(): number {
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}

/**
 * Whether stderr can show a spinner: a terminal, and not a dumb one
 * (`TERM=dumb`: it shows `\r\x1b[2K` as text, not as an erased line).
 *
 * @example
 * ```ts
 * import { canRedraw } from "./spinner.ts";
 * import { equal } from "node:assert/strict";
 * equal(typeof canRedraw(), "boolean");
 * ```
 */
export function canRedraw(): boolean {
  return Deno.stderr.isTerminal() && !dumbTerminal();
}

/**
 * A spinner redrawn ten times a second: `⠹ waiting for b3 (make) 12s`.
 * {@linkcode Spinner.stop} erases it. Does nothing at all when stderr is not
 * a terminal, or is a dumb one ({@linkcode canRedraw}).
 *
 * @example
 * ```ts
 * import { Spinner } from "./spinner.ts";
 * const spinner = new Spinner(() => "waiting for b1");
 * spinner.stop();
 * ```
 */
export class Spinner {
  readonly #label: () => string;
  readonly #started = performance.now();
  #stopTimer?: () => void;
  #frame = 0;

  /**
   * @param label The text after the spinner (escaped by the caller); read on every frame.
   * @param enabled Show it; default: when stderr is a terminal, not a dumb one.
   */
  constructor(label: () => string, enabled: boolean = canRedraw()) {
    this.#label = label;
    if (!enabled) return;
    this.#draw();
    this.#stopTimer = every(100, () => this.#draw());
  }

  /** Whether the spinner is being shown. */
  get active(): boolean {
    return this.#stopTimer !== undefined;
  }

  #write(text: string): void {
    try {
      Deno.stderr.writeSync(encoder.encode(text));
    } catch {
      // A closed terminal: nothing to show it on.
    }
  }

  #draw(): void {
    const frame = FRAMES[this.#frame++ % FRAMES.length];
    const elapsed = formatDuration(Math.round(performance.now() - this.#started));
    // Two columns short of the width: a Ctrl-C's "^C", echoed by the
    // terminal after the line, must not wrap it (the erase would then clear
    // only the new line, leaving the spinner's above).
    const label = cutToWidth(this.#label(), Math.max(10, columns() - elapsed.length - 6));
    this.#write(`${CLEAR_LINE}${frame} ${label} ${elapsed}`);
  }

  /** Stops and erases the spinner line. Safe to call more than once. */
  stop(): void {
    if (this.#stopTimer === undefined) return;
    this.#stopTimer();
    this.#stopTimer = undefined;
    this.#write(CLEAR_LINE);
  }
}
