/**
 * The CLI in bash scripts and CI jobs: what a script around it relies on
 * (a Ctrl-C that stops the script, a store that is not there, failures a
 * wait leaves out, a stdout that cannot be written).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { exists, ROOT, until } from "./_helpers/common.ts";
import { childOptions, cli, cliArgs, gate, start, withStore } from "./cli_helpers.ts";

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A bash function `bgtask` that runs the CLI on `dir`, to put before a script. */
function bgtaskFunction(dir: string): string {
  const command = [Deno.execPath(), ...cliArgs(dir, [])].map(shellQuote).join(" ");
  return `bgtask() { ${command} "$@"; }\n`;
}

/** The pids of `pid`'s children. */
function children(pid: number): number[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/)
      .filter((k) => k !== "").map(Number);
  } catch {
    return []; // gone
  }
}

Deno.test("a Ctrl-C that stops run --wait in a bash loop ends the CLI by SIGINT, so the loop stops (not exit 130, which bash takes as handled)", async () => {
  await withStore(async (dir) => {
    const script = bgtaskFunction(dir) +
      `for i in 1 2 3; do bgtask run --wait 'sleep 100'; done; echo reached-end\n`;
    const bash = new Deno.Command("bash", { args: ["-c", script], ...childOptions() }).spawn();
    const output = Promise.all([
      new Response(bash.stdout).text(),
      new Response(bash.stderr).text(),
    ]);
    try {
      // The first run has begun its spawn (the signals are heeded from before it).
      await until(() => exists(join(dir, "tasks", "b1")), "the first task");
      const [cli] = await until(() => children(bash.pid), "the CLI's pid");
      // As a terminal sends it: to the shell and to its foreground command.
      Deno.kill(bash.pid, "SIGINT");
      Deno.kill(cli, "SIGINT");
      // Either bash ends, or the loop goes on to a second run (it did, before).
      const went = await Promise.race([
        bash.status.then((s) => ({ ended: s })),
        until(() => exists(join(dir, "tasks", "b2")), "bash's end or a second task", 30_000)
          .then(() => ({ ended: undefined })),
      ]);
      assert.ok(went.ended, "the loop went on to a second bgtask run after the Ctrl-C");
      assert.equal(went.ended.signal, "SIGINT", "bash ends by SIGINT: its child died of it");
      const [stdout, stderr] = await output;
      assert.equal(stdout, "b1\n", "the id, and not reached-end");
      // (Heard while the spawn finished, or in the wait: either names the task that runs on.)
      assert.match(stderr, /^bgtask: (stopped waiting|interrupted) \(SIGINT\)[^\n]* b1\b.*\n$/);
    } finally {
      // Whatever the outcome: the CLIs of the loop too (withStore kills the tasks).
      for (const pid of children(bash.pid)) Deno.kill(pid, "SIGKILL");
      try {
        bash.kill("SIGKILL");
      } catch {
        // ended
      }
      await bash.status;
      await output;
    }
  });
});

Deno.test("--all and --queue on a store that does not exist (or a folder that is no store) fail (exit 1) naming the path and the fix; list and completions say so on stderr and exit 0; neither makes the store", async () => {
  await withStore(async (_dir, scratch) => {
    const typo = join(scratch, "typo-store");
    const why = `no store at "${typo}": nothing has run there; check --dir or BGTASK_DIR`;
    for (
      const args of [
        ["wait", "--all"],
        ["wait", "--queue", "ci"],
        ["kill", "--all"],
        ["kill", "--queue", "ci"],
        ["pause", "--all"],
        ["resume", "--queue", "ci"],
      ]
    ) {
      const r = await cli(typo, args);
      assert.deepEqual([r.code, r.stdout, r.stderr], [1, "", `bgtask: ${why}\n`], args.join(" "));
    }
    const list = await cli(typo, ["list", "--json"]);
    assert.deepEqual([list.code, list.stdout, list.stderr], [0, "[]\n", `bgtask: note: ${why}\n`]);
    const done = await cli(typo, ["completions", "--json"]);
    assert.deepEqual([done.code, done.stdout, done.stderr], [0, "[]\n", `bgtask: note: ${why}\n`]);
    assert.equal(exists(typo), false, "reading never creates the store");
    // Waiting there is what an agent may mean (before the first run): said, then done.
    const waited = await cli(typo, ["completions", "--wait", "--timeout", "100ms"]);
    assert.deepEqual([waited.code, waited.stderr], [
      124,
      `bgtask: note: no store at "${typo}" yet: waiting for tasks to finish there (check --dir ` +
      `or BGTASK_DIR)\nbgtask: no task finished within 100ms\n`,
    ]);
    // That wait made the store (its consumer); no task ever ran there, and --all says so (a
    // CI walk: a later wait --all at the typo passed, having waited for nothing).
    const never = `no task has ever run in the store at "${typo}"; check --dir or BGTASK_DIR`;
    for (const args of [["wait", "--all"], ["kill", "--all"], ["wait", "--queue", "ci"]]) {
      const r = await cli(typo, args);
      assert.deepEqual([r.code, r.stdout, r.stderr], [1, "", `bgtask: ${never}\n`], args.join(" "));
    }
    const empty = await cli(typo, ["list"]);
    assert.deepEqual([empty.code, empty.stderr], [0, `bgtask: note: ${never}\n`]);
    // A folder that is no store (a project's) is none either, and stays as it was.
    const project = join(scratch, "project");
    Deno.mkdirSync(project);
    Deno.writeTextFileSync(join(project, "README.md"), "mine\n");
    const there = `no store at "${project}": nothing has run there; check --dir or BGTASK_DIR`;
    const listed = await cli(project, ["list"]);
    assert.deepEqual([listed.code, listed.stderr], [0, `bgtask: note: ${there}\n`]);
    const killed = await cli(project, ["kill", "--all"]);
    assert.deepEqual([killed.code, killed.stderr], [1, `bgtask: ${there}\n`]);
    // Waiting for completions there would make it a store (the consumer is registered): refused.
    const waitedThere = await cli(project, ["completions", "--follow"]);
    assert.deepEqual([waitedThere.code, waitedThere.stderr], [
      1,
      `bgtask: no store at "${project}", a folder holding other files (README.md): waiting ` +
      `there would make it a store; check --dir or BGTASK_DIR\n`,
    ]);
    assert.deepEqual([...Deno.readDirSync(project)].map((e) => e.name), ["README.md"]);
    // A run makes it a store (a --dir meant as --cwd?): said, the files let be.
    const ran = await cli(project, ["run", "true"]);
    assert.deepEqual([ran.code, ran.stdout, ran.stderr], [
      0,
      "b1\n",
      `bgtask: note: made a new store in "${project}", among other files (README.md); to ` +
      `run a command in a folder, that is --cwd DIR; a store of its own: --dir ` +
      `"${project}/.bgtask"\n`,
    ]);
    assert.equal(Deno.readTextFileSync(join(project, "README.md")), "mine\n");
    const again = await cli(project, ["run", "--wait", "true"]);
    assert.deepEqual([again.code, again.stdout, again.stderr], [0, "b2\n", ""], "said once");
  });
});

Deno.test("wait --all leaves out a task that failed before it began, and says so on stderr with how to count it; waiting on the ids counts it", async () => {
  await withStore(async (dir, scratch) => {
    const failed = await start(dir, "exit 5");
    assert.equal((await cli(dir, ["wait", failed])).code, 5, "it has failed");
    const go = join(scratch, "go");
    const running = await start(dir, gate(go));
    const waiting = new Deno.Command(Deno.execPath(), {
      args: cliArgs(dir, ["wait", "--all"]),
      ...childOptions(),
    }).spawn();
    const stdout = new Response(waiting.stdout).text();
    // The note comes before the wait; then the task it waits for may end.
    const reader = waiting.stderr.pipeThrough(new TextDecoderStream()).getReader();
    // (No note within 15 s, as before: the task ends all the same, and the test fails.)
    const noNote = setTimeout(() => Deno.writeTextFileSync(go, ""), 15_000);
    let stderr = "";
    while (!stderr.endsWith("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += value;
    }
    clearTimeout(noNote);
    await Deno.writeTextFile(go, "");
    for (let r = await reader.read(); !r.done; r = await reader.read()) stderr += r.value;
    const status = await waiting.status;
    assert.equal(status.code, 0, "the semantics stay: --all is the tasks not ended yet");
    assert.match(await stdout, new RegExp(`^${running} +completed`, "m"), "it waited for it");
    assert.equal(
      stderr,
      `bgtask: not counted: ${failed} failed before this wait began; bgtask wait ${failed} ` +
        `counts it (--all is the tasks not ended yet: wait on the ids run printed)\n`,
    );
    const both = await cli(dir, ["wait", failed, running]);
    assert.equal(both.code, 5, "waiting on the ids counts it");
    const help = await cli(dir, ["wait", "--help"]);
    assert.match(help.stdout, /ids\+=\("\$\(bgtask run .*\)"\).*\n.*bgtask wait "\$\{ids\[@\]\}"/);
  });
});

Deno.test("run whose stdout cannot be written (> /dev/full) names the task it started and how to kill it", async () => {
  await withStore(async (dir) => {
    for (const args of [["run", "sleep 0.1"], ["run", "--wait", "sleep 0.1"]]) {
      const out = await new Deno.Command("bash", {
        args: ["-c", 'exec "$@" > /dev/full', "bash", Deno.execPath(), ...cliArgs(dir, args)],
        ...childOptions(),
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      const id = /all the same: (b\d+) /.exec(stderr)?.[1];
      assert.ok(id, stderr);
      assert.equal(out.code, 1, stderr);
      assert.equal(
        stderr,
        `bgtask: cannot write to stdout: No space left on device (os error 28); the task was ` +
          `started all the same: ${id} (bgtask kill ${id} ends it)\n`,
      );
      // It is the task that was started.
      assert.equal((await cli(dir, ["wait", id])).code, 0);
    }
    // run --wait --json prints at the end: the exit code is still the task's, the task named.
    const out = await new Deno.Command("bash", {
      args: [
        "-c",
        'exec "$@" > /dev/full',
        "bash",
        Deno.execPath(),
        ...cliArgs(dir, ["run", "--wait", "--json", "exit 3"]),
      ],
      ...childOptions(),
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 3, stderr);
    assert.match(
      stderr,
      /No space left on device .*; task b\d+ ended failed \(bgtask status b\d+ --json\)/,
    );
  });
});

Deno.test("run and restart whose reader has gone (| true) name the tasks they started, and fail", async () => {
  await withStore(async (dir, scratch) => {
    // `bgtask … | true`, the bgtask side held until `true`'s side has closed
    // the pipe (else its id might still fit in the pipe before that).
    const closed = async (args: string[]) => {
      const g = join(scratch, `closed-${crypto.randomUUID()}`);
      const out = await new Deno.Command("bash", {
        args: [
          "-c",
          'g=$1; shift; { until [ -e "$g" ]; do sleep 0.01; done; exec "$@"; } | ' +
          '{ exec 0<&-; : > "$g"; true; }; exit "${PIPESTATUS[0]}"',
          "bash",
          g,
          Deno.execPath(),
          ...cliArgs(dir, args),
        ],
        ...childOptions(),
      }).output();
      return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
    };
    for (const args of [["run", "exit 0"], ["run", "--json", "exit 0"]]) {
      const out = await closed(args);
      const id = /all the same: (b\d+) /.exec(out.stderr)?.[1];
      assert.ok(id, out.stderr);
      assert.equal(out.code, 1, out.stderr);
      assert.equal(
        out.stderr,
        `bgtask: cannot write to stdout: its reader has closed it; the task was started all the ` +
          `same: ${id} (bgtask kill ${id} ends it)\n`,
      );
      // It is the task that was started.
      assert.equal((await cli(dir, ["wait", id])).code, 0);
    }
    const restart = await closed(["restart", "b1", "b2"]);
    assert.equal(restart.code, 1, restart.stderr);
    assert.equal(
      restart.stderr,
      "bgtask: cannot write to stdout: its reader has closed it; the new tasks were started all " +
        "the same: b3 b4 (bgtask kill b3 b4 ends them)\n",
    );
    assert.equal((await cli(dir, ["wait", "b3", "b4"])).code, 0);
    // run --wait: the exit code is the task's, and says what the id would have.
    assert.equal((await closed(["run", "--wait", "exit 3"])).code, 3);
  });
});

Deno.test("README's memory limit for a task: ulimit -v before bgtask run aborts Deno; the recipe, in the command, binds the task", async () => {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  assert.doesNotMatch(readme, /`ulimit -v …; bgtask run/, "the README's old advice is gone");
  const recipe = /`(ulimit -v (\d+); exec) \.\/shard`/.exec(readme);
  assert.ok(recipe, "the README sets a task's memory limit in its command");
  assert.match(readme, /under `ulimit -v` below 32 GiB it aborts as it starts/);
  await withStore(async (dir) => {
    // The old advice, `ulimit -v …; bgtask run --queue …`: Deno aborts, nothing is made.
    const old = await new Deno.Command("bash", {
      args: [
        "-c",
        'ulimit -v 4000000; exec "$@"',
        "bash",
        Deno.execPath(),
        ...cliArgs(dir, ["run", "--queue", "q", "true"]),
      ],
      ...childOptions(),
    }).output();
    const stderr = new TextDecoder().decode(old.stderr);
    assert.equal(old.code, 133, stderr);
    assert.match(stderr, /Fatal process out of memory: Oilpan: CagedHeap reservation/);
    // The recipe: the task, queued, has the limit (and Deno, unlimited, ran).
    const r = await cli(dir, [
      "run",
      "--queue",
      "q",
      "--wait",
      `${recipe[1]} bash -c 'ulimit -v'`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const logs = await cli(dir, ["logs", r.stdout.trim()]);
    assert.equal(logs.stdout, `${recipe[2]}\n`);
  });
});

Deno.test("send --timeout that passes exits 124, as every other timeout does", async () => {
  await withStore(async (dir) => {
    // It never reads: its stdin's pipe takes 64 KiB, then the write waits until --timeout.
    const id = await start(dir, "--stdin", "pipe", "sleep 300");
    const r = await cli(dir, ["send", "--timeout", "300ms", id, "x".repeat(70_000)]);
    assert.equal(r.code, 124, r.stderr);
    assert.match(r.stderr, /^bgtask: .*65536 of 70001 bytes were written/);
    assert.equal((await cli(dir, ["kill", id])).code, 0);
  });
});

Deno.test("wait --match without an id says what it takes (ids), in one message with no advice it then refuses; run --columns 0 names --columns", async () => {
  await withStore(async (dir) => {
    const accepted = "--match waits for a line of each task named: give their ids (--queue and " +
      "--all do not go with --match)";
    const cases: [string[], string][] = [
      [["wait", "--match", "x"], `bgtask: missing task id for bgtask wait --match: ${accepted}\n`],
      [["wait", "--match", "x", "--all"], `bgtask: ${accepted}\n`],
      [["wait", "--match", "x", "--queue", "q"], `bgtask: ${accepted}\n`],
      [
        ["run", "--stdin", "pty", "--columns", "0", "true"],
        'bgtask: invalid number "0" for --columns (a whole number from 1 to 65535)\n',
      ],
      [
        ["run", "--stdin", "pty", "--rows", "65536", "true"],
        'bgtask: invalid number "65536" for --rows (a whole number from 1 to 65535)\n',
      ],
    ];
    for (const [args, stderr] of cases) {
      const r = await cli(dir, args);
      assert.deepEqual([r.code, r.stdout, r.stderr], [2, "", stderr], args.join(" "));
    }
  });
});

Deno.test("wait inside a task: its own id is refused (it cannot end while it waits for itself), and its own queue's wait leaves it out", async () => {
  await withStore(async (dir) => {
    // BGTASK_DIR is the task's store: the nested calls find it.
    const command = bgtaskFunction(dir).replace(/ --dir '[^']*'/, "") +
      'bgtask wait "$BGTASK_TASK_ID" --timeout 3s; echo "named=$?"\n' +
      'bgtask wait --queue q --timeout 3s >/dev/null; echo "queue=$?"\n';
    const run = await cli(dir, ["run", "--wait", "--queue", "q", command]);
    assert.equal(run.code, 0, run.stderr);
    const out = (await cli(dir, ["logs", "b1"])).stdout;
    assert.match(
      out,
      /b1 is the task this bgtask wait runs in: it cannot end while it waits for itself/,
    );
    assert.match(out, /^named=2$/m);
    assert.match(out, /^queue=0$/m);
  });
});

Deno.test("wait inside a task of one store, on another store's task with the same id, waits for it (ids repeat across stores)", async () => {
  await withStore(async (dir, scratch) => {
    const other = join(scratch, "other-store");
    const made = await cli(other, ["run", "--queue", "q", "sleep 1; exit 4"]);
    assert.equal(made.stdout.trim(), "b1", made.stderr);
    // b1 of this store waits for b1 of the other one, by queue and by id.
    const command = bgtaskFunction(other) +
      'bgtask wait --queue q >/dev/null; echo "queue=$?"\n' +
      'bgtask wait b1 >/dev/null; echo "named=$?"\n';
    const run = await cli(dir, ["run", "--wait", command]);
    assert.equal(run.code, 0, run.stderr);
    const out = (await cli(dir, ["logs", "b1"])).stdout;
    assert.match(out, /^queue=4$/m);
    assert.match(out, /^named=4$/m);
  });
});

Deno.test("wait --match says the pattern as given, not as rewritten for the linear engine", async () => {
  await withStore(async (dir) => {
    await cli(dir, ["run", "--wait", "echo no hash here"]);
    const r = await cli(dir, ["wait", "--match", "[0-9a-f]{40}", "-i", "b1"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /b1 \(completed\) ended without a line matching \/\[0-9a-f\]\{40\}\/i$/m,
    );
  });
});

Deno.test("kill --all kills the tasks a task being killed starts meanwhile (a fan-out script's spawn under way at its SIGTERM finishes), until none is left", async () => {
  await withStore(async (dir) => {
    // A producer that starts tasks as fast as it can, for good.
    const producer = bgtaskFunction(dir).replace(/ --dir '[^']*'/, "") +
      'while :; do bgtask run --description shard "sleep 300" >/dev/null; done\n';
    await start(dir, "--description", "producer", producer);
    await until(
      async () =>
        (await cli(dir, ["list", "--status", "running", "--json"])).stdout.includes('"shard"'),
      "a shard to run",
    );
    const kill = await cli(dir, ["kill", "--all", "--grace", "100ms", "--json"]);
    assert.equal(kill.code, 0, kill.stderr);
    // Nothing of the store is left unfinished: no shard started while the kill ran.
    const left = await cli(dir, ["list", "--status", "queued,running,paused", "--json"]);
    assert.deepEqual(JSON.parse(left.stdout), [], "unfinished after kill --all");
  });
});

Deno.test("kill --queue and pause --queue run from a task of the queue leave that task out, as --all does", async () => {
  await withStore(async (dir) => {
    const inner = bgtaskFunction(dir).replace(/ --dir '[^']*'/, "");
    for (const verb of ["kill", "pause"]) {
      const q = `${verb}q`;
      const command = inner + `bgtask ${verb} --queue ${q} >/dev/null; echo "${verb}=$?"\n`;
      await cli(dir, ["queue", "set", q, "--parallel", "3"]);
      const others = [await start(dir, "--queue", q, "sleep 300")];
      await until(
        async () =>
          JSON.parse((await cli(dir, ["status", others[0], "--json"])).stdout).status === "running",
        "the other to run",
      );
      const self = await start(dir, "--queue", q, command);
      const r = await cli(dir, ["wait", self]);
      assert.equal(r.code, 0, `${verb}: ${r.stderr}`);
      assert.match((await cli(dir, ["logs", self])).stdout, new RegExp(`^${verb}=0$`, "m"));
      const other = JSON.parse((await cli(dir, ["status", others[0], "--json"])).stdout);
      assert.equal(other.status, verb === "kill" ? "killed" : "paused", verb);
      await cli(dir, ["kill", others[0]]);
    }
  });
});

Deno.test("run --wait --after its own task, inside a task, is refused (it would wait for good); without --wait the new task runs once the caller ends", async () => {
  await withStore(async (dir) => {
    const inner = bgtaskFunction(dir).replace(/ --dir '[^']*'/, "");
    const command = inner +
      'bgtask run --wait --after "$BGTASK_TASK_ID" "echo never" >/dev/null; echo "waited=$?"\n' +
      'bgtask run --after "$BGTASK_TASK_ID" "echo after" >/dev/null; echo "after=$?"\n';
    const r = await cli(dir, ["run", "--wait", command]);
    assert.equal(r.code, 0, r.stderr);
    const out = (await cli(dir, ["logs", "b1"])).stdout;
    assert.match(out, /--after b1 with --wait: b1 is the task this bgtask run runs in/);
    assert.match(out, /^waited=2$/m);
    assert.match(out, /^after=0$/m);
    // The one without --wait is b2 (the refused one claimed no id) and ran after b1.
    const b2 = await cli(dir, ["wait", "b2"]);
    assert.equal(b2.code, 0, b2.stderr);
    assert.equal((await cli(dir, ["logs", "b2"])).stdout, "after\n");
  });
});

Deno.test("wait --queue and run --wait --after count a finished task whose id (or pid) is the caller's: only a task that has not ended runs the caller (a failed shard was left out, wait exited 0)", async () => {
  await withStore(async (dir) => {
    const failed = await start(dir, "--queue", "q", "exit 3");
    const ok = await start(dir, "--queue", "q", "true");
    assert.equal((await cli(dir, ["wait", ok])).code, 0);
    // As a process left by task b1 (its id in the environment) would call it, once b1 has ended.
    const env = { BGTASK_TASK_ID: failed, BGTASK_DIR: dir };
    const wait = await cli(dir, ["wait", "--queue", "q"], { env });
    assert.equal(wait.code, 3, wait.stderr);
    const after = await cli(dir, ["run", "--wait", "--after-any", "--after", failed, "true"], {
      env,
    });
    assert.equal(after.code, 0, after.stderr);
  });
});
