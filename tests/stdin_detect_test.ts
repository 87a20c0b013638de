/**
 * How bgtask decides that a task waits for input (waitingForInput, wait until
 * "input"), on a pipe and on a terminal: a read on a worker thread counts; a
 * poll that also waits on a socket does not, one beside its own self-pipes
 * (gdb) does; on a terminal, a prompt counts while the task keeps printing.
 */

import { assert, assertEquals } from "./_helpers/assert.ts";
import { until, withStore } from "./_helpers/common.ts";

const noCr = (s: string) => s.replaceAll("\r", "");
const enter = (stdin: "pipe" | "pty") => stdin === "pty" ? "\r" : "\n";

Deno.test("a read of stdin on a worker thread is waiting for input (the main thread waits in a join)", async () => {
  await withStore(async (tasks) => {
    for (const stdin of ["pipe", "pty"] as const) {
      const t = await tasks.spawnShell(
        `python3 -c 'import threading; t = threading.Thread(target=lambda: print("got", input())); t.start(); t.join()'`,
        { stdin },
      );
      const w = await tasks.wait(t.id, { until: "input", signal: AbortSignal.timeout(10_000) });
      assertEquals([w.status, w.waitingForInput], ["running", true], stdin);
      await tasks.writeStdin(t.id, "x" + enter(stdin));
      const done = await tasks.wait(t.id, { signal: AbortSignal.timeout(10_000) });
      assertEquals(done.status, "completed", stdin);
      assertEquals(noCr(await tasks.readOutput(t.id)), stdin === "pty" ? "x\ngot x\n" : "got x\n");
    }
  });
});

/** A process's system call number (/proc/PID/syscall), or "" once it has gone. */
function syscallOf(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/syscall`).split(" ")[0];
  } catch {
    return "";
  }
}

/** poll and ppoll, select and pselect6: their numbers on this machine. */
const POLL = Deno.build.arch === "aarch64" ? ["73", "72"] : ["7", "271", "23", "270"];

/** Whether a program is on the PATH. */
function has(program: string): boolean {
  return new Deno.Command("bash", { args: ["-c", `command -v ${program}`], stdout: "null" })
    .outputSync().success;
}

Deno.test("a poll or select that also waits on a socket, an eventfd or a pipe another process may write is not waiting for input", async () => {
  await withStore(async (tasks, dir) => {
    const poll = "p = select.poll(); p.register(0, select.POLLIN); p.register(r, select.POLLIN)";
    const programs = [
      // curl, git or pip waiting on a server: stdin is open, but not watched
      "a, b = socket.socketpair(); p = select.poll(); p.register(a, select.POLLIN); go(); p.poll()",
      "a, b = socket.socketpair(); go(); select.select([a], [], [])",
      // stdin watched, but so is an eventfd: what wakes it may not be input
      "e = os.eventfd(0); p = select.poll(); p.register(0, select.POLLIN); p.register(e, select.POLLIN); go(); p.poll()",
      // stdin and a pipe from a child
      `c = subprocess.Popen(["sleep", "60"], stdout=subprocess.PIPE); r = c.stdout; ${poll}; go(); p.poll()`,
      // a self-pipe (both ends held), but a child runs: its SIGCHLD may be what a
      // handler writes there (make -j waiting for its jobs, below)
      `r, w = os.pipe(); c = subprocess.Popen(["sleep", "60"]); ${poll}; go(); p.poll()`,
      // both ends held, but also by the parent, which may write it
      `r, w = os.pipe()\nif os.fork() == 0:\n    ${poll}; go(); p.poll()\nos.wait()`,
      // both ends held, but of a named FIFO, which anyone may open
      `f = "${dir}/fifo"; os.path.exists(f) or os.mkfifo(f); r = os.open(f, os.O_RDONLY | os.O_NONBLOCK); w = os.open(f, os.O_WRONLY); ${poll}; go(); p.poll()`,
    ];
    const commands = programs.map((body) =>
      `exec python3 -c 'import os, select, socket, subprocess
def go(): print("polling", os.getpid(), flush=True)
${body}'`
    );
    // make -j2 wants a job slot: select on its jobserver's pipe (both ends its
    // own) with stdin below nfds, until a job ends
    if (has("make")) {
      await Deno.writeTextFile(`${dir}/mk`, "all: a b c d\na b c d:\n\t@sleep 60\n");
      commands.push(`echo "polling $$"; exec make -j2 -f ${dir}/mk`);
    } else console.log("make is missing: its case is skipped");
    for (const stdin of ["pipe", "pty"] as const) {
      for (const command of commands) {
        const what = `${stdin}: ${command}`;
        const t = await tasks.spawnShell(command, { stdin });
        const pid = Number(
          (await until(
            async () => /polling (\d+)\r?\n/.exec(await tasks.readOutput(t.id)),
            `the marker (${what})`,
          ))[1],
        );
        await until(() => POLL.includes(syscallOf(pid)), `the poll (${what})`);
        for (let i = 0; i < 5; i++) {
          assertEquals((await tasks.getStatus(t.id))?.waitingForInput, false, what);
        }
        await tasks.kill(t.id);
      }
      // Files and /dev/null open beside stdin do not hide a poll on stdin: they are always ready.
      const t = await tasks.spawnShell(
        `exec python3 -c 'import select; f = open("/etc/hostname"); n = open("/dev/null")
p = select.poll(); p.register(0, select.POLLIN); p.poll(); print("got", input())'`,
        { stdin },
      );
      const w = await tasks.wait(t.id, { until: "input", signal: AbortSignal.timeout(10_000) });
      assertEquals([w.status, w.waitingForInput], ["running", true], stdin);
      await tasks.writeStdin(t.id, "x" + enter(stdin));
      assertEquals(
        (await tasks.wait(t.id, { signal: AbortSignal.timeout(10_000) })).status,
        "completed",
      );
    }
  });
});

Deno.test("a poll or select on the input beside self-pipes (both ends its own, as in gdb's event loop) is waiting for input", async () => {
  await withStore(async (tasks) => {
    // read ends below select's nfds, the last write end above it
    const waits = [
      "p = select.poll(); p.register(0, select.POLLIN)\nfor r, w in pipes: p.register(r, select.POLLIN)\np.poll()",
      "select.select([0] + [r for r, w in pipes], [], [])",
    ];
    for (const stdin of ["pipe", "pty"] as const) {
      for (const wait of waits) {
        const what = `${stdin}: ${wait}`;
        const t = await tasks.spawnShell(
          `exec python3 -c 'import os, select
pipes = [os.pipe() for _ in range(3)]
${wait}
print("got", input())'`,
          { stdin },
        );
        const w = await tasks.wait(t.id, { until: "input", signal: AbortSignal.timeout(10_000) });
        assertEquals([w.status, w.waitingForInput], ["running", true], what);
        await tasks.writeStdin(t.id, "x" + enter(stdin));
        const done = await tasks.wait(t.id, { signal: AbortSignal.timeout(10_000) });
        assertEquals(done.status, "completed", what);
        assert(noCr(await tasks.readOutput(t.id)).endsWith("got x\n"), what);
      }
    }
  });
});

const gdbMissing = has("gdb") ? undefined : "gdb is not installed";

Deno.test({
  name: `pty: gdb at its prompt is waiting for input, with a program stopped under it too${
    gdbMissing ? ` (skipped: ${gdbMissing})` : ""
  }`,
  ignore: gdbMissing !== undefined,
  fn: () =>
    withStore(async (tasks) => {
      // (no gdbinit, no debuginfod: nothing but the prompt is asked)
      const t = await tasks.spawnShell(
        "exec gdb -q -nx -iex 'set debuginfod enabled off' -iex 'set confirm off' /bin/sleep",
        { stdin: "pty", env: { DEBUGINFOD_URLS: "" } },
      );
      let w = await tasks.wait(t.id, { until: "input", signal: AbortSignal.timeout(10_000) });
      assertEquals([w.status, w.waitingForInput], ["running", true]);
      assert((await tasks.readOutput(t.id)).includes("(gdb) "));
      // starti: the program stops at its first instruction, gdb prompts again
      await tasks.writeStdin(t.id, "starti 60\r");
      await until(
        async () => /Program stopped/.test(await tasks.readOutput(t.id)),
        "the program stopped under gdb",
      );
      w = await tasks.wait(t.id, { until: "input", signal: AbortSignal.timeout(10_000) });
      assertEquals([w.status, w.waitingForInput], ["running", true]);
      await tasks.writeStdin(t.id, "kill\rquit\r");
      const done = await tasks.wait(t.id, { signal: AbortSignal.timeout(10_000) });
      assertEquals(done.status, "completed");
    }),
});

// A spinner that redraws every 20 ms: script copies each piece, so it is never still for long.
// (Redrawn every 80 ms, as common spinners are: the look needs 25 ms of quiet.)
const spinner = "(while :; do printf '\\r%s' $RANDOM; sleep 0.08; done) & ";

Deno.test("pty: a prompt is seen while the task keeps printing (a spinner in the background)", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell(`${spinner}read -s -n1 x; kill %1; echo; echo "got=$x"`, {
      stdin: "pty",
    });
    const w = await tasks.wait(t.id, { until: "input", signal: AbortSignal.timeout(10_000) });
    assertEquals([w.status, w.waitingForInput], ["running", true]);
    await tasks.writeStdin(t.id, "y");
    await tasks.wait(t.id, { signal: AbortSignal.timeout(10_000) });
    assertEquals((await tasks.readOutput(t.id)).endsWith("got=y\r\n"), true);
  });
});

Deno.test("pty: an agent's prompt loop beside a spinner answers each question once (input on its way does not count)", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell(
      `${spinner}for i in 1 2 3 4 5 6 7 8; do read -r a; echo "a$i=$a"; done; kill %1`,
      { stdin: "pty" },
    );
    let n = 0;
    for (;;) {
      const w = await tasks.wait(t.id, { until: "input", signal: AbortSignal.timeout(15_000) });
      if (w.status !== "running") break;
      n++;
      await tasks.writeStdin(t.id, `x${n}\r`);
    }
    const answers = (await tasks.readOutput(t.id)).match(/a\d+=x\d+/g);
    assertEquals(answers, Array.from({ length: 8 }, (_, i) => `a${i + 1}=x${i + 1}`));
    assertEquals(n, 8);
  });
});
