/** The pure parts of the MCP server: argument checks, request guards, address parsing, output cleaning. */

import { assert, assertEquals, assertMatch } from "./_helpers/assert.ts";
import { checkArgs, jsonSchema } from "../src/mcp/args.ts";
import { checkBearer, checkSource, hostAllowed } from "../src/mcp/http_guard.ts";

/** What a request to the MCP endpoint passes (as the server's handler does): Host/Origin, then the token. */
function checkRequest(req: Request, opts: { token: string; remote: boolean }) {
  return checkSource(req, opts.remote) ?? checkBearer(req, opts.token);
}
import { parseHttpAddress } from "../src/cli/verb_mcp.ts";
import { cleanOutput, endText, statusLine } from "../src/mcp/format.ts";
import { withStore } from "./_helpers/common.ts";
import { omittedMarker } from "../src/mcp/read.ts";
import type { TaskInfo } from "../mod.ts";
import { checkToken } from "../src/mcp/token.ts";

function req(headers: Record<string, string>): Request {
  return new Request("http://127.0.0.1:8765/mcp", { method: "POST", headers });
}

Deno.test("Host and Origin: loopback names only on a loopback address; IP literals too with --allow-remote; names never", () => {
  for (const h of ["localhost", "127.0.0.1", "127.1.2.3", "[::1]", "::1"]) {
    assert(hostAllowed(h, false), h);
  }
  for (const h of ["evil.example.com", "192.168.1.5", "0.0.0.0", "localhost.evil.com"]) {
    assert(!hostAllowed(h, false), h);
  }
  assert(hostAllowed("192.168.1.5", true));
  assert(hostAllowed("[fe80::1]", true));
  assert(!hostAllowed("my-laptop.local", true));
});

Deno.test("checkRequest: 403 for a foreign Host or Origin before 401 for the token", () => {
  const token = "0123456789abcdef0123";
  const auth = { authorization: `Bearer ${token}` };
  const opts = { token, remote: false };
  assertEquals(checkRequest(req({ host: "127.0.0.1:8765", ...auth }), opts), undefined);
  assertEquals(checkRequest(req({ host: "evil.com:8765" }), opts)?.status, 403);
  assertEquals(
    checkRequest(req({ host: "localhost", origin: "https://evil.com", ...auth }), opts)?.status,
    403,
  );
  assertEquals(
    checkRequest(req({ host: "localhost", origin: "file://", ...auth }), opts)?.status,
    403,
  );
  assertEquals(
    checkRequest(req({ host: "localhost", origin: "http://localhost:3000", ...auth }), opts),
    undefined,
  );
  assertEquals(checkRequest(req({ host: "localhost" }), opts)?.status, 401);
  assertEquals(
    checkRequest(req({ host: "localhost", authorization: "Basic abc" }), opts)?.status,
    401,
  );
  assertEquals(
    checkRequest(req({ host: "localhost", authorization: `Bearer ${token}0` }), opts)?.status,
    401,
  );
  assertEquals(
    checkRequest(req({ host: "localhost", authorization: `bearer ${token}` }), opts),
    undefined,
  );
});

Deno.test("--http addresses: PORT, HOST:PORT, [V6]:PORT; remote unless loopback", () => {
  assertEquals(parseHttpAddress("8765"), { hostname: "127.0.0.1", port: 8765, remote: false });
  assertEquals(parseHttpAddress("localhost:1"), { hostname: "localhost", port: 1, remote: false });
  assertEquals(parseHttpAddress("[::1]:9000"), { hostname: "::1", port: 9000, remote: false });
  assertEquals(parseHttpAddress("0.0.0.0:80"), { hostname: "0.0.0.0", port: 80, remote: true });
  for (const bad of ["", "x", "70000", "::1:80", "host:", ":80"]) {
    let threw = false;
    try {
      parseHttpAddress(bad);
    } catch {
      threw = true;
    }
    assert(threw, `accepted ${JSON.stringify(bad)}`);
  }
});

Deno.test("tokens shorter than 16 characters, or with spaces or quotes, are refused", () => {
  assertEquals(checkToken(" 0123456789abcdef ", "--token"), "0123456789abcdef");
  for (const bad of ["short", "0123456789 abcdef", '0123456789abcdef"']) {
    let threw = false;
    try {
      checkToken(bad, "--token");
    } catch {
      threw = true;
    }
    assert(threw, bad);
  }
});

Deno.test("checkArgs fills defaults, normalises ids, and the JSON Schema is closed", () => {
  const fields = {
    id: { type: "id" as const, description: "d", required: true },
    n: {
      type: "integer" as const,
      description: "d",
      minimum: 1,
      maximum: 5,
      default: 2,
      unit: "x",
    },
    ids: { type: "ids" as const, description: "d", maxItems: 3 },
  };
  assertEquals(checkArgs("t", fields, { id: 7, ids: ["b1", "1", "2"] }), {
    id: "b7",
    n: 2,
    ids: ["b1", "b2"],
  });
  const schema = jsonSchema(fields);
  assertEquals(schema.required, ["id"]);
  assertEquals(schema.additionalProperties, false);
});

Deno.test("cleanOutput removes colour codes, keeps a redrawn line's last state, escapes other controls", () => {
  assertEquals(cleanOutput("\x1b[1;32mok\x1b[0m\n"), "ok\n");
  assertEquals(cleanOutput("10%\r50%\r100%\n"), "100%\n");
  // A CRLF line end (a terminal's, every pty task's) is a line end, not a redraw.
  assertEquals(cleanOutput("a\r\nb\x07\n"), "a\nb\\x07\n");
  assertEquals(cleanOutput("server listening on 3000\r"), "server listening on 3000");
  assertEquals(cleanOutput("50%\r"), "50%"); // a bar drawn, the cursor back at its start
  assertEquals(cleanOutput("\r\r\n"), "\n");
  // C1 controls and bidi overrides (which reorder what a reader sees) are written out.
  assertEquals(cleanOutput("a\x9b31mb \u202eevil\u202c\n"), "a\\x9b31mb \\u{202e}evil\\u{202c}\n");
  // A long line, with and without a carriage return in it.
  const long = "x".repeat(20_000);
  assertEquals(cleanOutput(long + "\n"), long + "\n");
  assertEquals(cleanOutput("y\r" + long + "\n"), long + "\n");
  assertEquals(cleanOutput("\x1b]0;title\x07text"), "text");
  // A character set's escape (tput sgr0 ends with one), a DCS string, and a
  // progress bar redrawn by erasing the line instead of a carriage return.
  assertEquals(cleanOutput("\x1b[1mbold\x1b(B\x1b[m plain\n"), "bold plain\n");
  assertEquals(cleanOutput("\x1bP1;2q\x1b\\after\n"), "after\n");
  assertEquals(
    cleanOutput("Downloading 10%\x1b[2K\x1b[1GDownloading 50%\x1b[2K\x1b[GDownloading 100%\n"),
    "Downloading 100%\n",
  );
});

Deno.test("MCP wording: a task that never ran says why once; a cut inside one line says so", () => {
  const dep = {
    reason: "dependency",
    error: "not run: a task it runs after did not complete (b1 failed)",
  } as unknown as TaskInfo;
  assertEquals(endText(dep), "never ran: a task it runs after did not complete (b1 failed)");
  const inside = omittedMarker("b2", { from: 10, to: 110, lines: 0 });
  assert(inside.startsWith("[… 100 bytes (inside one line) left out here: "), inside);
  const one = omittedMarker("b2", { from: 10, to: 110, lines: 1 });
  assert(one.startsWith("[… 100 bytes (1 line) left out here: "), one);
});

Deno.test("the status line of a task whose shell left processes running says they were ended, whatever its exit code", async () => {
  await withStore(async (tasks) => {
    const served = await tasks.wait((await tasks.spawnShell("sleep 300 & echo started")).id);
    const plain = await tasks.wait((await tasks.spawnShell("echo started")).id);
    assertMatch(
      statusLine(served),
      /^b1 completed \(exit code 0\) after [0-9.]+m?s; processes it left running \(`&`\) were ended with it — sleep 300 & echo started$/,
    );
    assertMatch(
      statusLine(plain),
      /^b2 completed \(exit code 0\) after [0-9.]+m?s — echo started$/,
    );
  });
});

Deno.test("MCP headline of a task that never ran escapes the reason's folder: a queued task whose --cwd (with escapes) was removed before it started", async () => {
  await withStore(async (tasks, dir) => {
    const gone = `${dir}/gone\x1b]0;PWN\x07\u{e0041}`;
    await Deno.mkdir(gone);
    const first = await tasks.spawnShell(`until [ -e '${dir}/go' ]; do sleep 0.02; done`);
    const queued = await tasks.spawnShell("pwd", { cwd: gone, after: [first.id] });
    await Deno.remove(gone);
    await Deno.writeTextFile(`${dir}/go`, "");
    const t = await tasks.wait(queued.id, { signal: AbortSignal.timeout(30_000) });
    assertEquals(t.reason, "start", JSON.stringify(t));
    const line = statusLine(t);
    assertMatch(line, /never ran: .*gone\\x1b\]0;PWN\\x07\\u\{e0041\}/);
    // deno-lint-ignore no-control-regex
    assert(!/[\x00-\x1f\x7f-\x9f\u{e0000}-\u{e007f}]/u.test(line), line);
  });
});

Deno.test("MCP: a write to a task still queued says where to find why it waits and how to wait for its prompt (it said only that it had not started)", async () => {
  const { toolError } = await import("../src/mcp/tool.ts");
  const { TaskStateError } = await import("../mod.ts");
  const r = toolError(
    new TaskStateError(
      "b4",
      "Cannot write to the stdin of task b4: it has not started yet (it is queued)",
    ),
  );
  assert(r.isError);
  assertMatch(
    r.content[0].text,
    /\(it is queued\)\. task_status says what it waits for .*a paused queue and what resumes it.*task_wait with until "input"/,
  );
});
