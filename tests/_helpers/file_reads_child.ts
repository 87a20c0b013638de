/**
 * Runs the CLI's `main()` in this process and counts how often files whose
 * path matches a pattern are opened or read whole meanwhile (by the CLI and
 * by the manager); run by the CLI tests that bound a verb's reads.
 *
 *   deno run PERMISSIONS file_reads_child.ts PATTERN CLI_ARGS…
 *
 * The CLI's stdout is this process's; the count goes to stderr last, as
 * `reads N`. Exits with the CLI's code.
 *
 * @module
 */

import { main } from "../../cli.ts";

const [pattern, ...args] = Deno.args;
const matches = new RegExp(pattern);
let reads = 0;
const count = (path: string | URL) => {
  if (matches.test(String(path))) reads++;
};
const { open, readFile, readFileSync, readTextFile, readTextFileSync } = Deno;
Deno.open = (path, options) => (count(path), open(path, options));
Deno.readFile = (path, options) => (count(path), readFile(path, options));
Deno.readFileSync = (path) => (count(path), readFileSync(path));
Deno.readTextFile = (path, options) => (count(path), readTextFile(path, options));
Deno.readTextFileSync = (path) => (count(path), readTextFileSync(path));
const code = await main(args);
console.error(`reads ${reads}`);
Deno.exit(code);
