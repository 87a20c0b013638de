/**
 * How bgtask decides that a task waits for input (waitingForInput, wait until
 * "input"), on a pipe and on a terminal: a read on a worker thread counts; a
 * poll that also waits on a socket, an eventfd or a pipe (even one of its
 * own: a thread or a signal handler may write it) does not; on a terminal, a
 * prompt counts while the task keeps printing.
 */

import { assertEquals } from "./_helpers/assert.ts";
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

Deno.test("a poll or select that also waits on a socket, an eventfd or a pipe (a child's, or its own that a thread, a signal handler or a child may write) is not waiting for input", async () => {
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
      // a self-pipe (both ends its own) that a thread of it writes once its work is done
      `r, w = os.pipe(); threading.Thread(target=lambda: (time.sleep(60), os.write(w, b"x")), daemon=True).start(); ${poll}; go(); p.poll()`,
      // one that a signal handler writes, at an alarm
      `r, w = os.pipe(); signal.signal(signal.SIGALRM, lambda *a: os.write(w, b"x")); signal.alarm(60); ${poll}; go(); p.poll()`,
      // the wake-up fd of a child in a session of its own (its SIGCHLD writes it)
      // (the child ends once its parent has: a kill does not follow it out of the group)
      `r, w = os.pipe(); os.set_blocking(w, False); signal.set_wakeup_fd(w); signal.signal(signal.SIGCHLD, lambda *a: None); c = subprocess.Popen(["python3", "-c", "import os, sys, time\\nwhile os.getppid() == int(sys.argv[1]): time.sleep(0.05)", str(os.getpid())], start_new_session=True); ${poll}; go(); p.poll()`,
    ];
    const commands = programs.map((body) =>
      `exec python3 -c 'import os, select, signal, socket, subprocess, threading, time
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

Deno.test("pty: a prompt read with a short timeout, again and again, is waiting for input", async () => {
  // (Its read wakes every 20 ms and begins again, having read nothing. bash reads a terminal a
  // byte at a time, and a read that times out keeps what it got: one that timed out between
  // the "y" and the newline would leave "got=". The loop keeps what each read got, as a
  // program must. A CI run under the full suite's load once ended without "got=y"; 500 runs
  // beside CPU hogs did not show it again: the output is in the message now.)
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell(
      'a=; until read -r -t 0.02 part; do a+=$part; done; echo "got=$a$part"',
      { stdin: "pty" },
    );
    const w = await tasks.wait(t.id, { until: "input", signal: AbortSignal.timeout(10_000) });
    assertEquals([w.status, w.waitingForInput], ["running", true]);
    await tasks.writeStdin(t.id, "y\r");
    await tasks.wait(t.id, { signal: AbortSignal.timeout(10_000) });
    const out = noCr(await tasks.readOutput(t.id));
    assertEquals(out.endsWith("got=y\n"), true, JSON.stringify(out));
  });
});

// A spinner that redraws every 5 ms: script copies each piece, so it is never still for long
// (until the look polled the terminal, it needed 25 ms of quiet: one every 20 ms hid the prompt).
const spinner = "(while :; do printf '\\r%s' $RANDOM; sleep 0.005; done) & ";

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
