/**
 * TaskManager.waitForLine: a library user's wait for a server's "listening"
 * line (found by a pass of bgtask inside deno test suites: each wrote its
 * own follow-and-match loop, and could not tell a timeout from a crash).
 */

import { assert, assertEquals, assertMatch, assertRejects } from "./_helpers/assert.ts";
import { TaskManager, TaskNotFoundError, TaskStateError } from "../mod.ts";
import { gate, until, withStore } from "./_helpers/common.ts";

Deno.test("waitForLine: a line written in two pieces (block-buffered output) is matched whole, not on its first piece; a prompt without a newline still matches", async () => {
  await withStore(async (tasks, dir) => {
    // The rest of the line comes a moment after its start (as soon as the
    // test lets it: well within the second a line's end is waited for).
    const split = await tasks.spawnShell(
      `printf 'listening on 80'; ${gate(`${dir}/rest`)}; echo '00'; sleep 300`,
    );
    const waiting = tasks.waitForLine(split.id, /listening on (\d+)/, {
      signal: AbortSignal.timeout(20_000),
    });
    const output = `${dir}/tasks/${split.id}/output`;
    await until(() => Deno.readTextFileSync(output) === "listening on 80", "the line's start");
    await Deno.writeTextFile(`${dir}/rest`, "");
    const m = await waiting;
    assertEquals(m.line, "listening on 8000");
    const prompt = await tasks.spawnShell("printf 'Password: '; sleep 300");
    const p = await tasks.waitForLine(prompt.id, /Password:/, {
      signal: AbortSignal.timeout(20_000),
    });
    assertEquals(p.line, "Password: ");
    // On a pipe, a prompt its task waits at counts as soon as it waits.
    const asks = await tasks.spawnShell('printf "Name: "; read -r n; echo "hi $n"', {
      stdin: "pipe",
    });
    const q = await tasks.waitForLine(asks.id, /Name:/, { signal: AbortSignal.timeout(20_000) });
    assertEquals(q.line, "Name: ");
    await tasks.writeStdin(asks.id, "x\n");
    assertEquals((await tasks.waitForLine(asks.id, /^hi/, { offset: q.offset })).line, "hi x");
    for (const t of [split, prompt]) await tasks.kill(t.id, { graceMs: 100 });
    await tasks.wait(asks.id);
  });
});

Deno.test("waitForLine: the first matching line, however late it comes, and the next one from its offset", async () => {
  await withStore(async (tasks, dir) => {
    const t = await tasks.spawnShell(
      `echo starting; ${
        gate(`${dir}/go`)
      }; echo 'listening on 8000'; echo x; echo 'listening on 8001'; sleep 300`,
    );
    const first = tasks.waitForLine(t.id, /listening on (\d+)/g);
    await Deno.writeTextFile(`${dir}/go`, "");
    const up = await first;
    assertEquals([up.line, up.offset], [
      "listening on 8000",
      "starting\nlistening on 8000\n".length,
    ]);
    assertEquals(up.match?.[1], "8000", "the match, with its groups");
    // Already in the output: found at once; from the offset, the next.
    assertEquals((await tasks.waitForLine(t.id, /listening/)).line, "listening on 8000");
    const next = await tasks.waitForLine(t.id, /listening/, { offset: up.offset });
    assertEquals(next.line, "listening on 8001");
    await tasks.kill(t.id, { graceMs: 0 });
  });
});

Deno.test("waitForLine: from an offset inside a line, the rest of that line is searched as a line (as the options say)", async () => {
  // From a library user's walk: the options said such a line was skipped.
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell("echo 'error: disk full'; echo 'disk again'");
    await tasks.wait(t.id);
    const { line, offset } = await tasks.waitForLine(t.id, /^disk/, { offset: 7 });
    assertEquals([line, offset], ["disk full", 17]);
    assertEquals((await tasks.waitForLine(t.id, /^disk/, { offset: 17 })).line, "disk again");
  });
});

Deno.test("waitForLine: a task that ends without the line rejects naming how it ended; a signal rejects with its reason", async () => {
  await withStore(async (tasks, dir) => {
    const crash = await tasks.spawnShell("echo 'port in use' >&2; exit 1");
    const e = await assertRejects(
      () => tasks.waitForLine(crash.id, /listening/),
      TaskStateError,
      new RegExp(
        `^Task ${crash.id} ended \\(failed: exited with code 1\\) without a line matching /listening/;`,
      ),
    );
    // Why, in the test's own log: its last lines, and where the rest is (this store).
    assertMatch(
      e.message,
      /; its last lines:\nport in use\nits output: readOutput\("b1"\), or bgtask --dir /,
    );
    assert(e.message.endsWith(` logs ${crash.id}`) && e.message.includes(dir), e.message);
    const quiet = await tasks.spawnShell("sleep 300");
    const reason = new Error("gave up");
    const stop = new AbortController();
    const waiting = tasks.waitForLine(quiet.id, /never/, { signal: stop.signal });
    setTimeout(() => stop.abort(reason), 100);
    await assertRejects(() => waiting, Error, /^gave up$/);
    await tasks.kill(quiet.id, { graceMs: 0 });
  });
});

Deno.test('waitForLine: close() while it waits does not end it (it said the running task "ended (running)"): it waits on for the line, as wait() does', async () => {
  await withStore(async (tasks, dir) => {
    const go = `${dir}/go`;
    const up = `${dir}/up`;
    // (Its code loaded first: the wait below follows the output at once.)
    const ready = await tasks.spawnShell("echo ready");
    await tasks.waitForLine(ready.id, /ready/);
    const server = await tasks.spawnShell(`${gate(up)}; echo booting; ${gate(go)}; echo listening`);
    const waiting = tasks.waitForLine(server.id, /listening/);
    // Closed while its follow is under way (it has seen "booting" come), and
    // closed before one began: both wait on.
    await Deno.writeTextFile(up, "");
    await until(async () => (await tasks.readOutput(server.id)).includes("booting"), "booting");
    const early = tasks.waitForLine(server.id, /listening/);
    await tasks.close();
    let settled = false;
    Promise.allSettled([waiting, early]).then(() => settled = true);
    const other = new TaskManager({ dir });
    await other.wait(server.id, { signal: AbortSignal.timeout(300) }).catch(() => {});
    assertEquals(settled, false, "still waiting for the line");
    assertEquals((await other.getStatus(server.id))?.status, "running");
    await Deno.writeTextFile(go, "");
    assertEquals((await waiting).line, "listening");
    assertEquals((await early).line, "listening");
  });
});

Deno.test("waitForLine: the last lines of a task that ended without the line carry none of its escapes (printed by deno test on a terminal), a redrawn line as its last drawing", async () => {
  await withStore(async (tasks) => {
    // OSC 52 sets the clipboard, ESC[6n makes the terminal type its answer,
    // ESC[?1049h switches screens; BEL, a bare ESC, C1 controls and a tag
    // character (hidden text) too.
    const t = await tasks.spawnShell(
      String.raw`printf 'a\033]52;c;UFdO\007b\033[6nc\033[?1049hd\033[31me\033[0m\n' &&
printf '10%%\r50%%\r100%% done\n' && printf 'ti\033]0;title\302\234tle\n' &&
printf 'bel\007 c1\302\233x tag\363\240\201\201 esc\033\n'; exit 3`,
    );
    const e = await assertRejects(() => tasks.waitForLine(t.id, /never/), TaskStateError);
    const last = e.message.slice(
      e.message.indexOf("its last lines:\n"),
      e.message.indexOf("its output:"),
    );
    assertEquals(
      last,
      "its last lines:\nabcde\n100% done\ntitle\nbel\\x07 c1\\x9bx tag\\u{e0041} esc\\x1b\n",
    );
    // deno-lint-ignore no-control-regex
    assert(!/[\x00-\x09\x0b-\x1f\x7f-\x9f\u{e0000}-\u{e007f}]/u.test(e.message), e.message);
  });
});

Deno.test("waitForLine: a line is matched as written, with the joiners and soft hyphens words are written with (they were escaped before the match: a Persian word was not found)", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell(
      String
        .raw`printf 'server: \342\200\214\331\205\333\214\342\200\214\330\256\331\210\330\247\331\207\331\205 ready\nSilben\302\255trennung ok\n'`,
    );
    assertEquals(
      (await tasks.waitForLine(t.id, /می\u200cخواهم ready/)).line,
      "server: \u200cمی\u200cخواهم ready",
    );
    assertEquals(
      (await tasks.waitForLine(t.id, /Silben\u00adtrennung/)).line,
      "Silben\u00adtrennung ok",
    );
  });
});

Deno.test("waitForLine: bad arguments are refused, naming the fix", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell("echo hi");
    await assertRejects(
      // deno-lint-ignore no-explicit-any
      () => tasks.waitForLine(t.id, "hi" as any),
      TypeError,
      /the pattern must be a RegExp/,
    );
    await assertRejects(
      // deno-lint-ignore no-explicit-any
      () => tasks.waitForLine(t.id, /hi/, { ofset: 3 } as any),
      TypeError,
      /ofset/,
    );
    await assertRejects(() => tasks.waitForLine("b99", /hi/), TaskNotFoundError);
    assertEquals((await tasks.waitForLine(t.id, /hi/)).line, "hi");
  });
});
