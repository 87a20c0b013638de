/**
 * Interactive tasks from the command line (issue 13): `run --stdin`, `send`
 * and `attach` as real subprocesses with the minimal permissions. `attach` is
 * driven in tmux (send-keys, capture-pane) on a private tmux server; tmux is
 * installed with apt-get when missing and possible, else those tests are
 * skipped (the reason is printed).
 */

import assert from "node:assert/strict";
import type { TaskInfo } from "../mod.ts";
import {
  childEnv,
  cli,
  cliArgs,
  cliJson,
  mistakeProblems,
  spawnCli,
  start,
  withStore,
} from "./cli_helpers.ts";
import { exists, until } from "./_helpers/common.ts";
import { AltScreen } from "../src/cli/verb_attach.ts";

const decoder = new TextDecoder();

async function status(dir: string, id: string): Promise<TaskInfo> {
  return JSON.parse((await cli(dir, ["status", id, "--json"])).stdout) as TaskInfo;
}

async function logs(dir: string, id: string): Promise<string> {
  return (await cli(dir, ["logs", id])).stdout;
}

/** Runs the CLI with `input` on its stdin. */
async function cliWithInput(dir: string, args: string[], input: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: cliArgs(dir, args),
    clearEnv: true,
    env: childEnv(),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(input));
  await w.close();
  const out = await child.output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

Deno.test("run --stdin pipe; send TEXT, send -, send --eof; list and status show a task waiting for input", async () => {
  await withStore(async (dir) => {
    const id = await start(
      dir,
      "--stdin",
      "pipe",
      'read -r a; echo "a=$a"; read -r b; echo "b=$b"; cat; echo EOF',
    );
    await until(async () => (await status(dir, id)).waitingForInput, "the task to wait for input");
    const list = await cli(dir, ["list"]);
    assert.match(list.stdout, new RegExp(`^${id}  running \\(input\\) `, "m"));
    const block = (await cli(dir, ["status", id])).stdout;
    assert.match(block, /^stdin: +a pipe$/m);
    assert.match(block, /^input: +waiting \(a process reads its stdin\)$/m);
    // After the id every word is text; one of send's own options first there is refused,
    // nothing sent (a terminal-user walk: `send ID --key esc` typed "--key esc" into vim).
    const misplaced = await cli(dir, ["send", id, "--key", "x", "ls", "-la"]);
    assert.deepEqual([misplaced.code, misplaced.stdout], [2, ""]);
    assert.equal(
      misplaced.stderr,
      `bgtask: "--key" after the id would be typed into the task as text: options go before ` +
        `the id (bgtask send --key x ${id} …); to send it as text, put -- after the id ` +
        `(bgtask send ${id} -- --key x)\n`,
    );
    const eofAfter = await cli(dir, ["send", id, "--eof"]);
    assert.equal(eofAfter.code, 2, eofAfter.stderr);
    // So are the options every verb takes after it, as the help says they may come (a
    // help audit: `--dir S` after the id was sent to the task of the other store as text).
    for (
      const first of [["--dir", "/elsewhere"], ["--dir=/elsewhere"], ["--color", "never"], ["-h"], [
        "--help",
      ]]
    ) {
      const r = await cli(dir, ["send", id, ...first, "hello"]);
      assert.deepEqual([r.code, r.stdout], [2, ""], JSON.stringify(first));
      assert.match(
        r.stderr,
        new RegExp(
          `^bgtask: "${
            first[0]
          }" after the id would be typed into the task as text: options go before the id \\(bgtask send ${
            first.join(" ")
          } ${id} …\\)`,
        ),
      );
    }
    // A -- right after the id: what follows is text, whatever it looks like.
    const sent = await cli(dir, ["send", id, "--", "--key", "x", "ls", "-la"]);
    assert.deepEqual([sent.code, sent.stdout, sent.stderr], [0, "", ""]);
    assert.equal((await cli(dir, ["send", id, "head", "-n", "5", "--timeout=3"])).stderr, "");
    // On a pipe, Enter is LF; a key only a terminal makes a signal or an end is refused.
    assert.equal((await cli(dir, ["send", "-n", id, "no newline "])).code, 0);
    const ctrlD = await cli(dir, ["send", "--key", "ctrl-d", id]);
    assert.equal(ctrlD.code, 2);
    assert.match(
      ctrlD.stderr,
      /--key ctrl-d to a task whose stdin is a pipe would be one byte, not a keystroke .*: to end its input, --eof; to stop it, bgtask kill b1/,
    );
    assert.equal((await cli(dir, ["send", "-n", id, "then", "a", "newline"])).code, 0);
    assert.equal((await cli(dir, ["send", "--key", "enter", id])).code, 0);
    const piped = await cliWithInput(dir, ["send", "--eof", id, "-"], "line 1\nline 2\n");
    assert.equal(piped.code, 0, piped.stderr);
    await cli(dir, ["wait", id]);
    assert.equal(
      await logs(dir, id),
      "a=--key x ls -la\nb=head -n 5 --timeout=3\nno newline then a newline\nline 1\nline 2\nEOF\n",
    );
    // Refusals name why: an ended task, a task without stdin, nothing to send.
    const ended = await cli(dir, ["send", id, "more"]);
    assert.deepEqual(mistakeProblems(ended), []);
    assert.match(ended.stderr, /^bgtask: cannot write to the stdin of task b1: it has ended/);
    assert.equal(ended.code, 1);
    const plain = await start(dir, "sleep 300");
    const none = await cli(dir, ["send", plain, "x"]);
    assert.match(
      none.stderr,
      /its stdin is \/dev\/null \(only a task run with --stdin pipe or --stdin pty/,
    );
    assert.equal(none.code, 1);
    const nothing = await cli(dir, ["send", plain]);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /^bgtask: nothing to send/);
    const key = await cli(dir, ["send", "--key", "ctrl-q-x", plain]);
    assert.equal(key.code, 2);
    assert.match(key.stderr, /^bgtask: unknown key "ctrl-q-x" for --key/);
    const size = await cli(dir, ["run", "--columns", "100", "echo", "hi"]);
    assert.deepEqual([size.code, size.stderr], [
      2,
      "bgtask: --columns and --rows are the size of a terminal: add --stdin pty\n",
    ]);
    const bad = await cli(dir, ["run", "--stdin", "tty", "true"]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /^bgtask: invalid value "tty" for --stdin \(expected pipe, pty or null\)/,
    );
  });
});

Deno.test("wait --until input returns once each task waits for a prompt's answer (0), or has ended (1, said)", async () => {
  await withStore(async (dir) => {
    const asks = await start(dir, "--stdin", "pipe", 'read -r x; echo "got $x"; read -r y');
    const ends = await start(dir, "--stdin", "pipe", "exit 3"); // asks nothing: its end counts
    const r = await cli(dir, ["wait", "--until", "input", asks, ends, "--json"]);
    // About input (as --match is about output): one ended without asking, whatever its code.
    assert.deepEqual([r.code, r.stderr], [
      1,
      `bgtask: ${ends} ended (failed) without waiting for input\n`,
    ]);
    const [a, e] = JSON.parse(r.stdout) as TaskInfo[];
    assert.deepEqual([a.status, a.waitingForInput, e.status], ["running", true, "failed"]);
    const fine = await start(dir, "--stdin", "pipe", "exit 0");
    const f = await cli(dir, ["wait", "--until", "input", fine]);
    assert.deepEqual([f.code, f.stderr], [
      1,
      `bgtask: ${fine} ended (completed) without waiting for input\n`,
    ]);
    const only = await cli(dir, ["wait", "--until", "input", asks]);
    assert.equal(only.code, 0, "waiting for input");
    assert.match(only.stdout, /running \(input\)/);
    assert.equal((await cli(dir, ["send", asks, "yes"])).code, 0);
    // (Once the answer is read: until then the first prompt still waits.)
    await until(async () => (await logs(dir, asks)) === "got yes\n", "the answer to be read");
    // The next prompt.
    assert.equal((await cli(dir, ["wait", "--until", "input", asks])).code, 0);
    const bad = await cli(dir, ["wait", "--until", "prompt", asks]);
    assert.deepEqual([bad.code, bad.stderr], [
      2,
      'bgtask: --until must be exit or input, got "prompt" (see bgtask wait --help)\n',
    ]);
    // A task without stdin can never ask: refused (as MCP's task_wait does), not waited out.
    const deaf = await start(dir, "sleep 300");
    const refused = await cli(dir, ["wait", "--until", "input", asks, deaf]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, new RegExp(`the stdin of ${deaf} is /dev/null, so it can never`));
    // Timed out: a task at its prompt is not among those still going.
    const quiet = await start(dir, "--stdin", "pipe", "sleep 300");
    const late = await cli(dir, ["wait", "--until", "input", "--timeout", "300ms", asks, quiet]);
    assert.equal(late.code, 124);
    assert.match(late.stderr, new RegExp(`not waiting for input yet, still running: ${quiet}\n$`));
    assert.equal((await cli(dir, ["kill", deaf, quiet])).code, 0);
    assert.equal((await cli(dir, ["send", "--eof", asks])).code, 0);
    // With --queue (or --all), a task that asked nothing and ended is no failure.
    await start(dir, "--queue", "iq", "--stdin", "pipe", "true");
    const asker = await start(dir, "--queue", "iq", "--stdin", "pipe", "read -r x");
    const q = await cli(dir, ["wait", "--until", "input", "--queue", "iq"]);
    assert.deepEqual([q.code, q.stderr], [0, ""]);
    // An id named beside the queue still counts as named.
    const named = await start(dir, "--stdin", "pipe", "true");
    assert.equal((await cli(dir, ["wait", named])).code, 0);
    const both = await cli(dir, ["wait", "--until", "input", "--queue", "iq", named]);
    assert.deepEqual([both.code, both.stderr], [
      1,
      `bgtask: ${named} ended (completed) without waiting for input\n`,
    ]);
    assert.equal((await cli(dir, ["send", "--eof", asker])).code, 0);
  });
});

Deno.test("wait off a terminal says on stderr when a task it waits for starts to wait for input (an agent's shell tool would hang without a word)", async () => {
  await withStore(async (dir) => {
    const asks = await start(dir, "--stdin", "pipe", 'read -r x; echo "got $x"');
    // (A deadline of its own: a note that never came fails the test, not hangs it.)
    const waiting = spawnCli(dir, ["wait", "--timeout", "60s", asks]);
    const reader = waiting.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let said = "";
    const note = `bgtask: note: ${asks} waits for input: bgtask send ${asks} TEXT answers it ` +
      "(the wait goes on)\n";
    while (!said.includes(note)) {
      const { value, done } = await reader.read();
      if (done) break;
      said += value;
    }
    assert.equal(said, note);
    assert.equal((await cli(dir, ["send", asks, "Ada"])).code, 0);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      said += value;
    }
    assert.equal((await waiting.status).code, 0);
    assert.equal(said, note, "once");
    assert.equal(await logs(dir, asks), "got Ada\n");
  });
});

Deno.test("wait --until input: --all leaves out tasks that cannot ask (stdin /dev/null or closed); one named whose stdin was closed is refused", async () => {
  await withStore(async (dir) => {
    const server = await start(dir, "sleep 300");
    const asks = await start(dir, "--stdin", "pipe", "read -r x; sleep 300");
    const all = await cliJson<TaskInfo[]>(dir, ["wait", "--until", "input", "--all"]);
    assert.deepEqual(all.map((t) => [t.id, t.waitingForInput]), [[asks, true]]);
    assert.equal((await cli(dir, ["send", "--eof", asks, "x"])).code, 0);
    const closed = await cli(dir, ["wait", "--until", "input", asks]);
    assert.deepEqual([closed.code, closed.stderr], [
      2,
      `bgtask: --until input: the stdin of ${asks} was closed (send --eof), so it can never ` +
      "wait for input again (bgtask wait without --until waits for its end)\n",
    ]);
    const none = await cli(dir, ["wait", "--until", "input", "--all", "--json"]);
    assert.deepEqual([none.code, JSON.parse(none.stdout)], [0, []]);
    assert.match(none.stderr, /^bgtask: note: none of the 2 tasks can wait for input/);
    assert.equal((await cli(dir, ["kill", server, asks])).code, 0);
    // A key that only a terminal makes a keystroke, to an ended pipe task: said to have ended.
    const ended = await start(dir, "--stdin", "pipe", "--wait", "true");
    const key = await cli(dir, ["send", "--key", "ctrl-c", ended]);
    assert.deepEqual([key.code, key.stderr], [
      1,
      `bgtask: cannot write to the stdin of task ${ended}: it has ended (completed)\n`,
    ]);
  });
});

Deno.test("send - that times out counts what reached the task over every piece of its stdin", async () => {
  await withStore(async (dir) => {
    // It never reads: its stdin's pipe takes 64 KiB, then a write waits until --timeout.
    const id = await start(dir, "--stdin", "pipe", "sleep 300");
    const r = await cliWithInput(dir, ["send", "--timeout", "300ms", id, "-"], "x".repeat(70_000));
    assert.equal(r.code, 124, r.stderr);
    const m =
      /; (\d+) of the (\d+) bytes read so far from bgtask's stdin were written, the rest was not, and no more of it was read$/m
        .exec(r.stderr);
    assert.ok(m, r.stderr);
    assert.equal(Number(m[1]), 65_536);
    assert.ok(Number(m[2]) > 65_536 && Number(m[2]) <= 70_000, m[2]);
    assert.equal((await cli(dir, ["kill", id])).code, 0);
  });
});

Deno.test("send - whose first piece times out says what was read of bgtask's stdin, not the piece as if it were the input", async () => {
  await withStore(async (dir) => {
    const id = await start(dir, "--stdin", "pipe", "sleep 300");
    // 4 KiB already in its pipe: the first piece of what follows fits only in part.
    assert.equal((await cli(dir, ["send", id, "y".repeat(4095)])).code, 0);
    const child = new Deno.Command(Deno.execPath(), {
      args: cliArgs(dir, ["send", "--timeout", "300ms", id, "-"]),
      clearEnv: true,
      env: childEnv(),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // 200,000 bytes, more than bgtask reads before it gives up (the rest: a broken pipe).
    const w = child.stdin.getWriter();
    const feeding = w.write(new Uint8Array(200_000).fill(120)).then(() => w.close()).catch(
      () => {},
    );
    const out = await child.output();
    await feeding;
    const stderr = decoder.decode(out.stderr);
    assert.equal(out.code, 124, stderr);
    const m =
      /; (\d+) of the (\d+) bytes read so far from bgtask's stdin were written, the rest was not, and no more of it was read$/m
        .exec(stderr);
    assert.ok(m, stderr);
    assert.ok(Number(m[1]) < Number(m[2]) && Number(m[2]) < 200_000, stderr);
    assert.equal((await cli(dir, ["kill", id])).code, 0);
  });
});

Deno.test("send interrupted (Ctrl-C) while the task does not read says how much reached it, and ends by SIGINT (130)", async () => {
  await withStore(async (dir, scratch) => {
    // It reads 1,000 bytes (one read), then nothing: its pipe fills, and the send waits for room.
    const got = `${scratch}/got`;
    const id = await start(
      dir,
      "--stdin",
      "pipe",
      `dd bs=1000 count=1 of='${got}' 2>/dev/null; sleep 300`,
    );
    const send = new Deno.Command(Deno.execPath(), {
      args: cliArgs(dir, ["send", "--timeout", "1m", "--eof", id, "-"]),
      clearEnv: true,
      env: childEnv(),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      detached: true, // a group of its own, which the Ctrl-C reaches whole
    }).spawn();
    const w = send.stdin.getWriter();
    const writing = w.write(new Uint8Array(200_000).fill(120)).catch(() => {});
    // The send has begun writing (its signals heard from before its first write).
    await until(() => exists(got) && Deno.statSync(got).size === 1000, "the task's read", 20_000);
    Deno.kill(-send.pid, "SIGINT");
    const out = await send.output();
    await writing;
    const stderr = decoder.decode(out.stderr);
    assert.equal(out.signal, "SIGINT", "ended by the signal once it had said so");
    assert.equal(out.code, 130, stderr);
    const m = new RegExp(
      `^bgtask: interrupted \\(SIGINT\\): (\\d+) bytes had been written to the stdin of ${id}` +
        `(?:, and part of the \\d+ being written may have reached it)?; its end of input was not sent\n$`,
    ).exec(stderr);
    assert.ok(m, stderr);
    // No more than the task took and its pipe holds.
    assert.ok(Number(m[1]) <= 1000 + 65_536, m[1]);
    // Not closed: more can be sent.
    assert.equal((await status(dir, id)).stdinClosed, false);
    assert.equal((await cli(dir, ["kill", id])).code, 0);
  });
});

Deno.test("run --stdin pty --columns --rows; send types on the terminal; --key ctrl-c interrupts", async () => {
  await withStore(async (dir) => {
    const id = await start(
      dir,
      "--stdin",
      "pty",
      "--columns",
      "100",
      "--rows",
      "30",
      'stty size; read -r x; echo "x=$x"; echo sleeping; sleep 30',
    );
    await until(async () => (await status(dir, id)).waitingForInput, "the prompt");
    assert.match((await cli(dir, ["status", id])).stdout, /^stdin: +a terminal \(pty\)$/m);
    assert.equal((await cli(dir, ["send", "-n", id, "typed"])).code, 0);
    assert.equal((await cli(dir, ["send", "--key", "enter", id])).code, 0);
    await until(async () => (await logs(dir, id)).includes("sleeping"), "the sleep");
    assert.equal((await cli(dir, ["send", "--key", "ctrl-c", id])).code, 0);
    const waited = await cli(dir, ["wait", id]);
    assert.equal(waited.code, 130);
    assert.equal(await logs(dir, id), "30 100\r\ntyped\r\nx=typed\r\nsleeping\r\n^C");
  });
});

Deno.test("send and attach have help with usage and examples; attach refuses without a terminal", async () => {
  await withStore(async (dir) => {
    for (const verb of ["send", "attach"]) {
      const r = await cli(dir, [verb, "--help"]);
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^Usage: bgtask ${verb}\\b`));
      assert.match(r.stdout, /\nExamples:\n/);
      assert.deepEqual(r.stdout.split("\n").filter((l) => [...l].length > 80), []);
    }
    const main = await cli(dir, ["--help"]);
    assert.match(main.stdout, /^ {2}send ID TEXT… /m);
    assert.match(main.stdout, /^ {2}attach ID /m);
    const id = await start(dir, "--stdin", "pty", "sleep 300");
    const r = await cli(dir, ["attach", id]); // stdin: null
    assert.deepEqual(mistakeProblems(r), []);
    assert.match(r.stderr, /attach needs a terminal, and its stdin is not one/);
    assert.equal(r.code, 1);
    // Typed at a terminal, its stdout elsewhere: keys would go, nothing would show.
    const attachCmd = shellWords([Deno.execPath(), ...cliArgs(dir, ["attach", id])]);
    const blind = await new Deno.Command("script", {
      args: ["-q", "-e", "-c", `${attachCmd} > /dev/null`, "/dev/null"],
      stdin: "null",
      stdout: "piped",
      signal: AbortSignal.timeout(20_000), // (attached blind, it would wait for keys)
    }).output();
    const said = new TextDecoder().decode(blind.stdout);
    assert.equal(blind.code, 1, said);
    assert.match(
      said,
      /attach needs a terminal, and its stdout is not one \(the task's screen would not show; what it prints is kept whole: bgtask logs -f b1 follows it\)/,
    );
    const pipe = await start(dir, "--stdin", "pipe", "sleep 300");
    const p = await cli(dir, ["attach", pipe]);
    assert.match(p.stderr, /it has no terminal \(its stdin is a pipe: bgtask send writes to it\)/);
    // A terminal's end of input is a Ctrl-D typed, which the program may take
    // for something else: it still takes keys (Ctrl-C included), and attach.
    const eof = await start(dir, "--stdin", "pty", "sleep 300");
    assert.equal((await cli(dir, ["send", "--eof", eof])).code, 0);
    const c = await cli(dir, ["attach", eof]);
    assert.equal(c.code, 1);
    assert.match(c.stderr, /attach needs a terminal, and its stdin is not one/);
    assert.equal((await cli(dir, ["send", "--key", "ctrl-c", eof])).code, 0);
    assert.equal((await cli(dir, ["wait", eof])).code, 130, "the Ctrl-C ended it");
    // Ended, or not started yet: what to do instead.
    const ended = await cli(dir, ["attach", eof]);
    assert.match(ended.stderr, /it has ended \(failed\); bgtask logs b3 shows what it printed/);
    assert.equal((await cli(dir, ["queue", "set", "q", "--parallel", "1"])).code, 0);
    assert.equal((await cli(dir, ["queue", "pause", "q"])).code, 0);
    const queued = await start(dir, "--queue", "q", "--stdin", "pty", "cat");
    const q = await cli(dir, ["attach", queued]);
    assert.match(
      q.stderr,
      /it has not started yet \(it is queued\); bgtask wait b4 --until input waits until it runs/,
    );
  });
});

// ---- attach, in tmux

/** Whether tmux can be used; installs it with apt-get when it is missing and we may. */
async function tmuxReady(): Promise<string | undefined> {
  const has = async () => {
    try {
      return (await new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" })
        .output()).success;
    } catch {
      return false;
    }
  };
  if (await has()) return undefined;
  if (Deno.uid() !== 0) return "tmux is missing, and installing it needs root";
  try {
    const install = () =>
      new Deno.Command("apt-get", {
        args: ["install", "-y", "-qq", "tmux"],
        env: { DEBIAN_FRONTEND: "noninteractive" },
        stdout: "null",
        stderr: "null",
      }).output();
    if (!(await install()).success) {
      await new Deno.Command("apt-get", { args: ["update", "-qq"], stdout: "null", stderr: "null" })
        .output();
      await install();
    }
  } catch {
    return "tmux is missing and apt-get could not be run";
  }
  return (await has()) ? undefined : "tmux is missing and apt-get could not install it";
}

const tmuxMissing = await tmuxReady();
if (tmuxMissing) console.log(`skipping the attach tests: ${tmuxMissing}`);

/** A private tmux server (its own socket), for one test. */
class Tmux {
  readonly socket = `bgtask-test-${crypto.randomUUID().slice(0, 8)}`;

  async run(...args: string[]): Promise<string> {
    const out = await new Deno.Command("tmux", {
      args: ["-L", this.socket, "-f", "/dev/null", ...args],
      clearEnv: true,
      env: childEnv(),
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(`tmux ${args[0]}: ${decoder.decode(out.stderr)}`);
    return decoder.decode(out.stdout);
  }

  /** The pane's text, lines joined. */
  screen(): Promise<string> {
    return this.run("capture-pane", "-p", "-t", "t");
  }

  async untilScreen(re: RegExp, what: string): Promise<string> {
    let last = "";
    try {
      await until(async () => re.test(last = await this.screen()), what, 15_000);
    } catch (e) {
      throw new Error(`${(e as Error).message}; the screen:\n${last}`);
    }
    return last;
  }

  async close(): Promise<void> {
    await this.run("kill-server").catch(() => {});
    // tmux leaves its socket file behind (in /tmp/tmux-UID: the server's
    // environment, childEnv, names no TMUX_TMPDIR).
    await Deno.remove(`/tmp/tmux-${Deno.uid()}/${this.socket}`).catch(() => {});
  }
}

function shellWords(words: string[]): string {
  return words.map((w) => `'${w.replaceAll("'", `'\\''`)}'`).join(" ");
}

/**
 * A task on a terminal running `command`, seen waiting for input (`what`),
 * and a private tmux session, 100 × 30, whose pane stays on exit, to attach
 * to it from (`attachCmd`, the command line that does); closed after `fn`.
 */
async function withAttach(
  dir: string,
  command: string,
  what: string,
  fn: (s: { id: string; tmux: Tmux; attachCmd: string }) => Promise<void>,
): Promise<void> {
  const id = await start(dir, "--stdin", "pty", command);
  await until(async () => (await status(dir, id)).waitingForInput, what);
  const tmux = new Tmux();
  const attachCmd = shellWords([Deno.execPath(), ...cliArgs(dir, ["attach", id])]);
  try {
    await tmux.run("new-session", "-d", "-s", "t", "-x", "100", "-y", "30");
    await tmux.run("set-option", "-t", "t", "remain-on-exit", "on");
    await fn({ id, tmux, attachCmd });
  } finally {
    await tmux.close();
  }
}

Deno.test({
  name:
    "attach (in tmux): keystrokes reach the task, output is live, the size follows the window, Ctrl-] detaches",
  ignore: tmuxMissing !== undefined,
  fn: () =>
    withStore(async (dir) => {
      // (bash drops PS1 from the environment of a shell that is not interactive.)
      await withAttach(
        dir,
        "PS1='task$ ' bash --norc --noprofile -i",
        "the shell's prompt",
        async ({ id, tmux, attachCmd }) => {
          await tmux.run("respawn-pane", "-k", "-t", "t", `${attachCmd}; echo "attach exit $?"`);
          await tmux.untilScreen(
            /\[attached to b1 \(PS1='task\$ ' bash [^)]*\); Ctrl-\]/,
            "attach",
          );
          // The window's size, typed and answered on the task's terminal.
          await tmux.run("send-keys", "-t", "t", "stty size", "Enter");
          await tmux.untilScreen(/^30 100$/m, "stty size in a 100x30 window");
          // The size follows the window.
          await tmux.run("resize-window", "-t", "t", "-x", "120", "-y", "40");
          // (attach hears SIGWINCH and resizes the task's terminal: asked until it has)
          for (let i = 0; i < 20 && !/^40 120$/m.test(await tmux.screen()); i++) {
            await tmux.run("send-keys", "-t", "t", "stty size", "Enter");
            await new Promise((r) => setTimeout(r, 500));
          }
          await tmux.untilScreen(/^40 120$/m, "stty size after the resize");
          // Ctrl-C goes to the task's foreground program, not to attach.
          await tmux.run("send-keys", "-t", "t", "sleep 30; echo after-sleep", "Enter");
          const { pid } = await status(dir, id);
          await until(() => descendantWith(pid!, "sleep"), "the sleep to run on the terminal");
          await tmux.run("send-keys", "-t", "t", "C-c");
          await tmux.untilScreen(/\^C\s*\ntask\$\s*$/m, "the interrupted sleep and a new prompt");
          assert.ok(!(await tmux.screen()).includes("\nafter-sleep"));
          // Output that comes by itself shows live.
          await tmux.run("send-keys", "-t", "t", "(sleep 0.5; echo later-output) &", "Enter");
          await tmux.untilScreen(/later-output$/m, "live output");
          // Ctrl-] leaves it running.
          await tmux.run("send-keys", "-t", "t", "C-]");
          await tmux.untilScreen(/\[detached from b1: it runs on;[^]*attach exit 0/, "the detach");
          assert.equal((await status(dir, id)).status, "running");
          const log = await logs(dir, id);
          assert.match(log, /\r30 100\r\n/);
          assert.match(log, /\r40 120\r\n/);
          // Attach again: the last screenful comes back; exit ends the task and attach with it.
          await tmux.run("respawn-pane", "-k", "-t", "t", `${attachCmd}; echo "attach exit $?"`);
          await tmux.untilScreen(
            /\[attached to b1[^]*later-output/,
            "the second attach, with the recent output",
          );
          await tmux.run("send-keys", "-t", "t", "exit 7", "Enter");
          await tmux.untilScreen(
            /\[b1 failed: exited with code 7\][^]*attach exit 7/,
            "the task's end",
          );
        },
      );
    }),
});

/** A process under `root` (at any depth) whose command line has `word`, if any. */
function descendantWith(root: number, word: string): number | undefined {
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    try {
      const found = childWith(pid, word);
      if (found !== undefined) return found;
      const kids = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim();
      if (kids) queue.push(...kids.split(/\s+/).map(Number));
    } catch {
      // (gone meanwhile)
    }
  }
  return undefined;
}

/** The pid of the child of `parent` whose command line has `word`. */
function childWith(parent: number, word: string): number | undefined {
  const kids = Deno.readTextFileSync(`/proc/${parent}/task/${parent}/children`).trim().split(/\s+/);
  return kids.map(Number).find((pid) =>
    pid > 0 && Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").includes(word)
  );
}

Deno.test({
  name:
    "attach (in tmux): to a task that has printed nothing yet; a SIGTERM gives the terminal back as it was",
  ignore: tmuxMissing !== undefined,
  fn: () =>
    withStore(async (dir, scratch) => {
      await withAttach(dir, "cat", "cat to wait for input", async ({ id, tmux, attachCmd }) => {
        const [before, after] = [`${scratch}/before`, `${scratch}/after`];
        await tmux.run(
          "respawn-pane",
          "-k",
          "-t",
          "t",
          `stty -g > '${before}'; ${attachCmd}; echo "attach exit $?"; stty -g > '${after}'`,
        );
        await tmux.untilScreen(/\[attached to b1 \(cat\); Ctrl-\]/, "attach");
        await tmux.run("send-keys", "-t", "t", "hello", "Enter");
        await tmux.untilScreen(/^hello\s*\nhello\s*$/m, "the line, echoed, and cat's copy");
        // The program switches the terminal to its alternate screen, application keys and
        // bracketed paste (as less or vim do): attach gives it back without them.
        const modes = () =>
          tmux.run(
            "display-message",
            "-p",
            "-t",
            "t",
            "#{alternate_on}#{keypad_cursor_flag}#{keypad_flag}",
          );
        assert.equal((await cli(dir, ["send", id, "\x1b[?1049h\x1b[?1h\x1b=\x1b[?2004h"])).code, 0);
        await until(async () => (await modes()).trim() === "111", "the task's modes");
        const pane = Number((await tmux.run("list-panes", "-t", "t", "-F", "#{pane_pid}")).trim());
        const attach = await until(() => childWith(pane, "attach"), "attach's pid");
        Deno.kill(attach, "SIGTERM");
        await tmux.untilScreen(
          /\[detached from b1 by SIGTERM: it runs on;[^]*attach exit 143/,
          "attach to leave on SIGTERM",
        );
        await until(() => {
          try {
            return Deno.statSync(after).size > 0;
          } catch {
            return false; // not written yet
          }
        }, "the terminal's settings afterwards");
        assert.equal(Deno.readTextFileSync(after), Deno.readTextFileSync(before), "not left raw");
        assert.equal((await modes()).trim(), "000", "the alternate screen and keypad modes undone");
        assert.equal((await status(dir, id)).status, "running");
      });
    }),
});

Deno.test("attach leaves the alternate screen on detach only when the session's output entered it", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const screen = new AltScreen();
  screen.feed(enc("plain \x1b[31mred\x1b[0m output\r\n"));
  assert.equal(screen.leave(), "");
  // (a sequence cut between two writes)
  screen.feed(enc("vim starts\x1b[?10"));
  screen.feed(enc("49h\x1b[2J"));
  assert.equal(screen.leave(), "\x1b[?1049l");
  screen.feed(enc("\x1b[?1049l"));
  assert.equal(screen.leave(), "");
  screen.feed(enc("\x1b[?1;47h"));
  assert.equal(screen.leave(), "\x1b[?47l");
});

Deno.test({
  name:
    "attach (in tmux): detached after a full-screen program ran in the pane, its notes come below the session, not over it",
  ignore: tmuxMissing !== undefined,
  fn: () =>
    withStore(async (dir) => {
      await withAttach(dir, "cat", "cat to wait for input", async ({ tmux, attachCmd }) => {
        // A full-screen program came and went (as vi -c q): the terminal saved
        // the cursor on the second line when it entered its alternate screen.
        await tmux.run(
          "respawn-pane",
          "-k",
          "-t",
          "t",
          `echo before-vi; printf '\\033[?1049h\\033[?1049l'; seq 3; ${attachCmd}; echo "attach exit $?"; sleep 60`,
        );
        await tmux.untilScreen(/\[attached to b1 \(cat\); Ctrl-\]/, "attach");
        await tmux.run("send-keys", "-t", "t", "line1", "Enter");
        await tmux.untilScreen(/^line1\s*\nline1\s*$/m, "the line, echoed, and cat's copy");
        await tmux.run("send-keys", "-t", "t", "C-]");
        const screen = await tmux.untilScreen(/attach exit 0/, "the detach");
        const lines = screen.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");
        assert.deepEqual(lines.slice(0, 5), ["before-vi", "1", "2", "3", lines[4]], screen);
        assert.match(lines[4], /^\[attached to b1/);
        assert.deepEqual(lines.slice(5, 7), ["line1", "line1"], screen);
        assert.match(lines[7], /^\[detached from b1: it runs on;/, screen);
        assert.equal(lines.at(-1), "attach exit 0", screen);
      });
    }),
});

Deno.test({
  name:
    "attach (in tmux): stopped from outside (SIGTSTP) and brought back with fg, the terminal is raw again",
  ignore: tmuxMissing !== undefined,
  fn: () =>
    withStore(async (dir) => {
      await withAttach(dir, "cat", "cat to wait for input", async ({ id, tmux, attachCmd }) => {
        // A shell with job control in the pane, as at a terminal.
        await tmux.run(
          "respawn-pane",
          "-k",
          "-t",
          "t",
          "env PS1='sh$ ' bash --norc --noprofile -i",
        );
        await tmux.untilScreen(/^sh\$\s*$/m, "the pane's shell");
        await tmux.run("send-keys", "-t", "t", attachCmd, "Enter");
        await tmux.untilScreen(/\[attached to b1 \(cat\); Ctrl-\]/, "attach");
        const tty = (await tmux.run("display-message", "-p", "-t", "t", "#{pane_tty}")).trim();
        const raw = async () => {
          const out = await new Deno.Command("stty", { args: ["-a", "-F", tty] }).output();
          const flags = new TextDecoder().decode(out.stdout).split(/\s+/);
          return flags.includes("-icanon") && flags.includes("-echo");
        };
        await until(raw, "raw mode");
        const pane = Number((await tmux.run("list-panes", "-t", "t", "-F", "#{pane_pid}")).trim());
        const attach = await until(() => descendantWith(pane, "attach"), "attach's pid");
        Deno.kill(attach, "SIGTSTP");
        await tmux.untilScreen(/Stopped[^]*sh\$\s*$/, "the shell's prompt after the stop");
        await tmux.run("send-keys", "-t", "t", "fg", "Enter");
        await until(raw, "raw mode again after fg");
        // Keys reach cat as they are typed, once (no echo of the cooked line); Ctrl-] detaches.
        await tmux.run("send-keys", "-t", "t", "again", "Enter");
        await tmux.untilScreen(
          /^again\s*\nagain\s*$/m,
          "the line, echoed by the task's terminal, and cat's copy",
        );
        await tmux.run("send-keys", "-t", "t", "C-]");
        await tmux.untilScreen(/\[detached from b1: it runs on;/, "the detach");
        assert.equal((await status(dir, id)).status, "running");
      });
    }),
});
