/**
 * A loopback HTTP proxy that adds `Authorization: Bearer <token>` to every
 * request and passes everything else through untouched (Host and Origin
 * included, so the server's DNS-rebinding checks still see what the client
 * sent). For clients that cannot send headers, such as the MCP conformance
 * suite.
 */

import http from "node:http";
import type { AddressInfo } from "node:net";

/** A running proxy. */
export interface AuthProxy {
  /** The proxy's origin, `http://127.0.0.1:PORT`. */
  origin: string;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (an origin on this machine) on a free loopback port. */
export function startAuthProxy(target: URL, token: string): Promise<AuthProxy> {
  const server = http.createServer((req, res) => {
    const upstream = http.request({
      hostname: target.hostname,
      port: Number(target.port),
      method: req.method,
      path: req.url,
      headers: { ...req.headers, authorization: `Bearer ${token}` },
    }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    res.on("close", () => upstream.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        origin: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
