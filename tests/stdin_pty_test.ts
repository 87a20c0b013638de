/**
 * Interactive tasks on a terminal (issue 13): the command's stdin, stdout and
 * stderr are a pseudo-terminal run by util-linux script(1) (or python3's pty
 * module); its screen stream is the output. The tree (script's group and the
 * terminal's session) is killed whole; timeouts, the output cap, byte-exact
 * output and the spawner's exit all still hold.
 */

import { assert, assertEquals, assertMatch, assertRejects } from "./_helpers/assert.ts";
import {
  groupMembers,
  minimalFlags,
  procStat,
  runDeno,
  until,
  untilOutput,
  withStore,
} from "./_helpers/common.ts";
import { carries, taskToken } from "./_helpers/correctness.ts";
import { StdinTimeoutError, type TaskManager } from "../mod.ts";

/** The terminal session the task's command leads. */
function ptySession(dir: string, id: string): number {
  return Number(Deno.readTextFileSync(`${dir}/tasks/${id}/pty`).split(" ")[0]);
}

/**
 * A task on a terminal that prints "tick" every 20 ms, once it has: its
 * terminal's holder (script, the task's pid) and its session's leader.
 */
async function tickingOnTerminal(tasks: TaskManager, dir: string) {
  const t = await tasks.spawnShell("while :; do echo tick; sleep 0.02; done", { stdin: "pty" });
  await untilOutput(tasks, t.id, "tick");
  const holder = Number(Deno.readTextFileSync(`${dir}/tasks/${t.id}/started`).split(" ")[2]);
  return { t, holder, leader: ptySession(dir, t.id) };
}

/** Waits until a task has printed 100 bytes more than it had. */
async function untilMoreOutput(tasks: TaskManager, id: string): Promise<void> {
  const size = (await tasks.getStatus(id))!.outputBytes;
  await until(
    async () => (await tasks.getStatus(id))!.outputBytes > size + 100,
    "more output",
    10_000,
  );
}

/**
 * Stops a terminal task's session leader behind bgtask's back, until script
 * (the terminal's holder) has stopped itself on that news.
 */
async function stopLeaderBehindItsBack(leader: number, holder: number): Promise<void> {
  Deno.kill(leader, "SIGSTOP");
  await until(() => procStat(holder)?.state === "T", "script to stop itself");
}

/** The bit of SIGCHLD in a process's pending signals (`ShdPnd` of /proc). */
function childNewsPending(pid: number): boolean {
  const pending = Deno.readTextFileSync(`/proc/${pid}/status`).match(/ShdPnd:\s*([0-9a-f]+)/)![1];
  return ((BigInt(`0x${pending}`) >> 16n) & 1n) === 1n;
}

/** Live (non-zombie) processes of a session. */
function sessionMembers(sid: number): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const s = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
      if (Number(f[3]) === sid && f[0] !== "Z") out.push(Number(e.name));
    } catch {
      // gone
    }
  }
  return out;
}

const noCr = (s: string) => s.replaceAll("\r", "");

Deno.test("pty: stdin and stdout are a terminal of the given size (default 80x24), echo is in the output", async () => {
  await withStore(async (tasks) => {
    const a = await tasks.spawnShell("[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo TTY; stty size", {
      stdin: "pty",
    });
    await tasks.wait(a.id);
    assertEquals(await tasks.readOutput(a.id), "TTY\r\n24 80\r\n");
    const b = await tasks.spawnShell("stty size; exit 3", { stdin: "pty", columns: 120, rows: 40 });
    const done = await tasks.wait(b.id);
    assertEquals([done.status, done.exitCode], ["failed", 3]);
    assertEquals(await tasks.readOutput(b.id), "40 120\r\n");
    const c = await tasks.spawnShell('read -r x; echo "got $x"', { stdin: "pty" });
    assertEquals((await tasks.wait(c.id, { until: "input" })).waitingForInput, true);
    await tasks.writeStdin(c.id, "hi\r");
    await tasks.wait(c.id);
    assertEquals(await tasks.readOutput(c.id), "hi\r\ngot hi\r\n");
  });
});

Deno.test("pty: in a UTF-8 locale the terminal is in iutf8 mode (Backspace erases a whole é, not its last byte); in another, not", async () => {
  await withStore(async (tasks) => {
    const locales: [Record<string, string>, string, string][] = [
      [{ LC_ALL: "", LC_CTYPE: "", LANG: "C.UTF-8" }, "iutf8", "6e 0a"],
      [{ LC_ALL: "", LC_CTYPE: "C.utf8", LANG: "C" }, "iutf8", "6e 0a"],
      [{ LC_ALL: "C", LC_CTYPE: "", LANG: "C.UTF-8" }, "-iutf8", "6e c3 0a"],
    ];
    for (const [env, mode, bytes] of locales) {
      const t = await tasks.spawnShell(
        // (head, not bash's read: a read in a UTF-8 locale waits for the rest of
        // a cut character past the line's end.)
        `stty -a | grep -o -- '-\\?iutf8'; head -n1 | od -An -tx1`,
        { stdin: "pty", env },
      );
      assertEquals((await tasks.wait(t.id, { until: "input" })).waitingForInput, true);
      // n, é, Backspace (DEL, the terminal's erase), Enter.
      await tasks.writeStdin(t.id, "n\u00e9\x7f\r");
      await tasks.wait(t.id, { signal: AbortSignal.timeout(20_000) });
      const out = (await tasks.readOutput(t.id)).split("\r\n").map((l) => l.trim());
      assertEquals([out[0], out.at(-2)], [mode, bytes], `${JSON.stringify(env)}: ${out}`);
    }
  });
});

Deno.test("pty: colour output (a terminal type is set), and a long command from a file", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell(
      'case "$TERM" in ""|dumb) echo "no TERM";; esac; ls --color=auto -d /',
      { stdin: "pty" },
    );
    await tasks.wait(t.id);
    // deno-lint-ignore no-control-regex
    assertMatch(await tasks.readOutput(t.id), /^\x1b\[[0-9;]*m.*\/.*\r\n$/);
    const long = await tasks.spawnShell(`: ${"x".repeat(120 * 1024)}; [ -t 0 ] && echo long`, {
      stdin: "pty",
    });
    await tasks.wait(long.id);
    assertEquals(await tasks.readOutput(long.id), "long\r\n");
  });
});

/** Whether a process runs with exactly these arguments. */
/** Whether one of `pids` runs with exactly `args`. */
function processWithArgs(pids: number[], args: string[]): boolean {
  const want = args.join("\0") + "\0";
  return pids.some((p) => {
    try {
      return Deno.readTextFileSync(`/proc/${p}/cmdline`) === want;
    } catch {
      return false; // gone
    }
  });
}

Deno.test('pty: "\\x03" interrupts like Ctrl-C; "\\x04" at an empty line ends input; closeStdin after a partial line too', async () => {
  await withStore(async (tasks, dir) => {
    const trap = await tasks.spawnShell(
      'trap "echo INT-trapped" INT; echo ready; sleep 30.0137; echo "sleep rc=$?"',
      { stdin: "pty" },
    );
    await untilOutput(tasks, trap.id, "ready");
    // Once the sleep runs (a ^C before it would reach the shell alone, and the sleep would end by
    // itself with 0): its own process, not the shell's command line that names it.
    const sid = ptySession(dir, trap.id);
    await until(
      () => processWithArgs(sessionMembers(sid), ["sleep", "30.0137"]),
      "the sleep to start",
    );
    await tasks.writeStdin(trap.id, "\x03");
    await tasks.wait(trap.id);
    assertEquals(noCr(await tasks.readOutput(trap.id)), "ready\n^CINT-trapped\nsleep rc=130\n");

    const plain = await tasks.spawnShell("echo ready; sleep 30", { stdin: "pty" });
    await untilOutput(tasks, plain.id, "ready");
    await tasks.writeStdin(plain.id, "\x03");
    const ended = await tasks.wait(plain.id);
    assertEquals([ended.status, ended.signal, ended.exitCode], ["failed", "SIGINT", null]);

    const cat = await tasks.spawnShell('cat; echo "cat rc=$?"', { stdin: "pty" });
    await tasks.wait(cat.id, { until: "input" });
    await tasks.writeStdin(cat.id, "x\r");
    await untilOutput(tasks, cat.id, "x\r\nx\r\n");
    await tasks.writeStdin(cat.id, "\x04");
    await tasks.wait(cat.id);
    assertEquals(noCr(await tasks.readOutput(cat.id)), "x\nx\ncat rc=0\n");

    const partial = await tasks.spawnShell('cat; echo "cat rc=$?"', { stdin: "pty" });
    await tasks.wait(partial.id, { until: "input" });
    await tasks.writeStdin(partial.id, "abc");
    await tasks.closeStdin(partial.id);
    await tasks.wait(partial.id, { signal: AbortSignal.timeout(10_000) });
    assertEquals(noCr(await tasks.readOutput(partial.id)), "abcabccat rc=0\n");
  });
});

Deno.test("pty: a Ctrl-D that readline takes for something else (after a partial line) leaves the terminal open: more input, another closeStdin", async () => {
  await withStore(async (tasks) => {
    const py = await tasks.spawnShell("python3 -q -i", { stdin: "pty" });
    await tasks.wait(py.id, { until: "input", signal: AbortSignal.timeout(20_000) });
    await tasks.writeStdin(py.id, "abc");
    // Ctrl-D twice after "abc": readline beeps; python reads on.
    await tasks.closeStdin(py.id);
    const after = await tasks.getStatusOrThrow(py.id);
    assertEquals([after.status, after.stdinClosed], ["running", false]);
    // Ctrl-U empties the line; the terminal takes the next one.
    await tasks.writeStdin(py.id, "\x15print(6 * 7)\r");
    await untilOutput(tasks, py.id, "42");
    // At an empty prompt, a Ctrl-D ends python.
    await tasks.wait(py.id, { until: "input", signal: AbortSignal.timeout(20_000) });
    await tasks.closeStdin(py.id);
    const end = await tasks.wait(py.id, { signal: AbortSignal.timeout(20_000) });
    assertEquals(end.status, "completed");
    await tasks.closeStdin(py.id); // again, once ended: no error
  });
});

Deno.test("pty: waitingForInput follows the foreground program; read -s keeps a secret out of the output and the store", async () => {
  await withStore(async (tasks, dir) => {
    const secret = `pw-${crypto.randomUUID()}`;
    const t = await tasks.spawnShell(
      'python3 -c "input(\\"name: \\")"; read -rs -p "password: " pw; echo; ' +
        '[ "$pw" = "$EXPECT" ] && echo match; sleep 1',
      { stdin: "pty", env: { EXPECT: secret } },
    );
    assertEquals((await tasks.wait(t.id, { until: "input" })).waitingForInput, true);
    await tasks.writeStdin(t.id, "Ada\r");
    await untilOutput(tasks, t.id, "password: ");
    assertEquals((await tasks.wait(t.id, { until: "input" })).waitingForInput, true);
    await tasks.writeStdin(t.id, secret + "\r");
    await untilOutput(tasks, t.id, "match");
    assertEquals((await tasks.getStatus(t.id))?.waitingForInput, false);
    await tasks.wait(t.id);
    assertEquals(noCr(await tasks.readOutput(t.id)), "name: Ada\npassword: \nmatch\n");
    for (const e of Deno.readDirSync(`${dir}/tasks/${t.id}`)) {
      if (e.name === "spec" || e.name === "stdin") continue; // the env given at spawn; the FIFO
      assert(!Deno.readTextFileSync(`${dir}/tasks/${t.id}/${e.name}`).includes(secret), e.name);
    }
  });
});

Deno.test("pty: kill ends the whole tree, the terminal's session included (HUP- and TERM-proof processes too)", async () => {
  await withStore(async (tasks, dir) => {
    // (Not the user's rc files: a pyenv in ~/.bashrc waits a minute on a lock that a
    // shell killed in its rehash left, and a kill here is such a kill.)
    const t = await tasks.spawnShell("bash --norc --noprofile -i", { stdin: "pty" });
    await tasks.wait(t.id, { until: "input" });
    await tasks.writeStdin(
      t.id,
      "sleep 301 &\rnohup sleep 302 >/dev/null 2>&1 &\r" +
        '(trap "" HUP TERM INT; exec sleep 303) &\rsetsid sleep 304 &\recho spawned-all\r',
    );
    await untilOutput(tasks, t.id, "\rspawned-all\r\n");
    const sid = ptySession(dir, t.id);
    // setsid leaves the session, as documented: bgtask cannot tell it is the task's. The
    // test ends it itself: the `sleep 304` that carries this task's token. setsid(1) forks
    // it (a job is a group leader, which cannot setsid), so it may start after the echo.
    const token = taskToken(dir, t.id)!;
    const escapedNow = () =>
      [...Deno.readDirSync("/proc")].map((e) => Number(e.name)).filter((p) => {
        try {
          return Deno.readTextFileSync(`/proc/${p}/cmdline`) === "sleep\x00304\x00" &&
            carries(p, token);
        } catch {
          return false;
        }
      });
    let escaped: number[] = [];
    try {
      escaped = await until(() => {
        const e = escapedNow();
        return e.length > 0 ? e : undefined;
      }, "setsid's sleep 304 to start");
      await until(() => sessionMembers(sid).length >= 4, "the session's processes");
      const info = await tasks.kill(t.id, { graceMs: 300 });
      assertEquals(info.status, "killed");
      assertEquals(sessionMembers(sid), []);
      assertEquals(groupMembers(t.pid!), []);
    } finally {
      for (const p of escaped.length > 0 ? escaped : escapedNow()) Deno.kill(p, "SIGKILL");
    }
  });
});

Deno.test("pty: kill sends SIGTERM first, as to any task: a handler's last words reach the output; an interactive shell, which ignores it, is hung up", async () => {
  await withStore(async (tasks) => {
    // (Before: SIGHUP first, which ended the shell before its TERM handler could run.)
    const t = await tasks.spawnShell(
      "trap 'echo saving; sleep 0.2; echo saved; exit 0' TERM; echo started; " +
        "while :; do sleep 0.05; done",
      { stdin: "pty" },
    );
    await untilOutput(tasks, t.id, "started\r\n");
    const info = await tasks.kill(t.id, { graceMs: 20_000 });
    assertEquals(info.status, "killed");
    // (bash says "Terminated" of its sleep, ended by the same SIGTERM.)
    assertMatch(noCr(await tasks.readOutput(t.id)), /^started\n(Terminated\n)?saving\nsaved\n$/);
    assertEquals(groupMembers(t.pid!), []);
    // bash -i ignores SIGTERM: hung up, it leaves at once rather than at the grace's end.
    const shell = await tasks.spawnShell("bash --norc --noprofile -i", { stdin: "pty" });
    await tasks.wait(shell.id, { until: "input" });
    const before = Date.now();
    assertEquals((await tasks.kill(shell.id, { graceMs: 20_000 })).status, "killed");
    assert(Date.now() - before < 15_000, "not the grace's SIGKILL");
    assertEquals(groupMembers(shell.pid!), []);
  });
});

Deno.test("pty: a timeout and the output cap end the whole tree; background leftovers end with the task", async () => {
  await withStore(async (tasks, dir) => {
    const slow = await tasks.spawnShell("sleep 300 & sleep 300", {
      stdin: "pty",
      timeoutMs: 500,
      graceMs: 200,
    });
    const sid = ptySession(dir, slow.id);
    const timedOut = await tasks.wait(slow.id, { signal: AbortSignal.timeout(15_000) });
    assertEquals(timedOut.reason, "timeout");
    await until(() => sessionMembers(sid).length === 0, "the session to be gone");
    assertEquals(groupMembers(slow.pid!), []);

    const loud = await tasks.spawnShell("yes", { stdin: "pty", maxOutputBytes: 100_000 });
    const capped = await tasks.wait(loud.id, { signal: AbortSignal.timeout(15_000) });
    assertEquals(capped.reason, "max-output");
    assertEquals(capped.outputBytes, 100_000);

    const left = await tasks.spawnShell("sleep 300 & echo bye", { stdin: "pty" });
    const lsid = ptySession(dir, left.id);
    await tasks.wait(left.id);
    await until(() => sessionMembers(lsid).length === 0, "the leftover sleep to be gone");
    assertEquals(noCr(await tasks.readOutput(left.id)), "bye\n");
  });
});

Deno.test("pty: the output is the terminal's stream, byte for byte, to the end", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell("seq 1 50000; printf 'caf\\xc3\\xa9 \\xff end'", {
      stdin: "pty",
    });
    await tasks.wait(t.id);
    const out = await tasks.readOutputBytes(t.id, { maxBytes: 1 << 20 });
    const expect = Array.from({ length: 50000 }, (_, i) => `${i + 1}\r\n`).join("");
    const head = new TextDecoder().decode(out.subarray(0, expect.length));
    assertEquals(head, expect);
    assertEquals([...out.subarray(expect.length)], [
      ...new TextEncoder().encode("caf\u00e9 "),
      0xff,
      ...new TextEncoder().encode(" end"),
    ]);
  });
});

Deno.test("pty: the task outlives its spawner and is driven from other processes; resize sends SIGWINCH", async () => {
  await withStore(async (tasks, dir) => {
    const spawned = await runDeno(
      minimalFlags(dir),
      `import { TaskManager } from MOD;
       const t = await new TaskManager({ dir: ${JSON.stringify(dir)} }).spawnShell(
         'trap "stty size" WINCH; read -r x; echo "x=$x"; while :; do sleep 0.05; done',
         { stdin: "pty" });
       console.log(t.id);`,
    );
    assertEquals(spawned.code, 0, spawned.stderr);
    const id = spawned.stdout.trim();
    await tasks.wait(id, { until: "input" });
    await tasks.writeStdin(id, "one\r");
    await untilOutput(tasks, id, "x=one");
    await tasks.resizeTerminal(id, { columns: 132, rows: 50 });
    await untilOutput(tasks, id, "50 132");
    await tasks.pause(id);
    await tasks.resume(id);
    await tasks.resizeTerminal(id, { columns: 90, rows: 30 });
    await untilOutput(tasks, id, "30 90");
    await tasks.kill(id, { graceMs: 200 });
    await assertRejects(
      () => tasks.resizeTerminal(id, { columns: 10, rows: 10 }),
      Error,
      /it has ended \(killed\)/,
    );
    const pipe = await tasks.spawnShell("cat", { stdin: "pipe" });
    await assertRejects(
      () => tasks.resizeTerminal(pipe.id, { columns: 10, rows: 10 }),
      Error,
      /it has no terminal \(its stdin is a pipe; only a task spawned with stdin "pty" has one\)/,
    );
    await tasks.kill(pipe.id, { graceMs: 0 });
    const none = await tasks.spawnShell("sleep 30");
    await assertRejects(
      () => tasks.resizeTerminal(none.id, { columns: 10, rows: 10 }),
      Error,
      /it has no terminal \(its stdin is \/dev\/null; only a task spawned with stdin "pty"/,
    );
    await tasks.kill(none.id, { graceMs: 0 });
  });
});

/** Where a program is; python3's own answer (a pyenv shim is a script that needs PATH). */
function programPath(name: string): string {
  const cmd = name === "python3"
    ? "exec python3 -c 'import os, sys; print(os.path.realpath(sys.executable))'"
    : `command -v ${name}`;
  const out = new Deno.Command("bash", { args: ["-c", cmd], stdout: "piped" }).outputSync();
  return new TextDecoder().decode(out.stdout).trim();
}

/** A folder whose only commands are bash and `tool`. */
async function onlyOnPath(tool: string): Promise<string> {
  const bin = await Deno.makeTempDir({ prefix: "bgtask_path_" });
  for (const name of ["bash", tool]) await Deno.symlink(programPath(name), `${bin}/${name}`);
  return bin;
}

/**
 * The task's terminal resized to each size in turn (each new), by a process
 * whose PATH is `path`, each once the task has seen the one before.
 */
async function resizeEach(dir: string, id: string, sizes: number[][], path: string) {
  const done = await runDeno(
    minimalFlags(dir),
    `import { TaskManager } from MOD;
     const id = ${JSON.stringify(id)};
     const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
     const last = async () =>
       (await tasks.readOutput(id)).split("\\r\\n").filter((l) => l.startsWith("size")).at(-1);
     for (const [rows, columns] of ${JSON.stringify(sizes)}) {
       await tasks.resizeTerminal(id, { rows, columns });
       const deadline = performance.now() + 15_000;
       while ((await last()) !== \`size \${rows} \${columns}\`) {
         if (performance.now() > deadline) throw new Error(\`no "size \${rows} \${columns}" in 15 s\`);
         await new Promise((r) => setTimeout(r, 5));
       }
     }`,
    { env: { PATH: path } },
  );
  assertEquals(done.code, 0, done.stderr);
}

for (const via of ["perl", "python3", "stty"] as const) {
  Deno.test(`pty: a resize by ${via} ${via === "stty" ? "(the last resort) ends at the size asked" : "is one change: the program never sees the new rows beside the old columns"}`, async () => {
    // The command reads its terminal's size as fast as it can (TIOCGWINSZ)
    // and prints each size it sees; stty makes a resize of both two changes.
    const poll = `perl -e '
      require Config;
      my $n = $Config::Config{archname} =~ /^(alpha|mips|powerpc|ppc|sparc)/ ? 0x40087468 : 0x5413;
      $| = 1; my ($w, $last) = ("", ""); my $end = time + 60;
      while (time < $end) {
        ioctl(STDIN, $n, $w) or die "TIOCGWINSZ: $!";
        my $s = join " ", unpack("S2", $w);
        if ($s ne $last) { print "size $s\\n"; $last = $s }
      }'`;
    const bin = await onlyOnPath(via);
    try {
      await withStore(async (tasks, dir) => {
        const t = await tasks.spawnShell(poll, { stdin: "pty" });
        await untilOutput(tasks, t.id, "size 24 80");
        const sizes = [[30, 100], [40, 120], [25, 90], [50, 132], [26, 81], [60, 200], [35, 70]];
        await resizeEach(dir, t.id, sizes, bin);
        await tasks.kill(t.id, { graceMs: 0 });
        const seen = (await tasks.readOutput(t.id)).split("\r\n").filter((l) =>
          l.startsWith("size")
        );
        const asked = ["size 24 80", ...sizes.map(([r, c]) => `size ${r} ${c}`)];
        if (via === "stty") assertEquals(seen.filter((l) => asked.includes(l)), asked);
        else assertEquals(seen, asked);
      });
    } finally {
      await Deno.remove(bin, { recursive: true });
    }
  });
}

Deno.test("pty: pause stops the terminal's session too, resume continues it", async () => {
  await withStore(async (tasks, dir) => {
    const { t, leader } = await tickingOnTerminal(tasks, dir);
    await tasks.pause(t.id);
    await until(() => procStat(leader)?.state === "T", "the session's leader to stop");
    const size = (await tasks.getStatus(t.id))!.outputBytes;
    await new Promise((r) => setTimeout(r, 300));
    assertEquals((await tasks.getStatus(t.id))!.outputBytes, size);
    await tasks.resume(t.id);
    await until(async () => (await tasks.getStatus(t.id))!.outputBytes > size, "more output");
    await tasks.kill(t.id, { graceMs: 0 });
  });
});

Deno.test("pty: resume continues script even when it had not yet seen its child stop", async () => {
  // script(1) stops itself when it reads that its child was stopped. Under
  // load the pause can stop script before it reads that news; resumed, script
  // would read it then and stop itself for good, and the output would stall.
  await withStore(async (tasks, dir) => {
    const { t, holder, leader } = await tickingOnTerminal(tasks, dir);
    await tasks.pause(t.id);
    // The race, made certain while the task is recorded paused (so that its
    // watchdog leaves script alone): both run again, script has read every
    // news; then script is stopped first, and its child after it.
    Deno.kill(leader, "SIGCONT");
    await until(() => {
      if (procStat(holder)?.state === "T") Deno.kill(holder, "SIGCONT");
      return procStat(holder)?.state === "S" && !childNewsPending(holder);
    }, "script to run, all news read");
    Deno.kill(holder, "SIGSTOP");
    await until(() => procStat(holder)?.state === "T", "script to stop");
    Deno.kill(leader, "SIGSTOP");
    await until(() => childNewsPending(holder), "the news of its child's stop, for script");
    await tasks.resume(t.id);
    await untilMoreOutput(tasks, t.id);
    assert(procStat(holder)?.state !== "T", "script runs");
    await tasks.kill(t.id, { graceMs: 0 });
  });
});

Deno.test("pty: the output goes on after someone else stops and continues the task's leader", async () => {
  // script stops itself on the news of its child's stop; continued behind
  // its back, the child runs on, and script would stay stopped: the output
  // would stall for good. (The state a resume racing the news leaves, too.)
  // The task's watchdog continues script while the task is not paused.
  await withStore(async (tasks, dir) => {
    const { t, holder, leader } = await tickingOnTerminal(tasks, dir);
    await stopLeaderBehindItsBack(leader, holder);
    Deno.kill(leader, "SIGCONT");
    await untilMoreOutput(tasks, t.id);
    assertEquals((await tasks.getStatus(t.id))!.status, "running");
    await tasks.kill(t.id, { graceMs: 0 });
  });
});

Deno.test("pty: a task whose leader dies while stopped (script stopped itself) ends", async () => {
  // script stops itself on the news of its child's stop, and so cannot reap
  // the child once it is killed: the watchdog continues script.
  await withStore(async (tasks, dir) => {
    const { t, holder, leader } = await tickingOnTerminal(tasks, dir);
    await stopLeaderBehindItsBack(leader, holder);
    Deno.kill(leader, "SIGKILL");
    const end = await tasks.wait(t.id, { signal: AbortSignal.timeout(15_000) });
    assertEquals([end.status, end.signal], ["failed", "SIGKILL"]);
  });
});

Deno.test("pty: python3's pty module stands in for script(1); neither gives a clear error", async () => {
  await withStore(async (tasks, dir) => {
    const viaPython = await runDeno(
      minimalFlags(dir),
      `import { TaskManager } from MOD;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       const t = await tasks.spawnShell(
         '[ -t 0 ] && [ -t 1 ] && echo TTY; stty size; ps -o comm= -p $PPID; read -r x; echo "x=$x"',
         { stdin: "pty", columns: 100, rows: 30 });
       console.log(t.id);`,
      { env: { BGTASK_PTY_TOOL: "python3" } },
    );
    assertEquals(viaPython.code, 0, viaPython.stderr);
    const id = viaPython.stdout.trim();
    await tasks.wait(id, { until: "input" });
    await tasks.writeStdin(id, "py\r");
    await untilOutput(tasks, id, "x=py");
    assertEquals(
      noCr(await tasks.readOutput(id)),
      "TTY\n30 100\npython3\npy\nx=py\n",
    );
    assertEquals((await tasks.wait(id)).status, "completed");
    const intr = await runDeno(
      minimalFlags(dir),
      `import { TaskManager } from MOD;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       const t = await tasks.spawnShell("echo ready; sleep 30", { stdin: "pty" });
       console.log(t.id);`,
      { env: { BGTASK_PTY_TOOL: "python3" } },
    );
    const iid = intr.stdout.trim();
    await untilOutput(tasks, iid, "ready");
    await tasks.writeStdin(iid, "\x03");
    assertEquals((await tasks.wait(iid)).signal, "SIGINT");

    const none = await runDeno(
      minimalFlags(dir),
      `import { TaskManager } from MOD;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       try {
         await tasks.spawnShell("true", { stdin: "pty" });
       } catch (e) {
         console.log(e.message);
       }
       console.log((await tasks.list()).length);`,
      { env: { BGTASK_PTY_TOOL: "none" } },
    );
    assertEquals(
      none.stdout,
      'Cannot spawn task: stdin "pty" needs util-linux script(1), 2.35 or later, or python3 ' +
        "on PATH, and neither was found\n2\n",
    );
  });
});

Deno.test("an agent's prompt loop (wait until input, read the prompt, answer) answers each question once, on a terminal and on a pipe", async () => {
  await withStore(async (tasks) => {
    for (const stdin of ["pty", "pipe"] as const) {
      const t = await tasks.spawnShell(
        'for i in $(seq 1 25); do printf "q$i? "; read -r a; echo "a$i=$a"; done',
        { stdin },
      );
      for (;;) {
        const w = await tasks.wait(t.id, { until: "input", signal: AbortSignal.timeout(15_000) });
        if (w.status !== "running") break;
        const prompt = await tasks.tailOutput(t.id, 1);
        const n = /q(\d+)\? $/.exec(prompt)?.[1];
        assert(n !== undefined, `a prompt: ${JSON.stringify(prompt)}`);
        await tasks.writeStdin(t.id, `x${n}${stdin === "pty" ? "\r" : "\n"}`);
      }
      const answers = noCr(await tasks.readOutput(t.id)).match(/a\d+=\S*/g);
      assertEquals(answers, Array.from({ length: 25 }, (_, i) => `a${i + 1}=x${i + 1}`));
    }
  });
});

Deno.test("pty (python3): closeStdin after a write that found the input full types its Ctrl-D once there is room, instead of dropping it", async () => {
  await withStore(async (tasks, dir) => {
    const go = `${dir}/go`;
    const spawned = await runDeno(
      minimalFlags(dir),
      `import { TaskManager } from MOD;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       const t = await tasks.spawnShell(
         "stty -echo; echo UP; while [ ! -e '${go}' ]; do sleep 0.02; done; wc -c; echo WC-DONE",
         { stdin: "pty" });
       console.log(t.id);`,
      { env: { BGTASK_PTY_TOOL: "python3" } },
    );
    assertEquals(spawned.code, 0, spawned.stderr);
    const id = spawned.stdout.trim();
    await untilOutput(tasks, id, "UP");
    // Nobody reads: the terminal's input and the FIFO before it fill up.
    await assertRejects(
      () => tasks.writeStdin(id, ("x".repeat(99) + "\n").repeat(3000), { timeoutMs: 500 }),
      StdinTimeoutError,
    );
    const closing = tasks.closeStdin(id);
    await Deno.writeTextFile(go, "");
    await closing;
    // (On a timeout, what the task printed: did wc get its end of input?)
    const end = await tasks.wait(id, { signal: AbortSignal.timeout(30_000) }).catch(async (e) => {
      throw new Error(
        `${e}; output ends ${JSON.stringify((await tasks.readOutput(id)).slice(-200))}`,
      );
    });
    assertEquals(end.status, "completed");
    assertMatch(await tasks.readOutput(id), /WC-DONE/);
  });
});
