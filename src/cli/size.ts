/**
 * Sizes on the command line (`512`, `512k`, `10MB`, `1GiB`) and in human
 * output (`1.0 GiB`).
 *
 * The suffixes follow GNU coreutils (`head -c`, `truncate -s`): a bare letter
 * or `iB` is binary (`k` = `KiB` = 1024), a letter with `B` is decimal
 * (`kB` = 1000, `MB` = 1000²). Letters are case-insensitive.
 *
 * @module
 */

import { UsageError } from "./errors.ts";
import { quote } from "./escape.ts";

const UNITS: Record<string, number> = { "": 1, b: 1 };
for (const [i, letter] of ["k", "m", "g", "t"].entries()) {
  UNITS[letter] = 1024 ** (i + 1);
  UNITS[`${letter}ib`] = 1024 ** (i + 1);
  UNITS[`${letter}b`] = 1000 ** (i + 1);
}
const SIZE = /^(\d+(?:\.\d+)?) ?([a-z]*)$/i;

/** What the size flags accept, for error messages and help. */
export const SIZE_FORMS = "e.g. 4096, 512k, 10MB, 1GiB; k/KiB = 1024, kB = 1000";

/**
 * Parses a size into whole bytes. A fraction of a byte rounds to the nearest
 * (`1.3k` is 1331). `0` (`0k`, `0.0MB`, …) is 0, but any other size under 1
 * byte is an error rather than 0, which means "no cap" to `--max-output`.
 *
 * @param text What the user typed.
 * @param flag The flag it came with, named in the error.
 * @param zero What 0 means for this flag, for the error's advice (`no cap`).
 * @throws {UsageError} When `text` is not a size, is under 1 byte but not 0,
 *   or is too large to count in bytes.
 *
 * @example
 * ```ts
 * import { parseSize } from "./size.ts";
 * import { equal } from "node:assert/strict";
 * equal(parseSize("10MB", "--max-output", "no cap"), 10_000_000);
 * equal(parseSize("1GiB", "--max-output", "no cap"), 1_073_741_824);
 * ```
 */
export function parseSize(text: string, flag: string, zero: string): number {
  const m = SIZE.exec(text);
  const suffix = m?.[2].toLowerCase() ?? "";
  const unit = m && Object.hasOwn(UNITS, suffix) ? UNITS[suffix] : undefined;
  const invalid = `invalid size ${quote(text)} for ${flag}`;
  if (m && unit === undefined) {
    // `10Mi` (Kubernetes' way): the binary unit is written with its B here.
    const binary = /^([kmgt])i$/i.exec(m[2]);
    const meant = binary ? `; did you mean ${m[1]}${binary[1].toUpperCase()}iB?` : "";
    throw new UsageError(
      `${invalid}: ${quote(m[2])} is not a unit${meant} (the units are B, k, M, G and T: ` +
        `${SIZE_FORMS})`,
    );
  }
  if (!m || unit === undefined) throw new UsageError(`${invalid} (${SIZE_FORMS})`);
  const bytes = Number(m[1]) * unit;
  if (!Number.isSafeInteger(Math.round(bytes))) {
    // (The module counts whole bytes, exactly: up to 2^53 - 1 of them.)
    throw new UsageError(`${invalid} (too large: the most is 2^53 - 1 bytes, just under 8192TiB)`);
  }
  // Decided on the digits, as for durations: 0.000…1 may parse as 0.
  if (/[1-9]/.test(m[1]) && bytes < 1) {
    throw new UsageError(`${invalid} (under 1 byte: give at least 1, or 0 for ${zero})`);
  }
  return Math.round(bytes);
}

/**
 * A short human form of a byte count, in binary units: `512 B`, `1.5 KiB`, `1.0 GiB`.
 *
 * @example
 * ```ts
 * import { formatSize } from "./size.ts";
 * import { equal } from "node:assert/strict";
 * equal(formatSize(1536), "1.5 KiB");
 * ```
 */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes / 1024;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${value.toFixed(1)} ${units[i]}`;
}
