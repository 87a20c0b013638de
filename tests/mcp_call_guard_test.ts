/**
 * Tool calls malformed as a buggy client sends them (no `params`, a `name`
 * that is no string or no tool, `arguments` that are no object) get an
 * error in bgtask's words, naming what was wrong, what a call looks like
 * and the tools, over stdio and over HTTP; the SDK answered them with its
 * schema library's JSON dump or `Tool nope not found`. The session goes on.
 * (`params` that are no object make no JSON-RPC request: the transports
 * refuse those, see mcp_deno_stdio_test.)
 */

import { assert, assertEquals, assertMatch } from "./_helpers/assert.ts";
import { initializeMessage } from "./_helpers/common.ts";
import { rawSession, withInProcessServer } from "./_helpers/mcp_http.ts";
import { pipedMcp } from "./_helpers/mcp_stdio.ts";
import { withStore } from "./cli_helpers.ts";
import { TaskManager } from "../mod.ts";

const TOOLS = "the tools are task_start, task_wait, task_write_stdin, task_read, task_status, " +
  "task_list, task_kill, task_completions";

/** Each malformed call (its id first) and what its error must say. */
const BAD: [number, unknown, RegExp][] = [
  [2, undefined, /^tools\/call needs "params" with the tool's "name": a call is \{/],
  [4, { name: 7 }, /^tools\/call's "params" has a number as its "name"/],
  [5, { arguments: {} }, /^tools\/call's "params" has no "name"/],
  [6, { name: "task_lst", arguments: {} }, /^No tool "task_lst": the tools are task_start, /],
  [
    7,
    { name: "task_list", arguments: [] },
    /^task_list: "arguments" must be an object .* not an array/,
  ],
];

/** A tools/call with `params` as given (none when undefined). */
function call(id: number, params: unknown) {
  return { jsonrpc: "2.0", id, method: "tools/call", ...(params === undefined ? {} : { params }) };
}

/** Checks each refusal of BAD among `replies`, and that a good call (id 8) was answered. */
function check(replies: { id: number; error?: { code: number; message: string } }[]) {
  for (const [id, , said] of BAD) {
    const reply = replies.find((r) => r.id === id);
    assert(reply?.error, `no error for call ${id}: ${JSON.stringify(reply)}`);
    assertEquals(reply.error.code, -32602);
    assertMatch(reply.error.message, said);
    // (No schema dump: what the SDK said before.)
    assert(!reply.error.message.includes('"expected"'), reply.error.message);
    if (id !== 7) assert(reply.error.message.includes(TOOLS), reply.error.message);
  }
  const good = replies.find((r) => r.id === 8) as { result?: { content: { text: string }[] } };
  assertEquals(good?.result?.content[0].text, "No tasks in the store.");
}

Deno.test("stdio: malformed tool calls are refused in bgtask's words (what was wrong, a call's shape, the tools), and the session goes on", async () => {
  await withStore(async (dir) => {
    const lines = [
      initializeMessage("guard"),
      { jsonrpc: "2.0", method: "notifications/initialized" },
      ...BAD.map(([id, params]) => call(id, params)),
      call(8, { name: "task_list", arguments: {} }),
    ].map((m) => JSON.stringify(m) + "\n").join("");
    const { code, replies, stderr } = await pipedMcp(dir, lines);
    assertEquals(code, 0, stderr);
    assertEquals(replies.map((r) => r.id).sort((a, b) => a - b), [1, 2, 4, 5, 6, 7, 8]);
    check(replies);
  });
});

Deno.test("HTTP: a malformed tool call is refused in bgtask's words on its own POST, and the session goes on", async () => {
  await withInProcessServer(
    "bgtask-mcp-guard-",
    (dir) => new TaskManager({ dir }),
    async (server, _tasks, token) => {
      const session = await rawSession(server.url, token);
      const replies = [];
      for (const [id, params] of BAD) {
        replies.push(await reply(await session.post(call(id, params))));
      }
      replies.push(await reply(await session.call(8, "task_list", {})));
      check(replies);
    },
  );
});

/** The JSON-RPC message of a POST's answer, a JSON body or an SSE stream's one `data:` line. */
async function reply(res: Response) {
  const text = await res.text();
  const data = /^data: (.*)$/m.exec(text)?.[1] ?? text;
  return JSON.parse(data);
}
