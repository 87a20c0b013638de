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
 * Parses a size into whole bytes.
 *
 * @param text What the user typed.
 * @param flag The flag it came with, named in the error.
 * @throws {UsageError} When `text` is not a size.
 *
 * @example
 * ```ts
 * import { parseSize } from "./size.ts";
 * console.log(parseSize("10MB", "--max-output"), parseSize("1GiB", "--max-output"));
 * // 10000000 1073741824
 * ```
 */
export function parseSize(text: string, flag: string): number {
  const m = SIZE.exec(text);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  const bytes = m && unit ? Math.round(Number(m[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes)) {
    throw new UsageError(`invalid size ${quote(text)} for ${flag} (${SIZE_FORMS})`);
  }
  return bytes;
}

/**
 * A short human form of a byte count, in binary units: `512 B`, `1.5 KiB`, `1.0 GiB`.
 *
 * @example
 * ```ts
 * import { formatSize } from "./size.ts";
 * console.log(formatSize(1536)); // "1.5 KiB"
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
