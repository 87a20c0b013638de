/**
 * MCP's stdio transport on Deno's own stdin and stdout: one JSON-RPC message per
 * line, as the SDK's `StdioServerTransport` reads and writes them. That
 * transport needs Node's `process` streams, which only the SDK's Node build
 * provides; this one runs on either build, so `bgtask mcp` may be started on
 * the build for other runtimes (`--conditions=browser`: no ajv, no
 * `node:process`, about 40 ms less at start).
 *
 * It reads and writes with `read` and `write` calls, not web streams:
 * `Deno.stdin.readable` loads Deno's streams implementation on first use, 8–14
 * ms of a server's start that nothing else in `bgtask mcp` over stdio needs.
 *
 * @module
 */

import {
  type JSONRPCMessage,
  parseJSONRPCMessage,
  ProtocolErrorCode,
  type Transport,
} from "@modelcontextprotocol/server";
import { concat } from "../bytes.ts";
import { SERVER_STOPPING, unfinishedAtStop } from "./cancel.ts";
import { STOP_ANSWER_MS } from "../timing.ts";
import { later } from "../timers.ts";

/**
 * The longest message read (the SDK's own stdio transport's limit, its
 * `ReadBuffer`'s default): a longer line is read through to its end
 * without being kept, and refused. Over HTTP, the longest request body.
 */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
/** Of a line too long to read, the first and the last bytes kept: its id may be there. */
const ID_BYTES = 1024;
/**
 * How long the end of stdin waits for the replies to requests already read
 * (the longest call a client allows, 60 s; a client that wants the server
 * gone sooner sends SIGTERM, as MCP's stdio shutdown says). Calls that only
 * wait answer at once then (see `ending`): this is for calls that change
 * things (a kill's grace, a write to a full pipe).
 */
const DRAIN_MS = 60_000;
/** How much one read takes at most. */
const READ_BYTES = 64 * 1024;
const NEWLINE = 0x0a;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Where messages come from: `Deno.stdin`'s shape (`null` at the end). */
export interface ByteSource {
  read(into: Uint8Array): Promise<number | null>;
}

/** Where messages go: `Deno.stdout`'s shape (a write may take part of the bytes). */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<number>;
}

/**
 * A line past {@linkcode MAX_MESSAGE_BYTES}, read through to its end
 * without being kept: its size, and its first and last bytes (its id may
 * be there).
 */
interface Skipped {
  bytes: number;
  head: Uint8Array;
  tail: Uint8Array;
}

/** The first `most` bytes of `parts`, joined. */
function firstBytes(parts: Uint8Array[], most: number): Uint8Array {
  const out: Uint8Array[] = [];
  for (let got = 0, i = 0; got < most && i < parts.length; i++) {
    out.push(parts[i].subarray(0, most - got));
    got += out[out.length - 1].length;
  }
  return concat(out);
}

/** The last `most` bytes of `parts`, joined. */
function lastBytes(parts: Uint8Array[], most: number): Uint8Array {
  const out: Uint8Array[] = [];
  for (let got = 0, i = parts.length - 1; got < most && i >= 0; i--) {
    out.unshift(parts[i].subarray(Math.max(0, parts[i].length - (most - got))));
    got += out[0].length;
  }
  return concat(out);
}

/**
 * Splits the bytes read into lines. A whole line goes to `onLine`, decoded
 * once whole (a character split across reads arrives whole; a CR before
 * its newline is dropped). A line longer than {@linkcode MAX_MESSAGE_BYTES}
 * goes to `onTooLong` at its end instead, never held whole: past the limit,
 * only its size and its last bytes are kept.
 */
class LineSplitter {
  /** The bytes of the line not yet complete (copies: the read buffer is reused). */
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** The line being skipped, once past the limit. */
  #skipped?: Skipped;
  readonly #onLine: (line: string) => void;
  readonly #onTooLong: (skipped: Skipped) => void;

  constructor(onLine: (line: string) => void, onTooLong: (skipped: Skipped) => void) {
    this.#onLine = onLine;
    this.#onTooLong = onTooLong;
  }

  /** The bytes of one read (a view of a buffer that is reused: copied where kept). */
  push(bytes: Uint8Array): void {
    let from = 0;
    let end: number;
    while ((end = bytes.indexOf(NEWLINE, from)) >= 0) {
      this.#add(bytes.subarray(from, end));
      this.#endLine();
      from = end + 1;
    }
    if (from < bytes.length) this.#add(bytes.slice(from));
  }

  /** The end of the input: a last line without its newline is a line too. */
  end(): void {
    if (this.#pendingBytes > 0 || this.#skipped) this.#endLine();
  }

  #add(part: Uint8Array): void {
    const skipped = this.#skipped;
    if (skipped) {
      skipped.bytes += part.length;
      skipped.tail = lastBytes([skipped.tail, part], ID_BYTES);
      return;
    }
    this.#pending.push(part);
    this.#pendingBytes += part.length;
    if (this.#pendingBytes <= MAX_MESSAGE_BYTES) return;
    this.#skipped = {
      bytes: this.#pendingBytes,
      head: firstBytes(this.#pending, ID_BYTES),
      tail: lastBytes(this.#pending, ID_BYTES),
    };
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  #endLine(): void {
    if (this.#skipped) {
      const skipped = this.#skipped;
      this.#skipped = undefined;
      this.#onTooLong(skipped);
      return;
    }
    const line = decoder.decode(concat(this.#pending)).replace(/\r$/, "");
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#onLine(line);
  }
}

/** A JSON-RPC id: a number, or a string (short enough to be one). */
const ID_VALUE = String.raw`(-?(?:0|[1-9]\d{0,15})|"[^"\\]{0,200}")`;
/** Keys whose plain string values may come before or after the id. */
const PLAIN_KEY = String.raw`"(?:jsonrpc|method)"\s*:\s*"[^"\\]{0,200}"`;
/** The id among an object's first keys (`{"jsonrpc":"2.0","id":7,…`). */
const ID_FIRST = new RegExp(
  String.raw`^\s*\{(?:\s*${PLAIN_KEY}\s*,)*\s*"id"\s*:\s*${ID_VALUE}\s*[,}]`,
);
/**
 * The id among its last (`…,"jsonrpc":"2.0","id":7}`: the MCP TypeScript
 * SDK's order). A nested "id" is never taken: one brace ends the line.
 */
const ID_LAST = new RegExp(
  String.raw`[{,]\s*"id"\s*:\s*${ID_VALUE}\s*(?:,\s*${PLAIN_KEY}\s*)*\}\s*$`,
);

/**
 * What is wrong with a JSON value that is no JSON-RPC 2.0 message, and the
 * id to answer it with: its own, when it is a request (it has a method) whose
 * id can be read exactly (a string, or an integer JSON can hold without
 * rounding: a rounded one would answer another request), so that the client
 * waiting for it is told; else null.
 *
 * @example
 * ```ts
 * import { badRequest } from "./deno_stdio.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(badRequest({ jsonrpc: "1.0", id: 10, method: "tools/list" }), {
 *   id: 10,
 *   wrong: '"jsonrpc" must be "2.0"',
 * });
 * deepEqual(badRequest({ jsonrpc: "2.0", id: "a", method: "x", params: "p" }), {
 *   id: "a",
 *   wrong: '"params" must be an object',
 * });
 * deepEqual(badRequest({ jsonrpc: "2.0", id: 9, method: "x", params: [1] }), {
 *   id: 9,
 *   wrong: '"params" must be an object',
 * });
 * deepEqual(badRequest({ jsonrpc: "2.0", id: 8 }), { id: null, wrong: 'no "method"' });
 * ```
 */
export function badRequest(json: unknown): { id: string | number | null; wrong: string } {
  if (typeof json !== "object" || json === null) {
    return { id: null, wrong: "a JSON object is needed" };
  }
  const m = json as Record<string, unknown>;
  const raw = m.id;
  const readable = typeof raw === "string" || Number.isSafeInteger(raw);
  const id = readable && typeof m.method === "string" ? raw as string | number : null;
  const wrong = m.jsonrpc !== "2.0"
    ? '"jsonrpc" must be "2.0"'
    : !("method" in m) && !("result" in m) && !("error" in m)
    ? 'no "method"'
    : "method" in m && typeof m.method !== "string"
    ? '"method" must be a string'
    : "params" in m &&
        (typeof m.params !== "object" || m.params === null || Array.isArray(m.params))
    ? '"params" must be an object'
    : "id" in m && !readable
    ? '"id" must be a string or an integer JSON can hold exactly'
    : "";
  return { id, wrong };
}

/**
 * What JSON that is no JSON-RPC message is told (with `wrong` from
 * {@linkcode badRequest}), over stdio and HTTP alike.
 *
 * @example
 * ```ts
 * import { notJsonRpc } from "./deno_stdio.ts";
 * import { match } from "node:assert/strict";
 * match(notJsonRpc('no "method"'), /^Invalid Request: not a JSON-RPC 2.0 message \(no "method"\)/);
 * ```
 */
export function notJsonRpc(wrong: string): string {
  return `Invalid Request: not a JSON-RPC 2.0 message${wrong ? ` (${wrong})` : ""}; a request ` +
    'is {"jsonrpc": "2.0", "id": 1, "method": "…", "params": {…}}';
}

/**
 * The id of a JSON-RPC message too long to parse, from its first and last
 * bytes, when they tell it plainly; else null.
 *
 * @example
 * ```ts
 * import { idOfLine } from "./deno_stdio.ts";
 * import { equal } from "node:assert/strict";
 * equal(idOfLine('{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"a', "x\"}}}"), 7);
 * equal(idOfLine('{"method":"tools/call","params":{"a', 'x"}},"jsonrpc":"2.0","id":"r-1"}'), "r-1");
 * equal(idOfLine('{"method":"tools/call","params":{"a', 'x","id":"b3"}}}'), null);
 * ```
 */
export function idOfLine(head: string, tail: string): string | number | null {
  const found = (ID_FIRST.exec(head) ?? ID_LAST.exec(tail))?.[1];
  return found === undefined ? null : JSON.parse(found);
}

/** A stdio transport over a byte source and sink (by default Deno's stdin and stdout). */
export class DenoStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #input: ByteSource;
  readonly #output: ByteSink;
  /** The writes so far, one after the other: a message is never interleaved with another. */
  #written: Promise<void> = Promise.resolve();
  #started = false;
  #closed = false;
  /** The requests read and not yet answered or cancelled: how many by id (a client may reuse one). */
  readonly #unanswered = new Map<string | number, number>();
  /** Called when the last of them is answered. */
  readonly #allAnswered = new Set<() => void>();
  readonly #ending = new AbortController();
  /**
   * Aborts at the end of stdin: the calls that only wait (task_wait, …) stop
   * waiting and answer with what they have, as at their deadline, so that
   * the server is gone within a moment of its client; the calls that change
   * things are still answered before it goes (up to DRAIN_MS).
   */
  readonly ending: AbortSignal = this.#ending.signal;

  readonly #log: (line: string) => void;

  /**
   * @param log Where a line for a person goes (stderr): a message skipped
   *   for its size.
   */
  constructor(
    input: ByteSource = Deno.stdin,
    output: ByteSink = Deno.stdout,
    log: (line: string) => void = () => {},
  ) {
    this.#input = input;
    this.#output = output;
    this.#log = log;
  }

  /** Starts reading messages; the client closing its end closes the transport. */
  start(): Promise<void> {
    if (this.#started) return Promise.reject(new Error("DenoStdioTransport already started"));
    this.#started = true;
    void this.#pump();
    return Promise.resolve();
  }

  async #pump(): Promise<void> {
    const lines = new LineSplitter(
      (line) => this.#deliver(line),
      (skipped) => this.#refuseTooLong(skipped),
    );
    const buffer = new Uint8Array(READ_BYTES);
    let ended = false;
    try {
      for (;;) {
        const n = await this.#input.read(buffer);
        if (n === null) ended = true;
        if (n === null || this.#closed) break;
        lines.push(buffer.subarray(0, n));
      }
      // The end of stdin: a last line without its newline is a message too
      // (`printf '…' | bgtask mcp`), and the requests read are answered
      // before the server is told (a client that writes its requests and
      // closes its end still gets every reply).
      if (ended && !this.#closed) {
        lines.end();
        this.#ending.abort();
        await this.#answered();
        await this.#written;
      }
    } catch (e) {
      if (!this.#closed) this.onerror?.(e instanceof Error ? e : new Error(String(e)));
    }
    await this.close();
  }

  /**
   * Stops as at the end of stdin, for a signal: the calls that only wait
   * answer at once with what they have (see `ending`), the requests read
   * are answered (for `ms` at most; those unfinished then are answered with
   * an error that says so), then the transport closes. A client
   * that stops its server that way still gets a reply to each call it made
   * (a `task_wait` says what its task was doing and that the server is
   * stopping), not a closed pipe.
   */
  async finish(ms: number = STOP_ANSWER_MS): Promise<void> {
    if (this.#closed) return;
    this.#ending.abort(SERVER_STOPPING);
    await this.#answered(ms);
    // (Those still unfinished get an answer that says so: see unfinishedAtStop.)
    for (const [id, n] of [...this.#unanswered]) {
      for (let i = 0; i < n; i++) await this.send(unfinishedAtStop(id)).catch(() => {});
    }
    await this.#written;
    await this.close();
  }

  /** Ends the waits of `#answered` (the end of stdin's and a stop's). */
  #allAnsweredNow(): void {
    for (const resolve of this.#allAnswered) resolve();
  }

  /** Resolves once every request read has been answered, or after `ms`. */
  async #answered(ms: number = DRAIN_MS): Promise<void> {
    if (this.#unanswered.size === 0) return;
    let cancel = () => {};
    let done = () => {};
    await new Promise<void>((resolve) => {
      done = resolve;
      this.#allAnswered.add(resolve);
      cancel = later(ms, resolve);
    });
    this.#allAnswered.delete(done);
    cancel();
  }

  /**
   * One line: a message for the server. What cannot be one gets the
   * JSON-RPC error it is owed, with id null where its id cannot be told (a
   * request's own id where it can: badRequest), so that a client never
   * waits for a reply to it until its timeout: a parse error
   * for a line that is not JSON, Invalid Request for a batch (an array: MCP
   * has no batches since 2025-06-18) and for JSON that is no JSON-RPC
   * message (reported to `onerror` too). The server reads on either way. A
   * blank line is skipped.
   */
  #deliver(line: string): void {
    if (line.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (e) {
      this.#refuse(
        ProtocolErrorCode.ParseError,
        `Parse error: a line that is not JSON (${e instanceof Error ? e.message : e}); ` +
          "send one JSON-RPC message per line",
      );
      return;
    }
    if (Array.isArray(json)) {
      this.#refuse(
        ProtocolErrorCode.InvalidRequest,
        "Invalid Request: JSON-RPC batches (arrays) are not supported, as MCP has none since " +
          "2025-06-18: send each message on a line of its own",
      );
      return;
    }
    let message: JSONRPCMessage;
    try {
      message = parseJSONRPCMessage(json);
    } catch (e) {
      this.onerror?.(e instanceof Error ? e : new Error(String(e)));
      const { id, wrong } = badRequest(json);
      // (Owed a reply as any request is: counted, as the reply's sending uncounts it.)
      if (id !== null) this.#unanswered.set(id, (this.#unanswered.get(id) ?? 0) + 1);
      this.#refuse(ProtocolErrorCode.InvalidRequest, notJsonRpc(wrong), id);
      return;
    }
    if ("method" in message && "id" in message) {
      this.#unanswered.set(message.id, (this.#unanswered.get(message.id) ?? 0) + 1);
    } else if ("method" in message && message.method === "notifications/cancelled") {
      // A cancelled request gets no reply (MCP says so): nothing to wait for.
      const asked = (message.params as { requestId?: unknown } | undefined)?.requestId;
      if (typeof asked === "string" || typeof asked === "number") this.#answer(asked);
    }
    this.onmessage?.(message);
  }

  /**
   * A line too long to read: refused (with its id when its first or last
   * bytes tell it, so that its caller's request ends now, not at its
   * timeout), and said on stderr; the server reads on. (The SDK's own
   * transport, and this one before, closed: the server was gone with no
   * word to anyone.)
   */
  #refuseTooLong(skipped: Skipped): void {
    const id = idOfLine(decoder.decode(skipped.head), decoder.decode(skipped.tail));
    const size = skipped.bytes.toLocaleString("en-US");
    const limit = `${MAX_MESSAGE_BYTES.toLocaleString("en-US")} bytes (10 MiB)`;
    this.#log(
      `bgtask mcp: skipped a message of ${size} bytes${
        id === null ? "" : ` (id ${JSON.stringify(id)})`
      }, over the limit of ${limit}; its sender was sent an error`,
    );
    this.#refuse(
      ProtocolErrorCode.InvalidRequest,
      `Invalid Request: this message is ${size} bytes, over this server's limit of ${limit} ` +
        "a message, and was skipped unread: pass large data in a file and give its path instead",
      id,
    );
  }

  /**
   * Answers what could not be read with a JSON-RPC error: id null unless
   * told (JSON-RPC 2.0 says null when it cannot be read).
   */
  #refuse(code: number, message: string, id: string | number | null = null): void {
    // (The SDK's type leaves the id out; JSON-RPC 2.0 wants it, null.)
    const reply = { jsonrpc: "2.0", id, error: { code, message } };
    // (A failed write closes the transport: nothing more to do here.)
    this.send(reply as unknown as JSONRPCMessage).catch(() => {});
  }

  /**
   * Writes one message (a line) once the ones before it are written; rejects
   * once closed or when stdout is gone.
   */
  send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("DenoStdioTransport is closed"));
    const bytes = encoder.encode(JSON.stringify(message) + "\n");
    const write = this.#written.then(() => this.#writeAll(bytes));
    this.#written = write.catch(() => {}); // (a failed write is its sender's to hear)
    const id = !("method" in message) && "id" in message ? message.id : undefined;
    if (id !== undefined && id !== null) this.#answer(id);
    return write;
  }

  /** One request with this id is answered (or cancelled). */
  #answer(id: string | number): void {
    const left = (this.#unanswered.get(id) ?? 0) - 1;
    if (left > 0) this.#unanswered.set(id, left);
    else if (this.#unanswered.delete(id) && this.#unanswered.size === 0) this.#allAnsweredNow();
  }

  /**
   * Writes all of one message. A write that fails closes the transport, as
   * the SDK's own stdio transport does: a stdout that is gone takes no more
   * replies (the server ends instead of running calls nobody hears of), and
   * one that would block (made non-blocking by whoever started us) cannot
   * be written again safely — Deno does not say how much of the failed
   * write went out, so a retry could send part of a reply twice.
   */
  async #writeAll(bytes: Uint8Array): Promise<void> {
    // (Queued behind a write that failed: not after its broken line.)
    if (this.#closed) throw new Error("DenoStdioTransport is closed");
    try {
      for (let at = 0; at < bytes.length;) at += await this.#output.write(bytes.subarray(at));
    } catch (e) {
      void this.close();
      throw e;
    }
  }

  /**
   * Stops reading and tells the server (once). A read under way is left to
   * end by itself (Deno cannot cancel a read of stdin); what it brings is
   * dropped.
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#allAnsweredNow(); // (the end of stdin, or a stop, waits no more)
    this.onclose?.();
    return Promise.resolve();
  }
}
