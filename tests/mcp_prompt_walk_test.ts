/**
 * What an agent-client walk through interactive tasks found (stop 54): line
 * ends that end a line other than as meant went by without a word; a prompt
 * bgtask cannot see (a program that polls its input) sent the agent round a
 * loop of waits "until input"; a Ctrl-C byte on a pipe was told to end its
 * line; a write refused because the task had ended did not count as telling
 * that end, and task_completions told it again; a wait for the end of a task
 * at a prompt said both "call task_wait again" and "it does not go on until
 * answered".
 */

import { assert, assertMatch } from "./_helpers/assert.ts";
import { taskId, withMcp } from "./_helpers/mcp.ts";

Deno.test("task_write_stdin: \\r\\n on a terminal (two Enters), \\r on a pipe (a byte of the line), and a typed backslash-r are noted; \\r and \\n alone are not", async () => {
  await withMcp(async (mcp) => {
    const two = 'read -r -p "First? " a; read -r -p "Second? " b; echo "a=[$a] b=[$b]"';
    const pty = taskId((await mcp.call("task_start", { command: two, stdin: "pty" })).text);
    const crlf = await mcp.call("task_write_stdin", { id: pty, data: "one\r\n" });
    assertMatch(
      crlf.text,
      /\nNote: on a terminal "\\r\\n" is two Enters: "\\r" ended the line, and "\\n" sent an empty line to whatever read next .*: end a line with "\\r" alone\.\n/,
    );
    assertMatch(crlf.text, /a=\[one\] b=\[\]/); // (what the note is about)
    const pipe = taskId((await mcp.call("task_start", { command: two, stdin: "pipe" })).text);
    const cr = await mcp.call("task_write_stdin", { id: pipe, data: "one\r\n" });
    assertMatch(
      cr.text,
      /\nNote: on a pipe "\\r" is no Enter but a byte of the line: .*end a line with "\\n" alone\.\n/,
    );
    const lf = await mcp.call("task_write_stdin", { id: pipe, data: "two\n" });
    assert(!lf.text.includes("Note:"), lf.text);
    const ptyOk = taskId((await mcp.call("task_start", { command: two, stdin: "pty" })).text);
    const enter = await mcp.call("task_write_stdin", { id: ptyOk, data: "one\r" });
    assert(!enter.text.includes("Note:"), enter.text);
    await mcp.call("task_write_stdin", { id: ptyOk, data: "two\r" });
    // A backslash and r typed on a client's command line (inspector --tool-arg data=yes\r).
    const typed = taskId((await mcp.call("task_start", { command: two, stdin: "pipe" })).text);
    const literal = await mcp.call("task_write_stdin", { id: typed, data: "yes\\r" });
    assertMatch(
      literal.text,
      /\nNote: what you wrote ends in a backslash and "r", two characters, not a line end .*\(JSON "\\r"\)\.\n/,
    );
    await mcp.call("task_write_stdin", { id: typed, data: "\n\n" });
  });
});

Deno.test("task_write_stdin: a control byte alone on a pipe is not told to end its line", async () => {
  await withMcp(async (mcp) => {
    const id = taskId(
      (await mcp.call("task_start", {
        command: 'while read -r line; do echo "got $line"; done',
        stdin: "pipe",
      })).text,
    );
    const key = await mcp.call("task_write_stdin", { id, data: "\u0003" });
    assertMatch(key.text, /\nNote: Ctrl-C went to the program as a byte/);
    assert(!key.text.includes("without a line end"), key.text);
    await mcp.call("task_write_stdin", { id, eof: true });
  });
});

Deno.test("task_write_stdin refused because the task ended tells its end: task_completions does not tell it again", async () => {
  await withMcp(async (mcp, tasks, dir) => {
    // Running when task_start answers (which would tell an end it saw), until the gate is made.
    const gate = `${dir}/gate`;
    const start = await mcp.call("task_start", {
      command: `until [ -e "${gate}" ]; do sleep 0.02; done; echo done`,
      stdin: "pipe",
      wait_s: 0,
    });
    const id = taskId(start.text);
    assertMatch(start.text, new RegExp(`^${id} running`));
    await Deno.writeTextFile(gate, "");
    await tasks.wait(id); // (the library's wait: the session is told nothing)
    const refused = await mcp.call("task_write_stdin", { id, data: "late\n" });
    assert(refused.isError, refused.text);
    assertMatch(refused.text, /it has ended \(completed\)/);
    const other = await tasks.spawnShell("true");
    await tasks.wait(other.id);
    // (Waiting: the end's notice is made just after the final record that wait saw.)
    const told = await mcp.call("task_completions", { wait_s: 10 });
    assertMatch(told.text, new RegExp(`\\b${other.id}\\b`));
    assert(!new RegExp(`\\b${id}\\b`).test(told.text), told.text);
  });
});

Deno.test("a prompt bgtask cannot see (a program polling its input): task_start and a timed-out wait until input say so and how to answer", async () => {
  await withMcp(async (mcp) => {
    // A prompt shown (by bash: at once), then its input waited for in a
    // select on it and a socket pair of its own, as an event loop does: no
    // read waits on it. (task_start waits all of wait_s for a prompt it
    // cannot see: the prompt is there well before.)
    const script = "import select, socket, sys\n" +
      "r, w = socket.socketpair()\n" +
      "select.select([0, r], [], [])\n" +
      "print('got ' + sys.stdin.readline().strip())\n";
    const command = `printf 'Enter token: '; exec python3 -u -c "${script}"`;
    const start = await mcp.call("task_start", { command, stdin: "pipe", wait_s: 5 });
    const id = taskId(start.text);
    assertMatch(start.text, new RegExp(`\n${id} runs on in the background, not waiting for input`));
    const hint = new RegExp(
      `${id}'s output ends in an unfinished line, "Enter token:": if that is a prompt bgtask ` +
        'does not detect .*a wait until "input" does not end: answer it with task_write_stdin ' +
        `\\{"id": "${id}", "data": "…\\\\n"\\}`,
    );
    assertMatch(start.text, hint);
    const wait = await mcp.call("task_wait", { ids: [id], until: "input", timeout_s: 1 });
    assertMatch(wait.text, /^Timed out after /);
    assertMatch(wait.text, hint);
    const reply = await mcp.call("task_write_stdin", { id, data: "abc\n", wait_s: 5 });
    assertMatch(reply.text, /got abc/);
  });
});

Deno.test("task_wait for the end of a task at a prompt does not say to call task_wait again", async () => {
  await withMcp(async (mcp) => {
    const id = taskId(
      (await mcp.call("task_start", { command: 'read -r -p "name? " n', stdin: "pipe" })).text,
    );
    const wait = await mcp.call("task_wait", { ids: [id], timeout_s: 1 });
    assertMatch(wait.text, /Waiting for input: /);
    assert(!wait.text.includes("call task_wait again"), wait.text);
    await mcp.call("task_write_stdin", { id, data: "Ann\n" });
  });
});
