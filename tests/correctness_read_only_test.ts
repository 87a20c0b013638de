/**
 * Issue 10, fault 8: reading verbs created folders. bgtask 0.1 made the
 * store (and wrote a probe file into it) before any verb: `list --dir
 * /mistyped/path` created the path, a store with mode 0500 could not be
 * listed, and with only --allow-read granted `status` said "cannot create
 * the bgtask store".
 *
 * Now reading never creates: a store that does not exist reads as empty,
 * and one that may not be written is read as it is. All through the CLI as
 * a subprocess.
 */

import assert from "node:assert/strict";
import { TaskManager } from "../mod.ts";
import { childOptions, cli, cliArgs } from "./cli_helpers.ts";
import { IS_ROOT, withTempDir } from "./_helpers/reliability.ts";

const decoder = new TextDecoder();

/** A store with two finished tasks: b1 printed "one", b2 failed with exit 3. */
async function storeWithTasks(dir: string): Promise<void> {
  const tasks = new TaskManager({ dir });
  await tasks.wait((await tasks.spawnShell("echo one")).id);
  await tasks.wait((await tasks.spawnShell("exit 3")).id);
}

/** Every path under `dir`, for comparing before and after. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of Deno.readDirSync(d)) {
      out.push(`${d}/${e.name}`);
      if (e.isDirectory) walk(`${d}/${e.name}`);
    }
  };
  walk(dir);
  return out.sort();
}

Deno.test("read-only: reading verbs on a mistyped --dir create nothing", async () => {
  await withTempDir("mistyped", async (tmp) => {
    const dir = `${tmp}/mistyped/path`;
    const cases: [string[], number, RegExp][] = [
      // An empty list, with a note that there is no store there.
      [["list"], 0, /^bgtask: note: no store at "[^"]+": nothing has run there/],
      [["list", "--json"], 0, /^bgtask: note: no store at /],
      [["status", "b1"], 1, /no task "b1"/],
      [["logs", "b1"], 1, /no task "b1"/],
      [["wait", "b1"], 1, /no task "b1"/],
      [["kill", "b1"], 1, /no task "b1"/],
      [["rm", "b1"], 1, /no task "b1"/],
      [["clean"], 0, /^bgtask: note: no store at "[^"]+": nothing has run there/],
      [["queue"], 0, /^bgtask: note: no store at "[^"]+": nothing has run there/],
      [["wait", "--all"], 1, /^bgtask: no store at "[^"]+": nothing has run there/],
    ];
    for (const [args, code, stderr] of cases) {
      const r = await cli(dir, args);
      assert.equal(r.code, code, `bgtask ${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, stderr, `bgtask ${args.join(" ")}`);
      assert.deepEqual(tree(tmp), [], `bgtask ${args.join(" ")} created ${tree(tmp).join(", ")}`);
    }
    assert.equal(JSON.parse((await cli(dir, ["list", "--json"])).stdout).length, 0);
  });
});

Deno.test("read-only: with only --allow-read on the store, list, status and logs work and write nothing", async () => {
  await withTempDir("readflag", async (dir) => {
    await storeWithTasks(dir);
    const before = tree(dir);
    const flags = [`--allow-read=${dir}`];
    const list = await cli(dir, ["list", "--json"], { flags });
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      JSON.parse(list.stdout).map((t: { id: string; status: string }) => `${t.id} ${t.status}`),
      ["b1 completed", "b2 failed"],
    );
    const status = await cli(dir, ["status", "b2", "--json"], { flags });
    assert.equal(status.code, 0, status.stderr);
    assert.equal(JSON.parse(status.stdout).exitCode, 3);
    const logs = await cli(dir, ["logs", "b1"], { flags });
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, "one\n");
    assert.deepEqual(tree(dir), before);
  });
});

/**
 * Runs the CLI as a process that mode bits bind: as root, without the
 * capabilities that override them (setpriv drops them from the bounding set).
 */
async function cliBoundByModes(dir: string, args: string[]) {
  const deno = [Deno.execPath(), ...cliArgs(dir, args)];
  const [cmd, ...rest] = IS_ROOT
    ? ["setpriv", "--bounding-set=-dac_override,-dac_read_search", ...deno]
    : deno;
  const out = await new Deno.Command(cmd, { args: rest, ...childOptions() }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

async function setprivMissing(): Promise<string | undefined> {
  if (!IS_ROOT) return undefined;
  try {
    const out = await new Deno.Command("setpriv", {
      args: ["--bounding-set=-dac_override,-dac_read_search", "true"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success ? undefined : "setpriv cannot drop capabilities here";
  } catch {
    return "setpriv is not installed (needed to make root obey mode bits)";
  }
}

const noSetpriv = await setprivMissing();

Deno.test({
  name: `read-only: a store with mode 0500 lists, shows status and logs${
    noSetpriv ? ` (skipped: ${noSetpriv})` : ""
  }`,
  ignore: noSetpriv !== undefined,
  async fn() {
    await withTempDir("mode0500", async (dir) => {
      await storeWithTasks(dir);
      const before = tree(dir);
      await Deno.chmod(dir, 0o500);
      try {
        // The bound is real: this process may not write into it.
        const probe = await cliBoundByModes(dir, ["run", "true"]);
        assert.notEqual(probe.code, 0, "a spawn into a 0500 store must fail");
        const list = await cliBoundByModes(dir, ["list", "--json"]);
        assert.equal(list.code, 0, list.stderr);
        assert.equal(list.stderr, "");
        assert.deepEqual(JSON.parse(list.stdout).map((t: { id: string }) => t.id), ["b1", "b2"]);
        const status = await cliBoundByModes(dir, ["status", "b1"]);
        assert.equal(status.code, 0, status.stderr);
        assert.match(status.stdout, /completed/);
        const logs = await cliBoundByModes(dir, ["logs", "b1"]);
        assert.equal(logs.code, 0, logs.stderr);
        assert.equal(logs.stdout, "one\n");
      } finally {
        await Deno.chmod(dir, 0o700);
      }
      assert.deepEqual(tree(dir), before);
    });
  },
});
