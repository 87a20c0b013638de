/**
 * The CLI on a terminal: colour, the `wait` spinner, and the TASK column cut
 * to the terminal's width. A pseudo-terminal comes from util-linux `script`;
 * without it these tests are skipped.
 */

import assert from "node:assert/strict";
import { childOptions, cli, cliArgs, start, withStore } from "./cli_helpers.ts";
import { MCP_FLAGS, minimalFlags } from "./_helpers/common.ts";

async function hasScript(): Promise<boolean> {
  try {
    const out = await new Deno.Command("script", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

const ignore = !(await hasScript());

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Runs the CLI in a pseudo-terminal `columns` wide; returns what the terminal got. */
async function onTerminal(
  dir: string,
  args: string[],
  options: {
    columns?: number;
    env?: Record<string, string>;
    prompt?: boolean;
    seconds?: number;
    flags?: string[];
  } = {},
): Promise<string> {
  // (prompt: without --no-prompt, as an installed bgtask may be run: Deno
  // then asks at the terminal for any permission it lacks.)
  const deno = cliArgs(dir, args, { flags: options.flags }).filter((a) =>
    !options.prompt || a !== "--no-prompt"
  );
  const command = [Deno.execPath(), ...deno].map(shellQuote).join(" ");
  const out = await new Deno.Command("script", {
    // timeout(1): a CLI that neither ends nor reads end-of-file must not hang the suite.
    args: [
      "-qec",
      `stty cols ${options.columns ?? 80}; timeout --foreground ${
        options.seconds ?? 60
      } ${command}`,
      "/dev/null",
    ],
    ...childOptions(options.env),
  }).output();
  return new TextDecoder().decode(out.stdout);
}

Deno.test({
  name: "on a terminal, wait shows a spinner with the elapsed time and erases it",
  ignore,
  fn: () =>
    withStore(async (dir) => {
      const id = await start(dir, "--description", "nap", "sleep 1.5");
      const screen = await onTerminal(dir, ["wait", id]);
      assert.match(screen, new RegExp(`[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] waiting for ${id} \\(nap\\) \\d+ms`));
      // The spinner line is erased before the table is printed.
      const erase = "\r\x1b[2K";
      assert.ok(screen.includes(`${erase}\x1b[1mID`) || screen.includes(`${erase}ID`), screen);
    }),
});

Deno.test({
  name:
    "a wait for a task that sits at a prompt says so, with how to answer: on the spinner and at the timeout",
  ignore,
  fn: () =>
    withStore(async (dir) => {
      const id = await start(dir, "--stdin", "pipe", 'read -p "Install? " a; echo "a=$a"');
      // (At its prompt first: the waits below then find it there.)
      assert.equal((await cli(dir, ["wait", "--until", "input", id])).code, 0);
      const note = `${id} waits for input: bgtask send ${id} TEXT answers it`;
      const screen = await onTerminal(dir, ["wait", "--timeout", "4s", id], { columns: 200 });
      assert.match(screen, new RegExp(`[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] waiting for ${id} \\([^)]*\\); ${note} \\d`));
      assert.match(
        screen,
        new RegExp(`bgtask: stopped waiting after 4\\.0s; still running: ${id}; ${note}\r?\n`),
      );
      // Off a terminal, the timeout's message says it too.
      const off = await cli(dir, ["wait", "--timeout", "100ms", id]);
      assert.deepEqual([off.code, off.stderr.split("\n").at(-2)], [
        124,
        `bgtask: stopped waiting after 100ms; still running: ${id}; ${note}`,
      ]);
      assert.equal((await cli(dir, ["send", id, "yes"])).code, 0);
      assert.equal((await cli(dir, ["wait", id])).code, 0);
    }),
});

Deno.test({
  name:
    "on a terminal, logs leaves out what a task's own terminal was asked and switched to (--raw keeps it); piped, every byte",
  ignore,
  fn: () =>
    withStore(async (dir) => {
      // As vim does at its start: ask where the cursor is, switch to the
      // alternate screen and mouse reporting; colours and text besides.
      const id = await start(
        dir,
        "--stdin",
        "pty",
        "--wait",
        String.raw`printf '\033[6n\033[?1049h\033[?1000h\033[31mred\033[0m\033]11;?\007 ok\n'`,
      );
      const screen = await onTerminal(dir, ["logs", id]);
      // (The \r\n the task's terminal wrote, with the viewing terminal's own \r before its \n.)
      // A full-screen program's replay is said to be one (it is drawn over the viewer's screen).
      assert.equal(
        screen,
        "\x1b[31mred\x1b[0m ok\r\r\n" +
          `bgtask: note: ${id} drew a full screen (vim, top, less: a terminal's alternate screen), ` +
          `replayed here over yours; bgtask attach ${id} shows it as it is while it runs, bgtask ` +
          `logs --raw ${id} | less -R its bytes\r\n`,
      );
      const raw = await onTerminal(dir, ["logs", "--raw", id]);
      assert.ok(raw.includes("\x1b[6n\x1b[?1049h\x1b[?1000h\x1b[31mred"), JSON.stringify(raw));
      const piped = await cli(dir, ["logs", id]);
      assert.equal(
        piped.stdout,
        "\x1b[6n\x1b[?1049h\x1b[?1000h\x1b[31mred\x1b[0m\x1b]11;?\x07 ok\r\n",
      );
    }),
});

Deno.test({
  name:
    "on a terminal, the spinner leaves two columns free: a Ctrl-C's ^C echoed after it does not wrap it",
  ignore,
  fn: () =>
    withStore(async (dir) => {
      const id = await start(dir, "--description", "word ".repeat(30), "sleep 0.5");
      const screen = await onTerminal(dir, ["wait", id], { columns: 40 });
      const frames = screen.split("\r\x1b[2K").filter((f) => /^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] /.test(f));
      assert.ok(frames.length > 0, JSON.stringify(screen));
      for (const f of frames) {
        const line = f.split(/\r|\n/)[0];
        assert.ok([...line].length <= 38, `${[...line].length} columns: ${line}`);
      }
    }),
});

Deno.test({
  name:
    "on a terminal, with the documented permissions and Deno free to prompt, a spawn that must wait (a busy queue, a dependency) asks nothing",
  ignore,
  fn: () =>
    withStore(async (dir) => {
      // From a pueue user's pass: Deno asked for sys access to "umask" at
      // each such spawn, holding the queue's lock while it waited for the
      // answer (every other process's `list` waited with it).
      assert.equal((await cli(dir, ["queue", "set", "q", "--parallel", "1"])).code, 0);
      const busy = await start(dir, "--queue", "q", "sleep 30");
      const screens = [
        await onTerminal(dir, ["run", "--queue", "q", "echo second"], {
          prompt: true,
          seconds: 20,
        }),
        await onTerminal(dir, ["run", "--after", busy, "echo after"], {
          prompt: true,
          seconds: 20,
        }),
      ];
      for (const screen of screens) {
        assert.doesNotMatch(screen, /Deno requests|Allow\?/, screen);
        assert.match(screen, /^b\d+\r?$/m, screen);
      }
    }),
});

Deno.test({
  name: "on a terminal, statuses are coloured, but never with NO_COLOR",
  ignore,
  fn: () =>
    withStore(async (dir) => {
      await start(dir, "--wait", "true");
      const colour = await onTerminal(dir, ["list"]);
      assert.ok(colour.includes("\x1b[32mcompleted\x1b[39m"), JSON.stringify(colour));
      const plain = await onTerminal(dir, ["list"], { env: { NO_COLOR: "1" } });
      assert.ok(!plain.includes("\x1b["), JSON.stringify(plain));
      assert.match(plain, /^b1 +completed /m);
      // --color never: plain on a terminal too, before the verb or after it.
      for (const args of [["--color", "never", "list"], ["list", "--color=never"]]) {
        const never = await onTerminal(dir, args);
        assert.ok(!never.includes("\x1b["), `${args}: ${JSON.stringify(never)}`);
        assert.match(never, /^b1 +completed /m);
      }
    }),
});

Deno.test({
  name:
    "on a dumb terminal (TERM=dumb, Emacs' M-x shell) with TERM readable: no colour, no spinner redrawn with \\r\\x1b[2K; --color always still colours",
  ignore,
  fn: () =>
    withStore(async (dir) => {
      const flags = [...minimalFlags(dir), "--allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR,TERM"];
      const id = await start(dir, "--description", "nap", "sleep 0.5");
      const env = { TERM: "dumb" };
      const waited = await onTerminal(dir, ["wait", id], { env, flags });
      assert.ok(!waited.includes("\x1b["), JSON.stringify(waited));
      assert.doesNotMatch(waited, /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] waiting/);
      assert.match(waited, /^b1 +completed /m);
      const listed = await onTerminal(dir, ["list"], { env, flags });
      assert.ok(!listed.includes("\x1b["), JSON.stringify(listed));
      const always = await onTerminal(dir, ["--color", "always", "list"], { env, flags });
      assert.ok(always.includes("\x1b[32mcompleted\x1b[39m"), JSON.stringify(always));
      // (Another TERM: colour, as before.)
      const xterm = await onTerminal(dir, ["list"], { env: { TERM: "xterm" }, flags });
      assert.ok(xterm.includes("\x1b[32mcompleted\x1b[39m"), JSON.stringify(xterm));
    }),
});

Deno.test({
  name:
    "on a terminal that says it is 0 columns wide (script without a size, docker run -t), the spinner takes it as 80, not 10",
  ignore,
  fn: () =>
    withStore(async (dir) => {
      const id = await start(
        dir,
        "--description",
        "a-description-of-forty-characters-long",
        "sleep 0.5",
      );
      const screen = await onTerminal(dir, ["wait", id], { columns: 0 });
      assert.match(
        screen,
        new RegExp(
          `[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] waiting for ${id} \\(a-description-of-forty-characters-long\\) \\d+m?s`,
        ),
        JSON.stringify(screen),
      );
    }),
});

Deno.test("--color always colours a pipe (watch -c, less -R), NO_COLOR or not; a bad or second --color is a usage error", () =>
  withStore(async (dir) => {
    await start(dir, "--wait", "true");
    const painted = "\x1b[32mcompleted\x1b[39m";
    const piped = await cli(dir, ["list"]);
    assert.equal(piped.code, 0, piped.stderr);
    assert.ok(!piped.stdout.includes("\x1b["), JSON.stringify(piped.stdout));
    for (const args of [["--color", "always", "list"], ["list", "--color=always"]]) {
      for (const env of [{}, { NO_COLOR: "1" }] as Record<string, string>[]) {
        const r = await cli(dir, args, { env });
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stdout.includes(painted), `${args} ${JSON.stringify(env)}: ${r.stdout}`);
      }
    }
    const status = await cli(dir, ["status", "b1", "--color", "always"]);
    assert.ok(status.stdout.includes(painted), status.stdout);
    const bad = await cli(dir, ["--color", "yes", "list"]);
    assert.equal(bad.code, 2);
    assert.equal(
      bad.stderr,
      'bgtask: option --color takes auto, always or never, got "yes" (see bgtask --help)\n',
    );
    const twice = await cli(dir, ["--color", "never", "list", "--color", "always"]);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /option --color was given twice \(before and after the verb\)/);
  }));

Deno.test({
  name:
    "a terminal that reports no size (0 columns) counts as 80 wide: the TASK column is not cut to nothing",
  ignore,
  fn: () =>
    withStore(async (dir) => {
      await start(
        dir,
        "--wait",
        "--description",
        "a description of forty characters, about",
        "true",
      );
      const screen = await onTerminal(dir, ["list"], { columns: 0, env: { NO_COLOR: "1" } });
      assert.match(screen, /a description of forty characters, about\r\n/);
    }),
});

Deno.test({
  name: "on a terminal, the TASK column is cut to the terminal's width",
  ignore,
  fn: () =>
    withStore(async (dir) => {
      await start(dir, "--wait", "--description", "word ".repeat(40), "true");
      const screen = await onTerminal(dir, ["list"], { columns: 60, env: { NO_COLOR: "1" } });
      const lines = screen.split("\r\n").filter((l) => l !== "");
      assert.equal(lines.length, 2);
      for (const line of lines) assert.ok([...line].length <= 60, line);
      assert.ok(lines[1].endsWith("…"), lines[1]);
    }),
});

Deno.test({
  name:
    "on a narrow terminal, a table with a QUEUE column fits too: the queue's text is cut before TASK wraps",
  ignore,
  fn: () =>
    withStore(async (dir) => {
      // From a new user's walk: at 60 columns every row wrapped onto two lines.
      const q = "shards-of-the-nightly-integration-suite";
      assert.equal((await cli(dir, ["queue", "set", q, "--parallel", "1"])).code, 0);
      assert.equal((await cli(dir, ["queue", "pause", q])).code, 0);
      const first = await start(dir, "--queue", q, "--description", "word ".repeat(20), "true");
      await start(dir, "--queue", q, "--after", first, "true");
      // (57 columns are the least with STARTED and DURATION: QUEUE 8, TASK 10)
      for (const columns of [80, 60, 57]) {
        const screen = await onTerminal(dir, ["list"], { columns, env: { NO_COLOR: "1" } });
        const lines = screen.split("\r\n").filter((l) => l !== "");
        assert.equal(lines.length, 3, screen);
        for (const line of lines) assert.ok([...line].length <= columns, `${columns}: ${line}`);
        // (cut in its middle: the queue's name begins it, the task's place ends it)
        if (columns === 80) assert.match(lines[1], / {2}shard.*….* #1 paused {2}/);
      }
    }),
});

Deno.test({
  name:
    "on a terminal a long queue name is cut once, in its middle: to 28 columns when wide, further when narrow",
  ignore,
  fn: () =>
    withStore(async (dir) => {
      // A pueue user's walk: at 60 columns the name was cut twice ("qq-w…he…"): to 16
      // columns first, then in its middle to fit.
      const q = "qq-with-a-rather-long-name-of-the-nightly-suite";
      await start(dir, "--wait", "--queue", `${q}-done`, "--description", "shard", "true");
      assert.equal((await cli(dir, ["queue", "set", q, "--parallel", "1"])).code, 0);
      assert.equal((await cli(dir, ["queue", "pause", q])).code, 0);
      await start(dir, "--queue", q, "--description", "shard", "true");
      for (const columns of [60, 200]) {
        const screen = await onTerminal(dir, ["list"], { columns, env: { NO_COLOR: "1" } });
        const rows = screen.split("\r\n").filter((l) => /^b\d /.test(l));
        assert.equal(rows.length, 2, screen);
        for (const row of rows) {
          assert.ok([...row].length <= columns, `${columns}: ${row}`);
          const cell = / {2}(?:completed|queued) +(\S.*?) {2,}/.exec(row)?.[1] ?? "";
          assert.equal(cell.split("…").length, 2, `${columns}: one cut in ${JSON.stringify(row)}`);
          assert.ok(cell.startsWith("qq-w"), `${columns}: ${cell}`);
          if (columns === 200) assert.equal([...cell].length, 28, cell);
        }
        if (columns === 200) assert.match(rows[1], /…[^ ]* #1 paused {2}/);
      }
    }),
});

Deno.test({
  name:
    "on a terminal, list rows fit down to 47 columns with a long queue name and a completed task: the name is cut before TASK, the place stays, STARTED and DURATION go last",
  ignore,
  fn: () =>
    withStore(async (dir) => {
      // A terminal user's walk (tmux, 60 columns): each row was 61 columns (QUEUE at its 8,
      // TASK at its 10, `completed`), so every row wrapped; at 80 TASK was cut to 10 while the
      // queue's name kept 28.
      const q = "averyveryverylongqueuenamethatgoesonforever-now";
      assert.equal(q.length, 47);
      assert.equal((await cli(dir, ["queue", "set", q, "--parallel", "1"])).code, 0);
      for (const n of [1, 2, 3]) {
        await start(dir, "--wait", "--queue", q, "--description", `compile the thing ${n}`, "true");
      }
      assert.equal((await cli(dir, ["queue", "pause", q])).code, 0);
      const next = await start(dir, "--queue", q, "--description", "the next shard", "true");
      const after = await start(dir, "--queue", q, "--after", next, "true");
      for (const columns of [80, 60, 47]) {
        const screen = await onTerminal(dir, ["list"], { columns, env: { NO_COLOR: "1" } });
        const lines = screen.split("\r\n").filter((l) => l !== "");
        assert.equal(lines.length, 6, screen);
        for (const line of lines) assert.ok([...line].length <= columns, `${columns}: ${line}`);
        const row = (id: string) => lines.find((l) => l.startsWith(`${id} `)) ?? "";
        // The queue's name is cut, in its middle; the task's place is whole.
        assert.match(row(next), / {2}a\S*…\S* #1 paused {2}/, `${columns}: ${screen}`);
        assert.match(row(after), new RegExp(` {2}a\\S*…\\S* after ${next} {2}`), screen);
        if (columns === 80) {
          assert.match(lines[0], /STARTED +DURATION +TASK$/);
          assert.match(row("b1"), / {2}compile the thing/, screen);
        } else {
          // (Left out, STARTED first, rather than cut QUEUE or TASK below their least.)
          assert.doesNotMatch(lines[0], /STARTED/);
          assert.equal(/DURATION/.test(lines[0]), columns === 60, screen);
        }
      }
    }),
});

Deno.test({
  name: "on a terminal, bgtask queue cuts a long NAME, in its middle, so that rows fit",
  ignore,
  fn: () =>
    withStore(async (dir) => {
      // A terminal user's walk: a 47-character name wrapped every row at 80 columns.
      const q = "averyveryverylongqueuenamethatgoesonforever-now";
      assert.equal((await cli(dir, ["queue", "set", q, "--parallel", "2"])).code, 0);
      for (const columns of [80, 50]) {
        const screen = await onTerminal(dir, ["queue"], { columns, env: { NO_COLOR: "1" } });
        const lines = screen.split("\r\n").filter((l) => l !== "");
        assert.equal(lines.length, 2, screen);
        for (const line of lines) assert.ok([...line].length <= columns, `${columns}: ${line}`);
        assert.match(lines[1], /^averyv\S*…\S*-now +2 {2}no +0 +0$/, screen);
      }
      // Not on a terminal: whole (`bgtask queue | grep NAME` finds it).
      assert.match((await cli(dir, ["queue"])).stdout, new RegExp(`\n${q} +2 `));
    }),
});

Deno.test({
  name:
    "bgtask mcp typed at a terminal says what it is and how to end it; started by a client (a pipe), it says nothing",
  ignore,
  fn: () =>
    withStore(async (dir) => {
      // script's stdin is empty: the terminal then reads end-of-file, which ends the server.
      const screen = await onTerminal(dir, ["mcp"]);
      assert.match(screen, /bgtask mcp: serving MCP on this terminal's stdin and stdout[^]*Ctrl-D/);
      // (Started as documented: without the V8 flag, it would warn, rightly.)
      const piped = await new Deno.Command(Deno.execPath(), {
        args: cliArgs(dir, ["mcp"], { flags: [...MCP_FLAGS, ...minimalFlags(dir)] }),
        ...childOptions(),
      }).output();
      assert.equal(new TextDecoder().decode(piped.stderr), "");
      assert.equal(piped.code, 0);
    }),
});

/** The pids of `pid`'s descendants, nearest first. */
function descendants(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    let kids: number[] = [];
    try {
      kids = Deno.readTextFileSync(`/proc/${p}/task/${p}/children`).trim().split(/\s+/)
        .filter((k) => k !== "").map(Number);
    } catch {
      // gone
    }
    out.push(...kids);
    queue.push(...kids);
  }
  return out;
}

Deno.test({
  name:
    "on a terminal, a wait stopped by SIGTERM erases its spinner, names what runs on, exits 143",
  ignore,
  fn: () =>
    withStore(async (dir) => {
      const id = await start(dir, "sleep 300");
      const command = [Deno.execPath(), ...cliArgs(dir, ["wait", id])].map(shellQuote).join(" ");
      const term = new Deno.Command("script", {
        args: ["-qec", `stty cols 80; ${command}; echo "wait exit $?"`, "/dev/null"],
        ...childOptions(),
      }).spawn();
      let screen = "";
      const decoder = new TextDecoder();
      const reader = term.stdout.getReader();
      const read = async (until: RegExp, what: string) => {
        const deadline = Date.now() + 20_000;
        while (!until.test(screen)) {
          if (Date.now() > deadline) throw new Error(`no ${what} on the screen: ${screen}`);
          const { value, done } = await reader.read();
          if (done) throw new Error(`the terminal closed before ${what}: ${screen}`);
          screen += decoder.decode(value, { stream: true });
        }
      };
      await read(/waiting for b1/, "spinner");
      const wait = descendants(term.pid).find((p) =>
        Deno.readTextFileSync(`/proc/${p}/cmdline`).split("\0").includes("wait")
      );
      assert.ok(wait, "the wait's pid");
      Deno.kill(wait, "SIGTERM");
      await read(/wait exit \d+/, "the wait's end");
      reader.releaseLock();
      await term.stdout.cancel();
      await term.stderr.cancel();
      await term.status;
      // The spinner's line erased ("\r" and CSI 2K), then the note on a line of its own.
      const erased = "\r\x1b[2K";
      assert.ok(
        screen.includes(`${erased}bgtask: stopped waiting (SIGTERM); still running on: b1\r\n`),
        JSON.stringify(screen),
      );
      assert.match(screen, /wait exit 143/);
      const after = await new Deno.Command(Deno.execPath(), {
        args: cliArgs(dir, ["status", id, "--json"]),
        ...childOptions(),
      }).output();
      assert.equal(JSON.parse(decoder.decode(after.stdout)).status, "running");
    }),
});

Deno.test({
  name:
    "invisible characters of a description (tag characters, soft hyphen, Hangul filler) are shown escaped in list, status and the wait spinner",
  ignore,
  fn: () =>
    withStore(async (dir) => {
      const description = "safe\u{e0072}\u{e006d}\u00ad\u3164 build";
      const id = await start(dir, "--description", description, "sleep 0.5");
      const shown = "safe\\u{e0072}\\u{e006d}\\xad\\u{3164} build";
      const screen = await onTerminal(dir, ["wait", id], { columns: 200 });
      assert.ok(screen.includes(`waiting for ${id} (${shown})`), JSON.stringify(screen));
      for (const args of [["list"], ["status", id]]) {
        const r = await cli(dir, args);
        assert.ok(r.stdout.includes(shown), `${args}: ${r.stdout}`);
      }
      assert.ok(!screen.includes("\u{e0072}"), JSON.stringify(screen));
    }),
});
