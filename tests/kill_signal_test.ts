/**
 * `kill` with a first signal other than SIGTERM (pueue's `kill --signal`):
 * the library's `signal`, the CLI's `--signal`, MCP's `task_kill` `signal`.
 * Real bash tasks whose traps write what reached them into a file; the
 * tests wait on that file and on the kill's own return, never on a sleep.
 */

import { assert, assertEquals, assertMatch, assertRejects } from "./_helpers/assert.ts";
import { KILL_SIGNALS, TaskManager } from "../mod.ts";
import { FsStore } from "../src/store/fs_store.ts";
import {
  exists,
  groupMembers,
  isAlive,
  supervisorPid,
  until,
  untilOutput,
  withStore,
  withTestFault,
} from "./_helpers/common.ts";
import { cli, cliJson, mistakeProblems, start, withStore as withCliStore } from "./cli_helpers.ts";
import { withMcp } from "./_helpers/mcp.ts";
import type { TaskInfo } from "../mod.ts";

/** What the traps wrote, once `file` exists ("" before). */
function said(file: string): string {
  try {
    return Deno.readTextFileSync(file);
  } catch {
    return "";
  }
}

/**
 * A task that writes "got SIG" to `file` and exits 3 on `signal` (bash's
 * name: INT), prints "ready", and otherwise loops; it ignores nothing else.
 */
function trapping(file: string, signal = "INT"): string {
  return `trap 'echo got ${signal} >> ${file}; exit 3' ${signal}; echo ready; ` +
    "while :; do sleep 0.05; done";
}

/** A RegExp that finds `text` as it is. */
function literally(text: string): RegExp {
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
}

/** A long grace: the kill must end the task by its first signal, well before it. */
const LONG_GRACE_MS = 20_000;

Deno.test("kill() with signal SIGINT sends SIGINT first: the task's INT trap runs, and the record names SIGINT", async () => {
  await withStore(async (tasks, dir) => {
    const file = `${dir}/said`;
    const t = await tasks.spawnShell(trapping(file));
    await untilOutput(tasks, t.id, "ready\n");
    const started = Date.now();
    const info = await tasks.kill(t.id, { signal: "SIGINT", graceMs: LONG_GRACE_MS });
    assert(Date.now() - started < LONG_GRACE_MS, "ended by SIGINT, not at the SIGKILL");
    assertEquals(said(file), "got INT\n");
    assertEquals(info.status, "killed");
    assertEquals(
      info.error,
      `killed on request (SIGINT; SIGKILL if anything was left after ${LONG_GRACE_MS} ms)`,
    );
    assertEquals(groupMembers(t.pid!), []);
    // The record stands once the supervisor, which wrote it, has seen the end.
    const sup = supervisorPid(dir, t.id);
    await until(() => !isAlive(sup), "the supervisor to exit");
    assertEquals((await tasks.getStatus(t.id))?.error, info.error);
  });
});

Deno.test("kill() with signal SIGINT SIGKILLs a tree that ignores SIGINT after the grace", async () => {
  await withStore(async (tasks, dir) => {
    const file = `${dir}/said`;
    // INT ignored (its sleeps inherit that); TERM would have ended it at once.
    const t = await tasks.spawnShell(
      `trap '' INT; trap 'echo got TERM >> ${file}; exit 3' TERM; echo ready; ` +
        "while :; do sleep 0.05; done",
    );
    await untilOutput(tasks, t.id, "ready\n");
    const started = Date.now();
    const info = await tasks.kill(t.id, { signal: "SIGINT", graceMs: 400 });
    assert(Date.now() - started >= 400, "waited for the grace period first");
    assertEquals([info.status, groupMembers(t.pid!)], ["killed", []]);
    assertEquals(said(file), "", "no SIGTERM was sent");
    assertEquals(
      info.error,
      "killed on request (SIGINT; SIGKILL if anything was left after 400 ms)",
    );
  });
});

Deno.test("kill() with a signal sends it to the whole group: a child process of the task gets it too", async () => {
  await withStore(async (tasks, dir) => {
    const file = `${dir}/said`;
    // The child runs in the foreground (a background job of a script starts with INT ignored).
    const child = `bash -c 'trap "echo child got USR1 >> ${file}; exit 0" USR1; echo ready; ` +
      `while :; do sleep 0.05; done'`;
    const t = await tasks.spawnShell(
      `trap 'echo shell got USR1 >> ${file}; exit 3' USR1; ${child}; ` +
        "while :; do sleep 0.05; done",
    );
    await untilOutput(tasks, t.id, "ready\n");
    await until(() => groupMembers(t.pid!).length >= 3, "the child to start");
    const info = await tasks.kill(t.id, { signal: "SIGUSR1", graceMs: LONG_GRACE_MS });
    assertEquals(said(file).split("\n").sort(), ["", "child got USR1", "shell got USR1"]);
    assertEquals([info.status, groupMembers(t.pid!)], ["killed", []]);
    assertMatch(info.error ?? "", /^killed on request \(SIGUSR1; /);
  });
});

Deno.test("kill() of a paused task with signal SIGINT continues it after the signal, and its trap runs", async () => {
  await withStore(async (tasks, dir) => {
    const file = `${dir}/said`;
    const t = await tasks.spawnShell(trapping(file));
    await untilOutput(tasks, t.id, "ready\n");
    assertEquals((await tasks.pause(t.id)).status, "paused");
    const info = await tasks.kill(t.id, { signal: "SIGINT", graceMs: LONG_GRACE_MS });
    assertEquals(said(file), "got INT\n");
    assertEquals([info.status, groupMembers(t.pid!)], ["killed", []]);
    assertMatch(info.error ?? "", /^killed on request \(SIGINT; /);
  });
});

Deno.test("kill() with signal SIGKILL gives no grace, and the record says SIGKILL alone", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell(
      "trap '' INT TERM HUP; echo ready; while :; do sleep 0.05; done",
    );
    await untilOutput(tasks, t.id, "ready\n");
    const started = Date.now();
    const info = await tasks.kill(t.id, { signal: "SIGKILL", graceMs: LONG_GRACE_MS });
    assert(Date.now() - started < LONG_GRACE_MS / 2, "no grace given");
    assertEquals([info.status, groupMembers(t.pid!)], ["killed", []]);
    assertEquals(info.error, "killed on request (SIGKILL)");
  });
});

Deno.test("kill() of a task on a terminal (stdin pty) sends the signal asked for to its session", async () => {
  await withStore(async (tasks, dir) => {
    const file = `${dir}/said`;
    const t = await tasks.spawnShell(trapping(file), { stdin: "pty" });
    await untilOutput(tasks, t.id, "ready");
    const info = await tasks.kill(t.id, { signal: "SIGINT", graceMs: LONG_GRACE_MS });
    assertEquals(said(file), "got INT\n");
    assertEquals([info.status, groupMembers(t.pid!)], ["killed", []]);
    assertMatch(info.error ?? "", /^killed on request \(SIGINT; /);
  });
});

Deno.test("killQueue() with a signal: its running task gets it, its queued one never runs", async () => {
  await withStore(async (tasks, dir) => {
    const file = `${dir}/said`;
    const a = await tasks.spawnShell(trapping(file), { queue: "q" });
    const b = await tasks.spawnShell(`echo ran >> ${file}`, { queue: "q" });
    await untilOutput(tasks, a.id, "ready\n");
    const ended = await tasks.killQueue("q", { signal: "SIGINT", graceMs: LONG_GRACE_MS });
    assertEquals(ended.map((t) => [t.id, t.status]), [[a.id, "killed"], [b.id, "killed"]]);
    assertEquals(said(file), "got INT\n");
    assertMatch(ended[0].error ?? "", /^killed on request \(SIGINT; /);
    assertEquals(ended[1].error, "killed on request before it started (it never ran)");
  });
});

Deno.test("kill() refuses a signal it does not take, naming the value and those it takes, and kills nothing", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell("sleep 300");
    const list = '"SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGKILL"';
    const bad = (signal: unknown) => tasks.kill(t.id, { signal: signal as "SIGINT" });
    await assertRejects(
      () => bad("INT"),
      TypeError,
      literally(
        `Cannot kill task: signal must be one of ${list}, got "INT" (a string); did you mean "SIGINT"?`,
      ),
    );
    await assertRejects(() => bad("SIGSTOP"), TypeError, literally(`got "SIGSTOP" (a string)`));
    await assertRejects(() => bad(2), TypeError, literally("got 2 (a number: give its name)"));
    await assertRejects(
      () => bad(AbortSignal.timeout(1000)),
      TypeError,
      literally("got an AbortSignal (a kill takes none"),
    );
    await assertRejects(
      () => tasks.killQueue("q", { signal: "TERM" as "SIGTERM" }),
      TypeError,
      literally(`Cannot kill the queue's tasks: signal must be one of ${list}, got "TERM"`),
    );
    assertEquals((await tasks.getStatus(t.id))?.status, "running");
    assertEquals([...KILL_SIGNALS], JSON.parse(`[${list}]`));
  });
});

Deno.test("a kill request with a first signal is finished by the watchdog with that signal; one without reads SIGTERM", async () => {
  // A kill delegated to the task's watchdog (as for a task whose start record is
  // damaged): the watchdog sends the request's first signal, and the supervisor's
  // record names it.
  await withStore(async (tasks, dir) => {
    const file = `${dir}/said`;
    const t = await tasks.spawnShell(trapping(file));
    await untilOutput(tasks, t.id, "ready\n");
    assert(await new FsStore(dir).requestKill(t.id, LONG_GRACE_MS, true, "SIGINT"));
    const info = await tasks.wait(t.id, { signal: AbortSignal.timeout(15_000) });
    assertEquals(said(file), "got INT\n");
    assertEquals(
      info.error,
      `killed on request (SIGINT; SIGKILL if anything was left after ${LONG_GRACE_MS} ms)`,
    );
    // A request as an earlier bgtask wrote it (no second line): SIGTERM, as it was.
    const u = await tasks.spawnShell(trapping(file, "TERM"));
    await untilOutput(tasks, u.id, "ready\n");
    await Deno.writeTextFile(`${dir}/tasks/${u.id}/kill`, "500 watchdog\n");
    const old = await tasks.wait(u.id, { signal: AbortSignal.timeout(15_000) });
    assertEquals(said(file), "got INT\ngot TERM\n");
    assertEquals(
      old.error,
      "killed on request (SIGTERM; SIGKILL if anything was left after 500 ms)",
    );
  });
});

Deno.test("a kill asked for while the task's supervisor is starting it sends the signal asked for when the task starts", async () => {
  await withStore(async (tasks, dir) => {
    await tasks.setQueue("q", { parallel: 1 });
    await tasks.pauseQueue("q");
    const t = await tasks.spawnShell("sleep 30", { queue: "q" });
    // Launched now; its supervisor waits for fault-go before it starts the task.
    await withTestFault("slow-start", dir, () => tasks.resumeQueue("q"));
    const folder = `${dir}/tasks/${t.id}`;
    const killing = tasks.kill(t.id, { signal: "SIGINT", graceMs: LONG_GRACE_MS });
    await until(() => exists(`${folder}/kill`), "the kill request");
    await Deno.writeTextFile(`${dir}/fault-go`, "");
    const info = await killing;
    assertEquals(info.status, "killed");
    assertMatch(info.error ?? "", /^killed on request \(SIGINT; /);
    // Its supervisor sent it (the kill found no start record): bash's note of the
    // task's end says SIGINT ended it ("Interrupt"; SIGTERM's is "Terminated").
    assertMatch(Deno.readTextFileSync(`${folder}/notes`), new RegExp(` ${info.pid} Interrupt`));
  });
});

Deno.test("CLI: kill --signal takes INT, 2, sigint and -s; the task's INT trap runs each time", async () => {
  await withCliStore(async (dir, scratch) => {
    for (
      const [i, args] of [["--signal", "INT"], ["--signal", "2"], ["--signal", "sigint"], [
        "-s",
        "SIGINT",
      ]].entries()
    ) {
      const file = `${scratch}/said${i}`;
      const id = await start(dir, trapping(file));
      await untilOutput(new TaskManager({ dir }), id, "ready\n");
      const [info] = await cliJson<TaskInfo[]>(dir, ["kill", ...args, "--grace", "20s", id]);
      assertEquals(said(file), "got INT\n", args.join(" "));
      assertEquals(info.status, "killed");
      assertEquals(
        info.error,
        "killed on request (SIGINT; SIGKILL if anything was left after 20000 ms)",
      );
    }
  });
});

Deno.test("CLI: kill --signal with a signal it does not take is a usage error naming it, and kills nothing", async () => {
  await withCliStore(async (dir) => {
    const id = await start(dir, "sleep 300");
    for (const bad of ["STOP", "99", "sig", ""]) {
      const r = await cli(dir, ["kill", "--signal", bad, id]);
      assertEquals(r.code, 2, bad);
      assertEquals(mistakeProblems(r), [], bad);
      assertMatch(
        r.stderr,
        new RegExp(
          `^bgtask: invalid signal "${bad}" for --signal \\(one of TERM, INT, HUP, QUIT, USR1, ` +
            "USR2, KILL, with or without SIG, in any case, or its number: TERM 15, INT 2, ",
        ),
      );
    }
    // kill(1)'s habit: the option it means.
    const r = await cli(dir, ["kill", "-INT", id]);
    assertEquals(r.code, 2);
    assertMatch(
      r.stderr,
      /unknown option "-I" in "-INT" for bgtask kill: did you mean --signal INT\?/,
    );
    const [info] = await cliJson<TaskInfo[]>(dir, ["list"]);
    assertEquals(info.status, "running");
  });
});

Deno.test("MCP: task_kill takes a signal, documented in its schema, and refuses one it does not take", async () => {
  await withMcp(async (mcp, tasks, dir) => {
    const { tools } = await mcp.client.listTools();
    const schema = tools.find((t) => t.name === "task_kill")!.inputSchema as {
      properties: Record<string, { enum?: string[]; description?: string }>;
    };
    assertEquals(schema.properties.signal.enum, [...KILL_SIGNALS]);
    assertMatch(schema.properties.signal.description ?? "", /SIGINT/);
    const file = `${dir}/said`;
    const t = await tasks.spawnShell(trapping(file));
    await untilOutput(tasks, t.id, "ready\n");
    const bad = await mcp.call("task_kill", { id: t.id, signal: "INT" });
    assert(bad.isError);
    assertMatch(bad.text, /signal must be one of "SIGTERM", "SIGINT", .*got "INT"/);
    assertEquals((await tasks.getStatus(t.id))?.status, "running");
    const r = await mcp.call("task_kill", { id: t.id, signal: "SIGINT", grace_s: 20 });
    assertMatch(r.text, /^b1 was killed: nothing of its process group is left/);
    assertEquals(said(file), "got INT\n");
    assertMatch((await tasks.getStatus(t.id))?.error ?? "", /^killed on request \(SIGINT; /);
  });
});
