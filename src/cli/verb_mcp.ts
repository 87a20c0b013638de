/**
 * `bgtask mcp [--consumer NAME | --http [HOST:]PORT [--token T] [--allow-remote]]`: an MCP
 * server for agents, over stdio or Streamable HTTP. The MCP SDK is imported
 * only here, when the verb runs, so no other verb pays for loading it.
 *
 * @module
 */

import { type Parsed, parseName } from "./args.ts";
import type { Context, Verb } from "./context.ts";
import { UsageError } from "./errors.ts";
import { printErr } from "./output.ts";
import { quote } from "./escape.ts";
import { listen, stoppedBy } from "./signals.ts";

/** An address `[HOST:]PORT` for `--http`. */
export interface HttpAddress {
  hostname: string;
  port: number;
  /** Not a loopback address. */
  remote: boolean;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/i;

/**
 * Parses `--http`'s value: `PORT` (on 127.0.0.1), `HOST:PORT`, `[V6]:PORT`.
 *
 * @throws {UsageError} For anything else.
 *
 * @example
 * ```ts
 * import { parseHttpAddress } from "./verb_mcp.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(parseHttpAddress("8080"), { hostname: "127.0.0.1", port: 8080, remote: false });
 * ```
 */
export function parseHttpAddress(text: string): HttpAddress {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:\[\]]+):)?(\d+)$/.exec(text.trim());
  if (!m) {
    throw new UsageError(
      `invalid --http ${quote(text)} (expected PORT or HOST:PORT, e.g. 8080 or 127.0.0.1:8080)`,
    );
  }
  const port = Number(m[2]);
  if (port > 65535) {
    throw new UsageError(
      `invalid --http ${quote(text)}: port ${m[2]} is out of range: give 1 to 65535 (or 0 for ` +
        `any free port), e.g. 8080`,
    );
  }
  const hostname = (m[1] ?? "127.0.0.1").replace(/^\[|\]$/g, "");
  if (!m[1]?.startsWith("[") && !HOST_NAME.test(hostname)) {
    throw new UsageError(
      `invalid --http ${quote(text)}: ${quote(hostname)} is not a host name or IP address ` +
        `(letters, digits, "-", "_" and "." only): give one of this machine's, e.g. ` +
        `127.0.0.1:${port}`,
    );
  }
  return { hostname, port, remote: !LOOPBACK.test(hostname) };
}

/** A host name's or IPv4 address's form: dot-separated labels of up to 63 letters, digits, "-" (and "_"). */
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** An IP address (v4, or v6 as given in brackets): no name to mistype. */
const IP_ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*)$/;

/**
 * Checks `--consumer NAME`: a name as `completions --consumer` takes it,
 * over stdio only, and not `default` (the command line's own consumer).
 *
 * @throws {UsageError} With --http, or for a name refused.
 *
 * @example
 * ```ts
 * import { mcpConsumer } from "./verb_mcp.ts";
 * import { equal, throws } from "node:assert/strict";
 * equal(mcpConsumer("claude-main", false), "claude-main");
 * throws(() => mcpConsumer("claude-main", true), /only used over stdio/);
 * ```
 */
export function mcpConsumer(name: string, http: boolean): string {
  if (http) {
    throw new UsageError(
      "--consumer is only used over stdio: an --http server has many sessions, each with a " +
        "consumer of its own (one name shared would split its notices among them); give each " +
        "agent a stdio server of its own with --consumer NAME",
    );
  }
  const checked = parseName(name, "--consumer");
  if (checked === "default") {
    throw new UsageError(
      "--consumer default is the command line's own consumer (bgtask completions with no " +
        "--consumer): the server would take its notices; give the agent a name of its own, " +
        "e.g. --consumer claude-main",
    );
  }
  return checked;
}

/**
 * The names `--allow-host` allows in Host and Origin, in lower case: a host
 * name, not an address (`box.lan`, `mcp.example.com`); an IP address needs
 * no such flag (`--allow-remote` allows them), a port or a scheme is no
 * name.
 *
 * @example
 * ```ts
 * import { allowedHosts } from "./verb_mcp.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 * deepEqual(allowedHosts(["Box.LAN", "mcp.example.com"]), ["box.lan", "mcp.example.com"]);
 * throws(() => allowedHosts(["box.lan:8765"]), /a host name alone/);
 * ```
 */
export function allowedHosts(given: readonly string[] | undefined): string[] {
  return (given ?? []).map((name) => {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(name)) {
      throw new UsageError(
        `--allow-host ${quote(name)} is no host name: give a host name alone, as clients ` +
          "write it in their URL (--allow-host box.lan), without a port or scheme",
      );
    }
    return name.toLowerCase();
  });
}

/** The `mcp` verb. */
export const mcpVerb: Verb = {
  name: "mcp",
  writes: true,
  options: {
    http: { type: "string" },
    token: { type: "string" },
    "allow-remote": { type: "boolean" },
    "allow-host": { type: "string", multiple: true },
    consumer: { type: "string" },
  },
  positionals: "none",
  async run(ctx: Context, { values }: Parsed): Promise<number> {
    const http = values.http === undefined ? undefined : parseHttpAddress(values.http as string);
    if (!http && values.token !== undefined) {
      throw new UsageError("--token is only used with --http (stdio needs no token)");
    }
    if (http && values.token !== undefined) {
      // Not refused (scripts and tests pass one), but said: anyone here can read it.
      printErr(
        "bgtask mcp: warning: a --token on the command line is visible to every user of this " +
          "machine (ps shows command lines), and with it they can run commands as you; prefer " +
          "$BGTASK_MCP_TOKEN or the store's mcp-token file (the default)",
      );
    }
    if (!http && values["allow-remote"]) {
      throw new UsageError("--allow-remote is only used with --http");
    }
    const hosts = allowedHosts(values["allow-host"] as string[] | undefined);
    if (!http && hosts.length > 0) {
      throw new UsageError("--allow-host is only used with --http");
    }
    const consumer = values.consumer === undefined
      ? undefined
      : mcpConsumer(values.consumer as string, http !== undefined);
    if (http?.remote && !values["allow-remote"]) {
      // A name may be a typo, which --allow-remote would not mend: said too.
      const name = IP_ADDRESS.test(http.hostname)
        ? ""
        : ` (if ${quote(http.hostname)} is a typo, mend it instead: the host must name an ` +
          `address of this machine)`;
      throw new UsageError(
        `--http ${quote(values.http as string)} would listen beyond this machine: add ` +
          `--allow-remote to mean it (the token is still required), or use 127.0.0.1${name}`,
      );
    }
    const tasks = ctx.tasks();
    if (!http && Deno.stdin.isTerminal()) {
      // Someone typed it: MCP over stdio is for a client that starts it.
      printErr(
        "bgtask mcp: serving MCP on this terminal's stdin and stdout, which is how an MCP " +
          'client starts it (see "Use from an agent (MCP)" in the README); Ctrl-D ends it',
      );
    }
    // Stopped by a signal (a host ends its stdio server with SIGTERM), the
    // server ends its sessions as when the client goes: their consumers are
    // forgotten, not left in the store (but a --consumer NAME, kept for the
    // next server of that name).
    // Then the process ends by that signal, as every verb's (see signals.ts).
    const stop = new AbortController();
    let heard: Deno.Signal | undefined;
    const stops = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((s) =>
      listen(s, () => {
        heard ??= s;
        stop.abort();
      })
    );
    try {
      const { runMcp } = await import("../mcp/main.ts");
      const code = await runMcp({
        tasks,
        http: http && { ...http, hosts },
        token: values.token as string | undefined,
        consumer,
        log: printErr,
        signal: stop.signal,
      });
      return heard === undefined ? code : stoppedBy(heard);
    } finally {
      for (const stop of stops) stop();
    }
  },
};
