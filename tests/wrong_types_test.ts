/**
 * Arguments of the wrong type from JavaScript: an id that is no string is a
 * TypeError naming what it is (it was a TaskNotFoundError for
 * `No task "[object Object]"`, and `["b1"]` was shown as "b1", not a task
 * id); a missing argument is said to be missing, with what to give.
 */

import assert from "node:assert/strict";
import { TaskManager, TaskNotFoundError } from "../mod.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

/** Rejects with a TypeError (and no TaskNotFoundError) whose message matches. */
async function typeError(name: string, call: () => Promise<unknown>, message: RegExp) {
  await assert.rejects(call, (e: unknown) => {
    assert.ok(e instanceof TypeError && !(e instanceof TaskNotFoundError), `${name}: ${e}`);
    assert.match(e.message, message, name);
    return true;
  });
}

Deno.test("wrong types: an id that is no string is a TypeError naming its kind, for every method that takes one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-types-" });
  try {
    const tasks = new TaskManager({ dir });
    const t = await tasks.wait((await tasks.spawnShell("true")).id);
    const methods: [string, (id: Loose) => Promise<unknown>][] = [
      ["getStatus", (id) => tasks.getStatus(id)],
      ["getStatusOrThrow", (id) => tasks.getStatusOrThrow(id)],
      ["kill", (id) => tasks.kill(id)],
      ["wait", (id) => tasks.wait(id)],
      ["remove", (id) => tasks.remove(id)],
      ["readOutput", (id) => tasks.readOutput(id)],
      ["readOutputChunk", (id) => tasks.readOutputChunk(id)],
      ["readOutputBytes", (id) => tasks.readOutputBytes(id)],
      ["tailOutput", (id) => tasks.tailOutput(id, 1)],
      ["waitForLine", (id) => tasks.waitForLine(id, /x/)],
      ["writeStdin", (id) => tasks.writeStdin(id, "x")],
      ["closeStdin", (id) => tasks.closeStdin(id)],
      ["resizeTerminal", (id) => tasks.resizeTerminal(id, { columns: 80, rows: 24 })],
      ["follow", async (id) => {
        for await (const _ of tasks.follow(id)) break;
      }],
      ["pause", (id) => tasks.pause(id)],
      ["resume", (id) => tasks.resume(id)],
      ["restart", (id) => tasks.restart(id)],
    ];
    const wrong: [unknown, RegExp][] = [
      [{}, /^id must be a task id string such as "b1", got an object$/],
      [
        ["b1"],
        /^id must be a task id string such as "b1", got an array \(\["b1"\]\): give the id itself, "b1"$/,
      ],
      [null, /^id must be a task id string such as "b1", got null$/],
      [undefined, /got undefined: no id was given$/],
      [5, /got a number \(5\)$/],
      [t, new RegExp(`got an object: give its id, "${t.id}" \\(a task's \\.id\\)$`)],
    ];
    for (const [name, call] of methods) {
      for (const [id, message] of wrong) {
        await typeError(`${name}(${String(id)})`, () => call(id), message);
      }
    }
    // A malformed string is still no task (and getStatus of one undefined).
    await assert.rejects(tasks.getStatusOrThrow("b1x"), TaskNotFoundError);
    assert.equal(await tasks.getStatus("b1x"), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wrong types: an element of ids that is no string is named, and so is what it is", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-types-" });
  try {
    const tasks = new TaskManager({ dir });
    await typeError(
      "list",
      () => tasks.list({ ids: ["b1", 5 as Loose] }),
      /^Cannot list tasks: ids must be an array of task ids \(e\.g\. \["b3", "b4"\]\), got an array whose ids\[1\] is a number \(5\), not a string$/,
    );
    await typeError(
      "acknowledgeCompletions",
      () => tasks.acknowledgeCompletions([5 as Loose]),
      /ids holds a number \(5\), which is not a task id/,
    );
    await typeError(
      "spawnShell after",
      () => tasks.spawnShell("true", { after: [null as Loose] }),
      /after holds null, which is not a task id/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wrong types: a missing size, parallel or lines is said to be missing, with what to give", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-types-" });
  try {
    const tasks = new TaskManager({ dir });
    const t = await tasks.wait((await tasks.spawnShell("true")).id);
    await typeError(
      "resizeTerminal null",
      () => tasks.resizeTerminal(t.id, null as Loose),
      /^Cannot resize the terminal of task b1: the size must be an object \{ columns, rows \} \(e\.g\. \{ columns: 120, rows: 40 \}\), got null$/,
    );
    await typeError(
      "resizeTerminal no rows",
      () => tasks.resizeTerminal(t.id, { columns: 80 } as Loose),
      /: rows is missing: give both, \{ columns, rows \}/,
    );
    await typeError(
      "setQueue {}",
      () => tasks.setQueue("q", {} as Loose),
      /^Cannot set the queue: parallel is missing: give how many of its tasks may run at once, e\.g\. setQueue\("q", \{ parallel: 2 \}\)$/,
    );
    await typeError(
      "tailOutput",
      () => (tasks.tailOutput as Loose)(t.id),
      /^Cannot read output: lines is missing: give how many of the last lines to read, e\.g\. tailOutput\(id, 20\)$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
