/**
 * What a user who is not root meets (bgtask is developed as root, where
 * none of this shows), and a umask that takes the owner's permissions away.
 * Real processes run as `nobody` through `runuser`: a working directory the
 * user cannot enter, a store root made in the user's way (as `sudo -E` does
 * in their home), a store whose mode lost the owner's write bit.
 */

import { assert, assertEquals, assertMatch } from "./_helpers/assert.ts";
import { IS_ROOT } from "./_helpers/reliability.ts";
import { TaskManager } from "../mod.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const dec = new TextDecoder();

/** Why these tests cannot run here, if they cannot. */
async function unavailable(): Promise<string | undefined> {
  if (!IS_ROOT) return "not running as root";
  const probe = await new Deno.Command("runuser", { args: ["-u", "nobody", "--", "true"] })
    .output().catch(() => undefined);
  return probe?.success ? undefined : "runuser or the user nobody is missing";
}
const skip = await unavailable();

/** A folder in the temp dir, owned by `nobody` when asked. */
async function tempDir(owner?: "nobody"): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-nonroot-" });
  if (owner) await new Deno.Command("chown", { args: ["nobody", dir] }).output();
  return dir;
}

/** `deno run <the CLI's permissions> cli.ts --dir STORE ...args` as nobody, from `cwd`. */
async function asNobody(
  store: string,
  args: string[],
  opts: { cwd?: string; denoDir: string },
): Promise<{ code: number; out: string; err: string }> {
  const deno = [
    Deno.execPath(),
    "run",
    "--no-config", // (nobody cannot read the root's npm cache; the CLI needs none)
    "--no-lock",
    "--allow-run=bash",
    `--allow-read=${store}`,
    `--allow-write=${store}`,
    "--allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR",
    CLI,
    "--dir",
    store,
    ...args,
  ];
  const script =
    `cd "$1" && shift && exec runuser -u nobody -- env DENO_DIR="$DD" HOME=/nonexistent "$@"`;
  const r = await new Deno.Command("bash", {
    args: ["-c", script, "bash", opts.cwd ?? "/", ...deno],
    env: { DD: opts.denoDir, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

Deno.test({
  name:
    `non-root: from a directory the user cannot enter, run --cwd elsewhere works, and wait and logs too${
      skip ? ` (skipped: ${skip})` : ""
    }`,
  ignore: skip !== undefined,
  fn: async () => {
    const denoDir = await tempDir("nobody");
    const store = await tempDir("nobody");
    const closed = await tempDir(); // root's, 0700: nobody cannot enter it
    const there = await tempDir("nobody");
    try {
      const run = await asNobody(store, ["run", "--cwd", there, "pwd"], { cwd: closed, denoDir });
      assertEquals(run.code, 0, run.err);
      const id = run.out.trim();
      assertMatch(id, /^b\d+$/);
      const wait = await asNobody(store, ["wait", "--timeout", "30s", id], {
        cwd: closed,
        denoDir,
      });
      assertEquals(wait.code, 0, wait.err);
      const logs = await asNobody(store, ["logs", id], { cwd: closed, denoDir });
      assertEquals(logs.out, `${there}\n`);
    } finally {
      for (const d of [denoDir, store, closed, there]) await Deno.remove(d, { recursive: true });
    }
  },
});

Deno.test({
  name:
    `non-root: a store that is root's, or whose mode took the owner's write bit, is refused saying whose it is and what to run; nothing in it changes${
      skip ? ` (skipped: ${skip})` : ""
    }`,
  ignore: skip !== undefined,
  fn: async () => {
    const denoDir = await tempDir("nobody");
    const roots = await tempDir(); // made by root (0700), as `sudo -E bgtask` would in a home
    const locked = await tempDir("nobody");
    try {
      await Deno.writeTextFile(`${roots}/next`, "0000000000000007\n");
      for (const verb of [["list"], ["run", "true"], ["status", "b1"], ["logs", "b99"]]) {
        const r = await asNobody(roots, verb, { denoDir });
        assertEquals(r.code === 0, false);
        assertMatch(r.err, /belongs to uid 0 \(mode 700\).*sudo chown -R "\$\(id -u\)"/);
      }
      assertEquals([...Deno.readDirSync(roots)].map((e) => e.name), ["next"]);
      await Deno.chmod(locked, 0o500);
      const r = await asNobody(locked, ["run", "true"], { denoDir });
      assertEquals(r.code === 0, false);
      assertMatch(r.err, /has mode 500, which takes permissions away from its owner.*chmod 700/);
      assertEquals([...Deno.readDirSync(locked)], []);
      // One of the store's own folders so (its tasks folder): named, with the chmod.
      await Deno.chmod(locked, 0o700);
      assertEquals((await asNobody(locked, ["run", "true"], { denoDir })).code, 0);
      await Deno.chmod(`${locked}/tasks`, 0o500);
      const inside = await asNobody(locked, ["run", "true"], { denoDir });
      assertEquals(inside.code, 1);
      assertEquals(
        inside.err,
        `bgtask: cannot write to the bgtask store "${locked}": its folder "${locked}/tasks" has ` +
          `mode 500, which takes permissions away from its owner; if it is yours, run: ` +
          `chmod -R u+rwX ${locked}\n`,
      );
      await Deno.chmod(`${locked}/tasks`, 0o700);
      assertEquals((await asNobody(locked, ["list"], { denoDir })).code, 0);
    } finally {
      for (const d of [denoDir, roots, locked]) await Deno.remove(d, { recursive: true });
    }
  },
});

/** `bgtask --dir STORE ...args` (all permissions) under umask 277. */
function underUmask277(store: string, args: string[]): Promise<Deno.CommandOutput> {
  const cli = [Deno.execPath(), "run", "-A", CLI, "--dir", store, ...args];
  return new Deno.Command("bash", {
    args: ["-c", 'umask 277 && exec "$@"', "bash", ...cli],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
}

Deno.test("a umask that takes the owner's own permissions away: the store is not made, and the error names the umask", async () => {
  const parent = await tempDir();
  try {
    const store = `${parent}/store`;
    const r = await underUmask277(store, ["run", "true"]);
    assertEquals(r.code === 0, false);
    const err = dec.decode(r.stderr);
    assertMatch(err, /umask takes the owner's own permissions away.*use a umask such as 077/);
    assert(!(await Deno.stat(store).then(() => true, () => false)), "the store was left behind");
    // A store made under a usual umask, written to under 277: refused the same
    // way (the folders it would make for tasks and queues would be unusable).
    const made = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "--dir", store, "run", "true"],
      stdout: "null",
    }).output();
    assert(made.success);
    const again = await underUmask277(store, ["run", "--queue", "q", "true"]);
    assertEquals(again.code === 0, false);
    assertMatch(dec.decode(again.stderr), /umask takes the owner's own permissions away/);
    assertEquals([...Deno.readDirSync(`${store}/tasks`)].length, 1);
    assertEquals([...Deno.readDirSync(store)].some((e) => e.name.startsWith(".probe")), false);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test({
  name:
    `non-root: a setuid program at its prompt (su) cannot be looked at: wait --until input returns at once and says so, waitingForInput is null, not false${
      skip ? ` (skipped: ${skip})` : ""
    }`,
  ignore: skip !== undefined,
  fn: async () => {
    let su: Deno.FileInfo | undefined;
    try {
      su = await Deno.stat("/bin/su");
    } catch { /* below */ }
    if (!su?.mode || !(su.mode & 0o4000)) return; // (no setuid su here: nothing to test)
    const denoDir = await tempDir("nobody");
    const store = await tempDir("nobody");
    try {
      const run = await asNobody(store, ["run", "--stdin", "pty", "su root -c true; echo rc=$?"], {
        denoDir,
      });
      assertEquals(run.code, 0, run.err);
      const id = run.out.trim();
      const wait = await asNobody(store, ["wait", "--until", "input", "--timeout", "20s", id], {
        denoDir,
      });
      assertEquals(wait.code, 0, wait.err);
      assertMatch(wait.err, new RegExp(`whether ${id} waits for input cannot be told`));
      const status = await asNobody(store, ["status", "--json", id], { denoDir });
      assertEquals(JSON.parse(status.out).waitingForInput, null);
      const kill = await asNobody(store, ["kill", id], { denoDir });
      assertEquals(kill.code, 0, kill.err);
    } finally {
      for (const d of [denoDir, store]) await Deno.remove(d, { recursive: true });
    }
  },
});

/** A store of nobody's, and a Deno cache for nobody; both removed afterwards. */
async function withNobodyStore(fn: (store: string, denoDir: string) => Promise<void>) {
  const denoDir = await tempDir("nobody");
  const store = await tempDir("nobody");
  try {
    await fn(store, denoDir);
  } finally {
    await new Deno.Command("chmod", { args: ["-R", "u+rwX", store] }).output();
    for (const d of [denoDir, store]) await Deno.remove(d, { recursive: true });
  }
}

Deno.test({
  name:
    `non-root: a task folder this user may not read (chmod 000) is one damaged task, with the chmod that undoes it; the rest of the store still lists and drains${
      skip ? ` (skipped: ${skip})` : ""
    }`,
  ignore: skip !== undefined,
  fn: () =>
    withNobodyStore(async (store, denoDir) => {
      for (const word of ["one", "two"]) {
        const r = await asNobody(store, ["run", "--wait", `echo ${word}`], { denoDir });
        assertEquals(r.code, 0, r.err);
      }
      await Deno.chmod(`${store}/tasks/b1`, 0o000);
      const status = await asNobody(store, ["status", "b1"], { denoDir });
      assertEquals(status.code, 1);
      assertMatch(status.err, /task b1 is damaged: .*chmod -R u\+rwX ".*\/tasks\/b1", or run/);
      const list = await asNobody(store, ["list", "--json"], { denoDir });
      assertEquals(JSON.parse(list.out).map((t: { id: string }) => t.id), ["b2"], list.err);
      // The completions of the rest: b1's claim cannot be read, and it is left out.
      const peek = await asNobody(store, ["completions", "--peek", "--json"], { denoDir });
      assertEquals(peek.code, 0, peek.err);
      assertEquals(JSON.parse(peek.out).map((t: { id: string }) => t.id), ["b2"]);
      const drained = await asNobody(store, ["completions", "--json"], { denoDir });
      assertEquals(drained.code, 0, drained.err);
      assertEquals(JSON.parse(drained.out).map((t: { id: string }) => t.id), ["b2"]);
    }),
});

Deno.test({
  name:
    `non-root: a running task's folder this user may not enter (chmod 000) is not taken for a deleted store: the task runs on${
      skip ? ` (skipped: ${skip})` : ""
    }`,
  ignore: skip !== undefined,
  fn: () =>
    withNobodyStore(async (store, denoDir) => {
      try {
        const r = await asNobody(store, ["run", "sleep 30.0271"], { denoDir });
        assertEquals(r.code, 0, r.err);
        const id = r.out.trim();
        await Deno.chmod(`${store}/tasks/${id}`, 0o000);
        // The watchdog looks 4 times a second: six looks, and the sleep is still there.
        await new Promise((done) => setTimeout(done, 1500));
        const sleeping = () =>
          [...Deno.readDirSync("/proc")].some((e) => {
            try {
              return /^\d+$/.test(e.name) &&
                Deno.readTextFileSync(`/proc/${e.name}/cmdline`) === "sleep\x0030.0271\x00";
            } catch {
              return false;
            }
          });
        assert(sleeping(), "the task runs on");
        await Deno.chmod(`${store}/tasks/${id}`, 0o700);
        const kill = await asNobody(store, ["kill", "--json", id], { denoDir });
        assertEquals(JSON.parse(kill.out)[0].status, "killed", kill.err);
        assert(!sleeping(), "killed");
      } finally {
        await Deno.chmod(`${store}/tasks/b1`, 0o700).catch(() => {});
        await asNobody(store, ["kill", "--all"], { denoDir }).catch(() => {});
      }
    }),
});

Deno.test({
  name:
    `non-root: another user reading a store shared for reading sees a running task running (not lost), and its kill and run are refused naming the owner; nothing is written${
      skip ? ` (skipped: ${skip})` : ""
    }`,
  ignore: skip !== undefined,
  fn: async () => {
    const denoDir = await tempDir("nobody");
    const store = await tempDir(); // root's
    const tasks = new TaskManager({ dir: store });
    try {
      const ended = await tasks.wait((await tasks.spawnShell("true")).id);
      const t = await tasks.spawnShell("sleep 30.0413");
      await new Deno.Command("chmod", { args: ["-R", "go+rX", store] }).output();
      // The ended task's final record was written after by its supervisor (umask 077): this
      // user may not read it. That task is damaged to it; the rest still lists.
      await Deno.chmod(`${store}/tasks/${ended.id}/final.json`, 0o600);
      const status = await asNobody(store, ["status", "--json", t.id], { denoDir });
      assertEquals(status.code, 0, status.err);
      assertEquals(JSON.parse(status.out).status, "running", status.out);
      const list = await asNobody(store, ["list", "--json"], { denoDir });
      assertEquals(list.code, 0, list.err);
      assertEquals(JSON.parse(list.out).map((x: { status: string }) => x.status), ["running"]);
      assertMatch(list.err, new RegExp(`task ${ended.id} is damaged`));
      for (const args of [["kill", t.id], ["run", "true"]]) {
        const r = await asNobody(store, args, { denoDir });
        assertEquals(r.code, 1, `${args[0]}: ${r.out}`);
        assertMatch(
          r.err,
          /belongs to uid 0 and is shared for reading .* only its owner may change/,
        );
      }
      assertEquals((await tasks.getStatusOrThrow(t.id)).status, "running");
      assertEquals(await Deno.stat(`${store}/tasks/${t.id}/final.json`).catch(() => null), null);
    } finally {
      for (const t of await tasks.list({ status: "running" })) await tasks.kill(t.id);
      await tasks.close();
      for (const d of [denoDir, store]) await Deno.remove(d, { recursive: true });
    }
  },
});

Deno.test({
  name:
    `non-root: clean passes over a folder the user may not look into (a removal's leftover), says so, and cleans the rest${
      skip ? ` (skipped: ${skip})` : ""
    }`,
  ignore: skip !== undefined,
  fn: async () => {
    const denoDir = await tempDir("nobody");
    const store = await tempDir("nobody");
    try {
      for (let i = 0; i < 2; i++) {
        assertEquals((await asNobody(store, ["run", "--wait", "true"], { denoDir })).code, 0);
      }
      assertEquals((await asNobody(store, ["rm", "b1"], { denoDir })).code, 0);
      // A removal cut short whose folder lost its modes (tombstone there, folder left).
      await Deno.mkdir(`${store}/tasks/b1`);
      await Deno.writeTextFile(`${store}/tasks/b1/x`, "");
      await new Deno.Command("chown", { args: ["-R", "nobody", `${store}/tasks/b1`] }).output();
      await Deno.chmod(`${store}/tasks/b1`, 0o000);
      // (Before: exit 1, "permission denied (os error 13): lstat …/spec", nothing removed.)
      const clean = await asNobody(store, ["clean", "--json"], { denoDir });
      assertEquals(clean.code, 0, clean.err);
      assertEquals(JSON.parse(clean.out).map((t: { id: string }) => t.id), ["b2"]);
      assertMatch(clean.err, /task b1 is damaged: .*chmod -R u\+rwX .*\(left in place\)/);
    } finally {
      await Deno.chmod(`${store}/tasks/b1`, 0o700).catch(() => {});
      for (const d of [denoDir, store]) await Deno.remove(d, { recursive: true });
    }
  },
});
