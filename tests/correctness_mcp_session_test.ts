/**
 * Found while running the full suite under load: an MCP session's
 * task_completions missed a task that ended right after the client had
 * connected (mcp_tools_test failed 1 run in 3 with load average > 10). The
 * session registers its completion consumer when it is created, which takes
 * a few store operations, and it answered the client meanwhile: a task that
 * started and ended in that time fell before the consumer's start.
 *
 * Now a session's connect waits for its consumer: every task that ends once
 * a client is connected is reported to it. Here the registration is held up
 * on purpose (the consumer's lock is held), so the test does not depend on
 * the machine's load.
 */

import assert from "node:assert/strict";
import { withStore } from "./_helpers/common.ts";
import { connect } from "./_helpers/mcp.ts";

Deno.test("mcp session: a task that ends once the client is connected is reported, however long the session took to register its consumer", async () => {
  await withStore(async (tasks, dir) => {
    const consumer = "mcp-slowregister";
    await Deno.mkdir(`${dir}/consumers/${consumer}`, { recursive: true, mode: 0o700 });
    const lock = await Deno.open(`${dir}/consumers/${consumer}/lock`, {
      read: true,
      write: true,
      create: true,
      mode: 0o600,
    });
    await lock.lock(true);
    // The session's registration waits for this lock for 600 ms.
    const connected = Date.now();
    const release = setTimeout(() => lock.close(), 600);
    try {
      const mcp = await connect(tasks, consumer);
      try {
        const t = await tasks.spawnShell("true");
        await tasks.wait(t.id);
        // Another consumer (the CLI's) takes it too: its end is announced once
        // more and the task leaves the active set, so nothing announces it again.
        assert.deepEqual((await tasks.drainCompletions()).map((i) => i.id), [t.id]);
        const r = await mcp.call("task_completions", {});
        assert.match(
          r.text,
          new RegExp(`^1 finished .*\\n${t.id} completed`),
          `connected after ${Date.now() - connected} ms; ${t.id} ended after that`,
        );
      } finally {
        await mcp.close();
      }
    } finally {
      clearTimeout(release);
      try {
        lock.close();
      } catch {
        // closed by the timer
      }
    }
  });
});
