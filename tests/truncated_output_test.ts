/**
 * An output truncated while it is followed: `echo … > /dev/stderr` in a task
 * reopens its output file with O_TRUNC. Every follower (the library's
 * `followBytes` and `follow`, `bgtask logs -f`, MCP `task_wait` until
 * output) notices the size below what it read and goes on from byte 0 of
 * the new content, saying so, as `tail -f` does.
 */

import { assert, assertEquals, assertMatch } from "./_helpers/assert.ts";
import { gate, until } from "./_helpers/common.ts";
import { withMcp } from "./_helpers/mcp.ts";
import { spawnCli, start, withStore as withCliStore } from "./cli_helpers.ts";
import { withStore } from "./_helpers/common.ts";
import { join } from "node:path";

/** `seq 1 200` (692 bytes); at `a`, a warning that truncates the output, and `three`; at `b`, `four`. */
const truncating = (a: string, b: string) =>
  `seq 1 200; ${gate(a)}; echo "warning: oops" > /dev/stderr; echo three; ${gate(b)}; echo four`;
const SEQ = Array.from({ length: 200 }, (_, i) => `${i + 1}\n`).join("");
const AFTER = "warning: oops\nthree\n";

Deno.test("followBytes and follow go on from the start of a truncated output; onTruncated hears of it", async () => {
  await withStore(async (tasks, dir) => {
    for (const text of [false, true]) {
      const [a, b] = [join(dir, `a${text}`), join(dir, `b${text}`)];
      const t = await tasks.spawnShell(truncating(a, b));
      const heard: number[] = [];
      let seen = "";
      const decoder = new TextDecoder();
      // (followBytes without onTruncated: the option is new; follow with it.)
      const signal = AbortSignal.timeout(30_000);
      const options = text ? { signal, onTruncated: (o: number) => heard.push(o) } : { signal };
      const pieces = text ? tasks.follow(t.id, options) : (async function* () {
        for await (const p of tasks.followBytes(t.id, options)) yield decoder.decode(p);
      })();
      try {
        for await (const piece of pieces) {
          seen += piece;
          if (seen === SEQ) await Deno.writeTextFile(a, "");
          if (seen.endsWith(AFTER)) await Deno.writeTextFile(b, "");
        }
      } finally {
        await Deno.writeTextFile(a, "");
        await Deno.writeTextFile(b, "");
      }
      // (Before: the follower waited for the output to pass 692 bytes again; it never saw the warning.)
      assertEquals(heard, text ? [SEQ.length] : []);
      assertEquals(seen, SEQ + AFTER + "four\n");
      assertEquals((await tasks.wait(t.id)).status, "completed");
    }
  });
});

Deno.test("logs -f shows a truncated output from its start and says so on stderr", async () => {
  await withCliStore(async (dir, scratch) => {
    const [a, b] = [join(scratch, "a"), join(scratch, "b")];
    const id = await start(dir, truncating(a, b));
    const child = spawnCli(dir, ["logs", "-f", id]);
    const reader = child.stdout.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    const read = async (what: string) => {
      const deadline = AbortSignal.timeout(30_000);
      while (!seen.endsWith(what)) {
        const { value, done } = await Promise.race([
          reader.read(),
          new Promise<never>((_, reject) =>
            deadline.addEventListener("abort", () => reject(new Error(`no ${what}: ${seen}`)))
          ),
        ]);
        if (done) break;
        seen += decoder.decode(value, { stream: true });
      }
    };
    try {
      await read(SEQ);
      await Deno.writeTextFile(a, "");
      await read(AFTER); // (Before: "ine 38"-like bytes from past the old end, or nothing.)
      await Deno.writeTextFile(b, "");
      await read("four\n");
      const [{ code }, stderr] = await Promise.all([
        child.status,
        new Response(child.stderr).text(),
      ]);
      assertEquals(seen, SEQ + AFTER + "four\n");
      assertEquals(code, 0);
      assertEquals(
        stderr,
        `bgtask: ${id}'s output was truncated (a process of the task reopened it with '>'); ` +
          "reading from its start\n",
      );
    } finally {
      await Deno.writeTextFile(a, "");
      await Deno.writeTextFile(b, "");
      await reader.cancel().catch(() => {});
      try {
        child.kill();
      } catch { /* ended */ }
      await child.status;
      await child.stderr.cancel().catch(() => {});
    }
  });
});

Deno.test("task_wait until output after a truncation shows the new content from byte 0 and says so; a cursor past the end names the cause", async () => {
  await withMcp(async (mcp, tasks, dir) => {
    const [a, b] = [join(dir, "a"), join(dir, "b")];
    const t = await tasks.spawnShell(truncating(a, b));
    try {
      await until(async () => (await tasks.getStatus(t.id))!.outputBytes === SEQ.length, "seq");
      const r = await mcp.call("task_read", { id: t.id, tail_lines: 1 }); // next_cursor 692
      assertMatch(r.text, /next_cursor: 692 /);
      // Truncated while the wait runs, or before it begins: either way said, from byte 0.
      const waiting = mcp.call("task_wait", { ids: [t.id], until: "output", timeout_s: 20 });
      await Deno.writeTextFile(a, "");
      const w = await waiting;
      // (Before: a wait from byte 692, which the output never reached again: timed out.)
      assertMatch(w.text, /^Done after .*: b\d+ printed new output\./);
      assertMatch(
        w.text,
        /output (was truncated during this wait|is smaller than the last next_cursor)/,
      );
      assertMatch(w.text, /\nwarning: oops\n/);
      await until(async () => (await tasks.readOutput(t.id)) === AFTER, "the new content");
      const past = await mcp.call("task_read", { id: t.id, cursor: 692 });
      assert(past.isError, past.text);
      assertMatch(past.text, /past the end of b\d+'s output \(20 bytes\).*truncated since/);
    } finally {
      await Deno.writeTextFile(a, "");
      await Deno.writeTextFile(b, "");
    }
  });
});
