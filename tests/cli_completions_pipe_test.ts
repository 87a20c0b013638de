/**
 * `bgtask completions` through a pipe whose reader closes it part-way (`|
 * head`), with more to print than the pipe's buffer holds: the tasks whose
 * lines (or `--json` elements; `--follow` lines) the pipe took whole are delivered, and only
 * they; the rest are told to the next reader. Real processes: the CLI's
 * stdout is a pipe this test reads a little of, then closes.
 */

import assert from "node:assert/strict";
import { type TaskInfo, TaskManager } from "../mod.ts";
import { cli, cliJson, spawnCli, withStore } from "./cli_helpers.ts";

/** A pipe's buffer on Linux (64 KiB), with room for the chunk being read when it closed. */
const PIPE_HOLDS = 128 * 1024;

/**
 * Runs `bgtask completions ...args` with stdout a pipe that this reads until
 * `enough` says what it got is enough, then closes (as `| head -n 3` does);
 * after `lateMs` (`sleep 1; head -n 3`: the pipe full meanwhile, the CLI
 * held in a write), or at once. Returns what it read; the CLI must end
 * quietly, exit 0.
 */
async function readThenClose(
  dir: string,
  args: string[],
  enough: (text: string) => boolean,
  lateMs = 0,
): Promise<string> {
  const child = spawnCli(dir, ["completions", ...args]);
  if (lateMs > 0) await new Promise((resolve) => setTimeout(resolve, lateMs));
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!enough(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  const [{ code }, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
  assert.equal(code, 0, stderr);
  assert.equal(stderr, "");
  return text;
}

/**
 * Checks a closed pipe's delivery: `shown` (the tasks the reader got whole,
 * a prefix of `before`, what was pending then) are delivered, and so may
 * be those after them that the pipe held unread; all the others are still
 * pending, in order. Returns what is pending now.
 */
async function checkDelivery(
  dir: string,
  before: TaskInfo[],
  shown: string[],
  rowBytes: (t: TaskInfo) => number,
): Promise<TaskInfo[]> {
  const ids = before.map((t) => t.id);
  assert.ok(shown.length >= 3, `the reader got ${shown.length} tasks whole`);
  assert.deepEqual(shown, ids.slice(0, shown.length), "shown in order, from the first");
  const after = await cliJson<TaskInfo[]>(dir, ["completions", "--consumer", "p", "--peek"]);
  const left = after.map((t) => t.id);
  // Nothing twice: no task the reader got whole is pending.
  assert.deepEqual(left.filter((id) => shown.includes(id)), [], "shown and still pending");
  // Nothing lost: what is pending is the rest, from some task on; those
  // between the shown ones and it are the pipe's unread bytes, no more.
  const from = ids.length - left.length;
  assert.deepEqual(left, ids.slice(from), "the rest is pending, in order");
  const unread = before.slice(shown.length, from).reduce((n, t) => n + rowBytes(t), 0);
  assert.ok(unread <= PIPE_HOLDS, `${unread} bytes of tasks delivered that the reader never saw`);
  assert.ok(left.length > 0, "the table was larger than the pipe took");
  return after;
}

Deno.test("completions | head: the tasks the pipe took whole are delivered, the others kept, none told twice (table, --json and --follow larger than the pipe's buffer)", async () => {
  await withStore(async (dir) => {
    assert.equal((await cli(dir, ["completions", "--consumer", "p", "--peek"])).code, 0);
    const tasks = new TaskManager({ dir });
    // About 430 KB of table: lines longer than a pipe's atomic write (4 KiB)
    // and shorter ones, several to a write.
    const made: string[] = [];
    for (let i = 0; i < 60; i++) {
      const description = `job${i} ` + "x".repeat(i % 3 === 0 ? 20_000 : 900);
      made.push((await tasks.spawnShell("true", { description })).id);
    }
    for (const id of made) await tasks.wait(id);
    const encoder = new TextEncoder();
    let pending = await cliJson<TaskInfo[]>(dir, ["completions", "--consumer", "p", "--peek"]);
    assert.equal(pending.length, 60);

    // The table, read up to its third line (the header and two tasks) once
    // the pipe is full, as `sleep 1; head -n 3`.
    const table = await readThenClose(
      dir,
      ["--consumer", "p"],
      (text) => text.split("\n").length > 3,
      1000,
    );
    const lines = table.split("\n").slice(1, -1); // whole lines, past the header
    const shownRows = lines.map((l) => /^(b\d+) /.exec(l)![1]);
    pending = await checkDelivery(
      dir,
      pending,
      shownRows,
      (t) => encoder.encode(t.description).length + 60,
    );

    // --json, read at once up to its third element, each whole once its
    // line after the closing brace is in.
    const json = await readThenClose(
      dir,
      ["--consumer", "p", "--json"],
      (text) => (text.match(/\n {2}\},?\n/g) ?? []).length >= 3,
    );
    const ends = (json.match(/\n {2}\},?\n/g) ?? []).length;
    const starts = [...json.matchAll(/^ {2}\{\n {4}"id": "(b\d+)"/gm)].map((m) => m[1]);
    const shownJson = starts.slice(0, ends);
    const afterJson = await checkDelivery(
      dir,
      pending,
      shownJson,
      // (As the CLI prints an element: indented once more, and ",\n" after it.)
      (t) => encoder.encode(JSON.stringify(t, null, 2).replaceAll("\n", "\n  ")).length + 4,
    );

    // --follow --json: its first batch is all that is pending, one line each.
    const follow = await readThenClose(
      dir,
      ["--consumer", "p", "--follow", "--json"],
      (text) => text.split("\n").length > 3,
    );
    const shownFollow = follow.split("\n").slice(0, -1).map((l) => (JSON.parse(l) as TaskInfo).id);
    const after = await checkDelivery(
      dir,
      afterJson,
      shownFollow,
      (t) => encoder.encode(JSON.stringify(t)).length + 1,
    );

    // The rest, read whole, is what was left: each task told once in all.
    const rest = await cliJson<TaskInfo[]>(dir, ["completions", "--consumer", "p"]);
    assert.deepEqual(rest.map((t) => t.id), after.map((t) => t.id));
    assert.deepEqual(
      await cliJson<TaskInfo[]>(dir, ["completions", "--consumer", "p", "--peek"]),
      [],
    );
  });
});
