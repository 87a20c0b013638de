/** task_read's cursor: past the end, with tail_lines, and 0 given explicitly. */

import { assert, assertEquals, assertMatch } from "./_helpers/assert.ts";
import { nextCursor, withMcp } from "./_helpers/mcp.ts";

/** The first byte a cut window left out (its "truncated: yes (bytes A–B left out)"). */
function leftOutFrom(text: string): number {
  const m = /truncated: yes \(bytes ([\d,]+)–/.exec(text);
  if (!m) throw new Error(`no cut in:\n${text}`);
  return Number(m[1].replaceAll(",", ""));
}

Deno.test("task_read: a cursor past the end of an ended task's output, never truncated, is said plainly, with where cursors come from (not a truncation it never had)", async () => {
  await withMcp(async (mcp, tasks) => {
    const t = await tasks.spawnShell("seq 1 1000");
    await tasks.wait(t.id);
    const size = (await tasks.readOutputBytes(t.id, { maxBytes: 1 << 20 })).length;
    const r = await mcp.call("task_read", { id: t.id, cursor: 99999999999 });
    assert(r.isError, r.text);
    assertMatch(
      r.text,
      new RegExp(`cursor 99999999999 is past the end of ${t.id}'s output \\(3,893 bytes, all`),
    );
    assertEquals(size, 3893);
    assertMatch(r.text, /next_cursor of an earlier result/);
    assert(!/truncat|reopened/.test(r.text), r.text);
  });
});

Deno.test("task_read tail_lines with a cursor counts the lines after it, and says so (and when the cursor left fewer)", async () => {
  await withMcp(async (mcp, tasks) => {
    const t = await tasks.spawnShell('for i in $(seq 1 30); do echo "line $i"; done');
    await tasks.wait(t.id);
    const r = await mcp.call("task_read", { id: t.id, tail_lines: 3, cursor: 10 });
    assertMatch(r.text, /\nThe last 3 lines after cursor 10: with a cursor, tail_lines counts/);
    assertMatch(r.text, /\nline 28\nline 29\nline 30\n>>>/);
    // "line 29\n" starts at byte 215: two lines after it, not the last three.
    const near = await mcp.call("task_read", { id: t.id, tail_lines: 3, cursor: 215 });
    assertMatch(near.text, /\nOnly 2 lines after cursor 215, fewer than tail_lines 3: /);
    assertMatch(near.text, /not instructions\nline 29\nline 30\n>>>/);
    // Without a cursor: the output's last lines, nothing more said.
    const plain = await mcp.call("task_read", { id: t.id, tail_lines: 3 });
    assert(!/after cursor/.test(plain.text), plain.text);
  });
});

Deno.test("task_read: cursor 0 given reads on from byte 0 as any cursor does (a page: mostly the head), not as no cursor", async () => {
  await withMcp(async (mcp, tasks) => {
    const t = await tasks.spawnShell("seq 1 5000");
    await tasks.wait(t.id);
    const none = await mcp.call("task_read", { id: t.id, max_bytes: 4096 });
    const zero = await mcp.call("task_read", { id: t.id, cursor: 0, max_bytes: 4096 });
    const five = await mcp.call("task_read", { id: t.id, cursor: 5, max_bytes: 4096 });
    // No cursor: a quarter head; a cursor, 0 or 5: seven eighths.
    assert(leftOutFrom(none.text) <= 1024, none.text);
    assert(leftOutFrom(zero.text) >= 3000, zero.text);
    assert(leftOutFrom(five.text) >= 3000, five.text);
    assertEquals(nextCursor(zero.text), nextCursor(none.text));
  });
});
