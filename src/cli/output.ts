/**
 * Writing to stdout: whole buffers, JSON, and a quiet end when the reader
 * closes the pipe (`bgtask logs b1 | head -n 1`).
 *
 * @module
 */

import { OutputClosed } from "./errors.ts";

const encoder = new TextEncoder();

/**
 * Writes all of `bytes` to stdout.
 *
 * @throws {OutputClosed} When the reader has closed stdout.
 *
 * @example
 * ```ts
 * import { writeOut } from "./output.ts";
 * await writeOut(new TextEncoder().encode("hi\n"));
 * ```
 */
export async function writeOut(bytes: Uint8Array): Promise<void> {
  try {
    let done = 0;
    while (done < bytes.length) done += await Deno.stdout.write(bytes.subarray(done));
  } catch (e) {
    if (e instanceof Deno.errors.BrokenPipe) throw new OutputClosed();
    // (A full disk, say: the message says where the writing failed.)
    if (e instanceof Error) throw new Error(`cannot write to stdout: ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * Writes text to stdout.
 *
 * @example
 * ```ts
 * import { printOut } from "./output.ts";
 * await printOut("b1\n");
 * ```
 */
export function printOut(text: string): Promise<void> {
  return writeOut(encoder.encode(text));
}

/**
 * Awaits a write to stdout, and lets a closed stdout pass: for the verbs whose
 * exit code says something besides their output (`wait`, `run --wait`), a
 * reader that stopped reading must not change it.
 *
 * @example
 * ```ts
 * import { printOut, unlessClosed } from "./output.ts";
 * await unlessClosed(printOut("b1\n"));
 * ```
 */
export async function unlessClosed(write: Promise<void>): Promise<void> {
  try {
    await write;
  } catch (e) {
    if (!(e instanceof OutputClosed)) throw e;
  }
}

/**
 * Writes a value as indented JSON and a newline: the `--json` output.
 *
 * @example
 * ```ts
 * import { printJson } from "./output.ts";
 * await printJson([{ id: "b1" }]);
 * ```
 */
export function printJson(value: unknown): Promise<void> {
  return printOut(JSON.stringify(value, null, 2) + "\n");
}

/**
 * Writes one line to stderr, synchronously (used for errors, just before exiting).
 *
 * @example
 * ```ts
 * import { printErr } from "./output.ts";
 * printErr("bgtask: a warning");
 * ```
 */
export function printErr(line: string): void {
  const bytes = encoder.encode(line + "\n");
  try {
    let done = 0;
    while (done < bytes.length) done += Deno.stderr.writeSync(bytes.subarray(done));
  } catch {
    // Nowhere left to report to.
  }
}
