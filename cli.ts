/**
 * The bgtask command line (placeholder until the CLI lands).
 *
 * @module
 */

/** Runs the CLI; returns the exit code. */
export function main(_args: string[]): Promise<number> {
  return Promise.resolve(0);
}
