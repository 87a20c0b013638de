/**
 * `bgtask mcp --http`'s answers to requests it cannot serve: JSON that is
 * no JSON-RPC message (answered as stdio answers it), a request without a
 * session id, and one on a session its client ended.
 */

import { assertEquals, assertMatch } from "./_helpers/assert.ts";
import { TaskManager } from "../mod.ts";
import { rawSession, withInProcessServer } from "./_helpers/mcp_http.ts";

const headersOf = (token: string, sid?: string): Record<string, string> => ({
  authorization: `Bearer ${token}`,
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  ...(sid ? { "mcp-session-id": sid, "mcp-protocol-version": "2025-11-25" } : {}),
});

/** A request's HTTP status and its JSON-RPC error (code, id, message). */
async function send(url: string, init: RequestInit) {
  const r = await fetch(url, init);
  const text = await r.text();
  const body = text ? JSON.parse(text) : {};
  return {
    status: r.status,
    code: body.error?.code as number | undefined,
    id: body.id as unknown,
    message: String(body.error?.message),
  };
}

Deno.test("HTTP: JSON that is no JSON-RPC message gets Invalid Request (-32600) naming what is wrong, with its id when readable, as over stdio; a body that is no JSON stays a parse error", async () => {
  await withInProcessServer(
    "bgtask-mcp-invalid-",
    (dir) => new TaskManager({ dir }),
    async (server, _tasks, token) => {
      const s = await rawSession(server.url, token);
      const cases: [unknown, unknown, RegExp][] = [
        [{ id: 61, method: "tools/list" }, 61, /"jsonrpc" must be "2\.0"/],
        [{ jsonrpc: "2.0", id: null, method: "tools/list" }, null, /"id" must be a string or/],
        [{ jsonrpc: "2.0", id: { a: 1 }, method: "tools/list" }, null, /"id" must be a string/],
        [{ jsonrpc: "2.0", id: 7, method: "x", params: [1] }, 7, /"params" must be an object/],
        [42, null, /a JSON object is needed/],
      ];
      for (const [message, id, wrong] of cases) {
        for (const sid of [s.sid, undefined]) {
          const r = await send(server.url, {
            method: "POST",
            headers: headersOf(token, sid),
            body: JSON.stringify(message),
          });
          const what = `${JSON.stringify(message)} (${sid ? "in" : "without"} a session)`;
          assertEquals([r.status, r.code, r.id], [400, -32600, id], what);
          assertMatch(r.message, /^Invalid Request: not a JSON-RPC 2\.0 message \(/, what);
          assertMatch(r.message, wrong, what);
        }
      }
      const parse = await send(server.url, {
        method: "POST",
        headers: headersOf(token, s.sid),
        body: "{not json",
      });
      assertEquals([parse.status, parse.code, parse.id], [400, -32700, null]);
      // The session serves on.
      const list = await s.post({ jsonrpc: "2.0", id: 62, method: "tools/list" });
      assertEquals(list.status, 200);
      await list.body?.cancel();
    },
  );
});

Deno.test("HTTP: a request without Mcp-Session-Id (not an initialize) is told the header is required and how to get one, while sessions live", async () => {
  await withInProcessServer(
    "bgtask-mcp-nosid-",
    (dir) => new TaskManager({ dir }),
    async (server, _tasks, token) => {
      await rawSession(server.url, token); // a session lives
      const tries: RequestInit[] = [
        {
          method: "POST",
          headers: headersOf(token),
          body: JSON.stringify({ jsonrpc: "2.0", id: 3, method: "tools/list" }),
        },
        { method: "GET", headers: { ...headersOf(token), accept: "text/event-stream" } },
        { method: "DELETE", headers: headersOf(token) },
      ];
      for (const init of tries) {
        const r = await send(server.url, init);
        assertEquals(r.status, 400, init.method);
        assertMatch(r.message, /Mcp-Session-Id header required: initialize .* to get one/);
      }
    },
  );
});

Deno.test("HTTP: a session its client DELETEd, then used, gets a 404 saying the client ended it (not four possible causes)", async () => {
  await withInProcessServer(
    "bgtask-mcp-deleted-",
    (dir) => new TaskManager({ dir }),
    async (server, _tasks, token) => {
      const s = await rawSession(server.url, token);
      const del = await fetch(server.url, { method: "DELETE", headers: headersOf(token, s.sid) });
      assertEquals(del.status, 200);
      await del.body?.cancel();
      const r = await send(server.url, {
        method: "POST",
        headers: headersOf(token, s.sid),
        body: JSON.stringify({ jsonrpc: "2.0", id: 5, method: "ping" }),
      });
      assertEquals(r.status, 404);
      assertMatch(r.message, /^Session not found: the client ended it \(a DELETE/);
      assertMatch(r.message, /initialize again/);
      // One never known: the causes the server cannot tell apart.
      const unknown = await send(server.url, {
        method: "POST",
        headers: headersOf(token, crypto.randomUUID()),
        body: JSON.stringify({ jsonrpc: "2.0", id: 6, method: "ping" }),
      });
      assertEquals(unknown.status, 404);
      assertMatch(unknown.message, /it ended, expired .* or the server restarted/);
    },
  );
});
