/**
 * `bgtask wait --any`: the first of the tasks to end (or to wait for input,
 * or to print a matching line) answers; the others run on. Tasks are held by
 * gate files: which one ends first is decided by the test, never by timing.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { TaskInfo } from "../mod.ts";
import { untilWatching } from "./_helpers/common.ts";
import { cli, cliJson, gate, spawnCli, start, withStore } from "./cli_helpers.ts";

/** The finished output of a `bgtask` child started with `spawnCli`. */
async function outcome(child: Deno.ChildProcess) {
  const { code, stdout, stderr } = await child.output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

Deno.test("wait --any returns when the first task ends, prints it alone, exits with its code; the others run on", async () => {
  await withStore(async (dir, scratch) => {
    const [goA, goB] = [join(scratch, "a"), join(scratch, "b")];
    const a = await start(dir, `${gate(goA)}; exit 0`);
    const b = await start(dir, `${gate(goB)}; exit 7`);
    const waiting = spawnCli(dir, ["wait", "--any", "--json", a, b]);
    await untilWatching(waiting.pid);
    await Deno.writeTextFile(goB, "");
    const r = await outcome(waiting);
    assert.equal(r.code, 7, r.stderr);
    const shown = JSON.parse(r.stdout) as TaskInfo[];
    assert.deepEqual(shown.map((t) => [t.id, t.status, t.exitCode]), [[b, "failed", 7]]);
    // The other was not waited out, nor touched.
    assert.equal((await cliJson<TaskInfo>(dir, ["status", a])).status, "running");
    // A task that had ended answers at once, whatever runs beside it.
    const again = await cli(dir, ["wait", "--any", a, b]);
    assert.equal(again.code, 7, again.stderr);
    assert.match(again.stdout, new RegExp(`^${b} +failed +7 `, "m"));
    assert.doesNotMatch(again.stdout, new RegExp(`^${a} `, "m"));
    await Deno.writeTextFile(goA, "");
    assert.equal((await cli(dir, ["wait", a])).code, 0);
  });
});

Deno.test("wait --any --timeout: none ended is exit 124, every task shown as it is", async () => {
  await withStore(async (dir, scratch) => {
    const go = join(scratch, "go");
    const a = await start(dir, gate(go));
    const b = await start(dir, gate(go));
    const r = await cli(dir, ["wait", "--any", "--timeout", "0.3", a, b]);
    assert.equal(r.code, 124, r.stderr);
    assert.match(r.stderr, new RegExp(`stopped waiting after 300ms; still running: ${a}, ${b}`));
    assert.match(r.stdout, new RegExp(`^${a} +running`, "m"));
    assert.match(r.stdout, new RegExp(`^${b} +running`, "m"));
    await Deno.writeTextFile(go, "");
    assert.equal((await cli(dir, ["wait", a, b])).code, 0);
  });
});

Deno.test("wait --any --queue waits for the next of the queue's tasks not ended yet; none left is a note, exit 0", async () => {
  await withStore(async (dir, scratch) => {
    const go = join(scratch, "go");
    await cli(dir, ["queue", "set", "q", "--parallel", "2"]);
    const early = await start(dir, "--queue", "q", "exit 3");
    assert.equal((await cli(dir, ["wait", early])).code, 3);
    const late = await start(dir, "--queue", "q", `${gate(go)}; exit 5`);
    const waiting = spawnCli(dir, ["wait", "--any", "--queue", "q", "--json"]);
    // (Begun before the task ends: of a queue, --any counts those not ended then.)
    await untilWatching(waiting.pid);
    await Deno.writeTextFile(go, "");
    const r = await outcome(waiting);
    // The task that had ended before (exit 3) is not the answer: the next end is.
    assert.equal(r.code, 5, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as TaskInfo[]).map((t) => t.id), [late]);
    const none = await cli(dir, ["wait", "--any", "--queue", "q", "--json"]);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout.trim(), "[]");
    assert.equal(
      none.stderr,
      'bgtask: note: no task of queue "q" is left to end: nothing to wait for\n',
    );
  });
});

Deno.test("wait --any --match: the first task to print a matching line answers; one that ends without is exit 1", async () => {
  await withStore(async (dir, scratch) => {
    const [go, quit] = [join(scratch, "go"), join(scratch, "quit")];
    const quiet = await start(dir, `${gate(go)}; ${gate(quit)}`);
    const server = await start(dir, `${gate(go)}; echo 'listening on 8080'; ${gate(quit)}`);
    const waiting = spawnCli(dir, ["wait", "--any", "--match", "listening on", quiet, server]);
    await untilWatching(waiting.pid);
    await Deno.writeTextFile(go, "");
    const r = await outcome(waiting);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "listening on 8080\n");
    // A task that ends first, without the line, is the answer too: exit 1.
    const short = await start(dir, "echo nothing here");
    const ended = await cli(dir, ["wait", "--any", "--match", "ready", short, quiet]);
    assert.equal(ended.code, 1, ended.stderr);
    assert.match(ended.stderr, new RegExp(`${short} \\(completed\\) ended without a line`));
    await Deno.writeTextFile(quit, "");
    assert.equal((await cli(dir, ["wait", quiet, server])).code, 0);
  });
});

Deno.test("wait --any --until input: a task at a prompt answers while another runs on", async () => {
  await withStore(async (dir, scratch) => {
    const go = join(scratch, "go");
    const busy = await start(dir, "--stdin", "pipe", gate(go));
    const asking = await start(dir, "--stdin", "pipe", "read -r answer; echo got $answer");
    const r = await cli(dir, ["wait", "--any", "--until", "input", "--json", busy, asking]);
    assert.equal(r.code, 0, r.stderr);
    const shown = JSON.parse(r.stdout) as TaskInfo[];
    assert.deepEqual(shown.map((t) => [t.id, t.waitingForInput]), [[asking, true]]);
    assert.equal((await cli(dir, ["send", "--eof", asking, "yes"])).code, 0);
    await Deno.writeTextFile(go, "");
    assert.equal((await cli(dir, ["wait", busy, asking])).code, 0);
    assert.equal((await cli(dir, ["logs", asking])).stdout, "got yes\n");
  });
});
