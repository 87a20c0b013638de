/**
 * Durations on the command line (`500ms`, `30s`, `5m`, `2h`, `1d`, `1h30m`, or
 * a plain number of seconds) and durations in human output (`1.2s`, `3m12s`).
 *
 * @module
 */

import { UsageError } from "./errors.ts";
import { quote } from "./escape.ts";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
// (A number as sleep(1) takes it, `.5` too; `1.` stays refused: a digit lost, more likely.)
const PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d)/y;
const PLAIN = /^(?:\d+(?:\.\d+)?|\.\d+)$/;

/** What the duration flags accept, for error messages and help. */
export const DURATION_FORMS =
  "e.g. 500ms, 30s, 5m, 2h, 1d, 1h30m (each unit once, the largest first); a plain number means seconds";

/**
 * Parses a duration into whole milliseconds. Units: `ms`, `s`, `m`, `h`, `d`,
 * combinable, each once and the largest first (`1h30m`), with decimals (`1.5s`); a plain number is seconds, as
 * for `sleep` and `timeout`. A fraction of a millisecond rounds to the
 * nearest (`1.4ms` is 1). `0` (`0s`, `0.0`, …) is 0, but any other duration
 * under 1ms is an error rather than 0: to the library 0 means "no limit", so
 * rounding `0.4ms` down would silently turn a limit into none.
 *
 * @param text What the user typed.
 * @param flag The flag it came with, named in the error.
 * @param zero What 0 means for this flag, for the error's advice (`no timeout`).
 * @throws {UsageError} When `text` is not a duration, is under 1ms but not 0,
 *   or is too long to count in milliseconds.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./duration.ts";
 * import { equal } from "node:assert/strict";
 * equal(parseDuration("1m30s", "--timeout", "no timeout"), 90_000);
 * equal(parseDuration("2", "--grace", "SIGKILL at once"), 2000);
 * equal(parseDuration(".5", "--timeout", "no timeout"), 500); // as sleep .5
 * ```
 */
export function parseDuration(text: string, flag: string, zero: string): number {
  let ms: number | undefined;
  if (PLAIN.test(text)) {
    ms = Number(text) * 1000;
  } else if (text !== "") {
    ms = 0;
    PART.lastIndex = 0;
    // Each unit once, the largest first (`1h30m`): `1m1m` or `1s1h` is
    // more likely a typo than a sum.
    let below = Infinity;
    while (PART.lastIndex < text.length) {
      const m = PART.exec(text);
      if (!m || UNIT_MS[m[2]] >= below) {
        ms = undefined;
        break;
      }
      below = UNIT_MS[m[2]];
      ms += Number(m[1]) * UNIT_MS[m[2]];
    }
  }
  const invalid = `invalid duration ${quote(text)} for ${flag}`;
  if (ms === undefined) {
    throw new UsageError(`${invalid}${unitless(text) || upperCase(text)} (${DURATION_FORMS})`);
  }
  if (!Number.isFinite(ms) || Math.round(ms) > Number.MAX_SAFE_INTEGER) {
    // (The module counts whole milliseconds, exactly: up to 2^53 - 1 of them.)
    const days = Math.floor(Number.MAX_SAFE_INTEGER / UNIT_MS.d);
    throw new UsageError(`${invalid} (too long: the most is 2^53 - 1 ms, just over ${days}d)`);
  }
  // Decided on the digits, not on `ms`: a long enough run of zeros after the
  // point parses as 0 even when a non-zero digit follows.
  if (/[1-9]/.test(text) && ms < 1) {
    throw new UsageError(`${invalid} (under 1ms: give at least 1ms, or 0 for ${zero})`);
  }
  return Math.round(ms);
}

/**
 * A hint for units written in capitals (`5M`, `1H`), which are refused
 * rather than guessed (`M` reads as months as often as minutes).
 */
function upperCase(text: string): string {
  const lower = text.toLowerCase();
  if (lower === text) return "";
  try {
    parseDuration(lower, "", "");
  } catch {
    return "";
  }
  return `: units are lower case (m is minutes); did you mean ${lower}?`;
}

/** The unit after each, for a number left without one (`1h30` → `1h30m`). */
const NEXT_UNIT: Record<string, string> = { d: "h", h: "m", m: "s", s: "ms" };

/**
 * For a duration whose last number has no unit (`1h30`), the hint that
 * gives it the next one down, when that makes a duration; else "".
 */
function unitless(text: string): string {
  const m = /(ms|s|m|h|d)\d+(?:\.\d+)?$/.exec(text);
  const next = m && NEXT_UNIT[m[1]];
  if (!next) return "";
  try {
    parseDuration(text + next, "", "");
  } catch {
    return "";
  }
  return `: its last number has no unit; did you mean ${text}${next}?`;
}

/**
 * A short human form of a span of time: `340ms`, `1.2s`, `45s`, `3m12s`,
 * `2h05m`, `3d04h`.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./duration.ts";
 * import { equal } from "node:assert/strict";
 * equal(formatDuration(192_000), "3m12s");
 * ```
 */
export function formatDuration(ms: number): string {
  ms = Math.max(0, Math.floor(ms));
  if (ms < 1000) return `${ms}ms`;
  if (ms < 10_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor(s / 3600) % 24)}h`;
}

/**
 * How long ago something happened, coarsely: `now`, `12s ago`, `3m ago`,
 * `2h ago`, `4d ago`.
 *
 * @example
 * ```ts
 * import { formatAgo } from "./duration.ts";
 * import { equal } from "node:assert/strict";
 * equal(formatAgo(180_000), "3m ago");
 * ```
 */
export function formatAgo(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return "now";
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

/**
 * A moment in this machine's local time, as a person at a terminal reads
 * it, with its offset from UTC so that it is never ambiguous:
 * `2026-12-04 13:26:51.260 -05:00` (`TZ` picks the zone, as for `date`).
 * Text that is no date is returned as it is.
 *
 * @example
 * ```ts
 * import { formatLocalTime } from "./duration.ts";
 * import { match } from "node:assert/strict";
 * match(formatLocalTime("2026-12-04T18:26:51.260Z"), /^2026-12-0[45] \d\d:\d\d:51\.260 [+-]\d\d:\d\d$/);
 * ```
 */
export function formatLocalTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? "-" : "+";
  const a = Math.abs(off);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.` +
    `${pad(d.getMilliseconds(), 3)} ${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}
