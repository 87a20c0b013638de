/**
 * Interactive tasks through MCP (issue 13): task_start with stdin, the
 * task_write_stdin tool, and task_wait until "input", through the SDK's own
 * client on real tasks.
 */

import { assert, assertEquals, assertMatch } from "./_helpers/assert.ts";
import { nextCursor, taskId, withMcp } from "./_helpers/mcp.ts";

Deno.test("task_start with stdin pipe returns at the prompt; task_write_stdin answers a REPL and returns its reply", async () => {
  await withMcp(async (mcp, tasks, dir) => {
    const start = await mcp.call("task_start", { command: "python3 -q -i", stdin: "pipe" });
    assert(!start.isError, start.text);
    assertMatch(start.text, /^b1 running for \S+, waiting for input — python3 -q -i\n/);
    assertMatch(start.text, /task_write_stdin \{"id": "b1"/);
    const reply = await mcp.call("task_write_stdin", { id: "b1", data: "6 * 7\n" });
    assert(!reply.isError, reply.text);
    assertMatch(
      reply.text,
      /^Wrote 6 bytes to b1's stdin\.\nb1 running for \S+, waiting for input/,
    );
    assertMatch(
      reply.text,
      /\n42\n>>> \n>>>[0-9a-f]+ end of output \(its last line has no line end\)\nb1 waits for input again \(if it is done, task_write_stdin \{"id": "b1", "eof": true\} ends its input\)\.$/,
    );
    // A reply that takes longer than wait_s: task_wait until input finds the next prompt.
    // (It works until the test lets it: a sleep of 1 s was the whole margin for the
    // reply's look at the task, on a loaded machine.)
    const gate = `${dir}/go`;
    const slow = await mcp.call("task_write_stdin", {
      id: "b1",
      data: "import os, time; _ = [time.sleep(0.02) for i in " +
        `iter(lambda: os.path.exists('${gate}'), True)]; print('slept')\n`,
      wait_s: 0,
    });
    assertMatch(slow.text, /is still working: task_wait \{"ids": \["b1"\], "until": "input"\}/);
    await Deno.writeTextFile(gate, "");
    const waited = await mcp.call("task_wait", { ids: ["b1"], until: "input" });
    assertMatch(waited.text, /^Done after \S+: b1 waited for input\./);
    assertMatch(waited.text, /it waits for input \(task_write_stdin answers\)/);
    // (python -i on a pipe prompts on stderr, prints on stdout)
    assertMatch(waited.text, /\n>>> slept\n>>> \n/);
    const status = await mcp.call("task_status", { id: "b1" });
    assertMatch(status.text, /\nstdin: a pipe \(it waits for input: task_write_stdin answers\)\n/);
    const list = await mcp.call("task_list", {});
    assertMatch(
      list.text,
      /\nb1 running for \S+, waiting for input \(started by this session\) — /,
    );
    const eof = await mcp.call("task_write_stdin", { id: "b1", eof: true });
    assertMatch(eof.text, /^Ended its input\.\nb1 completed \(exit code 0\)/);
    assertEquals((await tasks.getStatus("b1"))?.status, "completed");
  });
});

Deno.test("task_write_stdin with eof: what it suggests next is waiting for the end, not for another prompt", async () => {
  await withMcp(async (mcp, tasks) => {
    await mcp.call("task_start", {
      command: "cat >/dev/null; echo read all; sleep 30",
      stdin: "pipe",
      wait_s: 0,
    });
    const eof = await mcp.call("task_write_stdin", {
      id: "b1",
      data: "x\n",
      eof: true,
      wait_s: 0.5,
    });
    assertMatch(eof.text, /^Wrote 2 bytes to b1's stdin, then ended its input\./);
    assertMatch(
      eof.text,
      /\nb1 is still working: task_wait \{"ids": \["b1"\]\} waits for it to end\.$/,
    );
    await tasks.kill("b1", { graceMs: 0 });
  });
});

Deno.test("task_write_stdin to a pipe: control keys are named as mere bytes; a line left without its end is said so, not taken for a new prompt", async () => {
  await withMcp(async (mcp, tasks) => {
    const py = await mcp.call("task_start", {
      command: 'while read -r line; do echo "got $line"; done',
      stdin: "pipe",
    });
    const id = taskId(py.text);
    const key = await mcp.call("task_write_stdin", { id, data: "\u0003" });
    assertMatch(
      key.text,
      /\nNote: Ctrl-C went to the program as a byte: its stdin is a pipe, not a terminal, so no signal and no end of input comes of it \(task_kill ends the task; eof: true ends its input\)\.\n/,
    );
    // The line it began ("\u0003yes"): the program waits for its end.
    const open = await mcp.call("task_write_stdin", { id, data: "yes" });
    assertMatch(
      open.text,
      new RegExp(`\n${id} waits for input again: what you wrote ends without a line end, `),
    );
    const ended = await mcp.call("task_write_stdin", { id, data: "\n" });
    assertMatch(ended.text, /\ngot \\x03yes\n/); // (shown escaped)
    assert(!ended.text.includes("Note:"), ended.text);
    assertMatch(ended.text, new RegExp(`\n${id} waits for input again \\(if it is done`));
    // Its input closed, it can never ask again: task_wait until "input" says so at once.
    await mcp.call("task_write_stdin", { id, eof: true, wait_s: 0 });
    const sleeper = await mcp.call("task_start", {
      command: "cat >/dev/null; sleep 30",
      stdin: "pipe",
      wait_s: 0,
    });
    const sid = taskId(sleeper.text);
    await mcp.call("task_write_stdin", { id: sid, eof: true, wait_s: 0 });
    const refused = await mcp.call("task_wait", { ids: [sid], until: "input" });
    assert(refused.isError, refused.text);
    assertMatch(
      refused.text,
      new RegExp(`${sid}'s stdin was closed .*: it can never wait for input again`),
    );
    await tasks.kill(sid, { graceMs: 0 });
  });
});

Deno.test("task_write_stdin to a terminal: a one-key answer a program took (read -n1) is not told to end its line with Enter, which would answer its next question; nor is a Ctrl-C", async () => {
  await withMcp(async (mcp) => {
    // Found by an agent-client walk: after "y", the reply said to write "\\r"
    // (Enter), which would have answered "Delete all files? [y/N]" with its default.
    const started = await mcp.call("task_start", {
      command: "read -n1 -p 'Continue? [y/n] ' a; echo; echo \"got $a\"; " +
        "read -n1 -p 'Delete all files? [y/N] ' b; echo; echo \"got2 $b\"; " +
        "read -r -p 'name? ' c; echo \"hi $c\"",
      stdin: "pty",
    });
    const id = taskId(started.text);
    const yes = await mcp.call("task_write_stdin", { id, data: "y" });
    assertMatch(yes.text, /got y/);
    assert(!yes.text.includes("without a line end"), yes.text);
    assertMatch(yes.text, new RegExp(`\n${id} waits for input again\\.`));
    const no = await mcp.call("task_write_stdin", { id, data: "n" });
    assertMatch(no.text, /got2 n/);
    // A line-reading prompt given text without its end: that one is told.
    const part = await mcp.call("task_write_stdin", { id, data: "Ann" });
    assertMatch(
      part.text,
      new RegExp(
        `\n${id} waits for input again: what you wrote ends without a line end\\. If it reads a line `,
      ),
    );
    // A Ctrl-C begins no line: no Enter is asked for (the task ends by it).
    const ctrlC = await mcp.call("task_write_stdin", { id, data: "\u0003", wait_s: 2 });
    assert(!ctrlC.text.includes("without a line end"), ctrlC.text);
  });
});

Deno.test("task_wait for the end of a task at a prompt: the timeout says it waits for input and how to answer it", async () => {
  await withMcp(async (mcp) => {
    const started = await mcp.call("task_start", {
      command: 'read -r -p "name? " n; echo "hi $n"',
      stdin: "pipe",
    });
    const id = taskId(started.text);
    const wait = await mcp.call("task_wait", { ids: [id], timeout_s: 1 });
    assertMatch(
      wait.text,
      new RegExp(
        `Waiting for input: ${id} — it does not go on until answered: task_write_stdin ` +
          `\\{"id": "${id}", "data": "…"\\}`,
      ),
    );
    await mcp.call("task_write_stdin", { id, data: "Ann\n", eof: true });
    const done = await mcp.call("task_wait", { ids: [id], timeout_s: 10 });
    assert(!done.text.includes("Waiting for input"), done.text);
  });
});

Deno.test("task_start with stdin pty: a password prompt answered without echo; refusals are tool errors", async () => {
  await withMcp(async (mcp) => {
    const start = await mcp.call("task_start", {
      command: "read -rs -p 'password: ' p; echo; echo \"${#p} chars\"",
      stdin: "pty",
      columns: 100,
      rows: 30,
    });
    assertMatch(start.text, /waiting for input[^]*\npassword: \n/);
    // On a terminal, Enter is "\r": the hint says so.
    assertMatch(start.text, /task_write_stdin \{"id": "b1", "data": "…\\r"\} to answer/);
    const reply = await mcp.call("task_write_stdin", { id: "b1", data: "hunter2\r" });
    // A terminal ends its lines with CRLF, shown as plain line ends; no echo of the password.
    assertMatch(reply.text, /\nb1 completed \(exit code 0\)[^]*\n\n7 chars\n>>>/);
    assert(!reply.text.includes("hunter2"));
    const ended = await mcp.call("task_write_stdin", { id: "b1", data: "x" });
    assertEquals(ended.isError, true);
    assertMatch(ended.text, /^Cannot write to the stdin of task b1: it has ended \(completed\)/);
    await mcp.call("task_start", { command: "sleep 300", wait_s: 0 });
    const none = await mcp.call("task_write_stdin", { id: "b2", data: "x" });
    assertMatch(none.text, /its stdin is \/dev\/null/);
    const empty = await mcp.call("task_write_stdin", { id: "b2" });
    assertMatch(empty.text, /give data to write, or eof: true/);
    await mcp.call("task_kill", { id: "b2", grace_s: 0 });
    const bad = await mcp.call("task_start", { command: "true", stdin: "tty" });
    assertMatch(bad.text, /stdin must be one of "null", "pipe", "pty"/);
  });
});

Deno.test("task_write_stdin to a terminal notes a line over 4,095 bytes (line mode drops the rest); a pipe, or a line of 4,095, gets no note; Escape is named", async () => {
  // From a user pass: the terminal cut a 5,000-byte line to 4,095 silently.
  await withMcp(async (mcp) => {
    const command = 'while read -r line; do echo "got ${#line}"; done';
    const pty = await mcp.call("task_start", { command, stdin: "pty" });
    const id = taskId(pty.text);
    const long = await mcp.call("task_write_stdin", { id, data: "x".repeat(5000) + "\r" });
    assertMatch(
      long.text,
      /^Wrote 5001 bytes to b\d+'s stdin\.\nNote: a line of it is 5,000 bytes, and a terminal in line mode keeps 4,095 bytes of a line \(the rest is dropped, unless the program reads keys one by one\): send shorter lines, or put the data in a file and send its path\.\n/,
    );
    assertMatch(long.text, /\ngot 4095\n/); // (what the terminal kept)
    const fits = await mcp.call("task_write_stdin", { id, data: "y".repeat(4095) + "\r" });
    assert(!fits.text.includes("Note:"), fits.text);
    assertMatch(fits.text, /\ngot 4095\n/);
    const pipe = await mcp.call("task_start", { command, stdin: "pipe" });
    const piped = await mcp.call("task_write_stdin", {
      id: taskId(pipe.text),
      data: "x".repeat(5000) + "\n",
    });
    assert(!piped.text.includes("Note:"), piped.text);
    assertMatch(piped.text, /\ngot 5000\n/);
    const { tools } = await mcp.client.listTools();
    const write = tools.find((t) => t.name === "task_write_stdin")!;
    assertMatch(write.description!, /"\\u001b" Escape/);
  });
});

Deno.test("task_write_stdin to a program whose prompt is not detected suggests waiting for the prompt's text from the reply's last line, which finds the prompt", async () => {
  // From a user pass: gdb at "(gdb) " is not seen waiting, and the answer's only advice,
  // task_wait until "input", never returned. This prompt waits in a select on its input and a
  // socket pair of its own, as asyncio's loop does: not taken for a wait for input.
  await withMcp(async (mcp) => {
    const script = "import select, socket, sys\n" +
      "r, w = socket.socketpair()\n" +
      "while True:\n" +
      "    sys.stdout.write('(dbg) '); sys.stdout.flush()\n" +
      "    select.select([0, r], [], [])\n" +
      "    line = sys.stdin.readline()\n" +
      "    if not line: break\n" +
      "    print('ran ' + line.strip())\n";
    const start = await mcp.call("task_start", {
      command: `python3 -u -c "${script.replaceAll('"', '\\"')}"`,
      stdin: "pipe",
      wait_s: 0,
    });
    const id = taskId(start.text);
    await mcp.call("task_wait", { ids: [id], pattern: "^\\(dbg\\) $", timeout_s: 20 });
    const reply = await mcp.call("task_write_stdin", { id, data: "step\n", wait_s: 1 });
    assertMatch(reply.text, /\nran step\n\(dbg\) \n/);
    // (The start of the reply's last line, the prompt: 6 bytes before its end.)
    const cursor = nextCursor(reply.text) - 6;
    assertMatch(
      reply.text,
      new RegExp(
        `\\n${id} is still working: task_wait \\{"ids": \\["${id}"\\], "until": "input"\\} waits ` +
          "for its next prompt; for a program whose prompt is not detected \\(that wait would " +
          `not end\\), task_wait \\{"ids": \\["${id}"\\], "pattern": "…", "cursor": ${cursor}\\} ` +
          "waits for the prompt's text, from the reply's last line on\\.$",
      ),
    );
    // The advice, followed: the prompt already shown is found (the wait ends).
    const waited = await mcp.call("task_wait", {
      ids: [id],
      pattern: "^\\(dbg\\) $",
      cursor,
      timeout_s: 20,
    });
    assertMatch(waited.text, /^Done after \S+: b\d+ printed a line matching/);
    await mcp.call("task_kill", { id });
  });
});

Deno.test("task_write_stdin to a program that does not read: a tool error naming what to do, within wait_s", async () => {
  await withMcp(async (mcp) => {
    await mcp.call("task_start", { command: "sleep 300", stdin: "pipe", wait_s: 0 });
    const r = await mcp.call("task_write_stdin", {
      id: "b1",
      data: "x".repeat(200_000),
      wait_s: 1,
    });
    assertEquals(r.isError, true);
    assertMatch(
      r.text,
      // It gave up after wait_s (1000 ms), not the library's default 10 s.
      /^Cannot write to the stdin of task b1: it did not read its input for 1000 ms \(its buffer is full\); 65536 of 200000 bytes were written, the rest was not\. The program is not reading its input now: task_read shows what it printed/,
    );
    await mcp.call("task_kill", { id: "b1", grace_s: 0 });
  });
});
