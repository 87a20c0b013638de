/**
 * `bgtask mcp`: MCP over stdio. One connection is one session, with one
 * completion consumer for the life of the process.
 *
 * @module
 */

import { serveStdio } from "@modelcontextprotocol/server/stdio";
import type { TaskManager } from "../../mod.ts";
import type { Registration } from "./consumer.ts";
import { DenoStdioTransport } from "./deno_stdio.ts";
import { createServer } from "./server.ts";

/**
 * Serves MCP on stdin/stdout; resolves when the client closes stdin (or
 * `signal` aborts: a host's SIGTERM; each call read is answered first, those
 * that wait with what they have, for up to `STOP_ANSWER_MS`). Nothing else may write to stdout meanwhile. The
 * session's completion consumer is `registration` (see `consumer.ts`),
 * `named` when it is `--consumer NAME`'s, kept across restarts; `log` takes
 * lines for a person (stderr).
 */
export async function serveOnStdio(
  tasks: TaskManager,
  signal: AbortSignal | undefined,
  registration: Registration,
  log: (line: string) => void,
  { named = false }: { named?: boolean } = {},
): Promise<void> {
  const wire = new DenoStdioTransport(Deno.stdin, Deno.stdout, log);
  const handle = serveStdio(
    () => createServer({ tasks, consumer: registration, ending: wire.ending, named }),
    {
      transport: wire,
    },
  );
  const closed = new Promise<void>((resolve) => {
    const inner = wire.onclose;
    wire.onclose = () => {
      inner?.();
      resolve();
    };
  });
  // (Stopped, the calls read get their replies first, as at the end of stdin.)
  const stop = () => void wire.finish().finally(() => handle.close());
  signal?.addEventListener("abort", stop, { once: true });
  try {
    await closed;
  } finally {
    signal?.removeEventListener("abort", stop);
  }
}
