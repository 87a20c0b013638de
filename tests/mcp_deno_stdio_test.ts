/** The stdio transport on web streams: how it splits, parses, skips, reports, writes and closes. */

import { assert, assertEquals, assertRejects } from "./_helpers/assert.ts";
import { DenoStdioTransport } from "../src/mcp/deno_stdio.ts";

const enc = new TextEncoder();

/** A transport reading `chunks` and writing into `written`; resolves its events once stdin ends. */
function wire(chunks: (string | Uint8Array)[]) {
  const written: Uint8Array[] = [];
  const input = new ReadableStream<Uint8Array>({
    start(c) {
      for (const x of chunks) c.enqueue(typeof x === "string" ? enc.encode(x) : x);
      c.close();
    },
  });
  const output = new WritableStream<Uint8Array>({ write: (b) => void written.push(b) });
  const t = new DenoStdioTransport(input, output);
  const messages: unknown[] = [];
  const errors: string[] = [];
  let closes = 0;
  const closed = new Promise<void>((resolve) => {
    t.onclose = () => {
      closes++;
      resolve();
    };
  });
  t.onmessage = (m) => void messages.push(m);
  t.onerror = (e) => void errors.push(e.message);
  const text = () => new TextDecoder().decode(new Uint8Array(written.flatMap((b) => [...b])));
  return { t, messages, errors, closed, closes: () => closes, text };
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

Deno.test("a line that is not JSON is skipped (as the SDK's reader does); JSON that is no JSON-RPC message is reported and reading goes on", async () => {
  const w = wire(["\n", "not json\n", '{"hello":1}\n', ping(3) + "\n"]);
  await w.t.start();
  await w.closed;
  assertEquals(w.messages, [{ jsonrpc: "2.0", id: 3, method: "ping" }]);
  assertEquals(w.errors.length, 1);
});

Deno.test("the end of stdin closes the transport once; sending after that is refused", async () => {
  const w = wire([ping(1) + "\n"]);
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

Deno.test("send writes each message as one line of JSON, in order", async () => {
  let release!: () => void;
  const input = new ReadableStream<Uint8Array>({
    start: (c) => void (release = () => c.close()),
  });
  const written: string[] = [];
  const output = new WritableStream<Uint8Array>({
    write: (b) => void written.push(new TextDecoder().decode(b)),
  });
  const t = new DenoStdioTransport(input, output);
  await t.start();
  await t.send({ jsonrpc: "2.0", id: 1, result: { a: "x\ny" } });
  await t.send({ jsonrpc: "2.0", method: "notifications/progress", params: {} });
  assertEquals(
    written.join(""),
    [
      '{"jsonrpc":"2.0","id":1,"result":{"a":"x\\ny"}}',
      '{"jsonrpc":"2.0","method":"notifications/progress","params":{}}',
      "",
    ].join("\n"),
  );
  release();
  await t.close();
});

Deno.test("a message that passes 10 MiB without its end is an error that closes the transport", async () => {
  const big = new Uint8Array(1024 * 1024).fill(0x61); // 1 MiB of "a", no newline
  const w = wire(Array.from({ length: 11 }, () => big));
  await w.t.start();
  await w.closed;
  assertEquals(w.messages, []);
  assertEquals(w.errors.length, 1);
  assert(w.errors[0].includes("maximum size"), w.errors[0]);
});
