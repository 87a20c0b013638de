/**
 * What `bgtask mcp` runs once its command line is parsed: the stdio server,
 * or the HTTP one. Loaded by a dynamic import, so that the MCP SDK costs
 * nothing to the other verbs; each transport's code is loaded only when it
 * serves (the HTTP one's token check loads `node:crypto`, 5–6 ms).
 *
 * @module
 */

import type { TaskManager } from "../../mod.ts";
import { registerConsumer, releaseConsumer } from "./consumer.ts";
import { FALLBACK_FLAG, linearFallback } from "../linear_regexp.ts";
import { later } from "../timers.ts";

/**
 * Says on stderr, half a second after the start (out of the way of the
 * first requests), when grep and pattern will be refused for want of V8's
 * linear-time fallback. Returns what cancels it.
 */
function warnWithoutFallback(log: (line: string) => void): () => void {
  return later(500, () => {
    if (linearFallback()) return;
    log(
      `bgtask mcp: warning: started without ${FALLBACK_FLAG}: task_read's grep and ` +
        "task_wait's pattern are refused, since a pattern could stall the server; add the " +
        'flag where the client starts it (see the README, "Use from an agent")',
    );
  });
}

/** How to serve. */
export interface McpOptions {
  tasks: TaskManager;
  /** Serve Streamable HTTP on this address instead of stdio. */
  http?: { hostname: string; port: number; remote: boolean; hosts?: readonly string[] };
  /** The bearer token (`--token`); default the environment's or the store's. */
  token?: string;
  /**
   * stdio: the session's completion consumer (`--consumer NAME`), kept in
   * the store when the server exits, so that the next server of that name
   * tells of the tasks that ended meanwhile. Default: a new `mcp-…` one,
   * forgotten at exit.
   */
  consumer?: string;
  /** Progress lines for a person (stderr). */
  log: (line: string) => void;
  /** Stops serving. */
  signal?: AbortSignal;
}

/**
 * Loads a transport's code, which imports the MCP SDK (an npm package, named
 * by bgtask's import map); when that fails, the error says why in one line.
 */
async function load<T>(importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (e) {
    const first = (e instanceof Error ? e.message : String(e)).split("\n")[0];
    const hint = / not a dependency/.test(first)
      ? "bgtask was installed without its deno.json, whose import map names the MCP SDK: " +
        "install it from JSR, or from a checkout with `deno task install:cli`"
      : "the MCP SDK is an npm package, downloaded on first use: the first `bgtask mcp` " +
        "needs the network";
    throw new Error(`cannot load the MCP server (${first}): ${hint}`, { cause: e });
  }
}

/** Serves until the client goes (stdio) or `signal` aborts (HTTP); returns the exit code. */
export async function runMcp(opts: McpOptions): Promise<number> {
  const stopWarning = warnWithoutFallback(opts.log);
  try {
    return await serve(opts);
  } finally {
    stopWarning();
  }
}

async function serve(opts: McpOptions): Promise<number> {
  if (!opts.http) {
    // The consumer is registered while the SDK loads (bash runs meanwhile):
    // the first request waits for both.
    const registration = registerConsumer(opts.tasks, opts.consumer);
    const { serveOnStdio } = await load(() => import("./stdio.ts"));
    await serveOnStdio(opts.tasks, opts.signal, registration, opts.log, {
      named: opts.consumer !== undefined,
    });
    // The session is over (the client went): its consumer with it (see
    // http.ts), unless named: the next server of that name goes on from it.
    if (opts.consumer === undefined) await releaseConsumer(opts.tasks, registration);
    await registration.registered.catch(() => {});
    return 0;
  }
  const [{ serveHttp }, { loadToken, TOKEN_ENV }] = await Promise.all([
    load(() => import("./http.ts")),
    import("./token.ts"),
  ]);
  const { token, source, envUnreadable } = await loadToken(opts.tasks.dir, opts.token);
  const server = await serveHttp({
    tasks: opts.tasks,
    hostname: opts.http.hostname,
    port: opts.http.port,
    remote: opts.http.remote,
    hosts: opts.http.hosts,
    token,
    signal: opts.signal,
  });
  // (Every address: no client can use 0.0.0.0 or [::] as given.)
  const anywhere = /^(0\.0\.0\.0|::|\[::\])$/.test(opts.http.hostname)
    ? " (every address of this machine: clients use one of them, http://ADDRESS:" +
      `${server.port}/mcp)`
    : "";
  opts.log(
    `bgtask mcp: serving MCP (Streamable HTTP) at ${server.url}${anywhere}; ` +
      `requests need "Authorization: Bearer <token>", the token from ${source}` +
      // (A token set in the environment, not granted, was passed over without a word.)
      (envUnreadable
        ? ` (${TOKEN_ENV} may not be read, so a token set there is not used: ` +
          `--allow-env=${TOKEN_ENV} grants it)`
        : ""),
  );
  await server.finished;
  return 0;
}
