/**
 * What a spawner's environment may hold that once reached bgtask's own bash
 * (a new-user walk): exported functions named like the builtins it uses,
 * POSIXLY_CORRECT, BASHOPTS, a locale that cannot be set, and a `bash` on
 * PATH that is not bash, or a script that prints before it runs bash. The
 * task's command still gets what a plain `bash -c` started there would.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { until } from "./_helpers/common.ts";
import { childEnv, cli, gate, withStore } from "./cli_helpers.ts";

/** A caller's functions named like the builtins bgtask's bash uses, each of which fails loudly. */
const EVIL: Record<string, string> = Object.fromEntries(
  [
    "read",
    "wait",
    "local",
    "kill",
    "printf",
    "exec",
    "trap",
    "set",
    "unset",
    "eval",
    "cd",
    "mapfile",
  ]
    .map((n) => [`BASH_FUNC_${n}%%`, "() {  builtin echo EVIL >&2;\n return 7\n}"]),
);
const MINE = { "BASH_FUNC_mine%%": "() {  echo mine-ok\n}" };

/** `bgtask run` with `env` added; returns the id. */
async function run(dir: string, env: Record<string, string>, ...args: string[]): Promise<string> {
  const r = await cli(dir, ["run", ...args], { env });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** A task's output, its terminal's line ends made plain. */
async function logs(dir: string, id: string): Promise<string> {
  return (await cli(dir, ["logs", id])).stdout.replaceAll("\r\n", "\n");
}

/** What a plain `bash -c cmd` started with `env` prints (stdout and stderr, its start's too). */
async function plainBash(env: Record<string, string>, cmd: string): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: ["-c", 'exec 2>&1; exec bash -c "$0"', cmd],
    clearEnv: true,
    env: childEnv(env),
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout);
}

Deno.test("a caller's exported functions named like builtins do not take over bgtask's bash: its task runs, is seen running, pauses, resumes and is killed at once; the command gets them", async () => {
  await withStore(async (dir) => {
    const env = { ...EVIL, ...MINE };
    const ids = [];
    for (const tty of [[], ["--stdin", "pty"]]) {
      ids.push(await run(dir, env, ...tty, "type -t read; mine; sleep 60"));
    }
    for (const id of ids) {
      await until(async () => (await logs(dir, id)) === "function\nmine-ok\n", `${id}'s output`);
      const status = await cli(dir, ["status", id], { env });
      assert.match(status.stdout, /status:\s+running/, status.stdout + status.stderr);
      for (const verb of ["pause", "resume"]) {
        const r = await cli(dir, [verb, id], { env });
        assert.equal(r.code, 0, `${verb}: ${r.stderr}`);
      }
      const t0 = Date.now();
      const killed = await cli(dir, ["kill", id], { env });
      assert.equal(killed.code, 0, killed.stderr);
      assert.ok(Date.now() - t0 < 20_000, "the kill waited for the task to end by itself");
      assert.match((await cli(dir, ["status", id])).stdout, /status:\s+killed/);
    }
    // `wait`: the supervisor's wait for its task is the builtin.
    const done = await run(dir, env, "true");
    const waited = await cli(dir, ["wait", done], { env });
    assert.equal(waited.code, 0, waited.stdout + waited.stderr);
    assert.match((await cli(dir, ["status", done])).stdout, /status:\s+completed\nexit:\s+0\n/);
  });
});

Deno.test("a caller's exported functions named like builtins do not keep a waiting task from its spawner's environment", async () => {
  await withStore(async (dir, scratch) => {
    const go = join(scratch, "go");
    const env = { ...EVIL, ...MINE, SHARD: "7" };
    assert.equal((await cli(dir, ["queue", "set", "q", "--parallel", "1"])).code, 0);
    const first = await run(dir, env, "--queue", "q", gate(go));
    const probe = 'echo "shard=${SHARD-none}"; type -t read; mine';
    const waiting = [
      await run(dir, env, "--queue", "q", probe),
      await run(dir, env, "--queue", "q", "--stdin", "pty", probe),
    ];
    await Deno.writeTextFile(go, "");
    for (const id of [first, ...waiting]) {
      const r = await cli(dir, ["wait", id], { env });
      assert.equal(r.code, 0, `${id}: ${r.stdout}${r.stderr}`);
    }
    for (const id of waiting) assert.equal(await logs(dir, id), "shard=7\nfunction\nmine-ok\n", id);
  });
});

Deno.test("POSIXLY_CORRECT reaches a task as a plain bash would get it, started at once or later, on a pipe or a terminal", async () => {
  await withStore(async (dir, scratch) => {
    const go = join(scratch, "go");
    const env = { POSIXLY_CORRECT: "1" };
    const probe = 'echo "P=${POSIXLY_CORRECT-unset} $(shopt -qo posix && echo posix)"';
    const want = await plainBash(env, probe);
    assert.equal(want, "P=1 posix\n");
    assert.equal((await cli(dir, ["queue", "set", "q", "--parallel", "1"])).code, 0);
    const first = await run(dir, {}, "--queue", "q", gate(go));
    const ids = [];
    for (const tty of [[], ["--stdin", "pty"]]) {
      ids.push(await run(dir, env, ...tty, probe));
      ids.push(await run(dir, env, "--queue", "q", ...tty, probe));
    }
    // Without it, a task does not get it (nor POSIX mode) from bgtask's own bash.
    const none = await run(dir, {}, probe);
    await Deno.writeTextFile(go, "");
    for (const id of [first, ...ids, none]) assert.equal((await cli(dir, ["wait", id])).code, 0);
    for (const id of ids) assert.equal(await logs(dir, id), want, id);
    assert.equal(await logs(dir, none), "P=unset \n");
  });
});

Deno.test("an exported BASHOPTS or SHELLOPTS hands the task none of bgtask's options (inherit_errexit): neither is carried", async () => {
  await withStore(async (dir) => {
    const probe =
      'set -e; x=$(false; echo inner); echo "x=[$x]"; printenv SHELLOPTS BASHOPTS || echo "$-"';
    for (const tty of [[], ["--stdin", "pty"]]) {
      const id = await run(
        dir,
        { BASHOPTS: "extglob", SHELLOPTS: "braceexpand:hashall:interactive-comments:pipefail" },
        ...tty,
        probe,
      );
      assert.equal((await cli(dir, ["wait", id])).code, 0);
      assert.equal(await logs(dir, id), "x=[inner]\nehBc\n", id);
    }
  });
});

Deno.test("a locale that cannot be set draws only the task's own bash's warning, as a plain bash's", async () => {
  await withStore(async (dir) => {
    const env = { LC_ALL: "xx_YY" };
    const want = await plainBash(env, "echo hello");
    assert.match(want, /warning: setlocale: LC_ALL.*\nhello\n$/);
    const id = await run(dir, env, "echo hello");
    assert.equal((await cli(dir, ["wait", id])).code, 0);
    assert.equal(await logs(dir, id), want);
  });
});

/** The first of these programs found on PATH, or undefined. */
function onPath(name: string): string | undefined {
  for (const d of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(join(d, name)).isFile) return join(d, name);
    } catch { /* not here */ }
  }
  return undefined;
}

const dash = onPath("dash");

Deno.test({
  name: "a `bash` on PATH that is not bash is named for what it is, with the way out",
  ignore: !dash,
  fn: async () => {
    await withStore(async (dir, scratch) => {
      const bin = join(scratch, "bin");
      await Deno.mkdir(bin);
      await Deno.symlink(dash!, join(bin, "bash"));
      const env = { PATH: `${bin}:${Deno.env.get("PATH")}` };
      const r = await cli(dir, ["run", "true"], { env });
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /the "bash" found on PATH, ".*\/bin\/bash", is not bash; .*GNU bash 4\.4/,
      );
      assert.match(r.stderr, /first on PATH/);
    });
  },
});

Deno.test("a `bash` on PATH that prints a line before it runs bash: the task's start is heard, and it is seen, waited for and killed", async () => {
  await withStore(async (dir, scratch) => {
    const bin = join(scratch, "bin");
    await Deno.mkdir(bin);
    const real = (await plainBash({}, 'printf %s "$BASH"')).trim();
    await Deno.writeTextFile(join(bin, "bash"), `#!/bin/sh\necho JUNK\nexec '${real}' "$@"\n`);
    await Deno.chmod(join(bin, "bash"), 0o755);
    const env = { PATH: `${bin}:${Deno.env.get("PATH")}` };
    const id = await run(dir, env, "echo started; sleep 60");
    await until(async () => (await logs(dir, id)) === "started\n", "the output");
    assert.match((await cli(dir, ["status", id], { env })).stdout, /status:\s+running/);
    const killed = await cli(dir, ["kill", id], { env });
    assert.equal(killed.code, 0, killed.stderr);
    assert.match((await cli(dir, ["status", id], { env })).stdout, /status:\s+killed/);
  });
});
