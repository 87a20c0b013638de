/**
 * MCP's stdio transport on Deno's own stdin and stdout: one JSON-RPC message per
 * line, as the SDK's `StdioServerTransport` reads and writes them. That
 * transport needs Node's `process` streams, which only the SDK's Node build
 * provides; this one runs on either build, so `bgtask mcp` may be started on
 * the build for other runtimes (`--conditions=browser`: no ajv, no
 * `node:process`, about 40 ms less at start).
 *
 * @module
 */

import {
  type JSONRPCMessage,
  parseJSONRPCMessage,
  type Transport,
} from "@modelcontextprotocol/server";
import { concat } from "../ops/read.ts";

/** The SDK's limit for a message not yet complete (its `ReadBuffer`'s default). */
const MAX_PENDING_BYTES = 10 * 1024 * 1024;
const NEWLINE = 0x0a;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A stdio transport over web streams (by default Deno's stdin and stdout). */
export class DenoStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #input: ReadableStream<Uint8Array>;
  readonly #output: WritableStreamDefaultWriter<Uint8Array>;
  #reader?: ReadableStreamDefaultReader<Uint8Array>;
  #started = false;
  #closed = false;

  constructor(
    input: ReadableStream<Uint8Array> = Deno.stdin.readable,
    output: WritableStream<Uint8Array> = Deno.stdout.writable,
  ) {
    this.#input = input;
    this.#output = output.getWriter();
  }

  /** Starts reading messages; the client closing its end closes the transport. */
  start(): Promise<void> {
    if (this.#started) return Promise.reject(new Error("DenoStdioTransport already started"));
    this.#started = true;
    this.#reader = this.#input.getReader();
    void this.#pump(this.#reader);
    return Promise.resolve();
  }

  async #pump(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    // The bytes of a line not yet complete: decoded once whole, so that a
    // character split across reads arrives whole.
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.#closed) break;
        let from = 0;
        let end: number;
        while ((end = value.indexOf(NEWLINE, from)) >= 0) {
          pending.push(value.subarray(from, end));
          this.#deliver(decoder.decode(concat(pending)).replace(/\r$/, ""));
          pending = [];
          pendingBytes = 0;
          from = end + 1;
        }
        if (from < value.length) {
          pending.push(value.slice(from));
          pendingBytes += value.length - from;
          if (pendingBytes > MAX_PENDING_BYTES) {
            throw new Error(`a message exceeded the maximum size of ${MAX_PENDING_BYTES} bytes`);
          }
        }
      }
    } catch (e) {
      if (!this.#closed) this.onerror?.(e instanceof Error ? e : new Error(String(e)));
    }
    await this.close();
  }

  /** One line: a message, or nothing (as the SDK's reader, a line that is not JSON is skipped). */
  #deliver(line: string): void {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return;
    }
    let message: JSONRPCMessage;
    try {
      message = parseJSONRPCMessage(json);
    } catch (e) {
      this.onerror?.(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    this.onmessage?.(message);
  }

  /** Writes one message (a line); rejects once closed or when stdout is gone. */
  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) throw new Error("DenoStdioTransport is closed");
    await this.#output.write(encoder.encode(JSON.stringify(message) + "\n"));
  }

  /** Stops reading and tells the server (once). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#reader?.cancel().catch(() => {});
    this.onclose?.();
  }
}
