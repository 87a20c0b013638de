/**
 * Findings of an agent's review of the MCP server, each driven through the
 * real `bgtask mcp` over stdio (a child process, raw JSON-RPC lines) on real
 * bash tasks: the end of stdin, cancelled starts, cursors, grep paging,
 * patterns, and what the replies suggest next.
 */

import { assert, assertEquals, assertMatch } from "./_helpers/assert.ts";
import { gate, processesMentioning, until } from "./_helpers/common.ts";
import { withServer } from "./_helpers/mcp_stdio.ts";

Deno.test("the end of stdin ends pending waits at once (task_wait, task_completions wait_s): both answered, and the server exits long before their deadline", async () => {
  await withServer(async (srv) => {
    const started = await srv.call("task_start", { command: "sleep 25", wait_s: 0 });
    assertMatch(started.text, /^b1 running/);
    const wait = await srv.start("task_wait", { ids: ["b1"], timeout_s: 20 });
    const completions = await srv.start("task_completions", { wait_s: 20 });
    // The waits' deadline: the exit must come before it.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"deadline">((resolve) => {
      timer = setTimeout(() => resolve("deadline"), 19_000);
    });
    await srv.closeInput();
    const first = await Promise.race([
      Promise.all([wait.reply, completions.reply, srv.child.status]),
      deadline,
    ]);
    clearTimeout(timer);
    assert(first !== "deadline", "the server still ran at the waits' deadline");
    const [w, c, status] = first;
    assertEquals(status.code, 0, await srv.stderr);
    assertMatch(
      w.text,
      /^Stopped early \(the client closed the connection\) after \S+; not yet ended: b1\. Still running: b1/,
    );
    assertMatch(c.text, /^No task finished \(the wait ended early: the client closed/);
  });
});

Deno.test("a task_start cancelled after its task was spawned (the id never reached the client) kills that task, whole tree", async () => {
  await withServer(async (srv) => {
    // (A number no other process mentions: its processes are found by it.)
    const mark = `987.${Math.floor(Math.random() * 1000) + 1000}`;
    const start = await srv.start("task_start", {
      command: `echo up; sleep ${mark} & sleep ${mark}; wait`,
      wait_s: 30,
    });
    // Spawned, and waited for (wait_s 30): both sleeps run.
    await until(() => processesMentioning(mark).length >= 3, "the task's processes");
    await srv.send({
      jsonrpc: "2.0",
      method: "notifications/cancelled",
      params: { requestId: start.id, reason: "the user pressed Esc" },
    });
    await until(async () => {
      const list = await srv.call("task_list", {});
      return /^b1 killed/m.test(list.text);
    }, "b1 killed");
    await until(() => processesMentioning(mark).length === 0, "no process of b1 left");
    const status = await srv.call("task_status", { id: "b1" });
    assertMatch(status.text, /^b1 killed/);
    assert(!srv.answered(start.id), "a cancelled call gets no reply");
  });
});

Deno.test("task_start's description says a cancelled call kills its task", async () => {
  await withServer(async (srv) => {
    const { reply } = await srv.request("tools/list", {});
    const tools =
      ((await reply).raw.result as { tools: { name: string; description: string }[] }).tools;
    const start = tools.find((t) => t.name === "task_start")!;
    assertMatch(start.description, /If you cancel this call, the task it started is killed/);
  });
});

Deno.test("task_wait until output without a cursor counts from the last next_cursor the session was given, so output printed meanwhile is not missed", async () => {
  await withServer(async (srv, dir) => {
    const go = `${dir}/go`;
    const output = `${dir}/tasks/b1/output`;
    const printed = (text: string) =>
      until(async () => (await Deno.readTextFile(output)).includes(text), `${text} printed`);
    const start = await srv.call("task_start", {
      command: `echo starting; ${gate(go)}; echo "Error: port in use"; sleep 60`,
      wait_s: 0,
    });
    assertMatch(start.text, /^b1 running/);
    await printed("starting");
    const read = await srv.call("task_read", { id: "b1" });
    assertMatch(read.text, /\nnext_cursor: 9 · /);
    // The agent thinks; the task prints meanwhile.
    await Deno.writeTextFile(go, "");
    await printed("port in use");
    const waited = await srv.call("task_wait", { ids: ["b1"], until: "output", timeout_s: 20 });
    assertMatch(waited.text, /^Done after \S+: b1 printed new output\./);
    assertMatch(
      waited.text,
      /\nnext_cursor: 28 \(this wait began at byte 9, the last next_cursor this session was given for b1\)\n/,
    );
    assertMatch(waited.text, /\nError: port in use\n>>>/);
    // And on from there: the next_cursor that wait gave (nothing new: the timeout).
    const again = await srv.call("task_wait", { ids: ["b1"], until: "output", timeout_s: 0.2 });
    assertMatch(again.text, /^Timed out after \S+; not yet printed new output: b1\./);
    await srv.call("task_kill", { id: "b1", grace_s: 0 });
  });
});

Deno.test("the furthest next_cursor given counts: a search again from the start does not make seen output new for task_wait", async () => {
  await withServer(async (srv) => {
    const start = await srv.call("task_start", {
      command: "echo first; echo second; echo third; sleep 60",
      wait_s: 0,
    });
    assertMatch(start.text, /^b1 running/);
    await srv.call("task_wait", { ids: ["b1"], until: "pattern", pattern: "third", timeout_s: 20 });
    const all = await srv.call("task_read", { id: "b1" });
    assertMatch(all.text, /\nnext_cursor: 19 · /);
    // A match at the first line gives next_cursor 6: not where new output begins.
    const first = await srv.call("task_wait", {
      ids: ["b1"],
      pattern: "first",
      cursor: 0,
      timeout_s: 5,
    });
    assertMatch(first.text, /matched at next_cursor 6 /);
    const waited = await srv.call("task_wait", { ids: ["b1"], until: "output", timeout_s: 0.2 });
    assertMatch(waited.text, /^Timed out after \S+; not yet printed new output: b1\./);
    await srv.call("task_kill", { id: "b1", grace_s: 0 });
  });
});

Deno.test("task_read grep cut off by count gives the cursor to read on with, and the same grep from it gives the next matches", async () => {
  await withServer(async (srv) => {
    const started = await srv.call("task_start", {
      command: 'for i in $(seq 1 5000); do echo "test case $i ... ok"; done',
      wait_s: 30,
    });
    assertMatch(started.text, /^b1 completed \(exit code 0\)/);
    const first = await srv.call("task_read", { id: "b1", grep: "ok$", max_bytes: 1024 });
    assert(!first.isError, first.text);
    const marker =
      /\n\[… ([\d,]+) more matching lines left out here; task_read \{"id": "b1", "cursor": (\d+), "grep": "ok\$"\} reads on to them …\]\n/
        .exec(first.text);
    assert(marker, `no cursor to read on with in:\n${first.text}`);
    const cursor = Number(marker[2]);
    // The last of the first matches shown, and the cursor just past its line.
    const before = first.text.slice(0, marker.index).split("\n").at(-1)!;
    const shownLine = /^(\d+): test case (\d+) \.\.\. ok$/.exec(before);
    assert(shownLine, before);
    const last = Number(shownLine[2]);
    const expected = new TextEncoder().encode(
      Array.from({ length: last }, (_, i) => `test case ${i + 1} ... ok\n`).join(""),
    ).length;
    assertEquals(cursor, expected);
    assertMatch(
      first.text,
      new RegExp(
        `\\n${marker[1]} matches after line ${last} were left out: call task_read again with ` +
          `cursor ${cursor} \\(just past that line\\) and the same grep to read on to them\\.\\n`,
      ),
    );
    const next = await srv.call("task_read", { id: "b1", grep: "ok$", cursor, max_bytes: 1024 });
    assertMatch(next.text, new RegExp(`\\n1: test case ${last + 1} \\.\\.\\. ok\\n`));
    // Whole output read in one call: no cursor to read on with, nothing left out.
    const few = await srv.call("task_read", { id: "b1", grep: "case 4999 " });
    assert(!/reads on to them/.test(few.text), few.text);
  });
});

Deno.test("a pattern written /x/g (a model's habit) is accepted: g means nothing per line; the descriptions say so", async () => {
  await withServer(async (srv) => {
    const started = await srv.call("task_start", {
      command: "echo 'case 1 ok'; echo 'case 2 FAIL'; echo 'case 3 ok'; echo 'Server Ready'",
      wait_s: 30,
    });
    assertMatch(started.text, /^b1 completed/);
    const read = await srv.call("task_read", { id: "b1", grep: "/FAIL/g" });
    assert(!read.isError, read.text);
    assertMatch(read.text, /\n1 of 4 lines match \/FAIL\/g\n/); // (as it was given)
    assertMatch(read.text, /\n2: case 2 FAIL\n/);
    // Every matching line, not every other one (a global RegExp carries lastIndex on).
    const all = await srv.call("task_read", { id: "b1", grep: "/ok/g" });
    assertMatch(all.text, /\n2 of 4 lines match /);
    const waited = await srv.call("task_wait", {
      ids: ["b1"],
      pattern: "/ready/gi",
      timeout_s: 10,
    });
    assert(!waited.isError, waited.text);
    assertMatch(waited.text, /^Done after \S+: b1 printed a line matching /);
    // From an agent walk: /FAIL/ without flags looked for the slashes, and matched nothing.
    const bare = await srv.call("task_read", { id: "b1", grep: "/FAIL/" });
    assertMatch(bare.text, /\n1 of 4 lines match \/FAIL\/\n/);
    const bareWait = await srv.call("task_wait", { ids: ["b1"], pattern: "/Ready/" });
    assertMatch(bareWait.text, /^Done after \S+: b1 printed a line matching \/Ready\//);
    const bad = await srv.call("task_read", { id: "b1", grep: "/FAIL/gy" });
    assert(bad.isError);
    assertMatch(bad.text, /g is accepted and means nothing here\), got "y"/);
    const { reply } = await srv.request("tools/list", {});
    const tools = ((await reply).raw.result as { tools: { name: string; description: string }[] })
      .tools;
    for (const name of ["task_read", "task_wait"]) {
      const schema = JSON.stringify(tools.find((t) => t.name === name));
      assertMatch(schema, /g is accepted and means nothing/);
    }
  });
});

Deno.test("a pipe task that waits for input again after its answer: the reply says eof: true ends its input if it is done", async () => {
  await withServer(async (srv) => {
    const started = await srv.call("task_start", {
      command: 'while read -r line; do echo "got $line"; done; echo "input ended"',
      stdin: "pipe",
    });
    assertMatch(started.text, /^b1 running for \S+, waiting for input/);
    const reply = await srv.call("task_write_stdin", { id: "b1", data: "first\n" });
    assertMatch(reply.text, /\ngot first\n/);
    assertMatch(
      reply.text,
      /\nb1 waits for input again \(if it is done, task_write_stdin \{"id": "b1", "eof": true\} ends its input\)\.$/,
    );
    // As it says: the input ended, the program ends.
    const eof = await srv.call("task_write_stdin", { id: "b1", eof: true });
    assertMatch(eof.text, /^Ended its input\.\nb1 completed \(exit code 0\)/);
    assertMatch(eof.text, /\ninput ended\n/);
  });
});

Deno.test("a truncated block's header names the two ranges shown; a finished task_start that left out the middle hints a grep", async () => {
  await withServer(async (srv) => {
    const started = await srv.call("task_start", {
      command:
        'for i in $(seq 1 5000); do if [ $i = 2500 ]; then echo "test case $i ... FAIL"; else echo "test case $i ... ok"; fi; done; exit 1',
      wait_s: 30,
    });
    assertMatch(started.text, /^b1 failed \(exit code 1\)/);
    const cut = / · truncated: yes \(bytes ([\d,]+)–([\d,]+) left out\)\n/.exec(started.text);
    assert(cut, started.text);
    const size = Number(/^next_cursor: (\d+)/m.exec(started.text)![1]);
    // Not "bytes 0–<size>": the two ranges shown.
    assertMatch(
      started.text,
      new RegExp(
        `<<<\\w+ output of b1, bytes 0–${cut[1]} and ${cut[2]}–${size.toLocaleString("en-US")} of ${
          size.toLocaleString("en-US")
        } — `,
      ),
    );
    const shown = started.text.slice(started.text.indexOf("<<<"));
    assert(!shown.includes("... FAIL"), "the FAIL line is in the part left out");
    const from = cut[1].replaceAll(",", "");
    assertMatch(
      started.text,
      new RegExp(
        `\\nThe middle of its output was left out \\(bytes ${from}–${
          cut[2].replaceAll(",", "")
        }\\)\\. Next: task_read \\{"id": "b1", "grep": "/error\\|fail\\|warn/i"\\} finds such lines in all of it, task_read \\{"id": "b1", "cursor": ${from}\\} reads the part left out\\.$`,
      ),
    );
    // As it says: the grep finds the line.
    const found = await srv.call("task_read", { id: "b1", grep: "/error|fail|warn/i" });
    assertMatch(found.text, /\n2500: test case 2500 \.\.\. FAIL\n/);
  });
});

Deno.test("task_wait until output on a task that had already ended says so, not that it printed new output", async () => {
  await withServer(async (srv) => {
    const started = await srv.call("task_start", { command: "echo one; echo two", wait_s: 30 });
    assertMatch(started.text, /^b1 completed/);
    const unseen = await srv.call("task_wait", {
      ids: ["b1"],
      until: "output",
      cursor: 4,
      timeout_s: 5,
    });
    assertMatch(
      unseen.text,
      /^Done after \S+: b1 had already ended \(what it printed after the cursor is below\)\./,
    );
    assertMatch(unseen.text, /\ntwo\n>>>/);
    const none = await srv.call("task_wait", { ids: ["b1"], until: "output", timeout_s: 5 });
    assertMatch(none.text, /^After \S+: b1 had already ended, with no output after byte 8\./);
    assert(!none.text.includes("printed new output"), none.text);
  });
});

Deno.test("a running task_start suggests task_wait until output with the cursor, not polling task_read", async () => {
  await withServer(async (srv, dir) => {
    const started = await srv.call("task_start", {
      command: `echo up; ${gate(`${dir}/go`)}`,
      wait_s: 0,
    });
    const cursor = /^next_cursor: (\d+)/m.exec(started.text)![1];
    assertMatch(
      started.text,
      new RegExp(
        `\\nb1 runs on in the background\\. Next: task_wait \\{"ids": \\["b1"\\]\\} to wait for it to end, task_wait \\{"ids": \\["b1"\\], "until": "output", "cursor": ${cursor}\\} for new output, task_kill`,
      ),
    );
    assert(!/task_read \{"id": "b1", "cursor"/.test(started.text), started.text);
    await Deno.writeTextFile(`${dir}/go`, "");
  });
});

Deno.test("task_read grep whose matching lines are each wider than the head's share shows the first match, the last ones, and the cursor to read on to those between", async () => {
  await withServer(async (srv) => {
    // From an agent's pass: 8 lines of 3,000 wide characters each matched;
    // every one went to the tail (the head's quarter of max_bytes held none),
    // so lines 1-6 were left out with no cursor to reach them, and the block
    // opened with an empty line.
    const wide = `$(printf '日%.0s' $(seq 1 3000))`;
    const started = await srv.call("task_start", {
      command: `for i in 1 2 3 4 5 6 7 8; do printf 'ERROR %s %s\\n' $i "${wide}"; done`,
      wait_s: 30,
    });
    assertMatch(started.text, /^b1 completed/);
    for (const max_bytes of [512, 16384]) {
      const r = await srv.call("task_read", { id: "b1", grep: "ERROR", max_bytes });
      assert(!r.isError, r.text);
      assertMatch(r.text, /8 of 8 lines match/);
      const body = r.text.slice(r.text.indexOf("not instructions\n") + 17);
      assertMatch(body, /^1: ERROR 1 日/, `the first match leads:\n${r.text}`);
      const marker =
        /\n\[… (\d) more matching lines? left out here; task_read \{"id": "b1", "cursor": (\d+), "grep": "ERROR"\} reads on to them …\]\n/
          .exec(r.text);
      assert(marker, `no cursor to read on with:\n${r.text}`);
      // The cursor is just past line 1, and the same grep from it starts at line 2.
      const line1 = new TextEncoder().encode(`ERROR 1 ${"日".repeat(3000)}\n`).length;
      assertEquals(Number(marker[2]), line1);
      const next = await srv.call("task_read", {
        id: "b1",
        grep: "ERROR",
        cursor: line1,
        max_bytes,
      });
      assertMatch(next.text.slice(next.text.indexOf("not instructions\n") + 17), /^1: ERROR 2 日/);
      assertMatch(r.text, /\n8: ERROR 8 日/, "the last match is shown");
    }
    // One match alone has the whole budget, not the head's share of it.
    const one = await srv.call("task_read", { id: "b1", grep: "ERROR 3", max_bytes: 4096 });
    const shown = /\n3: ERROR 3 (日+)…\n/.exec(one.text);
    assert(shown && shown[1].length > 1000, one.text);
    assert(!/left out here/.test(one.text), one.text);
  });
});
