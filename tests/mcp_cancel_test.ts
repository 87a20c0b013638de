/**
 * A tool call cancelled after its handler has finished, before its answer
 * is sent, tells of no task's end: the SDK drops the answer of a call
 * cancelled by then, so the ends it carried are reported by the next
 * `task_completions`, each once. Driven through the real `bgtask mcp` over
 * stdio on real bash tasks; the answer is held at that moment by the
 * server's test-only hook (`BGTASK_TEST_HOLD_ANSWER`, src/mcp/test_hold.ts),
 * so that the cancel lands there every time, with no sleep.
 */

import { assert, assertEquals, assertMatch } from "./_helpers/assert.ts";
import { gate, MCP_FLAGS, settleStore, until } from "./_helpers/common.ts";
import { type HttpChild, rawSession, startHttp } from "./_helpers/mcp_http.ts";
import { type StdioServer, withServer } from "./_helpers/mcp_stdio.ts";

/** The hook's folder, next to the store (not in it). */
const holdOf = (dir: string) => `${dir}.hold`;

/** The server, with the hook on: it may read the variable and use the folder. */
function withHeldServer(fn: (srv: StdioServer, dir: string, hold: string) => Promise<void>) {
  return withServer(
    async (srv, dir) => {
      try {
        await fn(srv, dir, holdOf(dir));
      } finally {
        await Deno.remove(holdOf(dir), { recursive: true }).catch(() => {});
      }
    },
    (dir) => {
      Deno.mkdirSync(holdOf(dir));
      const both = `${dir},${holdOf(dir)}`;
      return {
        flags: [
          ...MCP_FLAGS,
          "--allow-run=bash",
          `--allow-read=${both}`,
          `--allow-write=${both}`,
          "--allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR,BGTASK_TEST_HOLD_ANSWER",
        ],
        env: { BGTASK_TEST_HOLD_ANSWER: holdOf(dir) },
      };
    },
  );
}

/** Whether a file exists now. */
async function present(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

/**
 * Starts a call of `tool` whose answer the server holds once its handler
 * has finished; resolves once it is held there.
 */
async function heldCall(
  srv: StdioServer,
  hold: string,
  tool: string,
  args: Record<string, unknown>,
  before: () => Promise<void> = async () => {},
) {
  await Deno.remove(`${hold}/${tool}.held`).catch(() => {}); // (an earlier call's)
  await Deno.writeTextFile(`${hold}/${tool}.hold`, "");
  const call = await srv.start(tool, args);
  await before();
  await until(() => present(`${hold}/${tool}.held`), `${tool}'s answer held`, 30_000);
  return call;
}

/**
 * Cancels call `id` (notifications/cancelled), and makes sure the server has
 * read the cancel (a ping after it is answered) before the held answer goes on.
 */
async function cancelThenRelease(srv: StdioServer, hold: string, tool: string, id: number) {
  await srv.send({
    jsonrpc: "2.0",
    method: "notifications/cancelled",
    params: { requestId: id, reason: "the user pressed Esc" },
  });
  await (await srv.request("ping", {})).reply;
  await Deno.writeTextFile(`${hold}/${tool}.go`, "");
  await until(async () => !(await present(`${hold}/${tool}.go`)), `${tool}'s answer let go`);
}

/** The ids a task_completions answer reports, in order. */
function reported(text: string): string[] {
  return [...text.matchAll(/^(b\d+) (?:completed|failed|killed|lost)/gm)].map((m) => m[1]);
}

/**
 * task_completions until it reports nothing: every id reported, in order
 * (so that one reported twice shows).
 */
async function allReported(srv: StdioServer): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const r = await srv.call("task_completions", {});
    assert(!r.isError, r.text);
    const ids = reported(r.text);
    if (ids.length === 0) return out;
    out.push(...ids);
  }
}

/** `n` tasks that end together once `go` exists (ids b1…bn), started through the server. */
async function tasksEndingAt(srv: StdioServer, go: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await srv.call("task_start", { command: gate(go), wait_s: 0 });
    assertMatch(r.text, /^b\d+ running/);
    ids.push(/^(b\d+)/.exec(r.text)![1]);
  }
  return ids;
}

Deno.test("a waiting task_completions cancelled after it took the tasks gives them back: the next reports every end once", async () => {
  await withHeldServer(async (srv, dir, hold) => {
    assertEquals(reported((await srv.call("task_completions", {})).text), []);
    const go = `${dir}.go`;
    try {
      const ids = await tasksEndingAt(srv, go, 5);
      const c0 = await heldCall(srv, hold, "task_completions", { wait_s: 20 }, async () => {
        await Deno.writeTextFile(go, "");
      });
      await cancelThenRelease(srv, hold, "task_completions", c0.id);
      // All of them ended (the held call took one or more of them).
      await until(async () => {
        const list = await srv.call("task_list", {});
        return ids.every((id) => new RegExp(`^${id} completed`, "m").test(list.text));
      }, "every task completed");
      const got = await allReported(srv);
      assertEquals(got.toSorted(), ids.toSorted(), "each end reported once");
      assert(!srv.answered(c0.id), "a cancelled call gets no reply");
    } finally {
      await Deno.remove(go).catch(() => {});
    }
  });
});

Deno.test("a task_wait cancelled after it saw the end tells of nothing: task_completions reports that end", async () => {
  await withHeldServer(async (srv, dir, hold) => {
    const go = `${dir}.go`;
    try {
      const [id] = await tasksEndingAt(srv, go, 1);
      const w = await heldCall(srv, hold, "task_wait", { ids: [id], timeout_s: 20 }, async () => {
        await Deno.writeTextFile(go, "");
      });
      await cancelThenRelease(srv, hold, "task_wait", w.id);
      assertEquals(await allReported(srv), [id]);
      assert(!srv.answered(w.id), "a cancelled call gets no reply");
    } finally {
      await Deno.remove(go).catch(() => {});
    }
  });
});

for (
  const [tool, args] of [
    ["task_status", (id: string) => ({ id })],
    ["task_read", (id: string) => ({ id })],
    ["task_kill", (id: string) => ({ id })],
  ] as const
) {
  Deno.test(`a ${tool} cancelled after it read an end tells of nothing: task_completions reports that end`, async () => {
    await withHeldServer(async (srv, dir, hold) => {
      const go = `${dir}.go`;
      try {
        const [id] = await tasksEndingAt(srv, go, 1);
        await Deno.writeTextFile(go, "");
        await until(async () => {
          const list = await srv.call("task_list", {});
          return new RegExp(`^${id} completed`, "m").test(list.text);
        }, `${id} completed`);
        const call = await heldCall(srv, hold, tool, args(id));
        await cancelThenRelease(srv, hold, tool, call.id);
        assertEquals(await allReported(srv), [id]);
      } finally {
        await Deno.remove(go).catch(() => {});
      }
    });
  });
}

Deno.test("a task_start cancelled after its short command ended tells of nothing: task_completions reports that end", async () => {
  await withHeldServer(async (srv, _dir, hold) => {
    const call = await heldCall(srv, hold, "task_start", { command: "true", wait_s: 20 });
    await cancelThenRelease(srv, hold, "task_start", call.id);
    assertEquals(await allReported(srv), ["b1"]);
  });
});

Deno.test("a task_completions alongside a task_wait whose answer is held waits for it: each end told once, whether that answer goes or is cancelled", async () => {
  await withHeldServer(async (srv, dir, hold) => {
    const go1 = `${dir}.go1`, go2 = `${dir}.go2`;
    try {
      const [b1] = await tasksEndingAt(srv, go1, 1);
      const [b2] = await tasksEndingAt(srv, go2, 1);
      // b1's end, in an answer that is sent: not told again.
      const sent = await heldCall(
        srv,
        hold,
        "task_wait",
        { ids: [b1], timeout_s: 20 },
        () => Deno.writeTextFile(go1, ""),
      );
      const first = await srv.start("task_completions", {});
      await (await srv.request("ping", {})).reply;
      await Deno.writeTextFile(`${hold}/task_wait.go`, "");
      assertMatch((await sent.reply).text, new RegExp(`^Done after \\S+: ${b1} ended`));
      assertEquals(reported((await first.reply).text), []);
      // b2's end, in an answer that is cancelled: told by task_completions.
      const dropped = await heldCall(
        srv,
        hold,
        "task_wait",
        { ids: [b2], timeout_s: 20 },
        () => Deno.writeTextFile(go2, ""),
      );
      const second = await srv.start("task_completions", {});
      await cancelThenRelease(srv, hold, "task_wait", dropped.id);
      const got = [...reported((await second.reply).text), ...await allReported(srv)];
      assertEquals(got, [b2]);
      assert(!srv.answered(dropped.id), "a cancelled call gets no reply");
    } finally {
      await Deno.remove(go1).catch(() => {});
      await Deno.remove(go2).catch(() => {});
    }
  });
});

Deno.test("a waiting task_completions whose only end a task_wait alongside told says so, not that nothing ended", async () => {
  await withHeldServer(async (srv, dir, hold) => {
    // Found by an agent-client walk: it answered "No task finished within
    // 15s", although one had, told by the other call.
    const go = `${dir}.go`;
    try {
      const [b1] = await tasksEndingAt(srv, go, 1);
      const sent = await heldCall(
        srv,
        hold,
        "task_wait",
        { ids: [b1], timeout_s: 20 },
        () => Deno.writeTextFile(go, ""),
      );
      const waiting = await srv.start("task_completions", { wait_s: 2 });
      await (await srv.request("ping", {})).reply;
      await Deno.writeTextFile(`${hold}/task_wait.go`, "");
      assertMatch((await sent.reply).text, new RegExp(`^Done after \\S+: ${b1} ended`));
      assertMatch(
        (await waiting.reply).text,
        new RegExp(
          `^No other task finished within 2\\.0s \\(nor since the last task_completions\\)[^\\n]*` +
            `\\n\\(${b1} ended: another call of this session showed its end\\.\\)$`,
        ),
      );
    } finally {
      await Deno.remove(go).catch(() => {});
    }
  });
});

/** The text of the tool result in an SSE response body (its `data:` line). */
function sseText(body: string): string {
  const data = body.split("\n").find((l) => l.startsWith("data: "));
  if (!data) throw new Error(`no data in: ${body}`);
  const content = JSON.parse(data.slice(6)).result.content as { text: string }[];
  return content.map((c) => c.text).join("\n");
}

Deno.test("HTTP: a task_wait whose client's connection closes after it saw the end tells of nothing: task_completions reports that end", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-mcp-cancel-http-" });
  const hold = holdOf(dir);
  await Deno.mkdir(hold);
  let server: HttpChild | undefined;
  try {
    server = await startHttp(dir, [], { BGTASK_TEST_HOLD_ANSWER: hold }, [
      `--allow-read=${dir},${hold}`,
      `--allow-write=${dir},${hold}`,
      "--allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR,BGTASK_TEST_HOLD_ANSWER",
    ]);
    const token = (await Deno.readTextFile(`${dir}/mcp-token`)).trim();
    const a = await rawSession(server.url, token);
    const go = `${dir}.go`;
    const started = await a.call(2, "task_start", { command: gate(go), wait_s: 0 });
    assertMatch(sseText(await started.text()), /^b1 running/);
    await Deno.remove(`${hold}/task_wait.held`).catch(() => {});
    await Deno.writeTextFile(`${hold}/task_wait.hold`, "");
    const drop = new AbortController();
    const waiting = await a.call(3, "task_wait", { ids: ["b1"], timeout_s: 20 }, drop.signal);
    assertEquals(waiting.status, 200);
    await Deno.writeTextFile(go, "");
    await until(() => present(`${hold}/task_wait.held`), "task_wait's answer held", 30_000);
    drop.abort(); // (the client's connection closes)
    // The server has seen the close once id 3 is free again (its stream ended).
    await until(async () => {
      const r = await a.post({ jsonrpc: "2.0", id: 3, method: "ping" });
      const body = await r.text();
      return !body.includes("already in use");
    }, "the closed connection seen");
    await Deno.writeTextFile(`${hold}/task_wait.go`, "");
    await until(async () => !(await present(`${hold}/task_wait.go`)), "the answer let go");
    const got: string[] = [];
    for (let id = 10;; id++) {
      const ids = reported(sseText(await (await a.call(id, "task_completions", {})).text()));
      if (ids.length === 0) break;
      got.push(...ids);
    }
    assertEquals(got, ["b1"]);
    await Deno.remove(go).catch(() => {});
  } finally {
    await server?.stop();
    await settleStore(dir);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.remove(hold, { recursive: true }).catch(() => {});
    await Deno.remove(`${dir}.go`).catch(() => {});
  }
});
