/**
 * Shared helpers of the `bgtask mcp --http` tests: the server as a child
 * process (`cli.ts mcp --http 0`) or in this process (`serveHttp`), an
 * initialize message, and a raw session driven by `fetch`.
 */

import type { TaskManager } from "../../mod.ts";
import { serveHttp } from "../../src/mcp/http.ts";
import { minimalFlags, ROOT, settleStore } from "./common.ts";

const CLI = `${ROOT}cli.ts`;

/** A running `bgtask mcp --http` child. */
export interface HttpChild {
  url: string;
  port: number;
  dir: string;
  child: Deno.ChildProcess;
  stop(): Promise<void>;
  /** What it wrote to stderr so far. */
  stderr(): string;
}

/** Starts `cli.ts mcp --http 0 …` (or `--http address`) on a store; resolves once it printed its URL. */
export async function startHttp(
  dir: string,
  extra: string[] = [],
  env?: Record<string, string>,
  flags: readonly string[] = [],
  address = "0",
): Promise<HttpChild> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      ...minimalFlags(dir),
      ...flags,
      address === "0" ? "--allow-net=127.0.0.1" : "--allow-net",
      CLI,
      "--dir",
      dir,
      "mcp",
      "--http",
      address,
      ...extra,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env,
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const deadline = Date.now() + 20_000;
  try {
    while (!/ at (http:[^\s;]+)[ ;]/.test(seen)) {
      if (Date.now() > deadline) throw new Error(`no URL printed: ${seen}`);
      const { value, done } = await reader.read();
      if (done) throw new Error(`the server exited: ${seen}`);
      seen += value;
    }
  } catch (e) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await child.status;
    await reader.cancel();
    throw e;
  }
  const url = / at (http:[^\s;]+)[ ;]/.exec(seen)![1];
  // Keep draining stderr so the child never blocks on it.
  let rest = "";
  const drained = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += value;
    }
  })();
  return {
    url,
    port: Number(new URL(url).port),
    dir,
    child,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
      await drained;
    },
    stderr: () => seen + rest,
  };
}

/** Runs `fn` against a `cli.ts mcp --http 0` child on a store of its own (its token file's token); stops and cleans up after. */
export async function withHttp(
  fn: (s: HttpChild, token: string) => Promise<void>,
  extra: string[] = [],
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-mcp-http-" });
  let s: HttpChild | undefined;
  try {
    s = await startHttp(dir, extra);
    const token = (await Deno.readTextFile(`${dir}/mcp-token`)).trim();
    await fn(s, token);
  } finally {
    await s?.stop();
    await settleStore(dir);
    await Deno.remove(dir, { recursive: true });
  }
}

/** An initialize request (id 1), as a POST body. */
export const INIT = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: "2025-11-25",
    capabilities: {},
    clientInfo: { name: "t", version: "1" },
  },
});

/** Runs `fn` against `serveHttp` in this process, on a store of its own; stops and cleans up after. */
export async function withInProcessServer<T extends TaskManager>(
  prefix: string,
  make: (dir: string) => T,
  fn: (server: { url: string }, tasks: T, token: string) => Promise<void>,
  maxSessions?: number,
  sessionIdleMs?: number,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  const tasks = make(dir);
  const stop = new AbortController();
  const token = "0123456789abcdef0123";
  const server = await serveHttp({
    tasks,
    hostname: "127.0.0.1",
    port: 0,
    token,
    remote: false,
    signal: stop.signal,
    maxSessions,
    sessionIdleMs,
  });
  try {
    await fn(server, tasks, token);
  } finally {
    stop.abort();
    await server.finished;
    await tasks.close();
    await settleStore(dir);
    await Deno.remove(dir, { recursive: true });
  }
}

/** `p`, or a rejection naming `what` after `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A raw session on the server at `url`: initialize, then messages and calls by POST. */
export async function rawSession(url: string, token: string) {
  const headers: Record<string, string> = {
    authorization: `Bearer ${token}`,
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  };
  const init = await fetch(url, { method: "POST", headers, body: INIT });
  const sid = init.headers.get("mcp-session-id")!;
  await init.body?.cancel();
  headers["mcp-session-id"] = sid;
  headers["mcp-protocol-version"] = "2025-11-25";
  const note = await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
  });
  await note.body?.cancel();
  const post = (message: unknown, signal?: AbortSignal) =>
    fetch(url, { method: "POST", headers, body: JSON.stringify(message), signal });
  return {
    /** The session's id. */
    sid,
    post,
    call: (id: number, name: string, args: Record<string, unknown>, signal?: AbortSignal) =>
      post({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } }, signal),
  };
}
