/**
 * `mcp --http` with a host or port that cannot be listened on says which,
 * with the fix: a host that does not resolve said only "failed to lookup
 * address information: Name or service not known" (neither the host nor
 * --http), one with a space "invalid host 'exa mple': invalid char found in
 * FQDN", a mistyped one without --allow-remote was told to add
 * --allow-remote, and a port over 65535 got the generic form.
 */

import assert from "node:assert/strict";
import { minimalFlags, settleStore } from "./_helpers/common.ts";
import { type HttpChild, INIT, startHttp } from "./_helpers/mcp_http.ts";
import { listenError } from "../src/mcp/listen_error.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

Deno.test("mcp --http: a host that is no name, does not resolve, or is not this machine's, and a port out of range, each say so and the fix", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-mcp-address-" });
  try {
    const run = async (flags: string[], ...args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-prompt", ...flags, CLI, "--dir", dir, "mcp", ...args],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
    };
    const flags = minimalFlags(dir);
    const space = await run(flags, "--http", "exa mple:8794", "--allow-remote");
    assert.equal(space.code, 2);
    assert.equal(
      space.stderr,
      'bgtask: invalid --http "exa mple:8794": "exa mple" is not a host name or IP address ' +
        '(letters, digits, "-", "_" and "." only): give one of this machine\'s, e.g. 127.0.0.1:8794\n',
    );
    const far = await run(flags, "--http", "99999");
    assert.equal(far.code, 2);
    assert.equal(
      far.stderr,
      'bgtask: invalid --http "99999": port 99999 is out of range: give 1 to 65535 (or 0 for ' +
        "any free port), e.g. 8080\n",
    );
    const typo = await run(flags, "--http", "nonexistent.invalid:8795");
    assert.equal(typo.code, 2);
    assert.equal(
      typo.stderr,
      'bgtask: --http "nonexistent.invalid:8795" would listen beyond this machine: add ' +
        "--allow-remote to mean it (the token is still required), or use 127.0.0.1 (if " +
        '"nonexistent.invalid" is a typo, mend it instead: the host must name an address of ' +
        "this machine)\n",
    );
    const unknown = await run(
      [...flags, "--allow-net=nonexistent.invalid:8795"],
      "--http",
      "nonexistent.invalid:8795",
      "--allow-remote",
    );
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /^bgtask: cannot serve MCP on nonexistent\.invalid:8795: the host name nonexistent\.invalid does not resolve \(.+\): check --http's host for a typo, or give --http an address of this machine \(127\.0\.0\.1; or 0\.0\.0\.0 with --allow-remote, for every interface\)\n$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mcp --http: an address that is not this machine's says so", () => {
  const e = new Deno.errors.AddrNotAvailable("Cannot assign requested address (os error 99)");
  assert.equal(
    listenError(e, "8.8.8.8", 8795)?.message,
    "cannot serve MCP on 8.8.8.8:8795: 8.8.8.8 is not an address of this machine, so nothing " +
      "can listen there (Cannot assign requested address (os error 99)): give --http an " +
      "address of this machine (127.0.0.1; or 0.0.0.0 with --allow-remote, for every interface)",
  );
});

Deno.test("mcp --http --allow-host NAME: a Host of that name is served (others refused, naming --allow-host); a bad NAME and --allow-host without --http are usage errors; 0.0.0.0's startup line says clients use an address", async () => {
  // From an HTTP walk: with --allow-remote, a client reaching the server by its DNS name
  // (or through a reverse proxy) got 403 with advice to use 127.0.0.1, and no way to allow it.
  const dir = await Deno.makeTempDir({ prefix: "bgtask-mcp-allow-host-" });
  let s: HttpChild | undefined;
  try {
    s = await startHttp(dir, ["--allow-host", "Box.LAN"]);
    const token = (await Deno.readTextFile(`${dir}/mcp-token`)).trim();
    // (fetch sends the URL's Host whatever is asked: the request is written by hand.)
    const post = async (host: string) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: s!.port });
      const body = new TextEncoder().encode(INIT);
      const head = `POST /mcp HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${token}\r\n` +
        "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n" +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
      await conn.write(new TextEncoder().encode(head));
      await conn.write(body);
      // (Read until the answer's JSON has come: an SSE stream may stay open.)
      const reader = conn.readable.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      const deadline = Date.now() + 20_000;
      while (!/"(result|error)"[\s\S]*\}\s*$/.test(text) && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
      await reader.cancel().catch(() => {});
      return { status: Number(text.split(" ")[1]), text };
    };
    const named = await post(`box.lan:${s.port}`);
    assert.equal(named.status, 200, named.text);
    const other = await post(`other.lan:${s.port}`);
    assert.equal(other.status, 403, other.text);
    assert.match(
      JSON.parse(other.text.slice(other.text.indexOf("{"))).error.message,
      /^Host "other\.lan:\d+" is refused: use http:\/\/127\.0\.0\.1:PORT\/mcp or http:\/\/localhost:PORT\/mcp \(other names are refused against DNS rebinding; a name that reaches this server on purpose \(its DNS name, a reverse proxy's\) is allowed with --allow-host other\.lan\)$/,
    );
    await s.stop();
    s = undefined;
    const run = async (...args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--no-prompt",
          ...minimalFlags(dir),
          "--allow-net",
          CLI,
          "--dir",
          dir,
          "mcp",
          ...args,
        ],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).output();
      return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
    };
    const bad = await run("--http", "0", "--allow-host", "box.lan:80");
    assert.deepEqual([bad.code, bad.stderr], [
      2,
      'bgtask: --allow-host "box.lan:80" is no host name: give a host name alone, as clients ' +
      "write it in their URL (--allow-host box.lan), without a port or scheme\n",
    ]);
    const stdio = await run("--allow-host", "box.lan");
    assert.deepEqual([stdio.code, stdio.stderr], [
      2,
      "bgtask: --allow-host is only used with --http\n",
    ]);
    s = await startHttp(dir, ["--allow-remote"], undefined, [], "0.0.0.0:0");
    assert.match(
      s.stderr(),
      /at http:\/\/0\.0\.0\.0:\d+\/mcp \(every address of this machine: clients use one of them, http:\/\/ADDRESS:\d+\/mcp\);/,
    );
  } finally {
    await s?.stop();
    await settleStore(dir);
    await Deno.remove(dir, { recursive: true });
  }
});
