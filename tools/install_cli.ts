/**
 * `deno task install:cli`: installs this checkout's CLI as `bgtask`, with
 * the permissions of the store it will use by default (`defaultStoreDir`:
 * `$BGTASK_DIR`, else `$XDG_CACHE_HOME/bgtask`, else `~/.cache/bgtask`), and
 * the project's `deno.json` (its import map names the MCP SDK). The flags
 * are passed as arguments, not through a shell: a path with a space stays
 * one. Extra arguments go to `deno install` (e.g. `--root DIR`).
 *
 * @module
 */

import { defaultStoreDir } from "../src/cache_dir.ts";

const root = decodeURIComponent(new URL("../", import.meta.url).pathname);
const store = defaultStoreDir();
const args = [
  "install",
  "-g",
  "-f",
  "-n",
  "bgtask",
  // A missing permission is refused at once, with bgtask's line naming the
  // flag, not asked at the terminal (see the README, "Install").
  "--no-prompt",
  "--config",
  `${root}deno.json`,
  "--v8-flags=--enable-experimental-regexp-engine-on-excessive-backtracks,--max-semi-space-size=1",
  "--allow-run=bash",
  `--allow-read=${store}`,
  `--allow-write=${store}`,
  // (TERM: a dumb terminal gets no colour and no spinner; without it, bgtask cannot tell.)
  "--allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR,TERM",
  ...Deno.args,
  `${root}cli.ts`,
];
console.error(`Installing bgtask with the permissions of the store ${store}`);
const { code } = await new Deno.Command(Deno.execPath(), { args }).spawn().status;
Deno.exit(code);
