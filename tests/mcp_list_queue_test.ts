/**
 * MCP task_list of a queue the store has never seen says there is no such
 * queue, as `bgtask list --queue` does: it said "No tasks in queue nosuch in
 * the store.", as of an empty queue, and a mistyped name went unnoticed.
 */

import assert from "node:assert/strict";
import { withMcp } from "./_helpers/mcp.ts";

Deno.test("task_list: a queue the store has never seen is an error naming the queues there are; an empty one is not", async () => {
  await withMcp(async (mcp, tasks) => {
    const none = await mcp.call("task_list", { queue: "nosuch" });
    assert.ok(none.isError, none.text);
    assert.equal(
      none.text,
      'No queue "nosuch" in the store. The store has no queue yet; task_start with queue (and ' +
        "parallel) makes one and runs its task there.",
    );
    await tasks.setQueue("ci", { parallel: 2 });
    const typo = await mcp.call("task_list", { queue: "cj" });
    assert.ok(typo.isError, typo.text);
    assert.match(typo.text, /^No queue "cj" in the store\. Its queues: ci; task_start with queue/);
    const empty = await mcp.call("task_list", { queue: "ci" });
    assert.ok(!empty.isError, empty.text);
    assert.equal(empty.text, "No tasks in queue ci in the store.");
  });
});
