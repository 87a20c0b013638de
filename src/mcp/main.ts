/**
 * What `bgtask mcp` runs once its command line is parsed: the stdio server,
 * or the HTTP one. Loaded by a dynamic import, so that the MCP SDK costs
 * nothing to the other verbs.
 *
 * @module
 */

import type { TaskManager } from "../../mod.ts";
import { serveHttp } from "./http.ts";
import { serveOnStdio } from "./stdio.ts";
import { loadToken } from "./token.ts";

/** How to serve. */
export interface McpOptions {
  tasks: TaskManager;
  /** Serve Streamable HTTP on this address instead of stdio. */
  http?: { hostname: string; port: number; remote: boolean };
  /** The bearer token (`--token`); default the environment's or the store's. */
  token?: string;
  /** Progress lines for a person (stderr). */
  log: (line: string) => void;
  /** Stops serving. */
  signal?: AbortSignal;
}

/** Serves until the client goes (stdio) or `signal` aborts (HTTP); returns the exit code. */
export async function runMcp(opts: McpOptions): Promise<number> {
  if (!opts.http) {
    await serveOnStdio(opts.tasks, opts.signal);
    return 0;
  }
  const { token, source } = await loadToken(opts.tasks.dir, opts.token);
  const server = await serveHttp({
    tasks: opts.tasks,
    hostname: opts.http.hostname,
    port: opts.http.port,
    remote: opts.http.remote,
    token,
    signal: opts.signal,
  });
  opts.log(
    `bgtask mcp: serving MCP (Streamable HTTP) at ${server.url}; ` +
      `requests need "Authorization: Bearer <token>", the token from ${source}`,
  );
  await server.finished;
  return 0;
}
