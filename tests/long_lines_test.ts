/**
 * Long lines in the output searches (`bgtask wait --match`, MCP `task_wait`
 * and `task_read grep`, `waitForLine`): a line still being written is seen
 * whatever its length, a progress bar is matched on its last drawing, and a
 * line over 1 MiB on its first and last 512 KiB, said so.
 */

import { assert, assertEquals, assertMatch } from "./_helpers/assert.ts";
import { gate } from "./_helpers/common.ts";
import { taskId, withMcp } from "./_helpers/mcp.ts";
import { cli, start, withStore as withCliStore } from "./cli_helpers.ts";
import { join } from "node:path";

/** A line of 70,000 dots and ` READY` without its newline, then the task waits at `go`. */
const longPartial = (go: string) =>
  `head -c 70000 /dev/zero | tr '\\0' .; printf ' READY'; ${gate(go)}`;

/** A progress bar of 50,000 redraws (1.2 MB), then `ALL DONE`, on one line. */
const BAR = `awk 'BEGIN { for (i = 0; i < 50000; i++) printf "\\rprogress %10d   ", i; ` +
  `printf "\\rALL DONE   \\n" }'`;

/** One line of 10,000,000 dots ending `MARK-END` (10,000,008 bytes and its newline). */
const HUGE = "head -c 10000000 /dev/zero | tr '\\0' .; echo MARK-END";

Deno.test("wait --match sees a line over 64 KiB still being written once it is quiet", async () => {
  await withCliStore(async (dir, scratch) => {
    const go = join(scratch, "go");
    const id = await start(dir, longPartial(go));
    try {
      // (Before: 60,000 dots matched, 70,000 never did: exit 124 at the deadline.)
      const r = await cli(dir, ["wait", "--match", "READY", "--timeout", "60s", id]);
      assertEquals(r.code, 0, r.stderr);
      assert(r.stdout.endsWith(". READY\n"), r.stdout.slice(-40));
    } finally {
      await Deno.writeTextFile(go, "");
    }
  });
});

Deno.test("task_wait until output: a partial line over 64 KiB is new output at once; waitForLine sees it", async () => {
  await withMcp(async (mcp, tasks, dir) => {
    const go = join(dir, "go");
    const t = await tasks.spawnShell(`echo start; ${longPartial(go)}`);
    try {
      const up = await tasks.waitForLine(t.id, /READY/, { signal: AbortSignal.timeout(60_000) });
      assert(up.line.endsWith(". READY"), up.line.slice(-40));
      assertEquals(up.offset, 6 + 70_006);
      // (Before: "not yet printed new output … call task_wait with cursor 6", forever.)
      const w = await mcp.call("task_wait", {
        ids: [t.id],
        until: "output",
        cursor: 6,
        timeout_s: 30,
      });
      assertMatch(w.text, /^Done after .*: b\d+ printed new output\./);
      assertMatch(w.text, /\nnext_cursor: 70012\b/);
    } finally {
      await Deno.writeTextFile(go, "");
    }
  });
});

Deno.test("wait --match: a progress bar over 1 MiB is matched on its last drawing, not its first", async () => {
  await withCliStore(async (dir) => {
    const id = await start(dir, "--wait", BAR);
    const done = await cli(dir, ["wait", "--match", "ALL DONE", "--timeout", "60s", id]);
    // (Before: exit 1, "ended without a line matching", its first MiB judged.)
    assertEquals([done.code, done.stdout], [0, "ALL DONE   \n"], done.stderr);
    assertEquals(done.stderr, "");
    // As a terminal shows it: the bar's earlier drawings are not the line.
    const early = await cli(dir, ["wait", "--match", "progress", "--timeout", "60s", id]);
    assertEquals(early.code, 1, early.stderr);
    assertMatch(early.stderr, /ended without a line matching \/progress\//);
  });
});

Deno.test("a line over 1 MiB is matched on its first and last 512 KiB, and the answer says so (CLI, MCP task_wait and grep)", async () => {
  await withCliStore(async (dir) => {
    const id = await start(dir, "--wait", HUGE);
    // (Before: all three said no match, task_read "truncated: no".)
    const r = await cli(dir, ["wait", "--match", "MARK", "--timeout", "60s", "--json", id]);
    assertEquals(r.code, 0, r.stderr);
    const [task] = JSON.parse(r.stdout);
    assertEquals(task.match.offset, 10_000_009);
    assert(task.match.line.endsWith(".MARK-END"), task.match.line.slice(-20));
    assertEquals(task.inPart, { lines: 1, start: 0, bytes: 10_000_008, matched: "last" });
    assertMatch(
      r.stderr,
      /note: the line of b\d+ at bytes 0–10000008 \(10000008 bytes, 9\.5 MiB\) was matched on its first and last 512 KiB only/,
    );
  });
  await withMcp(async (mcp, tasks) => {
    const t = await tasks.spawnShell(HUGE);
    await tasks.wait(t.id);
    const w = await mcp.call("task_wait", { ids: [t.id], pattern: "MARK", timeout_s: 30 });
    assertMatch(w.text, /b\d+ printed a line matching \/MARK\//);
    assertMatch(
      w.text,
      /The matching line, at bytes 0–10,000,008 \(10,000,008 bytes\), is longer than 1 MiB .* matched on its first and last 512 KiB only .*; its last part matched/,
    );
    const g = await mcp.call("task_read", { id: taskId(w.text), grep: "MARK" });
    assertMatch(g.text, /truncated: yes \(1 shown cut .*; 1 line searched in part\)/);
    assertMatch(g.text, /\n1 of 1 lines match \/MARK\/\n/);
    assertMatch(
      g.text,
      /Line 1 \(10,000,008 bytes\) is longer than 1 MiB .* first and last 512 KiB/,
    );
  });
});
