/**
 * `bgtask mcp --http`: MCP over Streamable HTTP on one address, one
 * `McpServer` (and completion consumer) per MCP session. Every request passes
 * the Host/Origin checks of `http_guard.ts` first; one to {@linkcode MCP_PATH}
 * then its bearer-token check, and any other path is a 404.
 *
 * @module
 */

import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/server";
import type { TaskManager } from "../../mod.ts";
import { checkBearer, checkSource, refusalResponse } from "./http_guard.ts";
import { registerConsumer, type Registration, releaseConsumer } from "./consumer.ts";
import { MAX_BODY, type Post, readPost } from "./http_body.ts";
import { notJsonRpc } from "./deno_stdio.ts";
import { CONNECTION_CLOSED, SERVER_STOPPING, unfinishedAtStop } from "./cancel.ts";
import { createServer } from "./server.ts";
import { idInUseMessage, idKey, INVALID_REQUEST } from "./request_ids.ts";
import { isPermissionError, netAdvice, rethrowPermission } from "../permissions.ts";
import { listenError } from "./listen_error.ts";
import { SESSION_IDLE_MS, STOP_ANSWER_MS } from "../timing.ts";
import { every, sleep } from "../timers.ts";
import { formatDuration } from "../cli/duration.ts";

/** The path MCP is served on. */
export const MCP_PATH = "/mcp";
/**
 * Sessions kept at once; past that, idle ones (no request or stream open)
 * are closed, down to it: first those that made the fewest requests (a
 * one-shot client's, see {@linkcode FEW_REQUESTS}), the least recently used
 * first among them. A session in the middle of a call, or holding its
 * notification stream, never is; while too few are idle, the cap waits for
 * them: see `trim`.
 */
const MAX_SESSIONS = 64;

/**
 * A session that made at most this many requests after its initialize (a
 * one-shot client's: `tools/list`, then one `tools/call`) is closed past the
 * cap before one that made more (an agent's, idle for a while): a burst of
 * one-shot calls that never end their sessions (no DELETE) no longer
 * closes an agent's.
 */
const FEW_REQUESTS = 2;

/** Why a session the server no longer has went: see `sessionGone`. */
type Gone = "expired" | "evicted" | "deleted";

/** How many closed sessions' ids are kept, to say why a request to one gets a 404. */
const GONE_KEPT = 1024;

/** Options for {@linkcode serveHttp}. */
export interface HttpOptions {
  tasks: TaskManager;
  /** The address to bind (`127.0.0.1`, `::1`, …). */
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  /** The bearer token every request must carry. */
  token: string;
  /** Whether the address is not a loopback one (allowed only with `--allow-remote`). */
  remote: boolean;
  /** Names allowed in Host and Origin besides (`--allow-host`, lower case). */
  hosts?: readonly string[];
  /** Stops the server. */
  signal?: AbortSignal;
  /** Sessions kept at once (default 64). */
  maxSessions?: number;
  /**
   * How long an idle session (no call in progress, no stream open) is kept
   * after its last request (default {@linkcode SESSION_IDLE_MS}).
   */
  sessionIdleMs?: number;
}

/** A running HTTP server. */
export interface HttpServer {
  /** The URL clients connect to. */
  url: string;
  port: number;
  /** Resolves once the server has stopped (after `signal` aborts) and every session is closed. */
  finished: Promise<void>;
}

interface Entry {
  transport: WebStandardStreamableHTTPServerTransport;
  lastUsed: number;
  /** The requests (messages with an id) it made after its initialize. */
  requests: number;
  /** Requests whose response is still being sent (a call, an open stream). */
  busy: number;
  /**
   * The calls being answered, by JSON-RPC id (see idKey), from their arrival
   * until their stream ends: an id in here is in use, and another request
   * with it is refused (the SDK tells calls and their answers apart by id).
   */
  calls: Map<string, CallStream>;
}

/** A call's response stream, as its cancel by the client finds it. */
interface CallStream {
  /** The call's JSON-RPC id. */
  id: string | number;
  /** Ends the stream where it is; unset until the SDK has given the response. */
  finish?: () => void;
  /** The client cancelled the call before `finish` was set: it ends once given. */
  cancelled?: boolean;
}

/**
 * `res`, calling `onEnd` once its body has been sent (`true`), or has failed
 * or been cancelled before its end (`false`: the client's connection closed).
 * `finish()` ends the body where it is (a call the client cancelled: the SDK
 * sends no answer to it, and would hold its stream open).
 */
function whenSent(
  res: Response,
  onEnd: (whole: boolean) => void,
): { response: Response; finish: () => void } {
  if (!res.body) {
    onEnd(true);
    return { response: res, finish: () => {} };
  }
  const reader = res.body.getReader();
  let ended = false;
  let control: ReadableStreamDefaultController<Uint8Array> | undefined;
  const end = (whole: boolean) => {
    if (!ended) {
      ended = true;
      onEnd(whole);
    }
  };
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      control = c;
    },
    async pull(c) {
      try {
        const { value, done } = await reader.read();
        if (done) {
          end(true);
          c.close();
        } else c.enqueue(value);
      } catch (e) {
        end(false);
        c.error(e);
      }
    },
    cancel(reason) {
      end(false);
      return reader.cancel(reason);
    },
  });
  const finish = () => {
    if (ended) return;
    end(true);
    control?.close();
    reader.cancel().catch(() => {});
  };
  return {
    response: new Response(body, {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    }),
    finish,
  };
}

/** The consumer of a server made to answer a request that cannot open a session: never registered. */
const NO_SESSION: Registration = { consumer: "mcp-no-session", registered: Promise.resolve() };

/**
 * Cancels a call of a session whose client's connection closed before the
 * answer, as a `notifications/cancelled` would: its handler's signal aborts
 * (with {@linkcode CONNECTION_CLOSED}, so that it is not taken for the
 * client's own cancel: `task_start` does not kill its task for it), and no
 * answer is sent.
 */
function cancelCall(
  transport: WebStandardStreamableHTTPServerTransport,
  id: string | number,
): void {
  transport.onmessage?.({
    jsonrpc: "2.0",
    method: "notifications/cancelled",
    params: { requestId: id, reason: CONNECTION_CLOSED },
  });
}

/** A JSON-RPC error answered with HTTP `status` (`code` -32000, `id` null, unless given). */
function jsonError(
  status: number,
  message: string,
  { code = -32000, id = null }: { code?: number; id?: string | number | null } = {},
): Response {
  return new Response(
    JSON.stringify({ jsonrpc: "2.0", id, error: { code, message } }),
    { status, headers: { "content-type": "application/json" } },
  );
}

/**
 * The answer to a batch (a JSON array): refused whole, as stdio refuses it.
 * MCP has had no batches since 2025-06-18; the SDK took them, but a batch's
 * calls share one response stream, which the cancel of one of them ended
 * while the others ran on, their answers lost with it.
 */
function batchRefused(): Response {
  return jsonError(
    400,
    "Invalid Request: JSON-RPC batches (arrays) are not supported, as MCP has none since " +
      "2025-06-18: send each message in a POST of its own",
    { code: INVALID_REQUEST },
  );
}

/**
 * The answer to a body that is JSON but no JSON-RPC message (no "jsonrpc",
 * an id null or an object, …): Invalid Request, with its id when readable
 * and what is wrong, as stdio answers it (`badRequest`). (The SDK's
 * transport answered -32700 "Parse error: Invalid JSON-RPC message", id
 * null: a client waiting on its id got no answer to it.)
 */
function invalidRequest({ id, wrong }: NonNullable<Post["invalid"]>): Response {
  return jsonError(400, notJsonRpc(wrong), { code: INVALID_REQUEST, id });
}

/**
 * The answer to a request without an `Mcp-Session-Id` header that is no
 * initialize: where a session id comes from. (The SDK said "Server not
 * initialized", whatever sessions the server held.)
 */
function sessionRequired(): Response {
  return jsonError(
    400,
    "Bad Request: Mcp-Session-Id header required: initialize (a POST of an initialize request " +
      "without the header) to get one, from the Mcp-Session-Id header of its response, then " +
      "send it with every request",
  );
}

/**
 * The answer to a request whose id a call of the same session in progress
 * has: the SDK keeps calls and their answers by id, so one of the two would
 * never be answered. The first goes on.
 */
function idInUse(id: string | number): Response {
  return jsonError(400, idInUseMessage(id), { code: INVALID_REQUEST, id });
}

/**
 * The answer for a path other than {@linkcode MCP_PATH}: what is served, and
 * how. An OAuth client shows it as the reason its OAuth flow failed.
 */
function notFound(): Response {
  return jsonError(
    404,
    `Not found: this server serves MCP at ${MCP_PATH} alone, with a static bearer token ` +
      '("Authorization: Bearer <token>"; the token is in the store\'s mcp-token file, or what ' +
      "--token was given); it has no OAuth",
  );
}

/**
 * Serves MCP over Streamable HTTP until `signal` aborts.
 *
 * Requires `--allow-net` for the address (and the store permissions).
 */
export function serveHttp(opts: HttpOptions): Promise<HttpServer> {
  const sessions = new Map<string, Entry>();
  const cap = opts.maxSessions ?? MAX_SESSIONS;
  const idleMs = opts.sessionIdleMs ?? SESSION_IDLE_MS;
  // Why the sessions closed by the server went (the latest GONE_KEPT), for their 404.
  const gone = new Map<string, Gone>();
  const noteGone = (id: string, why: Gone) => {
    gone.delete(id);
    gone.set(id, why);
    for (const old of gone.keys()) {
      if (gone.size <= GONE_KEPT) break;
      gone.delete(old);
    }
  };
  // Aborted (SERVER_STOPPING) when the server stops: a call that waits answers at once.
  const stopping = new AbortController();
  // A session's completion consumer is forgotten when the session ends
  // (awaited before the server counts as finished).
  const forgetting = new Set<Promise<void>>();
  const forget = (r: Registration) => {
    const p = releaseConsumer(opts.tasks, r);
    forgetting.add(p);
    void p.finally(() => forgetting.delete(p));
  };

  const close = async (id: string, why?: "expired" | "evicted") => {
    const e = sessions.get(id);
    sessions.delete(id);
    if (e && why) noteGone(id, why);
    await e?.transport.close().catch(() => {});
  };

  /** The 404 for a session id the server does not have: why it went, when known, and the fix. */
  const sessionGone = (id: string): Response => {
    const why = gone.get(id);
    const lost = "its completion notices went with it (task_list shows every task)";
    return jsonError(
      404,
      why === "expired"
        ? `Session not found: it expired after ${
          formatDuration(idleMs)
        } without a request, and ${lost}: initialize again (a new session)`
        : why === "evicted"
        ? `Session not found: it was closed, idle, to make room for newer sessions (this server ` +
          `keeps ${cap}), and ${lost}: initialize again (a new session)`
        : why === "deleted"
        ? "Session not found: the client ended it (a DELETE with its Mcp-Session-Id), and " +
          `${lost}: initialize again (a new session)`
        : "Session not found: it ended, expired (idle for " + formatDuration(idleMs) +
          `), was closed past the cap of ${cap} sessions, or the server restarted: ` +
          "initialize again (a new session)",
    );
  };

  /**
   * Closes idle sessions until the cap holds: first those that made no
   * request after their initialize, then those that made few (one-shot
   * clients', {@linkcode FEW_REQUESTS}), then the others, the least recently
   * used first in each; never `keep` (the one just used), nor one whose call
   * or stream is open (past the cap while there is none to close). Each new
   * session, and each session's last request to end, trims: sessions over
   * the cap while they were busy go once idle (one closed per new session
   * left them over it).
   */
  const trim = (keep: string) => {
    const over = sessions.size - cap;
    if (over <= 0) return;
    const rank = (e: Entry) => e.requests === 0 ? 0 : e.requests <= FEW_REQUESTS ? 1 : 2;
    const idle = [...sessions].filter(([sid, e]) => sid !== keep && e.busy === 0);
    idle.sort((a, b) => rank(a[1]) - rank(b[1]) || a[1].lastUsed - b[1].lastUsed);
    for (const [sid] of idle.slice(0, over)) void close(sid, "evicted");
  };

  // Closes the sessions idle for idleMs (no call, no stream open), which the
  // client never ended: their consumers are forgotten with them.
  const expire = () => {
    const now = Date.now();
    for (const [sid, e] of sessions) {
      if (e.busy === 0 && now - e.lastUsed >= idleMs) void close(sid, "expired");
    }
  };
  const stopSweeper = every(Math.max(10, Math.min(60_000, idleMs / 4)), expire);

  const newSession = async (
    initialize: boolean,
  ): Promise<WebStandardStreamableHTTPServerTransport> => {
    // Only a session that can start gets a completion consumer: the transport refuses
    // anything but initialize without a session, and each consumer is a folder in the store.
    const registration = initialize ? registerConsumer(opts.tasks) : NO_SESSION;
    let ended = false;
    const end = () => {
      if (ended || !initialize) return;
      ended = true;
      forget(registration);
    };
    const transport = new WebStandardStreamableHTTPServerTransport({
      maxRequestBodySize: MAX_BODY,
      sessionIdGenerator: () => crypto.randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, {
          transport,
          lastUsed: Date.now(),
          requests: 0,
          busy: 0,
          calls: new Map(),
        });
        trim(id);
      },
      // (Called for the client's DELETE alone.)
      onsessionclosed: (id) => {
        if (sessions.delete(id)) noteGone(id, "deleted");
        end();
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
      end();
    };
    await createServer({ tasks: opts.tasks, consumer: registration, ending: stopping.signal })
      .connect(transport);
    return transport;
  };

  const handler = async (req: Request): Promise<Response> => {
    const foreign = checkSource(req, opts.remote, opts.hosts);
    if (foreign) return refusalResponse(foreign);
    // Nothing is served but MCP_PATH, so another path is a 404 with or without
    // the token. An OAuth client (the MCP Inspector) that gets the 401 of
    // MCP_PATH looks for OAuth metadata (/.well-known/oauth-protected-resource,
    // …), then, finding none, registers at /register: a 401 there too sent it
    // into an OAuth flow this server has no part in; a 404 ends that flow, and
    // the client shows why.
    const url = new URL(req.url);
    if (url.pathname !== MCP_PATH) return notFound();
    const refusal = checkBearer(req, opts.token);
    if (refusal) return refusalResponse(refusal);
    if (stopping.signal.aborted) {
      return jsonError(503, "The server is stopping: connect again once it is back");
    }
    const sid = req.headers.get("mcp-session-id");
    if (sid !== null) {
      const entry = sessions.get(sid);
      if (!entry) return sessionGone(sid);
      entry.lastUsed = Date.now();
      // Busy from its first byte: a session whose request is still arriving
      // is no idle one for trim to close (it was, while its body came).
      entry.busy++;
      let post: Post;
      try {
        post = await readPost(req);
      } catch (e) {
        entry.busy--;
        throw e;
      }
      if (post.batch) {
        entry.busy--;
        return batchRefused();
      }
      if (post.invalid) {
        entry.busy--;
        return invalidRequest(post.invalid);
      }
      req = post.req;
      const messages = post.messages;
      // The calls this request makes, and the calls it cancels.
      const calls = messages.filter((m) => typeof m.method === "string" && idKey(m.id))
        .map((m) => m.id as string | number);
      entry.requests += calls.length;
      const cancels = messages.filter((m) => m.method === "notifications/cancelled")
        .map((m) => idKey((m.params as { requestId?: unknown } | undefined)?.requestId));
      // (Checked and taken with no await between: two requests with one id cannot both pass.)
      const taken = calls.find((id) => entry.calls.has(idKey(id)!));
      if (taken !== undefined) {
        entry.busy--;
        return idInUse(taken);
      }
      const streams = calls.map((id) => {
        const stream: CallStream = { id };
        entry.calls.set(idKey(id)!, stream);
        return [idKey(id)!, stream] as const;
      });
      const release = () => {
        for (const [key, stream] of streams) {
          if (entry.calls.get(key) === stream) entry.calls.delete(key);
        }
      };
      let res: Response;
      try {
        res = await entry.transport.handleRequest(req);
      } catch (e) {
        entry.busy--;
        release();
        throw e;
      }
      // A call the client cancelled gets no answer (the SDK's rule): its stream ends now.
      for (const key of cancels) {
        const stream = key === undefined ? undefined : entry.calls.get(key);
        if (!stream) continue;
        stream.cancelled = true;
        stream.finish?.();
      }
      const { response, finish } = whenSent(res, (whole) => {
        entry.busy--;
        entry.lastUsed = Date.now();
        release();
        // The client's connection closed before the answer: as good as a cancel. A
        // call still running stops (a waiting task_completions would take the
        // notices for nobody; a task_wait would wait for nobody); a task_start's
        // task runs on (see cancelCall).
        if (!whole) { for (const id of calls) cancelCall(entry.transport, id); }
        if (entry.busy === 0 && sessions.has(sid)) trim(sid);
      });
      for (const [, stream] of streams) {
        stream.finish = finish;
        // (Cancelled while the SDK was still taking it: ended now.)
        if (stream.cancelled) finish();
      }
      return response;
    }
    // No session: only an initialize request opens one (the transport answers anything else).
    const post = await readPost(req);
    if (post.batch) return batchRefused();
    if (post.invalid) return invalidRequest(post.invalid);
    req = post.req;
    const initialize = post.messages.some((m) => m.method === "initialize");
    // Any other request needs a session. (A POST that gave no messages, too
    // large to read or not JSON, is the transport's to refuse: a parse error.)
    const read = req.method !== "POST" || post.messages.length > 0;
    if (!initialize && ["GET", "POST", "DELETE"].includes(req.method) && read) {
      return sessionRequired();
    }
    const transport = await newSession(initialize);
    const res = await transport.handleRequest(req);
    if (!transport.sessionId) await transport.close().catch(() => {});
    return res;
  };

  const host = opts.hostname.includes(":") ? `[${opts.hostname}]` : opts.hostname;
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: opts.hostname,
      port: opts.port,
      onListen: () => {}, // the caller reports the address
      onError: (e) => jsonError(500, `Internal error: ${e instanceof Error ? e.message : e}`),
    }, handler);
  } catch (e) {
    stopSweeper();
    // Deno's own words name the flag but not its scope, which the install
    // needs (--allow-net alone would let the server reach anything).
    if (isPermissionError(e)) {
      rethrowPermission(
        e,
        `Cannot serve MCP on ${host}:${opts.port}`,
        netAdvice(`${host}:${opts.port}`),
      );
    }
    // Deno's own words ("address already in use (os error 98)") name neither the address nor the fix.
    throw listenError(e, host, opts.port) ?? e;
  }
  // Stopped: the calls in progress answer first (one that waits answers at
  // once, with what it has: see Call.ending), for up to STOP_ANSWER_MS; then
  // the sessions are closed, and the server shuts down. (Deno.serve's own
  // signal cut the answers being sent: a client got no answer, curl rc 18.)
  // Notification streams end at once: open, they would hold a graceful
  // shutdown forever; new requests meanwhile are refused (503).
  const stop = async () => {
    stopSweeper();
    stopping.abort(SERVER_STOPPING);
    for (const e of sessions.values()) e.transport.closeStandaloneSSEStream();
    const deadline = Date.now() + STOP_ANSWER_MS;
    while ([...sessions.values()].some((e) => e.calls.size > 0) && Date.now() < deadline) {
      await sleep(20);
    }
    // Those still unfinished get an answer that says so (see unfinishedAtStop);
    // one answered meanwhile is past the transport's reach (the send throws).
    await Promise.all(
      [...sessions.values()].flatMap((e) =>
        [...e.calls.values()].map((stream) =>
          e.transport.send(unfinishedAtStop(stream.id)).catch(() => {})
        )
      ),
    );
    await Promise.all([...sessions.keys()].map((id) => close(id)));
    await server.shutdown();
  };
  if (opts.signal?.aborted) void stop();
  else opts.signal?.addEventListener("abort", () => void stop(), { once: true });
  const port = server.addr.port;
  return Promise.resolve({
    url: `http://${host}:${port}${MCP_PATH}`,
    port,
    finished: server.finished.then(async () => {
      stopSweeper();
      await Promise.all([...sessions.keys()].map((id) => close(id)));
      await Promise.all(forgetting);
    }),
  });
}
