/**
 * The duration and size flags end to end: what a value becomes in the task's
 * record, and what 0 means for each flag. (Values under one unit are refused:
 * see the table in cli_errors_test.ts.)
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { TaskInfo } from "../mod.ts";
import { until } from "./_helpers/common.ts";
import { cli, gate, start, withStore } from "./cli_helpers.ts";

Deno.test("run records its limits in whole milliseconds and bytes, rounded to the nearest", async () => {
  await withStore(async (dir, scratch) => {
    const r = await cli(dir, [
      "run",
      "--json",
      "--timeout",
      "90.5s",
      "--max-output",
      "1.3k",
      gate(join(scratch, "never")),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const task = JSON.parse(r.stdout) as TaskInfo;
    assert.equal(task.timeoutMs, 90_500);
    assert.equal(task.maxOutputBytes, 1331);
    const fraction = JSON.parse(
      (await cli(dir, ["run", "--json", "--timeout", "10.5ms", "true"])).stdout,
    ) as TaskInfo;
    assert.equal(fraction.timeoutMs, 11);
  });
});

Deno.test("0 keeps each flag's documented meaning: no timeout, no cap, no wait, no grace, any age, the start", async () => {
  await withStore(async (dir, scratch) => {
    // run --timeout 0 and --max-output 0: no limit at all.
    const open = await cli(dir, [
      "run",
      "--json",
      "--timeout",
      "0s",
      "--max-output",
      "0",
      `echo one; echo two; touch '${join(scratch, "written")}'; ${gate(join(scratch, "never"))}`,
    ]);
    assert.equal(open.code, 0, open.stderr);
    const task = JSON.parse(open.stdout) as TaskInfo;
    assert.equal(task.timeoutMs, null);
    assert.equal(task.maxOutputBytes, 0);

    // wait --timeout 0: a check without waiting (the gate is closed, so it cannot have waited).
    const check = await cli(dir, ["wait", "--timeout", "0", task.id]);
    assert.equal(check.code, 124);
    assert.match(check.stderr, new RegExp(`still running: ${task.id}\\n$`));

    // logs --offset 0: from the start; --tail 0: none of what is already there.
    await until(() => Deno.stat(join(scratch, "written")).then(() => true, () => false), "output");
    const fromStart = await cli(dir, ["logs", "--offset", "0", task.id]);
    assert.deepEqual([fromStart.code, fromStart.stdout], [0, "one\ntwo\n"]);
    const none = await cli(dir, ["logs", "--tail", "0", task.id]);
    assert.deepEqual([none.code, none.stdout], [0, ""]);

    // kill --grace 0: SIGKILL right after SIGTERM, and the task is killed.
    const killed = await cli(dir, ["kill", "--grace", "0ms", "--json", task.id]);
    assert.equal(killed.code, 0, killed.stderr);
    assert.equal((JSON.parse(killed.stdout) as TaskInfo[])[0].status, "killed");

    // clean --older-than 0: finished tasks of any age.
    const cleaned = await cli(dir, ["clean", "--older-than", "0", "--json"]);
    assert.deepEqual((JSON.parse(cleaned.stdout) as TaskInfo[]).map((t) => t.id), [task.id]);
    assert.equal(await start(dir, "true"), "b2");
  });
});
