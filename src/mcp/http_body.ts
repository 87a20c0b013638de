/**
 * The body of a POST to `bgtask mcp --http`: read once, bounded, held as the
 * bytes received, and handed on to the SDK's transport as a request of its
 * own, with the JSON-RPC messages it carries.
 *
 * @module
 */

import { parseJSONRPCMessage } from "@modelcontextprotocol/server";
import { badRequest, MAX_MESSAGE_BYTES } from "./deno_stdio.ts";

/**
 * The bound on a request body, stdio's bound on a message (the SDK answers
 * 413 past it; its default, 4 MiB, refused over HTTP a call stdio takes).
 */
export const MAX_BODY = MAX_MESSAGE_BYTES;

/** What {@linkcode readPost} found in a POST. */
export interface Post {
  /** The request to hand the SDK: the same body, read once. */
  req: Request;
  /** Its JSON-RPC messages: the one it holds, or those of its batch. */
  messages: Record<string, unknown>[];
  /** Whether its body was a JSON-RPC batch (an array). */
  batch: boolean;
  /**
   * A body that is JSON, and no batch, but no JSON-RPC message: what is
   * wrong with it, and its id when readable (as stdio's `badRequest` tells).
   */
  invalid?: { id: string | number | null; wrong: string };
}

/** The least room a read into {@linkcode Received} is given. */
const MIN_ROOM = 16 * 1024;

/**
 * Bytes received in pieces, kept in one buffer that doubles as it fills, so
 * that what is held is about the bytes received. A body is read into it
 * (a BYOB read into {@linkcode Received.room}): each piece Deno gives of a
 * request body by itself is a view over a 64 KiB buffer of its own, and
 * those buffers, even dropped at once, stayed until a collection that a few
 * small objects do not bring (a 5 KB body sent a byte at a time: +101 MB).
 *
 * @example
 * ```ts
 * import { Received } from "./http_body.ts";
 * import { equal } from "node:assert/strict";
 * const r = new Received();
 * const room = r.room();
 * room.set(new TextEncoder().encode("he"));
 * r.took(room.subarray(0, 2)); // what a read into `room` returns
 * r.add(new TextEncoder().encode("llo"));
 * equal(new TextDecoder().decode(r.bytes()), "hello");
 * ```
 */
export class Received {
  #buf: Uint8Array = new Uint8Array(0);
  #size = 0;

  /** How many bytes were received. */
  get size(): number {
    return this.#size;
  }

  /** Makes room for `more` bytes past those received (the buffer at least doubles). */
  #grow(more: number): void {
    const need = this.#size + more;
    if (need <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(need, 2 * this.#buf.length));
    grown.set(this.#buf.subarray(0, this.#size));
    this.#buf = grown;
  }

  /**
   * The free part of the buffer (at least 16 KiB), to read the next piece
   * into; a BYOB read takes its buffer, which {@linkcode Received.took} gives back.
   */
  room(): Uint8Array {
    this.#grow(MIN_ROOM);
    return this.#buf.subarray(this.#size);
  }

  /** Counts the piece a read into {@linkcode Received.room} returned (a view over the buffer, given back). */
  took(piece: Uint8Array): void {
    this.#buf = new Uint8Array(piece.buffer);
    this.#size += piece.length;
  }

  /** Appends a copy of `piece` (which is not kept). */
  add(piece: Uint8Array): void {
    this.#grow(piece.length);
    this.#buf.set(piece, this.#size);
    this.#size += piece.length;
  }

  /** The bytes received so far (a view, valid until the next `room` or `add`). */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#size);
  }
}

/**
 * Reads `body` into `into` until it ends or holds more than `max` bytes;
 * returns whether it ended. Read BYOB into `into`'s own buffer where the
 * stream can (a served request's body can); otherwise a copy of each piece.
 */
async function receive(
  body: ReadableStream<Uint8Array>,
  into: Received,
  max: number,
): Promise<{ ended: boolean; reader: ReadableStreamDefaultReader<Uint8Array> | undefined }> {
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    // (Not a byte stream.)
  }
  if (byob) {
    for (;;) {
      const { done, value } = await byob.read(into.room());
      if (value) into.took(value);
      if (done) return { ended: true, reader: undefined };
      if (into.size > max) {
        byob.releaseLock();
        return { ended: false, reader: body.getReader() };
      }
    }
  }
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { ended: true, reader: undefined };
    into.add(value);
    if (into.size > max) return { ended: false, reader };
  }
}

/**
 * A POST's JSON-RPC messages (alone or in a batch), and the request to hand
 * the SDK: the same body, read once, up to {@linkcode MAX_BODY} (a larger
 * body, or one that is not JSON, gives no messages: the transport refuses it
 * without our having held it all). Not a `clone()` of the request: Deno
 * reads a served request's signal to clone it, and then warns on stderr,
 * at the first answer, that the signal aborts on successful responses.
 */
export async function readPost(req: Request): Promise<Post> {
  if (req.method !== "POST" || req.body === null) return { req, messages: [], batch: false };
  if (Number(req.headers.get("content-length")) > MAX_BODY) {
    return { req, messages: [], batch: false };
  }
  const received = new Received();
  const { ended, reader } = await receive(req.body, received, MAX_BODY);
  if (!ended && reader) {
    // Too large: the SDK gets what was read and the rest, and refuses it.
    const head = received.bytes();
    const rest = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(head);
      },
      async pull(c) {
        const { done, value } = await reader.read();
        if (done) c.close();
        else c.enqueue(value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
    return { req: copyWith(req, rest), messages: [], batch: false };
  }
  const bytes = received.bytes();
  const copy = copyWith(req, bytes);
  try {
    const body = JSON.parse(new TextDecoder().decode(bytes));
    const messages: unknown[] = Array.isArray(body) ? body : [body];
    return {
      ...(Array.isArray(body) ? {} : invalid(body)),
      req: copy,
      messages: messages.filter((m): m is Record<string, unknown> =>
        typeof m === "object" && m !== null
      ),
      batch: Array.isArray(body),
    };
  } catch {
    return { req: copy, messages: [], batch: false }; // not JSON: the transport says so
  }
}

/** `{ invalid }` when `json` is no JSON-RPC message (see `Post.invalid`); else `{}`. */
function invalid(json: unknown): Pick<Post, "invalid"> {
  try {
    parseJSONRPCMessage(json);
    return {};
  } catch {
    return { invalid: badRequest(json) };
  }
}

/** A request like `req` (its URL, method and headers) with `body`. */
function copyWith(req: Request, body: Uint8Array | ReadableStream<Uint8Array>): Request {
  return new Request(req.url, {
    method: req.method,
    headers: req.headers,
    body: body as BodyInit,
    // (A stream body must say it is sent as it comes.)
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);
}
