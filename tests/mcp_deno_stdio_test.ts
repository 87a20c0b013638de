/** The stdio transport on read and write calls: how it splits, parses, skips, reports, writes and closes. */

import { assert, assertEquals, assertMatch, assertRejects } from "./_helpers/assert.ts";
import { initializeMessage, until } from "./_helpers/common.ts";
import { cli, withStore } from "./cli_helpers.ts";
import { type ByteSink, type ByteSource, DenoStdioTransport } from "../src/mcp/deno_stdio.ts";
import { concat } from "../src/bytes.ts";
import { pipedMcp } from "./_helpers/mcp_stdio.ts";

const enc = new TextEncoder();

/** A source that hands out `chunks` (split when larger than a read), then the end; or waits for `release`. */
function source(chunks: (string | Uint8Array)[]) {
  const queue = chunks.map((x) => typeof x === "string" ? enc.encode(x) : x);
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  const src: ByteSource = {
    async read(into) {
      const next = queue.shift();
      if (next === undefined) {
        await released;
        return null;
      }
      const n = Math.min(next.length, into.length);
      into.set(next.subarray(0, n));
      if (n < next.length) queue.unshift(next.subarray(n));
      return n;
    },
  };
  return { src, release };
}

/** A sink that takes at most `most` bytes a write, after a turn of the event loop. */
function sink(most = Infinity) {
  const written: Uint8Array[] = [];
  const out: ByteSink = {
    async write(bytes) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      const n = Math.min(bytes.length, most);
      written.push(bytes.slice(0, n));
      return n;
    },
  };
  const text = () => new TextDecoder().decode(new Uint8Array(written.flatMap((b) => [...b])));
  return { out, text };
}

/**
 * A transport reading `chunks` and writing into `written`; resolves its
 * events once stdin ends. With `answer`, each request gets an empty result
 * at once, as a server's would (the end of stdin waits for them).
 */
function wire(chunks: (string | Uint8Array)[], answer = true) {
  const { src, release } = source(chunks);
  release();
  const { out, text } = sink();
  const logged: string[] = [];
  const t = new DenoStdioTransport(src, out, (line) => void logged.push(line));
  const messages: unknown[] = [];
  const errors: string[] = [];
  let closes = 0;
  const closed = new Promise<void>((resolve) => {
    t.onclose = () => {
      closes++;
      resolve();
    };
  });
  t.onmessage = (m) => {
    messages.push(m);
    if (answer && "method" in m && "id" in m) void t.send({ jsonrpc: "2.0", id: m.id, result: {} });
  };
  t.onerror = (e) => void errors.push(e.message);
  return { t, messages, errors, closed, closes: () => closes, text, logged };
}

const ping = (id: number) => JSON.stringify({ jsonrpc: "2.0", id, method: "ping" });

Deno.test("messages split across reads, several in one read, CRLF endings and a split UTF-8 character arrive whole and in order", async () => {
  const note = JSON.stringify({ jsonrpc: "2.0", method: "notifications/x", params: { s: "é€" } });
  const noteBytes = enc.encode(note + "\n");
  const w = wire([
    ping(1).slice(0, 10),
    ping(1).slice(10) + "\r\n" + ping(2) + "\n",
    noteBytes.slice(0, noteBytes.length - 5), // inside "€"'s three bytes
    noteBytes.slice(noteBytes.length - 5),
  ]);
  await w.t.start();
  await w.closed;
  assertEquals(w.messages, [
    { jsonrpc: "2.0", id: 1, method: "ping" },
    { jsonrpc: "2.0", id: 2, method: "ping" },
    { jsonrpc: "2.0", method: "notifications/x", params: { s: "é€" } },
  ]);
  assertEquals(w.errors, []);
});

Deno.test("a line that is not JSON gets a parse error, a batch and JSON that is no JSON-RPC message an Invalid Request, each with id null; blank lines are skipped and reading goes on", async () => {
  // From a user walk: a line that was not JSON, and a batch, got no reply at all.
  const { src, release } = source([
    "\n",
    "not json\n",
    JSON.stringify([{ jsonrpc: "2.0", id: 1, method: "ping" }]) + "\n",
    '{"hello":1}\n',
    ping(3) + "\n",
  ]);
  const { out, text } = sink();
  const t = new DenoStdioTransport(src, out);
  const messages: unknown[] = [];
  const errors: string[] = [];
  t.onmessage = (m) => void messages.push(m);
  t.onerror = (e) => void errors.push(e.message);
  await t.start();
  // (The source stays open until the replies are written: a transport closed by
  // the end of stdin writes nothing more.)
  await until(() => text().split("\n").length > 3, "three replies");
  const replies = text().trimEnd().split("\n").map((l) => JSON.parse(l));
  assertEquals(
    replies.map((r) => [r.jsonrpc, r.id, r.error.code]),
    [["2.0", null, -32700], ["2.0", null, -32600], ["2.0", null, -32600]],
  );
  assertMatch(replies[0].error.message, /^Parse error: a line that is not JSON \(/);
  assertMatch(replies[1].error.message, /batches \(arrays\) are not supported/);
  assertMatch(replies[2].error.message, /^Invalid Request: not a JSON-RPC 2\.0 message/);
  assertEquals(messages, [{ jsonrpc: "2.0", id: 3, method: "ping" }]);
  assertEquals(errors.length, 1);
  release();
  await t.close();
});

Deno.test("a request that is no JSON-RPC 2.0 message is answered with its own id when it can be read exactly, naming what is wrong", async () => {
  // From an agent integrator's walk: each got id null, and its client waited for a reply to its id.
  const { src, release } = source([
    '{"jsonrpc":"1.0","id":10,"method":"tools/list"}\n',
    '{"id":"eleven","method":"tools/list"}\n',
    '{"jsonrpc":"2.0","id":12,"method":"tools/list","params":"x"}\n',
    '{"jsonrpc":"2.0","id":1152921504606846976,"method":"ping"}\n',
    '{"jsonrpc":"2.0","id":8}\n',
  ]);
  const { out, text } = sink();
  const t = new DenoStdioTransport(src, out);
  t.onerror = () => {};
  await t.start();
  await until(() => text().split("\n").length > 5, "five replies");
  const replies = text().trimEnd().split("\n").map((l) => JSON.parse(l));
  assertEquals(replies.map((r) => [r.id, r.error.code]), [
    [10, -32600],
    ["eleven", -32600],
    [12, -32600],
    [null, -32600], // (2^60: not an id JSON numbers hold exactly everywhere)
    [null, -32600], // (no method: not a request, nobody waits for it)
  ]);
  assertMatch(replies[0].error.message, /\("jsonrpc" must be "2\.0"\); a request is \{/);
  assertMatch(replies[1].error.message, /\("jsonrpc" must be "2\.0"\)/);
  assertMatch(replies[2].error.message, /\("params" must be an object\)/);
  assertMatch(replies[3].error.message, /\("id" must be a string or an integer/);
  assertMatch(replies[4].error.message, /\(no "method"\)/);
  release();
  await t.close();
});

Deno.test("the end of stdin closes the transport once; sending after that is refused", async () => {
  const w = wire([JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) + "\n"]);
  await w.t.start();
  await w.closed;
  await w.t.close();
  assertEquals(w.closes(), 1);
  await assertRejects(
    () => w.t.send({ jsonrpc: "2.0", id: 1, result: {} }),
    Error,
    /DenoStdioTransport is closed/,
  );
  await assertRejects(() => w.t.start(), Error, /already started/);
});

Deno.test("send writes each message as one line of JSON, in order, whole even when the sink takes a few bytes a write and sends overlap", async () => {
  const { src, release } = source([]);
  const { out, text } = sink(7);
  const t = new DenoStdioTransport(src, out);
  await t.start();
  await Promise.all([
    t.send({ jsonrpc: "2.0", id: 1, result: { a: "x\ny" } }),
    t.send({ jsonrpc: "2.0", method: "notifications/progress", params: {} }),
    t.send({ jsonrpc: "2.0", id: 2, result: {} }),
  ]);
  assertEquals(
    text(),
    [
      '{"jsonrpc":"2.0","id":1,"result":{"a":"x\\ny"}}',
      '{"jsonrpc":"2.0","method":"notifications/progress","params":{}}',
      '{"jsonrpc":"2.0","id":2,"result":{}}',
      "",
    ].join("\n"),
  );
  release();
  await t.close();
});

Deno.test("a write that fails (a stdout gone, or one that would block) closes the transport: the server hears of it, later sends are refused, nothing is written twice", async () => {
  for (const error of [new Deno.errors.BrokenPipe("gone"), new Deno.errors.WouldBlock("full")]) {
    const { src, release } = source([]);
    const written: Uint8Array[] = [];
    let calls = 0;
    const t = new DenoStdioTransport(src, {
      write(bytes) {
        calls++;
        if (calls === 1) {
          written.push(bytes.slice(0, 10)); // part of the first message went out...
          return Promise.resolve(10);
        }
        return Promise.reject(error); // ...then the write failed
      },
    });
    let closes = 0;
    t.onclose = () => void closes++;
    await t.start();
    await assertRejects(() => t.send({ jsonrpc: "2.0", id: 1, result: { a: 1 } }), Error);
    assertEquals(closes, 1);
    await assertRejects(
      () => t.send({ jsonrpc: "2.0", id: 2, result: {} }),
      Error,
      /DenoStdioTransport is closed/,
    );
    assertEquals(new TextDecoder().decode(concat(written)), '{"jsonrpc"');
    assertEquals(calls, 2);
    release();
  }
});

Deno.test("messages queued behind a write that fails are refused, not written after its broken line", async () => {
  const { src, release } = source([]);
  const written: Uint8Array[] = [];
  let calls = 0;
  const t = new DenoStdioTransport(src, {
    write(bytes) {
      if (calls++ === 0) {
        written.push(bytes.slice(0, 5));
        return Promise.reject(new Deno.errors.BrokenPipe("gone"));
      }
      written.push(bytes.slice());
      return Promise.resolve(bytes.length);
    },
  });
  await t.start();
  const [a, b] = await Promise.allSettled([
    t.send({ jsonrpc: "2.0", id: 1, result: {} }),
    t.send({ jsonrpc: "2.0", id: 2, result: {} }),
  ]);
  assertEquals([a.status, b.status], ["rejected", "rejected"]);
  assertEquals(new TextDecoder().decode(concat(written)), '{"jso');
  release();
});

Deno.test("a read larger than the transport's buffer, and many messages in one read, arrive whole", async () => {
  const long = JSON.stringify({ jsonrpc: "2.0", id: 9, result: { s: "z".repeat(200_000) } });
  const many = Array.from({ length: 500 }, (_, i) => ping(i) + "\n").join("");
  const w = wire([long + "\n" + many]);
  await w.t.start();
  await w.closed;
  assertEquals(w.messages.length, 501);
  assertEquals((w.messages[0] as { result: { s: string } }).result.s.length, 200_000);
  assertEquals(w.messages[500], { jsonrpc: "2.0", id: 499, method: "ping" });
});

Deno.test("a line past 10 MiB is skipped to its newline and refused with its id (told by its first or last bytes, else null) and a line on stderr; reading goes on", async () => {
  // From a user pass: a 20 MB tools/call closed the transport: no reply to it
  // nor to anything after it, nothing on stderr, and the server exited 0.
  const mib = new Uint8Array(1024 * 1024).fill(0x61); // 1 MiB of "a", no newline
  const big = (open: string, close: string) => [open, ...Array(11).fill(mib), close + "\n"];
  const w = wire([
    ...big('{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"s":"', '"}}'),
    ping(2) + "\n",
    // (The MCP TypeScript SDK's order: the id last.)
    ...big('{"method":"tools/call","params":{"s":"', '"},"jsonrpc":"2.0","id":"r-9"}'),
    // (An "id" nested in the params is not the message's.)
    ...big('{"method":"tools/call","params":{"s":"', '","id":"b3"}}'),
    ping(3), // (the last line, without its newline)
  ]);
  await w.t.start();
  await w.closed;
  assertEquals(w.messages, [
    { jsonrpc: "2.0", id: 2, method: "ping" },
    { jsonrpc: "2.0", id: 3, method: "ping" },
  ]);
  assertEquals(w.errors, []);
  const refusals = w.text().trimEnd().split("\n").map((l) => JSON.parse(l)).filter((r) => r.error);
  assertEquals(refusals.map((r) => [r.id, r.error.code]), [[7, -32600], ["r-9", -32600], [
    null,
    -32600,
  ]]);
  assertMatch(
    refusals[0].error.message,
    /^Invalid Request: this message is 11,534,4\d\d bytes, over this server's limit of 10,485,760 bytes \(10 MiB\) .*pass large data in a file and give its path/,
  );
  assert(refusals.every((r) => !r.error.message.includes("aaaa")), "no echo of the line");
  assertEquals(w.logged.length, 3);
  assertMatch(
    w.logged[0],
    /^bgtask mcp: skipped a message of 11,534,4\d\d bytes \(id 7\), over the limit/,
  );
});

Deno.test("the end of stdin waits for the replies to the requests read (a last line without its newline is one), then closes", async () => {
  const w = wire([ping(1) + "\n" + ping(2)], false);
  await w.t.start();
  await until(() => w.messages.length === 2, "both requests delivered");
  // No reply yet: the transport stays open for them.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assertEquals(w.closes(), 0);
  await w.t.send({ jsonrpc: "2.0", id: 2, result: {} });
  await new Promise((resolve) => setTimeout(resolve, 20));
  assertEquals(w.closes(), 0, "one request is still unanswered");
  await w.t.send({ jsonrpc: "2.0", id: 1, result: {} });
  await w.closed;
  assertEquals(w.closes(), 1);
  assertEquals(
    w.text(),
    '{"jsonrpc":"2.0","id":2,"result":{}}\n{"jsonrpc":"2.0","id":1,"result":{}}\n',
  );
});

Deno.test("bgtask mcp with its requests piped in and stdin closed (echo … | bgtask mcp) answers every one, then exits", async () => {
  await withStore(async (dir) => {
    const lines = [
      initializeMessage("pipe"),
      { jsonrpc: "2.0", method: "notifications/initialized" },
      {
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: { name: "task_start", arguments: { command: "echo from-a-pipe" } },
      },
    ].map((m) => JSON.stringify(m)).join("\n"); // (no newline after the last)
    const { code, replies, stderr } = await pipedMcp(dir, lines);
    assertEquals(code, 0, stderr);
    assertEquals(replies.map((r) => r.id), [1, 2]);
    // (task_start's wait ends at the end of stdin: it answers at once with the task as it
    // is then, running or already done; the task itself runs to its end.)
    assertMatch(replies[1].result.content[0].text, /^b1 (running|completed \(exit code 0\))/);
    const waited = await cli(dir, ["wait", "b1"]);
    assertEquals(waited.code, 0, waited.stderr);
    const logs = await cli(dir, ["logs", "b1"]);
    assertEquals(logs.stdout, "from-a-pipe\n");
  });
});

Deno.test("the end of stdin does not wait for a request the client cancelled (it gets no reply), and waits for each of two requests with one id", async () => {
  const cancel = JSON.stringify({
    jsonrpc: "2.0",
    method: "notifications/cancelled",
    params: { requestId: 5, reason: "no longer needed" },
  });
  const w = wire([ping(5) + "\n" + cancel + "\n"], false);
  await w.t.start();
  await w.closed; // (without the cancel: 60 s)
  assertEquals(w.messages.length, 2);
  const twice = wire([ping(7) + "\n" + ping(7) + "\n"], false);
  await twice.t.start();
  await until(() => twice.messages.length === 2, "both delivered");
  await twice.t.send({ jsonrpc: "2.0", id: 7, result: {} });
  await new Promise((resolve) => setTimeout(resolve, 20));
  assertEquals(twice.closes(), 0, "the second request with id 7 is still unanswered");
  await twice.t.send({ jsonrpc: "2.0", id: 7, result: {} });
  await twice.closed;
});

Deno.test("bgtask mcp skips a 20 MB message, answers it with an error and says so on stderr, then answers the next request", async () => {
  await withStore(async (dir) => {
    const lines = [
      JSON.stringify(initializeMessage("big")),
      JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
      JSON.stringify({
        jsonrpc: "2.0",
        id: 7,
        method: "tools/call",
        params: { name: "task_start", arguments: { command: "echo " + "a".repeat(20_000_000) } },
      }),
      ping(2),
    ];
    const { code, replies, stderr } = await pipedMcp(dir, lines.join("\n") + "\n");
    // (Each answered, in whatever order: the refusal comes from the reader,
    // which may answer it before initialize's answer, which waits for the
    // session's consumer to be registered.)
    assertEquals(replies.map((r) => r.id).sort(), [1, 2, 7], stderr);
    const byId = (id: number) => replies.find((r) => r.id === id);
    assertEquals(byId(7).error.code, -32600);
    assertMatch(
      byId(7).error.message,
      /this message is 20,000,1\d\d bytes, over this server's limit of 10,485,760 bytes .*pass large data in a file and give its path/,
    );
    assertEquals(byId(2).result, {});
    assertMatch(stderr, /^bgtask mcp: skipped a message of 20,000,1\d\d bytes \(id 7\)/m);
    assertEquals(code, 0);
  });
});
