/**
 * What `mcp --http` says when it cannot listen where it was told: Deno's own
 * words ("failed to lookup address information: Name or service not
 * known", "address already in use (os error 98)") name neither the address
 * nor `--http`, nor the fix.
 *
 * @module
 */

/**
 * The error to throw for `e`, thrown by `Deno.serve` on `host:port`
 * (`host` bracketed when IPv6), or undefined when there is nothing to add.
 *
 * @example
 * ```ts
 * import { listenError } from "./listen_error.ts";
 * import { match } from "node:assert/strict";
 * const e = new Error("failed to lookup address information: Name or service not known");
 * match(listenError(e, "nonexistent.invalid", 8795)!.message, /does not resolve/);
 * ```
 */
export function listenError(e: unknown, host: string, port: number): Error | undefined {
  const at = `cannot serve MCP on ${host}:${port}`;
  const own = "give --http an address of this machine (127.0.0.1; or 0.0.0.0 with " +
    "--allow-remote, for every interface)";
  if (e instanceof Deno.errors.AddrInUse) {
    return new Deno.errors.AddrInUse(
      `${at}: the address is already in use (another server holds the port, perhaps another ` +
        "bgtask mcp --http): give --http another port, or stop what holds this one",
      { cause: e },
    );
  }
  if (e instanceof Deno.errors.AddrNotAvailable) {
    return new Deno.errors.AddrNotAvailable(
      `${at}: ${host} is not an address of this machine, so nothing can listen there ` +
        `(${(e as Error).message}): ${own}`,
      { cause: e },
    );
  }
  const message = e instanceof Error ? e.message : String(e);
  if (/failed to lookup address|invalid host/i.test(message)) {
    return new Error(
      `${at}: the host name ${host} does not resolve (${message}): check --http's host for a ` +
        `typo, or ${own}`,
      { cause: e },
    );
  }
  return undefined;
}
