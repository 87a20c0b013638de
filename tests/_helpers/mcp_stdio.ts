/**
 * `bgtask mcp` over stdio as a child process, spoken to in raw JSON-RPC
 * lines: for tests that drive the real server (cancels at chosen moments,
 * the end of stdin).
 */

import { initializeMessage, MCP_FLAGS, minimalFlags } from "./common.ts";
import { childOptions, cliArgs, withStore } from "../cli_helpers.ts";

const enc = new TextEncoder();

/** A reply to one request (a tool call's text, when it is one). */
export interface Reply {
  id: number;
  text: string;
  isError: boolean;
  raw: Record<string, unknown>;
}

/** How to start the server. */
export interface StdioServerOptions {
  /** Its Deno flags (default MCP_FLAGS and the minimal permissions for the store). */
  flags?: string[];
  /** Its environment, besides PATH, HOME and DENO_DIR. */
  env?: Record<string, string>;
}

/** `bgtask mcp` over stdio, spoken to line by line. */
export class StdioServer {
  readonly child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #waiting = new Map<number, (r: Reply) => void>();
  readonly #replies = new Map<number, Reply>();
  /** Every message the server wrote, in order (notifications, answers with the same id). */
  readonly messages: Record<string, unknown>[] = [];
  #next = 100;
  /** Resolves when stdout ends. */
  readonly stdoutDone: Promise<void>;
  readonly stderr: Promise<string>;

  constructor(dir: string, options: StdioServerOptions = {}) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: cliArgs(dir, ["mcp"], { flags: options.flags ?? [...MCP_FLAGS, ...minimalFlags(dir)] }),
      ...childOptions(options.env),
      stdin: "piped",
      signal: AbortSignal.timeout(120_000), // a hang fails the test, not the suite
    }).spawn();
    this.#writer = this.child.stdin.getWriter();
    this.stderr = new Response(this.child.stderr).text();
    this.stdoutDone = this.#read();
  }

  async #read(): Promise<void> {
    let buffered = "";
    const decoder = new TextDecoder();
    for await (const chunk of this.child.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const msg = JSON.parse(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        this.messages.push(msg);
        if (typeof msg.id !== "number") continue; // (notifications)
        const result = msg.result ?? {};
        const content = (result.content ?? []) as { text: string }[];
        const reply: Reply = {
          id: msg.id,
          text: content.map((c) => c.text).join("\n"),
          isError: result.isError === true || msg.error !== undefined,
          raw: msg,
        };
        this.#replies.set(msg.id, reply);
        this.#waiting.get(msg.id)?.(reply);
      }
    }
  }

  async send(message: Record<string, unknown>): Promise<void> {
    await this.#writer.write(enc.encode(JSON.stringify(message) + "\n"));
  }

  /** Whether a reply to request `id` has come. */
  answered(id: number): boolean {
    return this.#replies.has(id);
  }

  /** Sends a request; returns its id and the promise of its reply. */
  async request(method: string, params: Record<string, unknown>) {
    const id = this.#next++;
    const reply = new Promise<Reply>((resolve) => {
      const had = this.#replies.get(id);
      if (had) resolve(had);
      else this.#waiting.set(id, resolve);
    });
    await this.send({ jsonrpc: "2.0", id, method, params });
    return { id, reply };
  }

  /** Starts a tool call; returns its id and the promise of its reply. */
  start(name: string, args: Record<string, unknown>) {
    return this.request("tools/call", { name, arguments: args });
  }

  /** A tool call, answered. */
  async call(name: string, args: Record<string, unknown>): Promise<Reply> {
    return await (await this.start(name, args)).reply;
  }

  async initialize(): Promise<void> {
    await this.send(initializeMessage("review-test"));
    await this.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    // (The first tool call is answered once the session's consumer is registered.)
    await this.call("task_list", {});
  }

  /** Closes stdin (the client goes). */
  async closeInput(): Promise<void> {
    await this.#writer.close().catch(() => {});
  }

  /** Closes stdin and waits for the process to exit. */
  async close(): Promise<Deno.CommandStatus> {
    await this.closeInput();
    const status = await this.child.status;
    await this.stdoutDone;
    await this.stderr;
    return status;
  }
}

/**
 * A store, and `bgtask mcp` on it, initialized (closed afterwards; the
 * store's tasks settled by withStore). `options` may depend on the store's
 * folder.
 */
export function withServer(
  fn: (srv: StdioServer, dir: string) => Promise<void>,
  options: (dir: string) => StdioServerOptions = () => ({}),
): Promise<void> {
  return withStore(async (dir) => {
    const srv = new StdioServer(dir, options(dir));
    try {
      await srv.initialize();
      await fn(srv, dir);
    } finally {
      await srv.close();
    }
  });
}

/**
 * `bgtask mcp` on `dir` with `input` piped in and its stdin closed after
 * it (`echo … | bgtask mcp`): its exit code, its replies (parsed, in the
 * order written) and its stderr.
 */
export async function pipedMcp(dir: string, input: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: cliArgs(dir, ["mcp"], { flags: [...MCP_FLAGS, ...minimalFlags(dir)] }),
    ...childOptions(),
    stdin: "piped",
    signal: AbortSignal.timeout(60_000),
  }).spawn();
  const writer = child.stdin.getWriter();
  // (A server that has gone makes the write fail: what it said is returned.)
  await writer.write(enc.encode(input)).catch(() => {});
  await writer.close().catch(() => {});
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout).trim();
  return {
    code: out.code,
    replies: text === "" ? [] : text.split("\n").map((l) => JSON.parse(l)),
    stderr: new TextDecoder().decode(out.stderr),
  };
}
