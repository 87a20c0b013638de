/**
 * How MCP shows output bytes: bytes that are no UTF-8 written `\xNN`, as
 * control bytes are (not U+FFFD, which a command may print itself), and
 * the note on bytes left out inside a line whichever read cut them.
 */

import { assert, assertMatch } from "./_helpers/assert.ts";
import { gate } from "./_helpers/common.ts";
import { withMcp } from "./_helpers/mcp.ts";
import { omittedMarker } from "../src/mcp/read.ts";
import { join } from "node:path";

Deno.test("task_read, grep and task_wait show bytes that are no UTF-8 as \\xNN, a printed U+FFFD as itself", async () => {
  await withMcp(async (mcp, tasks) => {
    const t = await tasks.spawnShell("printf 'bin \\377\\376 é\\303\\n'; echo 'text �'");
    await tasks.wait(t.id);
    // (Before: "bin �� é�", the same as the text line's own "�".)
    const r = await mcp.call("task_read", { id: t.id });
    assertMatch(r.text, /\nbin \\xff\\xfe é\\xc3\ntext �\n/);
    const g = await mcp.call("task_read", { id: t.id, grep: "bin" });
    assertMatch(g.text, /\n1: bin \\xff\\xfe é\\xc3\n/);
    const w = await mcp.call("task_wait", { ids: [t.id], pattern: "xff", timeout_s: 5 });
    assertMatch(w.text, /\nbin \\xff\\xfe é\\xc3\n/);
  });
});

Deno.test("a cut that stops inside a line says so, for a running task's window and a finished task's last lines alike", async () => {
  await withMcp(async (mcp, tasks, dir) => {
    const go = join(dir, "go");
    const shape = "echo a; head -c 40000 /dev/zero | tr '\\0' x; echo";
    const running = await tasks.spawnShell(`${shape}; ${gate(go)}`);
    const done = await tasks.spawnShell(shape);
    try {
      await tasks.wait(done.id);
      await tasks.waitForLine(running.id, /^x+$/, { signal: AbortSignal.timeout(30_000) });
      const r = await mcp.call("task_wait", {
        ids: [running.id],
        until: "output",
        cursor: 0,
        timeout_s: 5,
      });
      assertMatch(r.text, /\[… [\d,]+ bytes \(inside one line\) left out here/);
      // (Before: "(1 line)", though the text after it starts mid-line.)
      const d = await mcp.call("task_wait", { ids: [done.id], timeout_s: 5 });
      assertMatch(
        d.text,
        /\[… [\d,]+ bytes \(1 line, and the start of the line it stops in\) left out here/,
      );
      const k = await mcp.call("task_read", { id: done.id, tail_lines: 5, max_bytes: 2000 });
      assertMatch(k.text, /\(1 line, and the start of the line it stops in\) left out here/);
    } finally {
      await Deno.writeTextFile(go, "");
    }
  });
});

Deno.test("omittedMarker: inside one line, lines and the start of one, lines", () => {
  const at = { from: 10, to: 110 };
  assert(omittedMarker("b1", { ...at, lines: 0, midLine: true }).includes("(inside one line)"));
  assert(
    omittedMarker("b1", { ...at, lines: 2, midLine: true })
      .startsWith("[… 100 bytes (2 lines, and the start of the line it stops in) left out here"),
  );
  assert(
    omittedMarker("b1", { ...at, lines: 1, midLine: false }).startsWith(
      "[… 100 bytes (1 line) left",
    ),
  );
});
