/**
 * `bgtask mcp --http` as a real process with the minimal permissions plus
 * --allow-net: the bearer token, the Host/Origin checks, the token file, and
 * the SDK's Streamable HTTP client; and `bgtask mcp` over stdio.
 */

import { Client } from "@modelcontextprotocol/client";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { assert, assertEquals, assertMatch } from "./_helpers/assert.ts";
import {
  CHILD_DEADLINE_MS,
  gate,
  initializeMessage,
  MCP_FLAGS,
  mcpArgs,
  minimalFlags,
  ROOT,
  settleStore,
  until,
} from "./_helpers/common.ts";
import { TaskManager } from "../mod.ts";
import {
  INIT,
  rawSession,
  startHttp,
  withHttp,
  within,
  withInProcessServer,
} from "./_helpers/mcp_http.ts";

const CLI = `${ROOT}cli.ts`;

function post(url: string, headers: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...headers,
    },
    body: INIT,
  });
}

/** The SDK's stdio client transport for `cli.ts mcp` on `dir`, with the minimal permissions and `flags`. */
function stdioServer(dir: string, flags: readonly string[] = []): StdioClientTransport {
  return new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "--no-prompt", ...flags, ...minimalFlags(dir), CLI, "--dir", dir, "mcp"],
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "/tmp",
      DENO_DIR: Deno.env.get("DENO_DIR") ?? "",
      NO_COLOR: "1",
    },
    stderr: "pipe",
  });
}

Deno.test("HTTP: a request that cannot open a session leaves nothing in the store; an initialize makes one consumer, which goes when the session ends", async () => {
  await withHttp(async (s, token) => {
    const consumers = () => {
      try {
        return [...Deno.readDirSync(`${s.dir}/consumers`)].map((e) => e.name);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return []; // the store is not made yet
        throw e;
      }
    };
    const before = consumers();
    const headers = {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    };
    for (let i = 0; i < 5; i++) {
      const ping = await fetch(s.url, {
        method: "POST",
        headers,
        body: JSON.stringify({ jsonrpc: "2.0", id: i, method: "ping" }),
      });
      assertEquals(ping.status, 400);
      await ping.body?.cancel();
      const get = await fetch(s.url, { headers });
      assertEquals(get.status >= 400, true);
      await get.body?.cancel();
    }
    assertEquals(consumers(), before);
    const init = await post(s.url, { authorization: `Bearer ${token}` });
    assertEquals(init.status, 200);
    await init.body?.cancel();
    const made = () => consumers().filter((c) => !before.includes(c));
    assertEquals(made().length, 1);
    // The session ends (the client says so): its consumer goes with it.
    const end = await fetch(s.url, {
      method: "DELETE",
      headers: {
        ...headers,
        "mcp-session-id": init.headers.get("mcp-session-id")!,
        "mcp-protocol-version": "2025-06-18",
      },
    });
    await end.body?.cancel();
    assertEquals(end.status, 200);
    await until(() => made().length === 0, "the ended session's consumer to be forgotten");
  });
});

Deno.test("HTTP: requests without the bearer token, or with a wrong one, get 401 saying what to send", async () => {
  await withHttp(async (s, token) => {
    const none = await post(s.url, {});
    assertEquals(none.status, 401);
    assertEquals(none.headers.get("www-authenticate"), 'Bearer realm="bgtask"');
    assertMatch(
      (await none.json()).error.message,
      /Missing bearer token: send the header "Authorization: Bearer <token>"/,
    );
    const wrong = await post(s.url, { authorization: `Bearer ${token}x` });
    assertEquals(wrong.status, 401);
    assertMatch((await wrong.json()).error.message, /Wrong bearer token/);
    const ok = await post(s.url, { authorization: `Bearer ${token}` });
    assertEquals(ok.status, 200);
    assert(ok.headers.get("mcp-session-id"), "no session id");
    await ok.body?.cancel();
  });
});

Deno.test("HTTP: OAuth discovery paths answer 404, token or not (the token is static: no OAuth); the MCP endpoint still needs the token; Host and Origin are checked first everywhere", async () => {
  await withHttp(async (s, token) => {
    // From a user walk: a 401 there made the MCP Inspector start an OAuth flow
    // instead of showing the server's "Missing bearer token". (With no
    // metadata, it registers at /register, the spec's default: a 404 too.)
    const base = new URL(s.url).origin;
    for (
      const [method, path] of [
        ["GET", "/.well-known/oauth-protected-resource"],
        ["GET", "/.well-known/oauth-protected-resource/mcp"],
        ["GET", "/.well-known/oauth-authorization-server"],
        ["GET", "/.well-known/openid-configuration"],
        ["POST", "/register"],
        ["GET", "/elsewhere"],
      ]
    ) {
      for (const headers of [{}, { authorization: `Bearer ${token}` }] as HeadersInit[]) {
        const r = await fetch(base + path, { method, headers });
        assertEquals(r.status, 404, path);
        assertEquals(r.headers.get("www-authenticate"), null);
        assertEquals(
          (await r.json()).error.message,
          "Not found: this server serves MCP at /mcp alone, with a static bearer token " +
            '("Authorization: Bearer <token>"; the token is in the store\'s mcp-token file, or ' +
            "what --token was given); it has no OAuth",
        );
      }
      const foreign = await fetch(base + path, {
        method,
        headers: { origin: "http://evil.example.com" },
      });
      assertEquals(foreign.status, 403, path);
      await foreign.body?.cancel();
    }
    const none = await post(s.url, {});
    assertEquals(none.status, 401);
    assertEquals(none.headers.get("www-authenticate"), 'Bearer realm="bgtask"');
    await none.body?.cancel();
    const get = await fetch(s.url);
    assertEquals(get.status, 401);
    await get.body?.cancel();
  });
});

Deno.test("HTTP wording: another authorization scheme is named as the wrong part; a busy port names its address and the fix", async () => {
  await withHttp(async (s, token) => {
    const basic = await post(s.url, { authorization: `Basic ${token}` });
    assertEquals(basic.status, 401);
    assertEquals(
      (await basic.json()).error.message,
      'Wrong authorization scheme "Basic": this server takes a bearer token, "Authorization: ' +
        "Bearer <token>\" (the token is in the store's mcp-token file, or what --token was given)",
    );
    // A bare token: said to lack its scheme, and not echoed back.
    const bare = await post(s.url, { authorization: token });
    assertEquals(bare.status, 401);
    const bareMessage = (await bare.json()).error.message;
    assertMatch(
      bareMessage,
      /^The Authorization header has no scheme: send "Authorization: Bearer/,
    );
    assert(!bareMessage.includes(token), bareMessage);

    // The port this server holds, asked for by a second one.
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        ...MCP_FLAGS, // (as documented: without V8's fallback, a slow start would warn of it too)
        ...minimalFlags(s.dir),
        "--allow-net=127.0.0.1",
        CLI,
        "--dir",
        s.dir,
        "mcp",
        "--http",
        String(s.port),
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(CHILD_DEADLINE_MS),
    }).output();
    assertEquals(out.code, 1);
    assertEquals(
      new TextDecoder().decode(out.stderr),
      `bgtask: cannot serve MCP on 127.0.0.1:${s.port}: the address is already in use (another ` +
        "server holds the port, perhaps another bgtask mcp --http): give --http another port, or " +
        "stop what holds this one\n",
    );
  });
});

Deno.test("HTTP: a foreign Host or Origin is refused with 403 (DNS rebinding), even with the token", async () => {
  await withHttp(async (s, token) => {
    const auth = { authorization: `Bearer ${token}` };
    // fetch() sets Host from the URL; a raw request sends a forged one.
    const raw = async (host: string, origin?: string) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
      const body = INIT;
      const head = [
        `POST /mcp HTTP/1.1`,
        `Host: ${host}`,
        ...(origin ? [`Origin: ${origin}`] : []),
        `Authorization: Bearer ${token}`,
        "Content-Type: application/json",
        "Accept: application/json, text/event-stream",
        `Content-Length: ${new TextEncoder().encode(body).length}`,
        "Connection: close",
        "",
        body,
      ].join("\r\n");
      await conn.write(new TextEncoder().encode(head));
      const chunks: Uint8Array[] = [];
      const buf = new Uint8Array(4096);
      for (;;) {
        const got = await conn.read(buf).catch(() => null);
        if (!got) break;
        chunks.push(buf.slice(0, got));
        if (new TextDecoder().decode(chunks.at(-1)).includes("\r\n\r\n")) break;
      }
      conn.close();
      return new TextDecoder().decode(chunks[0] ?? new Uint8Array());
    };
    assertMatch(await raw(`evil.example.com:${s.port}`), /^HTTP\/1\.1 403/);
    assertMatch(await raw(`127.0.0.1:${s.port}`, "http://evil.example.com"), /^HTTP\/1\.1 403/);
    assertMatch(await raw(`127.0.0.1:${s.port}`, "null"), /^HTTP\/1\.1 403/);
    assertMatch(await raw(`localhost:${s.port}`, `http://localhost:${s.port}`), /^HTTP\/1\.1 200/);
    assertMatch(await raw(`[::1]:${s.port}`), /^HTTP\/1\.1 200/);
    const r = await post(s.url, auth);
    assertEquals(r.status, 200);
    await r.body?.cancel();
  });
});

Deno.test("HTTP: the SDK's Streamable HTTP client with the token runs tasks; each session is its own", async () => {
  await withHttp(async (s, token) => {
    const connect = async () => {
      const client = new Client({ name: "t", version: "1" });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(s.url), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      return client;
    };
    const a = await connect();
    const b = await connect();
    const scratch = await Deno.makeTempDir({ prefix: "bgtask-mcp-http-gate-" });
    try {
      const r = await a.callTool({ name: "task_start", arguments: { command: "echo over http" } });
      const text = (r.content as { text: string }[])[0].text;
      assertMatch(text, /^b1 completed \(exit code 0\)/);
      assertMatch(text, /\nover http\n>>>/);
      const list = await b.callTool({ name: "task_list", arguments: {} });
      assertMatch((list.content as { text: string }[])[0].text, /^1 task \(1 completed\)/);
      // The task runs until a progress notice has come (three half-second ticks
      // left half a second for the first notice, at 1 s, on a loaded machine).
      const go = `${scratch}/go`;
      const progress: string[] = [];
      await a.callTool(
        {
          name: "task_start",
          arguments: {
            command: `echo tick 1; ${gate(go)}; echo tick 2`,
          },
        },
        {
          onprogress: (p) => {
            progress.push(p.message ?? "");
            Deno.writeTextFileSync(go, "");
          },
        },
      );
      assert(progress.some((m) => /^b2: tick [1-2]$/.test(m)), `progress over HTTP: ${progress}`);
    } finally {
      await a.close();
      await b.close();
      await Deno.remove(scratch, { recursive: true });
    }
    // Nothing but its own lines on stderr: Deno warned at the first answer that a
    // request's signal aborts on success, when the server cloned each request.
    await s.stop();
    assertEquals(
      s.stderr().split("\n").filter((l) => l !== "" && !l.startsWith("bgtask mcp: ")),
      [],
    );
  });
});

Deno.test("HTTP: the generated token is private to the user (0600) and kept across restarts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-mcp-token-" });
  try {
    const first = await startHttp(dir);
    await first.stop();
    const st = await Deno.stat(`${dir}/mcp-token`);
    assertEquals(st.mode! & 0o777, 0o600);
    const token = await Deno.readTextFile(`${dir}/mcp-token`);
    assert(token.trim().length >= 40, "a short token");
    const second = await startHttp(dir);
    try {
      const r = await post(second.url, { authorization: `Bearer ${token.trim()}` });
      assertEquals(r.status, 200);
      await r.body?.cancel();
    } finally {
      await second.stop();
    }
    // A token given by the environment replaces the file's.
    const envToken = "0123456789abcdef-from-env";
    const third = await startHttp(dir, [], { BGTASK_MCP_TOKEN: envToken }, [
      "--allow-env=BGTASK_MCP_TOKEN",
    ]);
    try {
      const r = await post(third.url, { authorization: `Bearer ${envToken}` });
      assertEquals(r.status, 200);
      await r.body?.cancel();
    } finally {
      await third.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bgtask mcp refuses a non-loopback address without --allow-remote, and flags that need --http", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-mcp-args-" });
  try {
    const run = (...args: string[]) => mcpArgs(dir, ...args);
    const remote = await run("--http", "0.0.0.0:8765");
    assertEquals(remote.code, 2);
    assertMatch(
      remote.stderr,
      /^bgtask: --http "0\.0\.0\.0:8765" would listen beyond this machine: add --allow-remote/,
    );
    assertMatch((await run("--token", "x")).stderr, /--token is only used with --http/);
    assertMatch(
      (await run("--http", "nope")).stderr,
      /invalid --http "nope" \(expected PORT or HOST:PORT/,
    );
    const short = await run("--http", "0", "--token", "short");
    assertEquals(short.code, 2);
    assertMatch(short.stderr, /the token from --token must be at least 16 characters/);
    // A token on the command line is anyone's to read (ps): the server says so.
    assertMatch(short.stderr, /warning: a --token on the command line is visible to every user/);
    const noNet = await run("--http", "0");
    assertEquals(noNet.code, 1);
    assertMatch(noNet.stderr, /--allow-net/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("HTTP: the token file is made only in a store that passes the store's checks (not in a shared folder, where another user could plant one)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-mcp-shared-" });
  try {
    await Deno.chmod(dir, 0o1777);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "--dir", dir, "mcp", "--http", "0"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(out.code, 1);
    assertMatch(new TextDecoder().decode(out.stderr), /is a shared folder/);
    assertEquals([...Deno.readDirSync(dir)], [], "no token file was made");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stdio: bgtask mcp with only the minimal permissions serves the SDK's stdio client, and exits when stdin closes, forgetting its consumer", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-mcp-stdio-" });
  const transport = stdioServer(dir);
  const client = new Client({ name: "t", version: "1" });
  try {
    await client.connect(transport);
    const r = await client.callTool({
      name: "task_start",
      arguments: { command: "echo via stdio; exit 4" },
    });
    assertMatch(
      (r.content as { text: string }[])[0].text,
      /^b1 failed \(exit code 4\)[^]*\nvia stdio\n>>>/,
    );
    const pid = transport.pid!;
    await client.close();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      try {
        Deno.kill(pid, "SIGCONT"); // probes existence without harm
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    let alive = true;
    try {
      Deno.kill(pid, "SIGCONT");
    } catch {
      alive = false;
    }
    assert(!alive, "the server outlived its stdin");
    // Its session's completion consumer went with it.
    assertEquals([...Deno.readDirSync(`${dir}/consumers`)].map((e) => e.name), []);
  } finally {
    await client.close().catch(() => {});
    await settleStore(dir);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stdio: a server ended by SIGTERM, SIGINT or SIGHUP (as hosts end theirs) forgets its session's consumer", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-mcp-signal-" });
  try {
    for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
      const transport = stdioServer(dir, MCP_FLAGS);
      const client = new Client({ name: "t", version: "1" });
      await client.connect(transport);
      await client.callTool({ name: "task_list", arguments: {} });
      const made = [...Deno.readDirSync(`${dir}/consumers`)].map((e) => e.name);
      assertEquals(made.length, 1, `${signal}: one consumer while the session lives`);
      const pid = transport.pid!;
      Deno.kill(pid, signal);
      await until(() => {
        try {
          Deno.kill(pid, "SIGCONT"); // probes existence without harm
          return false;
        } catch {
          return true;
        }
      }, `the server to exit on ${signal}`);
      assertEquals([...Deno.readDirSync(`${dir}/consumers`)].map((e) => e.name), [], signal);
      await client.close().catch(() => {});
    }
  } finally {
    await settleStore(dir);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stdio: a server ended by SIGTERM ends by that signal, as every verb does (a shell loop around it stops)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-mcp-dies-" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...MCP_FLAGS, ...minimalFlags(dir), CLI, "--dir", dir, "mcp"],
      env: { NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const writer = child.stdin.getWriter();
    await writer.write(
      new TextEncoder().encode(JSON.stringify(initializeMessage("t")) + "\n"),
    );
    // Answered: the server runs, its signal listeners set.
    let got = "";
    while (!got.includes("\n")) got += (await lines.read()).value ?? "";
    assertMatch(got, /"protocolVersion"/);
    child.kill("SIGTERM");
    const status = await child.status;
    assertEquals(status.signal, "SIGTERM");
    await writer.close().catch(() => {});
    while (!(await lines.read()).done) { /* drain */ }
  } finally {
    await settleStore(dir);
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * `bgtask mcp` over stdio, spoken to line by line (no client SDK): `send`
 * writes lines, `next` reads the next message, `stderr` holds what it said
 * there. Ends it (closing its stdin) and removes its store after `fn`.
 */
async function withRawStdio(
  prefix: string,
  flags: readonly string[],
  fn: (io: {
    send: (...lines: string[]) => Promise<void>;
    // deno-lint-ignore no-explicit-any
    next: () => Promise<any>;
    stderr: () => string;
    end: () => Promise<Deno.CommandStatus>;
  }) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...flags, ...minimalFlags(dir), CLI, "--dir", dir, "mcp"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(CHILD_DEADLINE_MS), // a hang fails the test, not the suite
  }).spawn();
  const writer = child.stdin.getWriter();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stderr = "";
  const errors = (async () => {
    for await (const t of child.stderr.pipeThrough(new TextDecoderStream())) stderr += t;
  })();
  let buffered = "";
  try {
    await fn({
      send: (...messages) =>
        writer.write(new TextEncoder().encode(messages.map((m) => m + "\n").join(""))),
      next: async () => {
        while (!buffered.includes("\n")) {
          const { value, done } = await lines.read();
          if (done) throw new Error(`the server's stdout ended; it sent: ${buffered}`);
          buffered += value;
        }
        const at = buffered.indexOf("\n");
        const got = JSON.parse(buffered.slice(0, at));
        buffered = buffered.slice(at + 1);
        return got;
      },
      stderr: () => stderr,
      end: async () => {
        await writer.close();
        return await child.status;
      },
    });
  } finally {
    await writer.close().catch(() => {}); // (a failed test: the server ends with its stdin)
    await lines.cancel();
    await child.status;
    await errors;
    await settleStore(dir);
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("stdio: a line that is not JSON gets a parse error, a batch an Invalid Request (id null both), and the server goes on serving", async () => {
  // From a user walk: both got no reply at all, and nothing on stderr.
  await withRawStdio("bgtask-mcp-stdio-bad-", MCP_FLAGS, async ({ send, next, end }) => {
    // Each followed by a ping: its answer comes first, or there was none.
    const ping = (id: number) => JSON.stringify({ jsonrpc: "2.0", id, method: "ping" });
    await send("this is not json", ping(11));
    const parse = await next();
    assertEquals([parse.jsonrpc, parse.id, parse.error?.code], ["2.0", null, -32700]);
    assertMatch(parse.error.message, /^Parse error: a line that is not JSON/);
    assertEquals((await next()).id, 11);
    await send(JSON.stringify([JSON.parse(INIT)]), ping(12));
    const batch = await next();
    assertEquals([batch.jsonrpc, batch.id, batch.error?.code], ["2.0", null, -32600]);
    assertMatch(batch.error.message, /batches \(arrays\) are not supported/);
    assertEquals((await next()).id, 12);
    // Still serving: a session starts, and a tool answers.
    await send(INIT);
    const init = await next();
    assertEquals(init.id, 1);
    assertEquals(init.result.serverInfo.name, "bgtask");
    await send(
      JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
      JSON.stringify({
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: { name: "task_list", arguments: {} },
      }),
    );
    const list = await next();
    assertEquals(list.id, 2);
    assertMatch(list.result.content[0].text, /no tasks/i);
    assertEquals((await end()).code, 0); // it ends with its stdin, as ever
  });
});

Deno.test("stdio, started as documented: a pattern that backtracks exponentially does not stall the server", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-mcp-redos-" });
  const transport = stdioServer(dir, MCP_FLAGS);
  const client = new Client({ name: "t", version: "1" });
  // A stalled server would time the call out (a failure, not a hang).
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = await client.callTool({ name, arguments: args }, { timeout: 30_000 });
    return (r as { content: { text: string }[] }).content[0].text;
  };
  try {
    await client.connect(transport);
    // 40 "a" and a "b": ^(a+)+$ takes about 2^40 steps to fail by backtracking.
    await call("task_start", { command: `printf '%s\\n' ${"a".repeat(40)}b` });
    // Any case too: the flag i keeps V8 from its linear-time engine, so
    // bgtask rewrites it away (each letter both its cases).
    for (const p of ["^(a+)+$", "/^(A+)+$/i"]) {
      assertMatch(await call("task_read", { id: "b1", grep: p }), /0 of 1 lines match/);
      assertMatch(
        await call("task_wait", { ids: ["b1"], pattern: p, timeout_s: 1 }),
        /b1 ended without having printed a line matching/,
      );
    }
    assertMatch(await call("task_read", { id: "b1", grep: "/^(A+)+B$/i" }), /1 of 1 lines match/);
  } finally {
    await client.close().catch(() => {});
    await settleStore(dir);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stdio, started without V8's linear-time fallback: it says so on stderr, and grep and pattern are refused naming the flag", async () => {
  await withRawStdio("bgtask-mcp-noflag-", ["--conditions=browser"], async (io) => {
    let id = 1;
    const call = async (name: string, args: unknown) => {
      await io.send(JSON.stringify({
        jsonrpc: "2.0",
        id: ++id,
        method: "tools/call",
        params: { name, arguments: args },
      }));
      const r = await io.next();
      return { isError: r.result.isError === true, text: r.result.content[0].text as string };
    };
    await io.send(INIT);
    assertEquals((await io.next()).id, 1);
    await io.send(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }));
    await call("task_start", { command: "echo hello", wait_s: 5 });
    const flag = "--v8-flags=--enable-experimental-regexp-engine-on-excessive-backtracks";
    const grep = await call("task_read", { id: "b1", grep: "hello" });
    assert(grep.isError, grep.text);
    assert(grep.text.includes(`grep cannot be used: this server was started without ${flag}`));
    const wait = await call("task_wait", { ids: ["b1"], pattern: "hello" });
    assert(wait.isError && wait.text.includes("pattern cannot be used"), wait.text);
    // Everything else works.
    assertMatch((await call("task_read", { id: "b1" })).text, /\nhello\n/);
    await until(() => io.stderr().includes("bgtask mcp: warning: started without"), "the warning");
    assert(io.stderr().includes(`without ${flag}: task_read's grep and task_wait's pattern are`));
  });
});

Deno.test("HTTP: past the session cap the least recently used idle session is closed, never one in the middle of a call", async () => {
  await withInProcessServer(
    "bgtask-mcp-cap-",
    (dir) => new TaskManager({ dir }),
    async (server, tasks, token) => {
      const clients: Client[] = [];
      const connect = async () => {
        const client = new Client({ name: "t", version: "1" });
        await client.connect(
          new StreamableHTTPClientTransport(new URL(server.url), {
            requestInit: { headers: { authorization: `Bearer ${token}` } },
          }),
        );
        clients.push(client);
        return client;
      };
      const text = (r: unknown) => (r as { content: { text: string }[] }).content[0].text;
      try {
        const a = await connect();
        await a.callTool({
          name: "task_start",
          arguments: {
            command: "read -r line; echo got $line; sleep 300",
            stdin: "pipe",
            wait_s: 0,
          },
        });
        // A waits for output; meanwhile three more sessions open (the cap is 2). (From
        // byte 0: without a cursor the wait counts from where it begins, which could come
        // after the write below on a loaded machine.)
        const waiting = a.callTool({
          name: "task_wait",
          arguments: { ids: ["b1"], until: "output", cursor: 0, timeout_s: 40 },
        }, { timeout: 60_000 });
        waiting.catch(() => {}); // awaited below; a failure before that must not go unhandled
        // B: a one-shot client's session (no notification stream), then idle.
        const headers = {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        };
        const init = await fetch(server.url, { method: "POST", headers, body: INIT });
        const b = init.headers.get("mcp-session-id")!;
        await init.body?.cancel();
        assert(b, "no session id");
        // Two more clients (each holds its notification stream): past the cap of 2.
        await connect();
        await connect();
        await tasks.writeStdin("b1", "go\n");
        // A was in the middle of a call: kept, and its call answered.
        assertMatch(text(await waiting), /b1 printed new output/);
        // B was the least recently used idle session: closed.
        const again = await fetch(server.url, {
          method: "POST",
          headers: { ...headers, "mcp-session-id": b, "mcp-protocol-version": "2025-11-25" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" }),
        });
        assertEquals(again.status, 404);
        assertMatch(await again.text(), /Session not found/);
      } finally {
        for (const c of clients) await c.close().catch(() => {});
        await tasks.kill("b1", { graceMs: 0 }).catch(() => {});
      }
    },
    2,
  );
});

/** A manager that says when a waiting drain (task_completions with wait_s) begins and ends. */
class WatchedDrains extends TaskManager {
  began = Promise.withResolvers<void>();
  ended = Promise.withResolvers<void>();
  override async drainCompletions(
    options?: Parameters<TaskManager["drainCompletions"]>[0],
  ): ReturnType<TaskManager["drainCompletions"]> {
    if (options?.wait) this.began.resolve();
    try {
      return await super.drainCompletions(options);
    } finally {
      if (options?.wait) this.ended.resolve();
    }
  }
}

Deno.test("HTTP: a call whose client's connection closes is cancelled: a waiting task_completions takes nothing, and the session's next call gets the task", async () => {
  await withInProcessServer(
    "bgtask-mcp-drop-",
    (dir) => new WatchedDrains({ dir }),
    async (server, tasks, token) => {
      // From an MCP pass: the call went on after its client left, took the next
      // notice, and sent it to nobody (4 of 4).
      const a = await rawSession(server.url, token);
      const drop = new AbortController();
      const waiting = await a.call(2, "task_completions", { wait_s: 30 }, drop.signal);
      assertEquals(waiting.status, 200);
      await within(tasks.began.promise, 10_000, "the waiting drain");
      drop.abort();
      await within(tasks.ended.promise, 10_000, "the drain to stop with its call");
      const t = await tasks.spawnShell("true");
      await tasks.wait(t.id);
      const next = await a.call(3, "task_completions", {});
      assertMatch(await next.text(), /b1 completed/);
    },
  );
});

Deno.test("HTTP: a call the client cancels (notifications/cancelled) ends its response stream, with no answer", async () => {
  await withInProcessServer(
    "bgtask-mcp-cancel-",
    (dir) => new TaskManager({ dir }),
    async (server, _tasks, token) => {
      const a = await rawSession(server.url, token);
      const waiting = await a.call(42, "task_completions", { wait_s: 30 });
      const cancel = await a.post({
        jsonrpc: "2.0",
        method: "notifications/cancelled",
        params: { requestId: 42, reason: "the user pressed Esc" },
      });
      assertEquals(cancel.status, 202);
      await cancel.body?.cancel();
      // (It held the stream open, and the session busy, until the server stopped.)
      const body = await within(waiting.text(), 10_000, "the cancelled call's stream to end");
      assert(!body.includes('"result"'), body);
    },
  );
});

Deno.test("HTTP: a call as large as stdio takes (5 MiB) is served; past stdio's 10 MiB it is answered 413", async () => {
  await withInProcessServer(
    "bgtask-mcp-body-",
    (dir) => new TaskManager({ dir }),
    async (server, tasks, token) => {
      // From an agent integrator's walk: 5 MiB worked over stdio and got 413 over HTTP (4 MiB).
      const a = await rawSession(server.url, token);
      const t = await tasks.spawnShell("wc -c", { stdin: "pipe" });
      const data = "x".repeat(5 * 1024 * 1024);
      const sent = await a.call(2, "task_write_stdin", { id: t.id, data, eof: true });
      assertEquals(sent.status, 200);
      assertMatch(await sent.text(), /Wrote 5242880 bytes to b1.s stdin, then ended its input/);
      assertEquals((await tasks.wait(t.id)).status, "completed");
      assertEquals((await tasks.readOutput(t.id)).trim(), String(5 * 1024 * 1024));
      const big = await a.call(3, "task_write_stdin", { id: t.id, data: data + data });
      assertEquals(big.status, 413);
      await big.body?.cancel();
    },
  );
});
