/**
 * A request whose id is that of a call still in progress, over stdio: refused
 * at once with Invalid Request and that id, as over HTTP (mcp_http_test.ts);
 * the first call goes on, and its id is free again once it is answered or
 * cancelled.
 */

import { assert, assertEquals, assertMatch } from "./_helpers/assert.ts";
import { until } from "./_helpers/common.ts";
import { type StdioServer, withServer } from "./_helpers/mcp_stdio.ts";

/** The messages the server wrote with `id`, once there are `count` of them. */
function withId(srv: StdioServer, id: number, count: number) {
  return until(
    () => {
      const got = srv.messages.filter((m) => m.id === id);
      return got.length >= count ? got : undefined;
    },
    `${count} messages with id ${id}`,
    30_000,
  );
}

function call(id: number, name: string, args: Record<string, unknown>) {
  return { jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } };
}

Deno.test("stdio: a request with the id of a call in progress is refused with that id, and the call goes on; its id is free once it is answered or cancelled", async () => {
  await withServer(async (srv) => {
    const started = await srv.call("task_start", { command: "sleep 30", wait_s: 0 });
    const id = /\bb\d+\b/.exec(started.text)![0];
    const wait = call(300, "task_wait", { ids: [id], timeout_s: 2 });
    // (Lines are taken in order: the task_wait is in progress when the second comes.)
    await srv.send(wait);
    await srv.send(call(300, "task_list", {}));
    const [refused, first] = await withId(srv, 300, 2);
    const error = refused.error as { code: number; message: string };
    assertEquals(error.code, -32600, JSON.stringify(refused));
    assertMatch(
      error.message,
      /^Invalid Request: id 300 is already in use by a call in progress on this session: give each request an id of its own$/,
    );
    // The first call ran to its end: task_wait's timeout, not the task_list's table.
    const text = (first.result as { content: { text: string }[] }).content[0].text;
    assertMatch(text, new RegExp(`${id}.*running`, "s"));
    assert(!("error" in first), JSON.stringify(first));
    // Answered: the id may be used again.
    await srv.send(call(300, "task_list", {}));
    const again = (await withId(srv, 300, 3))[2];
    assert("result" in again, JSON.stringify(again));
    // Cancelled (no answer comes, MCP's rule): the id may be used again too.
    await srv.send(call(301, "task_wait", { ids: [id], timeout_s: 30 }));
    await srv.send({
      jsonrpc: "2.0",
      method: "notifications/cancelled",
      params: { requestId: 301, reason: "test" },
    });
    await srv.send(call(301, "task_list", {}));
    const [afterCancel] = await withId(srv, 301, 1);
    assert("result" in afterCancel, JSON.stringify(afterCancel));
    await srv.call("task_kill", { id });
  });
});
