/**
 * `bgtask mcp --http`'s sessions over time: those a client never ends (no
 * DELETE) expire when idle; past the cap, one-shot clients' sessions go
 * before an agent's; a stopping server answers the calls in progress.
 */

import { assert, assertEquals, assertMatch } from "./_helpers/assert.ts";
import { TaskManager } from "../mod.ts";
import { rawSession, startHttp, within, withInProcessServer } from "./_helpers/mcp_http.ts";
import { settleStore, until } from "./_helpers/common.ts";

const headersOf = (token: string, sid: string) => ({
  authorization: `Bearer ${token}`,
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "mcp-session-id": sid,
  "mcp-protocol-version": "2025-11-25",
});

/** A ping on session `sid`: its HTTP status and body. */
async function ping(url: string, token: string, sid: string) {
  const r = await fetch(url, {
    method: "POST",
    headers: headersOf(token, sid),
    body: JSON.stringify({ jsonrpc: "2.0", id: 99, method: "ping" }),
  });
  return { status: r.status, text: await r.text() };
}

/** The store's completion consumers. */
function consumers(dir: string): string[] {
  try {
    return [...Deno.readDirSync(`${dir}/consumers`)].map((e) => e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

Deno.test("HTTP: a session left idle (no DELETE) expires, its consumer forgotten, and its 404 says so; one holding its stream, or in a call, does not", async () => {
  await withInProcessServer(
    "bgtask-mcp-idle-",
    (dir) => new TaskManager({ dir }),
    async (server, tasks, token) => {
      // From a walk: every MCP Inspector CLI call left a session (and consumer) for good.
      const idle = await rawSession(server.url, token);
      const r = await idle.call(2, "task_list", {});
      await r.body?.cancel();
      // One holds its notification stream (GET) open, as an agent's SDK client does.
      const streaming = await rawSession(server.url, token);
      const stream = await fetch(server.url, {
        headers: { ...headersOf(token, streaming.sid), accept: "text/event-stream" },
      });
      assertEquals(stream.status, 200);
      // One is in the middle of a call.
      const calling = await rawSession(server.url, token);
      const waiting = await calling.call(2, "task_completions", { wait_s: 40 });
      assertEquals(waiting.status, 200);
      const mine = consumers(tasks.dir).length;
      assertEquals(mine, 3);
      // (Watched in the store: a request would keep the session.)
      await until(() => consumers(tasks.dir).length === 2, "the idle session's consumer to go");
      const gone = await ping(server.url, token, idle.sid);
      assertEquals(gone.status, 404);
      assertMatch(gone.text, /expired after \S+ without a request.*initialize again/);
      // A session opened now expires too: by then the other two have been idle as long, and
      // are kept.
      // (Its consumer is registered before its initialize is answered: 3, then 2 again.)
      await rawSession(server.url, token);
      await until(() => consumers(tasks.dir).length === 2, "a later idle session to expire");
      assertEquals((await ping(server.url, token, streaming.sid)).status, 200);
      assertEquals((await ping(server.url, token, calling.sid)).status, 200);
      const t = await tasks.spawnShell("true");
      await tasks.wait(t.id);
      assertMatch(await waiting.text(), /b1 completed/);
      await stream.body?.cancel();
    },
    undefined,
    300,
  );
});

Deno.test("HTTP: past the cap, one-shot clients' idle sessions are closed before an agent's idle one, which keeps its session and consumer", async () => {
  await withInProcessServer(
    "bgtask-mcp-oneshot-",
    (dir) => new TaskManager({ dir }),
    async (server, tasks, token) => {
      // From a walk: 70 one-shot Inspector CLI calls evicted an idle agent's session (404,
      // its consumer and its unread notices gone).
      const agent = await rawSession(server.url, token);
      for (let id = 2; id < 6; id++) {
        const r = await agent.call(id, "task_list", {});
        await r.body?.cancel();
      }
      const t = await tasks.spawnShell("true");
      await tasks.wait(t.id); // an unread notice for the agent
      const oneShots: string[] = [];
      for (let i = 0; i < 6; i++) {
        const s = await rawSession(server.url, token);
        const r = await s.call(2, "task_status", { id: "b1" });
        await r.body?.cancel();
        oneShots.push(s.sid);
      }
      // The cap (3) holds, the agent's session among those kept.
      const answer = await agent.call(9, "task_completions", {});
      assertEquals(answer.status, 200);
      assertMatch(await answer.text(), /b1 completed/);
      const evicted = await ping(server.url, token, oneShots[0]);
      assertEquals(evicted.status, 404);
      assertMatch(evicted.text, /closed, idle, to make room for newer sessions.*initialize again/);
      assert(consumers(tasks.dir).length <= 3, consumers(tasks.dir).join(", "));
    },
    3,
  );
});

Deno.test("HTTP: a server stopped by SIGTERM answers a waiting call (the wait ends, saying the server is stopping) before it exits", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-mcp-stop-" });
  const tasks = new TaskManager({ dir });
  const s = await startHttp(dir);
  try {
    const token = (await Deno.readTextFile(`${dir}/mcp-token`)).trim();
    const a = await rawSession(s.url, token);
    const t = await tasks.spawnShell("sleep 300");
    // From a walk: SIGTERM cut the call with no answer (curl rc=18; SDK clients hung).
    const waiting = await a.call(2, "task_wait", { ids: [t.id], timeout_s: 40 });
    assertEquals(waiting.status, 200);
    const body = waiting.text();
    body.catch(() => {}); // awaited below
    s.child.kill("SIGTERM");
    const text = await within(body, 15_000, "the waiting call's answer");
    assertMatch(text, /"result"/);
    assertMatch(text, /Stopped early \(the server is stopping/);
    assertMatch(text, new RegExp(`Still running: ${t.id}`));
    await within(s.child.status, 15_000, "the server to exit");
  } finally {
    await s.stop();
    await tasks.kill("b1", { graceMs: 0 }).catch(() => {});
    await tasks.close();
    await settleStore(dir);
    await Deno.remove(dir, { recursive: true });
  }
});
