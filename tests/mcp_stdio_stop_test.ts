/**
 * `bgtask mcp` over stdio stopped by its host's signal (SIGTERM, as MCP's
 * stdio shutdown says a client may send): each call it read is answered
 * before it goes, a waiting `task_wait` with what it has and that the
 * server is stopping, as over HTTP; the task goes on. (Before, the transport closed under the call:
 * the client's request got no reply at all.)
 */

import { assert, assertEquals, assertMatch } from "./_helpers/assert.ts";
import { StdioServer } from "./_helpers/mcp_stdio.ts";
import { withStore } from "./cli_helpers.ts";
import { TaskManager } from "../mod.ts";

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`stdio: a ${signal} while a task_wait waits answers it with what it has (the task running), then the server exits by the signal; the task goes on`, async () => {
    await withStore(async (dir) => {
      const srv = new StdioServer(dir);
      const tasks = new TaskManager({ dir });
      try {
        await srv.initialize();
        const started = await srv.call("task_start", { command: "sleep 300" });
        assertMatch(started.text, /^b1 running/);
        const wait = await srv.start("task_wait", { ids: ["b1"], timeout_s: 60 });
        // (Lines are read in order: once the ping after it is answered, the wait was read.)
        await (await srv.request("ping", {})).reply;
        assert(!srv.answered(wait.id), "the wait answered before the signal");
        srv.child.kill(signal);
        const reply = await wait.reply;
        assert(!reply.isError, reply.text);
        assertMatch(reply.text, /b1 running/);
        assertMatch(reply.text, /the server is stopping: call again once it is back/);
        const status = await srv.child.status;
        assertEquals(status.code, signal === "SIGTERM" ? 143 : 130);
        assertEquals((await tasks.getStatus("b1"))?.status, "running");
      } finally {
        await srv.close();
        await tasks.kill("b1", { graceMs: 0 }).catch(() => {});
        await tasks.close();
      }
    });
  });
}

Deno.test("stdio: a call still unfinished 5 s after a SIGTERM (a task_kill in a long grace) is answered with an error that says so; the kill goes on", async () => {
  await withStore(async (dir) => {
    const srv = new StdioServer(dir);
    const tasks = new TaskManager({ dir });
    try {
      await srv.initialize();
      const started = await srv.call("task_start", { command: "trap '' TERM; sleep 300" });
      assertMatch(started.text, /^b1 running/);
      const kill = await srv.start("task_kill", { id: "b1", grace_s: 30 });
      await (await srv.request("ping", {})).reply;
      assert(!srv.answered(kill.id), "the kill answered before the signal");
      srv.child.kill("SIGTERM");
      const reply = await kill.reply;
      assert(reply.isError, reply.text);
      const error = reply.raw.error as { message: string };
      assertMatch(error.message, /^The server is stopping, and this call had not finished/);
      assertEquals((await srv.child.status).code, 143);
      // (Its supervisor ends it after the grace; not waited for here.)
      assertEquals((await tasks.getStatus("b1"))?.status, "running");
    } finally {
      await srv.close();
      await tasks.kill("b1", { graceMs: 0 }).catch(() => {});
      await tasks.close();
    }
  });
});
