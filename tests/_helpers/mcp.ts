/** Shared MCP test helpers: an SDK client on a server in this process, result text, probes. */

import { Client, InMemoryTransport } from "@modelcontextprotocol/client";
import type { TaskManager } from "../../mod.ts";
import { createServer } from "../../src/mcp/server.ts";
import { withStore } from "./common.ts";

/** One tool call's result, as the client sees it. */
export interface Result {
  text: string;
  isError: boolean;
  raw: Record<string, unknown>;
}

/** A connected SDK client. */
export interface McpClient {
  client: Client;
  call(
    name: string,
    args: Record<string, unknown>,
    options?: { onprogress?: (p: { progress: number; message?: string }) => void },
  ): Promise<Result>;
  close(): Promise<void>;
}

/** Connects the SDK's client to a new bgtask MCP server (one session) on `tasks`. */
export async function connect(tasks: TaskManager, consumer?: string): Promise<McpClient> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const server = createServer({ tasks, consumer });
  await server.connect(serverSide);
  const client = new Client({ name: "bgtask-test", version: "1.0.0" });
  await client.connect(clientSide);
  // A first tool call: the session's completion consumer is registered by then.
  await client.callTool({ name: "task_list", arguments: {} });
  return {
    client,
    async call(name, args, options = {}) {
      const r = await client.callTool({ name, arguments: args }, {
        onprogress: options.onprogress,
        timeout: 120_000,
      }) as Record<string, unknown>;
      const content = r.content as { type: string; text: string }[];
      return { text: content.map((c) => c.text).join("\n"), isError: r.isError === true, raw: r };
    },
    async close() {
      await client.close();
      await server.close();
    },
  };
}

/** A temp store, a manager, and a connected client; all cleaned up afterwards. */
export function withMcp(
  fn: (mcp: McpClient, tasks: TaskManager, dir: string) => Promise<void>,
): Promise<void> {
  return withStore(async (tasks, dir) => {
    const mcp = await connect(tasks);
    try {
      await fn(mcp, tasks, dir);
    } finally {
      await mcp.close();
    }
  });
}

/** The `next_cursor` a result states. */
export function nextCursor(text: string): number {
  const m = /next_cursor:? (\d+)/.exec(text);
  if (!m) throw new Error(`no next_cursor in:\n${text}`);
  return Number(m[1]);
}

/** The task id a task_start result names. */
export function taskId(text: string): string {
  const m = /^(b\d+) /m.exec(text);
  if (!m) throw new Error(`no task id in:\n${text}`);
  return m[1];
}
