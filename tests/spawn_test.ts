import { assert, assertEquals, assertMatch, assertRejects } from "./_helpers/assert.ts";
import { TaskNotFoundError } from "../mod.ts";
import { FsStore } from "../src/store/fs_store.ts";
import {
  exists,
  gate,
  groupMembers,
  isAlive,
  minimalFlags,
  processesMentioning,
  runDeno,
  scriptFile,
  until,
  withStore,
  withTestFault,
} from "./_helpers/common.ts";

Deno.test("spawnShell returns a running task with a b<N> id and its record", async () => {
  await withStore(async (tasks, dir) => {
    // (It runs until the test lets it: read as running however slow the machine.)
    const command = gate(`${dir}/go`);
    const t = await tasks.spawnShell(command, { description: "nap", cwd: "/tmp" });
    assertEquals(t.id, "b1");
    assertEquals(t.status, "running");
    assertEquals(t.command, command);
    assertEquals(t.description, "nap");
    assertEquals(t.cwd, "/tmp");
    assert(t.pid !== null && t.pid > 1);
    assertEquals(t.outputFile, `${dir}/tasks/b1/output`);
    assertEquals(t.exitCode, null);
    assertEquals(t.finishedAt, null);
    assert(t.startedAt !== null && Date.parse(t.startedAt) <= Date.now());
    assert(Date.parse(t.createdAt) <= Date.parse(t.startedAt));
    await Deno.writeTextFile(`${dir}/go`, "");
    const done = await tasks.wait(t.id);
    assertEquals(done.status, "completed");
    assertEquals(done.exitCode, 0);
    assertEquals(done.reason, "exit");
    assertEquals(t.reason, null);
    assert(done.finishedAt !== null);
  });
});

Deno.test("output is on disk while the task runs, stdout and stderr interleaved in order", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell(
      "echo one; echo two >&2; echo three; while [ ! -e go ]; do sleep 0.01; done; echo four >&2",
      { cwd: await Deno.makeTempDir() },
    );
    try {
      await until(
        async () => (await tasks.readOutput(t.id)) === "one\ntwo\nthree\n",
        "the first three lines while the task runs",
      );
      assertEquals((await tasks.getStatus(t.id))?.status, "running");
      await Deno.writeTextFile(`${t.cwd}/go`, "");
      await tasks.wait(t.id);
      assertEquals(await tasks.readOutput(t.id), "one\ntwo\nthree\nfour\n");
    } finally {
      await tasks.kill(t.id, { graceMs: 0 }).catch(() => {});
      await Deno.remove(t.cwd!, { recursive: true });
    }
  });
});

Deno.test("output is byte-exact: binary, NUL, invalid UTF-8, \\r, no final newline", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell(
      String
        .raw`printf 'a\r\nb\x00c\xff\xfe\xc3('; head -c 70000 /dev/urandom > /dev/null; printf 'é€😀end'`,
    );
    await tasks.wait(t.id);
    const bytes = await Deno.readFile(t.outputFile);
    const expected = new Uint8Array([
      ...new TextEncoder().encode("a\r\nb"),
      0,
      ...new TextEncoder().encode("c"),
      0xff,
      0xfe,
      0xc3,
      0x28,
      ...new TextEncoder().encode("é€😀end"),
    ]);
    assertEquals(bytes, expected);
    // readOutput decodes lossily and never throws.
    assertEquals(await tasks.readOutput(t.id), "a\r\nb\0c\ufffd\ufffd\ufffd(é€😀end");
  });
});

Deno.test("the command reaches bash verbatim as an argument", async (t) => {
  const cases: [string, string][] = [
    [`printf '%s\\n' "it's" 'say "hi"'`, `it's\nsay "hi"\n`],
    ["echo $(echo sub) `echo tick`", "sub tick\n"],
    ["echo line1\necho line2", "line1\nline2\n"],
    ["echo 'ünïcødé ✓ 日本'", "ünïcødé ✓ 日本\n"],
    ["x='$HOME'; echo \"$x\"", "$HOME\n"],
    ['echo "$0"', "bash\n"],
    ["echo a \\\necho b", "a echo b\n"],
  ];
  await withStore(async (tasks) => {
    for (const [command, expected] of cases) {
      await t.step(JSON.stringify(command), async () => {
        const task = await tasks.spawnShell(command);
        const done = await tasks.wait(task.id);
        assertEquals(done.command, command);
        assertEquals(await tasks.readOutput(task.id), expected);
        assertEquals(done.status, "completed");
      });
    }
  });
});

Deno.test("a command over the kernel's 128 KiB single-argument limit still runs", async () => {
  await withStore(async (tasks) => {
    const filler = "x".repeat(200 * 1024);
    const command = `v='${filler}'; echo \${#v}; echo "$0" | grep -c command.sh`;
    const t = await tasks.spawnShell(command);
    const done = await tasks.wait(t.id);
    assertEquals(done.status, "completed");
    assertEquals(await tasks.readOutput(t.id), `${filler.length}\n1\n`);
    assertEquals(done.command, command);
  });
});

Deno.test("env and cwd reach the task", async () => {
  await withStore(async (tasks) => {
    const cwd = await Deno.makeTempDir({ prefix: "with space ünï " });
    try {
      const t = await tasks.spawnShell('printf "%s|%s|%s" "$A" "$B" "$PWD"', {
        cwd,
        env: { A: "x=y=z", B: "line1\nline2" },
      });
      await tasks.wait(t.id);
      assertEquals(await tasks.readOutput(t.id), `x=y=z|line1\nline2|${cwd}`);
      assertEquals((await tasks.getStatus(t.id))?.cwd, cwd);
      // An object of a class, its fields its own, is read as any object (a Map is refused).
      class Env {
        A = "from a class";
      }
      // @ts-expect-error: a class instance, as a JavaScript caller may pass one
      const c = await tasks.spawnShell('printf "%s" "$A"', { env: new Env() });
      await tasks.wait(c.id);
      assertEquals(await tasks.readOutput(c.id), "from a class");
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  });
});

Deno.test("a task's BGTASK_DIR is its store, whatever its spawner's said (the bgtask calls it makes find it and its id), unless its env names another; on a terminal and in a queue too", async () => {
  const before = Deno.env.get("BGTASK_DIR");
  Deno.env.set("BGTASK_DIR", "/the/spawners/default");
  try {
    await withStore(async (tasks, dir) => {
      const show = 'printf "<%s>" "$BGTASK_DIR"';
      const runs = [
        tasks.spawnShell(show),
        tasks.spawnShell(show, { env: { BGTASK_DIR: "/given" } }),
        tasks.spawnShell(show, { queue: "q" }),
        tasks.spawnShell(show, { stdin: "pty" }),
      ];
      const out = [];
      for (const t of await Promise.all(runs)) {
        await tasks.wait(t.id);
        out.push((await tasks.readOutput(t.id)).match(/<[^>]*>/)?.[0]);
      }
      assertEquals(out, [`<${dir}>`, "</given>", `<${dir}>`, `<${dir}>`]);
    });
  } finally {
    if (before === undefined) Deno.env.delete("BGTASK_DIR");
    else Deno.env.set("BGTASK_DIR", before);
  }
});

Deno.test("bad input is refused with a clear error and leaves no task behind", async (t) => {
  await withStore(async (tasks, dir) => {
    const file = await Deno.makeTempFile();
    const refusals: [string, () => Promise<unknown>, RegExp][] = [
      ["empty command", () => tasks.spawnShell(""), /command is empty/],
      ["blank command", () => tasks.spawnShell(" \n\t "), /command is empty/],
      ["NUL in command", () => tasks.spawnShell("echo a\0b"), /NUL byte/],
      [
        "missing cwd",
        () => tasks.spawnShell("true", { cwd: "/no/such/dir" }),
        /directory "\/no\/such\/dir" does not exist/,
      ],
      ["cwd is a file", () => tasks.spawnShell("true", { cwd: file }), /is not a directory/],
      [
        "missing cwd with a colour code in its name: shown, not obeyed",
        () => tasks.spawnShell("true", { cwd: "/no/\x1b[31mdir" }),
        /^Cannot spawn task: directory "\/no\/\\u001b\[31mdir" does not exist$/,
      ],
      [
        "bad env name",
        () => tasks.spawnShell("true", { env: { "A-B": "1" } }),
        /environment name "A-B"/,
      ],
      [
        "env name starting with a digit",
        () => tasks.spawnShell("true", { env: { "1A": "1" } }),
        /environment name "1A" is not valid \(letters, digits and _, not starting with a digit\)$/,
      ],
      [
        "env as a Map (whose entries Object.entries cannot see)",
        // @ts-expect-error: a JavaScript caller's mistake
        () => tasks.spawnShell("true", { env: new Map([["A", "1"]]) }),
        /env must be a plain object of strings \(got a Map: use Object\.fromEntries\(…\)\)$/,
      ],
      ["negative timeout", () => tasks.spawnShell("true", { timeoutMs: -1 }), /timeoutMs/],
      [
        "a bigint",
        // @ts-expect-error: a JavaScript caller's mistake
        () => tasks.spawnShell("true", { timeoutMs: 5n }),
        /timeoutMs must be a whole number ≥ 0, got 5n \(a bigint: give a number, Number\(5n\)\)$/,
      ],
      ["fractional cap", () => tasks.spawnShell("true", { maxOutputBytes: 1.5 }), /maxOutputBytes/],
      [
        "a number given as text",
        // @ts-expect-error: a JavaScript caller's mistake
        () => tasks.spawnShell("true", { timeoutMs: "100" }),
        /timeoutMs must be a whole number ≥ 0, got "100" \(a string\)$/,
      ],
      [
        "a number too large to be exact",
        () => tasks.spawnShell("true", { maxOutputBytes: 2 ** 60 }),
        /got 1152921504606847000, beyond the largest exact whole number \(2\^53 - 1\)$/,
      ],
    ];
    for (const [name, fn, message] of refusals) {
      await t.step(name, async () => {
        await assertRejects(fn, TypeError, message);
        assertEquals(await tasks.list(), []);
      });
    }
    await Deno.remove(file);
    // No refused spawn used an id (a missing cwd is checked before the
    // claim where it may be read), and no folder was left.
    const ok = await tasks.spawnShell("true");
    assertEquals(ok.id, "b1");
    await tasks.wait(ok.id);
    const folders = [...Deno.readDirSync(`${dir}/tasks`)].map((e) => e.name);
    assertEquals(folders, [ok.id]);
  });
});

Deno.test("a cwd longer than the system's path limit is refused before an id is claimed, saying so and how to fix it", async () => {
  await withStore(async (tasks, dir) => {
    const base = await Deno.makeTempDir({ prefix: "bgtask-longcwd-" });
    try {
      // A directory that exists, 5,000 characters deep: made by relative steps.
      const seg = "d".repeat(200);
      const made = new Deno.Command("bash", {
        args: [
          "-c",
          'p=$1; cd "$1"; while [ ${#p} -lt 5000 ]; do mkdir "$2"; cd "$2"; p=$p/$2; done; echo "$p"',
          "-",
          base,
          seg,
        ],
      }).outputSync();
      const long = new TextDecoder().decode(made.stdout).trim();
      assert(long.length >= 5000, long);
      const message =
        /^Cannot spawn task: the path of directory "\/[^"]*…" is \d{4} bytes long, longer than the system's limit of (4095|1023) bytes for a path: give a shorter path to it \(through a symlink to one of the folders on its way, say\)$/;
      await assertRejects(() => tasks.spawnShell("pwd", { cwd: long }), TypeError, message);
      await assertRejects(
        () => tasks.spawnShell("pwd", { cwd: long, queue: "q" }),
        TypeError,
        message,
      );
      // Under the minimal permissions too (the directory cannot be read there).
      const r = await runDeno(
        minimalFlags(dir),
        `import { TaskManager } from MOD;
         const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
         await tasks.spawnShell("pwd", { cwd: ${
          JSON.stringify(long)
        } }).catch((e) => console.log(e.message));`,
      );
      assertEquals(r.stderr, "");
      assert(message.test(r.stdout.trim()), r.stdout);
      // No id was used; the fix it names works: a symlink to a folder half way.
      const half = Array(12).fill(seg).join("/");
      Deno.symlinkSync(half, `${base}/s`);
      const short = `${base}/s${long.slice(base.length + 1 + half.length)}`;
      assert(short.length < 4000, String(short.length));
      const t = await tasks.spawnShell("pwd", { cwd: short });
      assertEquals(t.id, "b1");
      assertEquals((await tasks.wait(t.id)).status, "completed");
      assertEquals(await tasks.readOutput(t.id), `${short}\n`);
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  });
});

Deno.test("unknown and malformed ids: getStatus resolves undefined, readOutput rejects naming the id", async () => {
  await withStore(async (tasks) => {
    for (const id of ["b99", "../x", "b1/../..", "", "/etc/passwd", "B1", "b01", "b1\0"]) {
      assertEquals(await tasks.getStatus(id), undefined);
      const e = await assertRejects(() => tasks.readOutput(id), TaskNotFoundError);
      assert(e.message.includes(JSON.stringify(id)), e.message);
    }
  });
});

Deno.test("a spawner that exits before its task ends: the task runs on and its end is recorded", async () => {
  await withStore(async (tasks, dir) => {
    // The task waits for a gate file, so it provably outlives its spawner
    // however slowly that process exits.
    const go = `${dir}/go`;
    const r = await runDeno(
      minimalFlags(dir),
      `import { TaskManager } from MOD;
       const t = await new TaskManager({ dir: ${JSON.stringify(dir)} })
         .spawnShell(${
        JSON.stringify(`while [ ! -e '${go}' ]; do sleep 0.01; done; echo late; exit 7`)
      });
       console.log(t.id);`,
    );
    assertEquals(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    assertEquals((await tasks.getStatus(id))?.status, "running");
    await Deno.writeFile(go, new Uint8Array());
    const done = await tasks.wait(id);
    assertEquals(done.status, "failed");
    assertEquals(done.exitCode, 7);
    assertEquals(await tasks.readOutput(id), "late\n");
  });
});

Deno.test("a spawner killed with SIGKILL: the task runs on and its end is recorded", async () => {
  await withStore(async (tasks, dir) => {
    const script = await scriptFile(
      `import { TaskManager } from MOD;
       const t = await new TaskManager({ dir: ${JSON.stringify(dir)} })
         .spawnShell("echo started; sleep 0.5; echo finished");
       console.log(t.id);
       await new Promise(() => setTimeout(() => {}, 60_000));`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...minimalFlags(dir), script],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    const id = new TextDecoder().decode(value).trim();
    child.kill("SIGKILL");
    reader.releaseLock();
    await child.stdout.cancel();
    assertEquals((await child.status).signal, "SIGKILL");
    await Deno.remove(script);
    const done = await tasks.wait(id);
    assertEquals(done.status, "completed");
    assertEquals(await tasks.readOutput(id), "started\nfinished\n");
  });
});

Deno.test("spawnShell does not keep the Deno process alive", async () => {
  await withStore(async (tasks, dir) => {
    const r = await runDeno(
      minimalFlags(dir),
      `import { TaskManager } from MOD;
       const t0 = Date.now();
       const t = await new TaskManager({ dir: ${JSON.stringify(dir)} }).spawnShell("sleep 30");
       console.log(t.id, t.pid);`,
    );
    assertEquals(r.code, 0, r.stderr);
    const [id, pid] = r.stdout.trim().split(" ");
    // The script exited while its task still runs.
    assertEquals((await tasks.getStatus(id))?.status, "running");
    assert(groupMembers(Number(pid)).length > 0);
    await tasks.kill(id, { graceMs: 100 });
    assertEquals(groupMembers(Number(pid)), []);
  });
});

Deno.test("everything works under exactly the minimal permission set", async () => {
  await withStore(async (_tasks, dir) => {
    const r = await runDeno(
      minimalFlags(dir),
      `import { TaskManager } from MOD;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       const a = await tasks.spawnShell("echo hi", { cwd: "/tmp", env: { X: "1" } });
       const b = await tasks.spawnShell("sleep 30", { timeoutMs: 60_000 });
       await tasks.wait(a.id);
       const out = await tasks.readOutput(a.id);
       const chunk = await tasks.readOutputChunk(a.id, { offset: 1 });
       const tail = await tasks.tailOutput(a.id, 1);
       const killed = await tasks.kill(b.id, { graceMs: 100 });
       const list = await tasks.list();
       const drained = await tasks.drainCompletions();
       for await (const _ of tasks.follow(a.id)) { /* already finished */ }
       const removed = await tasks.clean({ status: "killed" });
       console.log(JSON.stringify([out, chunk.text, tail, killed.status, list.length,
         drained.length, removed.length, (await tasks.getStatus("b1"))?.status]));`,
    );
    assertEquals(r.code, 0, r.stderr);
    assertEquals(JSON.parse(r.stdout), ["hi\n", "i\n", "hi\n", "killed", 2, 2, 1, "completed"]);
  });
});

Deno.test("a missing permission names the flag to add, and a refused spawn uses up no id", async (t) => {
  await withStore(async (tasks, dir) => {
    const spawn = `import { TaskManager } from MOD;
       try { await new TaskManager({ dir: ${JSON.stringify(dir)} }).spawnShell("true"); }
       catch (e) { console.log(e.message); }`;
    await t.step("no --allow-run", async () => {
      const r = await runDeno([`--allow-read=${dir}`, `--allow-write=${dir}`], spawn);
      assert(r.stdout.includes("--allow-run=bash"), r.stdout + r.stderr);
    });
    await t.step("no permission at all: every flag the spawn needs, at once", async () => {
      const r = await runDeno([], spawn);
      assert(
        r.stdout.includes(`--allow-run=bash --allow-read=${dir} --allow-write=${dir}`),
        r.stdout + r.stderr,
      );
    });
    await t.step("no --allow-write", async () => {
      const r = await runDeno(["--allow-run=bash", `--allow-read=${dir}`], spawn);
      assert(r.stdout.includes(`--allow-write=${dir}`), r.stdout + r.stderr);
      // The store was given by path: the environment is not needed.
      assert(!r.stdout.includes("--allow-env"), r.stdout);
    });
    await t.step("no --allow-env without a dir", async () => {
      const r = await runDeno(
        [],
        `import { TaskManager } from MOD;
         try { new TaskManager(); } catch (e) { console.log(e.message); }`,
      );
      assert(r.stdout.includes("--allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR"), r.stdout + r.stderr);
    });
    // The refused spawns used up no id.
    assertEquals((await tasks.spawnShell("true")).id, "b1");
  });
});

Deno.test("a cwd the spawner may not look at is refused by the launcher: its id is said to be a refused spawn, not a removed task", async () => {
  await withStore(async (tasks, dir) => {
    // No read permission beyond the store: the launcher finds the missing
    // directory, after the id is claimed.
    const r = await runDeno(
      minimalFlags(dir),
      `import { TaskManager } from MOD;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       try { await tasks.spawnShell("true", { cwd: "/no/such/dir" }); }
       catch (e) { console.log(e.message); }`,
    );
    assertMatch(r.stdout, /directory "\/no\/such\/dir" does not exist/, r.stderr);
    const next = await tasks.spawnShell("true");
    assertEquals(next.id, "b2");
    await tasks.wait(next.id);
    assertEquals(await tasks.list().then((l) => l.map((t) => t.id)), ["b2"]);
    await assertRejects(
      () => tasks.readOutput("b1"),
      TaskNotFoundError,
      /^Task b1 was never started: its spawn was refused \(the spawner was told why\)/,
    );
    await assertRejects(
      () => tasks.spawnShell("true", { after: ["b1"] }),
      TypeError,
      /after names b1, which was never started: its spawn was refused/,
    );
  });
});

Deno.test("nothing of bgtask stays behind once its tasks have finished", async () => {
  await withStore(async (tasks, dir) => {
    // Short and not-so-short tasks, with the default output cap and a timeout,
    // so that supervisors, watchdogs and their naps all come and go.
    const spawned = await Promise.all([
      ...Array.from({ length: 12 }, (_, i) => tasks.spawnShell(`echo ${i}`)),
      ...Array.from({ length: 4 }, () => tasks.spawnShell("sleep 0.3", { timeoutMs: 5000 })),
      tasks.spawnShell("sleep 300 &", {}),
    ]);
    for (const t of spawned) await tasks.wait(t.id);
    await until(() => processesMentioning(dir).length === 0, "every supervisor to exit");
  });
});

Deno.test("a task removed by another process before spawnShell returns (a clean the instant it ended) is returned as started, not thrown for a retry to run twice", async () => {
  await withStore(async (tasks, dir) => {
    const t = await withTestFault("late-report", dir, async () => {
      const spawning = tasks.spawnShell("echo ran");
      // Its supervisor has started it and not yet said so: another process removes it.
      // (Once it holds its report: `started` exists from the moment it is
      // opened, before the supervisor has written and checked it.)
      await until(() => exists(`${dir}/fault-at-report`), "the supervisor to hold its report");
      await new FsStore(dir).remove("b1");
      await Deno.writeTextFile(`${dir}/fault-go`, "");
      return await spawning;
    });
    assertEquals([t.id, t.status, t.command], ["b1", "running", "echo ran"]);
    assertEquals(await tasks.getStatus("b1"), undefined);
    await assertRejects(() => tasks.getStatusOrThrow("b1"), TaskNotFoundError, /b1 was removed/);
    assertEquals((await tasks.spawnShell("true")).id, "b2");
    await tasks.wait("b2");
  });
});

Deno.test("a task whose shell left processes running says they were ended with it, whatever its exit code; one that left none, or moved one out with setsid, does not", async () => {
  await withStore(async (tasks, dir) => {
    const served = await tasks.spawnShell(`sleep 300 & echo "started $!"`);
    const failed = await tasks.spawnShell("sleep 300 & exit 3");
    const clean = await tasks.spawnShell("sleep 0.1 & wait; echo done");
    // (It ends once the process has left: setsid's child writes its pid from
    // its new session. Had the task ended first, the process would still
    // have been in its group, and ended with it.)
    const moved = await tasks.spawnShell(
      `setsid sh -c 'echo $$ >"$0"; exec sleep 300' ${dir}/moved.pid & ` +
        `while [ ! -s ${dir}/moved.pid ]; do sleep 0.01; done`,
    );
    // On a terminal (one that outlives the terminal's hangup). (Past the
    // output cap too, but whether the watchdog or the supervisor records
    // such an end is a race: not tested.)
    const onPty = await tasks.spawnShell("trap '' HUP; sleep 300 & echo started", {
      stdin: "pty",
    });
    const all = [served, failed, clean, moved, onPty];
    const ended = await Promise.all(all.map((t) => tasks.wait(t.id)));
    assertEquals(
      ended.map((t) => [t.status, t.reason, t.leftoversEnded]),
      [
        ["completed", "exit", true],
        ["failed", "exit", true],
        ["completed", "exit", false],
        ["completed", "exit", false],
        ["completed", "exit", true],
      ],
    );
    // The background sleep really is gone (its pid, from the output).
    const pid = Number((await tasks.readOutput(served.id)).match(/started (\d+)/)?.[1]);
    await until(() => !isAlive(pid), "the leftover sleep to be gone");
    assertEquals((await tasks.getStatus(served.id))?.leftoversEnded, true);
    // (The one that left the group runs on, as documented: ours to end.)
    const escaped = Number(await Deno.readTextFile(`${dir}/moved.pid`));
    assert(isAlive(escaped), "setsid's process outlives the task");
    Deno.kill(escaped, "SIGKILL");
    await until(() => !isAlive(escaped), "the setsid sleep to be gone");
  });
});

Deno.test("a BASH_ENV that prints, sets options and redefines builtins reaches the task, not bgtask's own bash", async () => {
  await withStore(async (tasks, dir) => {
    // What users put there: output, strict options, traps, functions named like builtins.
    const env = `${dir}/bash_env.sh`;
    await Deno.writeTextFile(
      env,
      `echo "noise from BASH_ENV"; echo "noise on stderr" >&2
       set -euo pipefail; shopt -s failglob nullglob; trap 'echo trapped' EXIT
       cd() { echo "cd hijacked"; }; read() { return 1; }; FROM_BASH_ENV=yes\n`,
    );
    const r = await runDeno(
      minimalFlags(dir),
      `import { TaskManager } from MOD;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       await tasks.setQueue("one", { parallel: 1 });
       const a = await tasks.spawnShell("echo \\"a $FROM_BASH_ENV\\"", { queue: "one" });
       const b = await tasks.spawnShell("echo b", { queue: "one" }); // started by a's supervisor
       const c = await tasks.spawnShell("sleep 300");
       await tasks.kill(c.id, { graceMs: 0 });
       const d = await tasks.spawnShell("echo \\"d $FROM_BASH_ENV\\"", { stdin: "pty" });
       for (const t of [a, b, c, d]) console.log(t.id, (await tasks.wait(t.id)).status);`,
      { env: { BASH_ENV: env } },
    );
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stdout, "b1 completed\nb2 completed\nb3 killed\nb4 completed\n");
    // The task's own bash reads it, as any bash the user starts would.
    assertEquals(
      await tasks.readOutput("b1"),
      "noise from BASH_ENV\nnoise on stderr\na yes\ntrapped\n",
    );
    // On a terminal too, and once (not also by the bash that sets up the terminal).
    assertEquals(
      await tasks.readOutput("b4"),
      "noise from BASH_ENV\r\nnoise on stderr\r\nd yes\r\ntrapped\r\n",
    );
  });
});

/** Runs `program args` (which runs the script `spawner`), removes the script, and returns its stdout once it succeeded. */
async function runSpawner(spawner: string, program: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(program, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(spawner);
  const text = new TextDecoder().decode(out.stdout);
  assertEquals(out.code, 0, text + new TextDecoder().decode(out.stderr));
  return text;
}

Deno.test("a task has no controlling terminal, even when its spawner has one: /dev/tty cannot be opened", async () => {
  let script = false;
  try {
    script =
      (await new Deno.Command("script", { args: ["--version"], stdout: "null", stderr: "null" })
        .output()).success;
  } catch {
    // no util-linux script: skipped below, saying so
  }
  if (!script) {
    console.log("skipped: util-linux script(1) is not installed (it gives the spawner a terminal)");
    return;
  }
  await withStore(async (tasks, dir) => {
    const spawner = await scriptFile(
      `import { TaskManager } from MOD;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       const t = await tasks.spawnShell(
         '{ exec 3</dev/tty; } 2>/dev/null && echo has-tty || echo no-tty; [ -t 0 ] || echo stdin-not-tty');
       console.log((await tasks.wait(t.id)).status, t.id);`,
    );
    // script(1) runs the spawner on a terminal of its own (its controlling terminal).
    const text = await runSpawner(spawner, "script", [
      "-q",
      "-e",
      "-c",
      `'${Deno.execPath()}' run -A '${spawner}'`,
      "/dev/null",
    ]);
    const id = /completed (b\d+)/.exec(text)?.[1];
    assert(id, text);
    assertEquals(await tasks.readOutput(id), "no-tty\nstdin-not-tty\n");
  });
});

Deno.test("a task gets only stdin, stdout and stderr: no other descriptor its spawner was given", async () => {
  await withStore(async (tasks, dir) => {
    // What each task's process has: ls's own (3 is the folder it reads), no
    // pipeline (its parent holds pipes for a moment while making one).
    const list = "ls /proc/self/fd";
    const spawner = await scriptFile(
      `import { TaskManager } from MOD;
       const tasks = new TaskManager({ dir: ${JSON.stringify(dir)} });
       await tasks.setQueue("q", { parallel: 1 });
       const ids = [
         (await tasks.spawnShell(${JSON.stringify(list)})).id,
         // started by a supervisor handing its slot on, and by the scheduler Deno runs
         (await tasks.spawnShell("sleep 0.2; " + ${JSON.stringify(list)}, { queue: "q" })).id,
         (await tasks.spawnShell(${JSON.stringify(list)}, { queue: "q" })).id,
       ];
       await tasks.pauseQueue("p");
       ids.push((await tasks.spawnShell(${JSON.stringify(list)}, { queue: "p" })).id);
       await tasks.resumeQueue("p");
       for (const id of ids) await tasks.wait(id);
       console.log(ids.join(" "));`,
    );
    // A caller that leaves descriptors open, not close-on-exec (a pipe, a file), as shells do.
    const text = await runSpawner(spawner, "bash", [
      "-c",
      `exec 7</dev/null 8> >(cat >/dev/null); exec '${Deno.execPath()}' run -A '${spawner}'`,
    ]);
    for (const id of text.trim().split(" ")) {
      assertEquals(await tasks.readOutput(id), "0\n1\n2\n3\n", id);
    }
    // An interactive task's too (its supervisor hands it the stdin it opened).
    for (const stdin of ["pipe", "pty"] as const) {
      const t = await tasks.spawnShell("ls /proc/self/fd | tr '\\n' ' '", { stdin });
      await tasks.wait(t.id);
      assertEquals(await tasks.readOutput(t.id), "0 1 2 3 ", stdin);
    }
  });
});
