/**
 * The checks an HTTP request to `bgtask mcp --http` passes before it
 * reaches MCP: its Host and Origin name this machine (no DNS rebinding),
 * whatever its path, and it carries the bearer token.
 *
 * @module
 */

import { timingSafeEqual } from "node:crypto";

const encoder = new TextEncoder();

/** A refusal: the HTTP status and one line saying what is wrong and how to fix it. */
export interface Refusal {
  status: 401 | 403;
  message: string;
}

/** Whether a host name (no port) is a loopback one: `localhost`, `127.x.y.z`, `::1`. */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Whether a host name is an IP address literal (v4, or v6 in brackets or not). */
function isIpLiteral(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "");
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(h) || (h.includes(":") && /^[0-9a-f:.]+$/i.test(h));
}

/** The host name of a Host header value (`host:port`, `[v6]:port`). */
function hostnameOf(hostHeader: string): string {
  const v = hostHeader.trim().toLowerCase();
  if (v.startsWith("[")) return v.slice(0, v.indexOf("]") + 1);
  const colon = v.lastIndexOf(":");
  return colon >= 0 ? v.slice(0, colon) : v;
}

/**
 * Whether a host name may appear in Host or Origin. On a loopback address,
 * only loopback names. On another (with `--allow-remote`), also IP literals:
 * a DNS rebinding attack needs a domain name, so other names are refused,
 * but those the server was told to allow (`--allow-host NAME`: its DNS
 * name, a reverse proxy's).
 *
 * @param hosts The names allowed besides (lower case).
 *
 * @example
 * ```ts
 * import { hostAllowed } from "./http_guard.ts";
 * import { equal } from "node:assert/strict";
 * equal(hostAllowed("localhost", false), true);
 * equal(hostAllowed("192.168.1.5", true), true);
 * equal(hostAllowed("box.lan", true), false);
 * equal(hostAllowed("box.lan", true, ["box.lan"]), true);
 * ```
 */
export function hostAllowed(
  hostname: string,
  remote: boolean,
  hosts: readonly string[] = [],
): boolean {
  if (isLoopback(hostname)) return true;
  if (hosts.includes(hostname.toLowerCase())) return true;
  return remote && isIpLiteral(hostname);
}

/**
 * Checks Host and Origin (403): whatever the path, so that a web page never
 * learns anything of the server through DNS rebinding. Undefined when the
 * request may go on.
 *
 * @param remote The server listens beyond this machine (`--allow-remote`).
 * @param hosts The names allowed besides loopback ones and IP addresses
 *   (`--allow-host`, lower case).
 */
export function checkSource(
  req: Request,
  remote: boolean,
  hosts: readonly string[] = [],
): Refusal | undefined {
  const host = req.headers.get("host");
  if (host === null || !hostAllowed(hostnameOf(host), remote, hosts)) {
    const name = host === null ? "" : hostnameOf(host);
    const allow = name && !isIpLiteral(name)
      ? `; a name that reaches this server on purpose (its DNS name, a reverse proxy's) is ` +
        `allowed with --allow-host ${name}`
      : "";
    return {
      status: 403,
      message: `Host ${JSON.stringify(host ?? "")} is refused: ` +
        (remote
          ? "use this server's IP address (http://ADDRESS:PORT/mcp) or http://localhost:PORT/mcp"
          : "use http://127.0.0.1:PORT/mcp or http://localhost:PORT/mcp") +
        ` (other names are refused against DNS rebinding${allow})`,
    };
  }
  const origin = req.headers.get("origin");
  if (origin !== null) {
    let ok = false;
    try {
      const u = new URL(origin);
      ok = (u.protocol === "http:" || u.protocol === "https:") &&
        hostAllowed(u.hostname, remote, hosts);
    } catch {
      ok = false;
    }
    if (!ok) {
      return {
        status: 403,
        message: `Origin ${JSON.stringify(origin)} is refused: web pages of other sites may not ` +
          "call this server",
      };
    }
  }
  return undefined;
}

/** Where the token is, for the refusals' fix. */
const TOKEN_FROM = "the token is in the store's mcp-token file, or what --token was given";

/** Checks the bearer token (401); undefined when the request carries the right one. */
export function checkBearer(req: Request, token: string): Refusal | undefined {
  const auth = (req.headers.get("authorization") ?? "").trim();
  const [scheme, ...rest] = auth.split(/\s+/);
  if (auth !== "" && rest.length === 0 && scheme.toLowerCase() !== "bearer") {
    // (Not named: a lone word may be the token itself.)
    return {
      status: 401,
      message: 'The Authorization header has no scheme: send "Authorization: Bearer <token>", ' +
        `"Bearer " before the token (${TOKEN_FROM})`,
    };
  }
  if (auth !== "" && scheme.toLowerCase() !== "bearer") {
    // A client set up for Basic (or another scheme) hears which part is wrong.
    const shown = scheme.length > 20 ? scheme.slice(0, 20) + "…" : scheme;
    return {
      status: 401,
      message: `Wrong authorization scheme ${JSON.stringify(shown)}: this server takes a ` +
        `bearer token, "Authorization: Bearer <token>" (${TOKEN_FROM})`,
    };
  }
  const m = /^Bearer\s+(\S+)$/i.exec(auth);
  if (!m) {
    return {
      status: 401,
      message:
        `Missing bearer token: send the header "Authorization: Bearer <token>" (${TOKEN_FROM})`,
    };
  }
  const given = encoder.encode(m[1]);
  const want = encoder.encode(token);
  if (given.length !== want.length || !timingSafeEqual(given, want)) {
    return {
      status: 401,
      message:
        "Wrong bearer token: use the one in the store's mcp-token file (or the --token given)",
    };
  }
  return undefined;
}

/** The HTTP response for a refusal (JSON-RPC error shape, which MCP clients show). */
export function refusalResponse(r: Refusal): Response {
  return new Response(
    JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32001, message: r.message } }),
    {
      status: r.status,
      headers: {
        "content-type": "application/json",
        ...(r.status === 401 ? { "www-authenticate": 'Bearer realm="bgtask"' } : {}),
      },
    },
  );
}
