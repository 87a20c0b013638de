/**
 * `deno task install:cli`, as the README tells someone with a checkout: the
 * installed `bgtask` runs every verb, `mcp` included (whose npm imports come
 * from the project's deno.json import map). A plain `deno install` of
 * `cli.ts` does not carry that map: its `bgtask mcp` says so, in one line.
 */

import { assert, assertEquals, assertMatch } from "./_helpers/assert.ts";
import { initializeMessage, networkEnv, ROOT, settleStore } from "./_helpers/common.ts";
import { LineReader } from "../bench/lib/lines.ts";

const dec = new TextDecoder();

/** Runs `deno ARGS` in `cwd` with only `env`; fails the test unless it succeeds. */
async function denoIn(cwd: string, args: string[], env: Record<string, string>): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    clearEnv: true,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 0, dec.decode(out.stderr));
}

/** Runs an installed `bgtask` with only `env`, no stdin; its exit code and outputs. */
async function runInstalled(bin: string, args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(bin, {
    args,
    clearEnv: true,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function denoDir(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  return JSON.parse(dec.decode(out.stdout)).denoDir;
}

Deno.test("deno task install:cli installs a bgtask whose verbs run, mcp included, for the store it will use ($XDG_CACHE_HOME, a space in it)", async () => {
  const root = await Deno.makeTempDir({ prefix: "bgtask-install-" });
  const home = await Deno.makeTempDir({ prefix: "bgtask-install-home-" });
  // The store the install grants is the default one: here $XDG_CACHE_HOME/bgtask,
  // in a home of the test's own, with a space in its path.
  const store = `${home}/cache dir/bgtask`;
  const env = {
    ...networkEnv(),
    PATH: `${Deno.env.get("PATH")}`,
    HOME: home,
    XDG_CACHE_HOME: `${home}/cache dir`,
    DENO_DIR: await denoDir(),
    DENO_INSTALL_ROOT: root,
  };
  try {
    await denoIn(ROOT, ["task", "install:cli"], env);
    const bin = `${root}/bin/bgtask`;
    // deno install keeps V8 flags in the script it writes (not --conditions: see the README).
    assert(
      Deno.readTextFileSync(bin).includes(
        "--v8-flags=--enable-experimental-regexp-engine-on-excessive-backtracks," +
          "--max-semi-space-size=1",
      ),
    );
    assert(Deno.readTextFileSync(bin).includes("--no-prompt"), "installed without --no-prompt");
    const bgtask = (...args: string[]) => runInstalled(bin, args, env);
    const run = await bgtask("run", "echo installed");
    assertEquals(run.code, 0, run.stderr);
    const id = run.stdout.trim().split(/\s+/)[0];
    assertMatch(id, /^b1$/);
    assertEquals((await bgtask("wait", id)).code, 0);
    assertEquals((await bgtask("logs", id)).stdout, "installed\n");
    assert(Deno.statSync(`${store}/tasks/${id}`).isDirectory, "the task is not in the XDG store");

    // mcp: the installed script's config must carry the SDK's import map.
    const server = new Deno.Command(bin, {
      args: ["mcp"],
      clearEnv: true,
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const lines = new LineReader(server.stdout);
    const writer = server.stdin.getWriter();
    await writer.write(
      new TextEncoder().encode(
        JSON.stringify(initializeMessage("install-test")) + "\n",
      ),
    );
    // A server that neither answers nor exits must not hang the suite.
    const deadline = setTimeout(() => server.kill("SIGKILL"), 60_000);
    const line = await lines.next();
    clearTimeout(deadline);
    await writer.close();
    const status = await server.status;
    await lines.done;
    const stderr = dec.decode(await new Response(server.stderr).arrayBuffer());
    assert(line !== null, `bgtask mcp answered nothing (exit ${status.code}):\n${stderr}`);
    assertEquals(JSON.parse(line).result?.serverInfo?.name, "bgtask", line);
  } finally {
    await settleStore(store);
    await Deno.remove(root, { recursive: true });
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("a plain deno install of cli.ts: bgtask mcp says in one line that the import map is missing and how to install", async () => {
  const root = await Deno.makeTempDir({ prefix: "bgtask-install-plain-" });
  const env = {
    ...networkEnv(),
    PATH: `${Deno.env.get("PATH")}`,
    HOME: root,
    DENO_DIR: await denoDir(),
  };
  try {
    await denoIn(ROOT, [
      "install",
      "-g",
      "-n",
      "bgtask",
      "--root",
      root,
      "--allow-run=bash",
      "cli.ts",
    ], env);
    const out = await runInstalled(`${root}/bin/bgtask`, ["--dir", `${root}/store`, "mcp"], env);
    const stderr = out.stderr;
    assertEquals(out.code, 1, stderr);
    assertMatch(
      stderr,
      /^bgtask: cannot load the MCP server \([^\n]*not a dependency[^\n]*\): bgtask was installed without its deno\.json[^\n]*`deno task install:cli`\n$/,
    );
    assert(!stderr.includes("\\x1b"), stderr);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
