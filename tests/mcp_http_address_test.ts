/**
 * `mcp --http` with a host or port that cannot be listened on says which,
 * with the fix: a host that does not resolve said only "failed to lookup
 * address information: Name or service not known" (neither the host nor
 * --http), one with a space "invalid host 'exa mple': invalid char found in
 * FQDN", a mistyped one without --allow-remote was told to add
 * --allow-remote, and a port over 65535 got the generic form.
 */

import assert from "node:assert/strict";
import { minimalFlags } from "./_helpers/common.ts";
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
