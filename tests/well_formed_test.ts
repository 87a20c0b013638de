/**
 * Text with a lone surrogate is refused before anything is stored: the
 * spawn of `"echo a\ud800"` returned that command while it stored and ran
 * `echo a\uFFFD` (UTF-8 has no half characters).
 */

import assert from "node:assert/strict";
import { TaskManager } from "../mod.ts";
import { withMcp } from "./_helpers/mcp.ts";

const LONE =
  /holds a lone surrogate \(\\ud800 at index \d+\), half of a character, which has no UTF-8 and would be stored as U\+FFFD; remove it, or give the text's \.toWellFormed\(\) to mean U\+FFFD$/;

Deno.test("well-formed text: a lone surrogate in the command, description, cwd or an env value is a TypeError naming the field", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-wellformed-" });
  try {
    const tasks = new TaskManager({ dir });
    const cases: [string, () => Promise<unknown>, string][] = [
      ["command", () => tasks.spawnShell("echo a\ud800"), "the command"],
      ["description", () => tasks.spawnShell("true", { description: "x\ud800" }), "description"],
      ["cwd", () => tasks.spawnShell("true", { cwd: "/tmp/\ud800" }), "cwd"],
      ["env", () => tasks.spawnShell("true", { env: { A: "\ud800" } }), "environment value of A"],
    ];
    for (const [name, call, field] of cases) {
      await assert.rejects(call, (e: unknown) => {
        assert.ok(e instanceof TypeError, `${name}: ${e}`);
        assert.ok(e.message.startsWith(`Cannot spawn task: ${field} holds`), e.message);
        assert.match(e.message, LONE, name);
        return true;
      });
    }
    // Nothing was stored; a pair (an emoji) is text like any other.
    assert.deepEqual(await tasks.list(), []);
    const t = await tasks.wait((await tasks.spawnShell("echo 😀", { description: "😀" })).id);
    assert.equal(t.command, "echo 😀");
    assert.equal(await tasks.readOutput(t.id), "😀\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("well-formed text: MCP task_start answers a lone surrogate with the error", async () => {
  await withMcp(async (mcp, tasks) => {
    const r = await mcp.call("task_start", { command: "echo a\ud800" });
    assert.ok(r.isError, r.text);
    assert.match(r.text, /the command holds a lone surrogate/);
    assert.deepEqual(await tasks.list(), []);
  });
});
