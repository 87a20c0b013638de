/**
 * `bgtask mcp`: MCP over stdio. One connection is one session, with one
 * completion consumer for the life of the process.
 *
 * @module
 */

import { serveStdio, StdioServerTransport } from "@modelcontextprotocol/server/stdio";
import type { TaskManager } from "../../mod.ts";
import { createServer, newConsumer } from "./server.ts";

/**
 * Serves MCP on stdin/stdout; resolves when the client closes stdin (or
 * `signal` aborts). Nothing else may write to stdout meanwhile.
 */
export async function serveOnStdio(tasks: TaskManager, signal?: AbortSignal): Promise<void> {
  const consumer = newConsumer();
  const wire = new StdioServerTransport();
  const handle = serveStdio(() => createServer({ tasks, consumer }), { transport: wire });
  const closed = new Promise<void>((resolve) => {
    const inner = wire.onclose;
    wire.onclose = () => {
      inner?.();
      resolve();
    };
  });
  const stop = () => void handle.close();
  signal?.addEventListener("abort", stop, { once: true });
  try {
    await closed;
  } finally {
    signal?.removeEventListener("abort", stop);
  }
}
