/**
 * `bgtask mcp --http`, calls as a client makes them: a `task_start` whose
 * connection closes in its wait, a batch of calls, two calls with one id.
 * A real server (in this process, or a child) and real tasks.
 */

import { assert, assertEquals, assertMatch } from "./_helpers/assert.ts";
import { settleStore, until } from "./_helpers/common.ts";
import { rawSession, startHttp, within, withInProcessServer } from "./_helpers/mcp_http.ts";
import { TaskManager } from "../mod.ts";

/** The status of task `id` in `tasks`' store. */
async function statusOf(tasks: TaskManager, id: string): Promise<string | undefined> {
  return (await tasks.getStatus(id))?.status;
}

Deno.test("HTTP: a task_start whose client's connection closes in its wait leaves its task running (as over stdio); the client's own cancel still kills its task", async () => {
  await withInProcessServer(
    "bgtask-mcp-lost-start-",
    (dir) => new TaskManager({ dir }),
    async (server, tasks, token) => {
      // From a walk: the client died inside wait_s, and the server killed the task it had
      // just started; the README says a task keeps running when the agent goes away.
      const a = await rawSession(server.url, token);
      const drop = new AbortController();
      const first = await a.call(
        2,
        "task_start",
        { command: "sleep 300", wait_s: 50 },
        drop.signal,
      );
      assertEquals(first.status, 200);
      await until(async () => (await statusOf(tasks, "b1")) === "running", "b1 running");
      drop.abort();
      try {
        // The client's own cancel of a second start, made after the first's connection
        // closed: its task is killed. (By then the first call has long stopped waiting:
        // on the code before the fix, b1 was killed within milliseconds of the close.)
        const second = await a.call(3, "task_start", { command: "sleep 301", wait_s: 50 });
        assertEquals(second.status, 200);
        await until(async () => (await statusOf(tasks, "b2")) === "running", "b2 running");
        const cancel = await a.post({
          jsonrpc: "2.0",
          method: "notifications/cancelled",
          params: { requestId: 3, reason: "the user pressed Esc" },
        });
        assertEquals(cancel.status, 202);
        await cancel.body?.cancel();
        const b2 = await within(tasks.wait("b2"), 15_000, "b2 killed by the cancel");
        assertEquals(b2.status, "killed");
        const body = await within(second.text(), 10_000, "the cancelled call's stream to end");
        assert(!body.includes('"result"'), body);
        assertEquals(await statusOf(tasks, "b1"), "running");
        // The session goes on, and knows the task.
        const list = await a.call(4, "task_list", {});
        assertMatch(await list.text(), /b1 running/);
      } finally {
        await tasks.kill("b1", { graceMs: 0 }).catch(() => {});
      }
    },
  );
});

Deno.test("HTTP: a task_start in its wait when the server is stopped (SIGTERM) leaves its task running", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-mcp-stop-start-" });
  const tasks = new TaskManager({ dir });
  try {
    const s = await startHttp(dir);
    const token = (await Deno.readTextFile(`${dir}/mcp-token`)).trim();
    let stopped = false;
    try {
      const a = await rawSession(s.url, token);
      const started = await a.call(2, "task_start", { command: "sleep 302", wait_s: 50 });
      assertEquals(started.status, 200);
      await until(async () => (await statusOf(tasks, "b1")) === "running", "b1 running");
      // The server ends: once it has exited, nothing of it can end b1.
      await s.stop();
      stopped = true;
      await started.body?.cancel().catch(() => {});
      assertEquals(await statusOf(tasks, "b1"), "running");
    } finally {
      if (!stopped) await s.stop();
      await tasks.kill("b1", { graceMs: 0 }).catch(() => {});
    }
  } finally {
    await tasks.close();
    await settleStore(dir);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("HTTP: a call still unfinished 5 s after the server is stopped (a task_kill in a long grace) is answered with an error that says so, not a stream ended empty", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-mcp-stop-kill-" });
  const tasks = new TaskManager({ dir });
  try {
    const s = await startHttp(dir);
    const token = (await Deno.readTextFile(`${dir}/mcp-token`)).trim();
    try {
      const a = await rawSession(s.url, token);
      const started = await a.call(2, "task_start", {
        command: "trap '' TERM; sleep 300",
        wait_s: 0,
      });
      await started.text();
      await until(async () => (await statusOf(tasks, "b1")) === "running", "b1 running");
      const kill = await a.call(3, "task_kill", { id: "b1", grace_s: 30 });
      assertEquals(kill.status, 200);
      // (The kill is under way once it is asked for: its request in the store, tasks/b1/kill.)
      await until(async () => {
        try {
          return (await Deno.stat(`${dir}/tasks/b1/kill`)).isFile;
        } catch {
          return false;
        }
      }, "the kill asked");
      s.child.kill("SIGTERM");
      const body = await within(kill.text(), 20_000, "the kill's answer");
      // (From a walk: the stream ended with no answer at all; the agent could not tell.)
      assertMatch(
        body,
        /"id":3,"error":\{"code":-32000,"message":"The server is stopping, and this call had not finished/,
      );
      assertEquals((await s.child.status).signal, "SIGTERM");
    } finally {
      await s.stop();
      await tasks.kill("b1", { graceMs: 0 }).catch(() => {});
    }
  } finally {
    await tasks.close();
    await settleStore(dir);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("HTTP: a server ended by SIGTERM, SIGINT or SIGHUP (its terminal closed) forgets its sessions' consumers and ends by that signal", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-mcp-http-signal-" });
  try {
    for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
      const s = await startHttp(dir);
      const token = (await Deno.readTextFile(`${dir}/mcp-token`)).trim();
      const a = await rawSession(s.url, token);
      await (await a.call(2, "task_list", {})).text();
      const made = [...Deno.readDirSync(`${dir}/consumers`)].map((e) => e.name);
      assertEquals(made.length, 1, `${signal}: one consumer while the session lives`);
      s.child.kill(signal);
      const status = await s.child.status;
      assertEquals(status.signal, signal, s.stderr());
      // (A SIGHUP ended it at once, by default, and its consumer stayed: the
      // finished tasks it had not read were kept from clean for a day.)
      assertEquals([...Deno.readDirSync(`${dir}/consumers`)].map((e) => e.name), [], signal);
      await s.stop();
    }
  } finally {
    await settleStore(dir);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("HTTP: a batch (JSON array) is refused whole with Invalid Request, none of its calls made; the session serves on", async () => {
  await withInProcessServer(
    "bgtask-mcp-batch-",
    (dir) => new TaskManager({ dir }),
    async (server, tasks, token) => {
      // From a walk: the cancel of one call of a batch ended the batch's one response
      // stream; its other calls ran on, and their answers were lost.
      const a = await rawSession(server.url, token);
      const call = (id: number, command: string) => ({
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: { name: "task_start", arguments: { command, wait_s: 0 } },
      });
      const batch = await a.post([call(2, "sleep 303"), call(3, "sleep 304")]);
      assertEquals(batch.status, 400);
      const body = await batch.json();
      assertEquals(body.error.code, -32600);
      assertEquals(body.id, null);
      assertMatch(body.error.message, /batches \(arrays\) are not supported/);
      assertMatch(body.error.message, /each message in a POST of its own/);
      // (A batch of notifications alone too: MCP has no batches, stdio refuses any.)
      const notes = await a.post([{ jsonrpc: "2.0", method: "notifications/initialized" }]);
      assertEquals(notes.status, 400);
      await notes.body?.cancel();
      assertEquals(await tasks.list(), []);
      const one = await a.call(4, "task_list", {});
      assertEquals(one.status, 200);
      assertMatch(await one.text(), /"result"/);
    },
  );
});

Deno.test("HTTP: a call with the id of a call in progress on its session is refused at once (Invalid Request, that id); the first is answered, and the id is free after", async () => {
  await withInProcessServer(
    "bgtask-mcp-dup-id-",
    (dir) => new TaskManager({ dir }),
    async (server, tasks, token) => {
      // From a walk: the SDK keeps calls and answers by id, and one of the two hung forever.
      const a = await rawSession(server.url, token);
      const waiting = await a.call(7, "task_completions", { wait_s: 30 });
      assertEquals(waiting.status, 200);
      const again = await a.call(7, "task_list", {});
      assertEquals(again.status, 400);
      const body = await again.json();
      assertEquals(body.id, 7);
      assertEquals(body.error.code, -32600);
      assertMatch(
        body.error.message,
        /id 7 is already in use by a call in progress on this session/,
      );
      // (7 and "7" are different ids.)
      const other = await a.post({
        jsonrpc: "2.0",
        id: "7",
        method: "tools/call",
        params: { name: "task_list", arguments: {} },
      });
      assertEquals(other.status, 200);
      await other.body?.cancel();
      // The first call goes on, and is answered.
      const t = await tasks.spawnShell("true");
      await tasks.wait(t.id);
      const answer = await within(waiting.text(), 20_000, "the first call's answer");
      assertMatch(answer, /"id":7/);
      assertMatch(answer, /b1 completed/);
      // Answered: its id is free again.
      const reused = await a.call(7, "task_list", {});
      assertEquals(reused.status, 200);
      assertMatch(await reused.text(), /b1 completed/);
    },
  );
});
