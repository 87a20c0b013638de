/**
 * What a user who is not root meets (bgtask is developed as root, where
 * none of this shows), and a umask that takes the owner's permissions away.
 * Real processes run as `nobody` through `runuser`: a working directory the
 * user cannot enter, a store root made in the user's way (as `sudo -E` does
 * in their home), a store whose mode lost the owner's write bit.
 */

import { assert, assertEquals, assertMatch } from "./_helpers/assert.ts";
import { IS_ROOT } from "./_helpers/reliability.ts";
import { exists, until } from "./_helpers/common.ts";
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
  return await runNobody(deno, { DENO_DIR: opts.denoDir, HOME: "/nonexistent" }, opts);
}

/**
 * `argv` as nobody (runuser), from `cwd` (default /), with `env` and
 * NO_COLOR set over this process's environment, or over PATH alone with
 * `clean`.
 */
async function runNobody(
  argv: string[],
  env: Record<string, string>,
  opts: { cwd?: string; clean?: boolean } = {},
): Promise<{ code: number; out: string; err: string }> {
  const base = opts.clean ? ["-i", `PATH=${Deno.env.get("PATH") ?? ""}`] : [];
  const sets = Object.entries({ NO_COLOR: "1", ...env }).map(([k, v]) => `${k}=${v}`);
  const r = await new Deno.Command("runuser", {
    args: ["-u", "nobody", "--", "env", ...base, ...sets, ...argv],
    cwd: opts.cwd ?? "/",
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
      // A removal refused so changes nothing: the task is still listed, and
      // removed once the chmod is made (it went from the lists and left its
      // files, and the rm asked again said "was removed").
      const rm = await asNobody(locked, ["rm", "b1"], { denoDir });
      assertEquals(rm.code, 1);
      assertMatch(rm.err, /has mode 500.*chmod -R u\+rwX/);
      assertEquals(await exists(`${locked}/ids/1`), false, "no tombstone");
      await Deno.chmod(`${locked}/tasks`, 0o700);
      // The task's own folder so: refused the same, its tombstone taken back.
      await Deno.chmod(`${locked}/tasks/b1`, 0o500);
      assertEquals((await asNobody(locked, ["rm", "b1"], { denoDir })).code, 1);
      assertEquals(await exists(`${locked}/ids/1`), false, "no tombstone");
      await Deno.chmod(`${locked}/tasks/b1`, 0o700);
      assertMatch((await asNobody(locked, ["list"], { denoDir })).out, /^b1 /m);
      assertEquals((await asNobody(locked, ["rm", "b1"], { denoDir })).code, 0);
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
        // (A mark of this run's own: another suite run at the same time has the same test.)
        const mark = `30.${
          String(crypto.getRandomValues(new Uint32Array(1))[0]).padStart(10, "0")
        }`;
        const r = await asNobody(store, ["run", `sleep ${mark}`], { denoDir });
        assertEquals(r.code, 0, r.err);
        const id = r.out.trim();
        await Deno.chmod(`${store}/tasks/${id}`, 0o000);
        // The watchdog looks 4 times a second: six looks, and the sleep is still there.
        await new Promise((done) => setTimeout(done, 1500));
        const sleeping = () =>
          [...Deno.readDirSync("/proc")].some((e) => {
            try {
              return /^\d+$/.test(e.name) &&
                Deno.readTextFileSync(`/proc/${e.name}/cmdline`) === `sleep\x00${mark}\x00`;
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
          /belongs to uid 0, and a store is one user's: its mode \(755\) lets others list its folder, but the records bgtask writes in it are its owner's alone/,
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

/**
 * `deno run FLAGS cli.ts ...args` as nobody with this environment alone
 * (PATH, and HOME as given: the store found as a user's would be).
 */
async function nobodyCli(
  flags: string[],
  args: string[],
  opts: { home: string; denoDir: string },
): Promise<{ code: number; out: string; err: string }> {
  const deno = [Deno.execPath(), "run", "--no-config", "--no-lock", ...flags, CLI, ...args];
  return await runNobody(deno, { DENO_DIR: opts.denoDir, HOME: opts.home }, { clean: true });
}

Deno.test({
  name:
    `non-root: a chown is offered only for the store itself or a folder in the user's own HOME; under another user's HOME (su -m) that is said, elsewhere that the store cannot be reached; the folder named is named as what it is${
      skip ? ` (skipped: ${skip})` : ""
    }`,
  ignore: skip !== undefined,
  fn: async () => {
    const denoDir = await tempDir("nobody");
    const rootHome = await tempDir(); // root's, 0700: as /root after su -m
    const home = await tempDir("nobody"); // the user's own
    const readOnlyHome = await tempDir(); // root's, 0555
    const rootStore = await tempDir(); // root's, 0700: a store made by root
    try {
      await Deno.chmod(readOnlyHome, 0o555);
      const all = ["-A"];
      // HOME another user's (su -m): said, with the ways out; no chown of /root.
      // (It said: "/root", the folder above it, … sudo chown -R "$(id -u)" /root.)
      const suM = await nobodyCli(all, ["run", "true"], { home: rootHome, denoDir });
      assertEquals(suM.code, 1);
      assertEquals(
        suM.err,
        `bgtask: cannot create the bgtask store "${rootHome}/.cache/bgtask": it is under $HOME ` +
          `("${rootHome}"), which belongs to another user (uid 0), not to this one (su -m and ` +
          `sudo -E keep the HOME of who ran them), so this user may not use it; run with your ` +
          `own HOME (su - or sudo -H), or name a store of your own (--dir DIR or BGTASK_DIR)\n`,
      );
      const named = await nobodyCli(all, ["--dir", `${rootHome}/mine`, "run", "true"], {
        home: rootHome,
        denoDir,
      });
      assertMatch(named.err, /it is under \$HOME .* belongs to another user \(uid 0\)/);
      // Another user's folder on the way, the user's HOME their own: cannot be reached; the
      // folder is the store's parent, or (not to be looked into) one further up.
      for (
        const [dir, what] of [[`${rootHome}/mine`, "its parent folder"], [
          `${rootHome}/a/b/mine`,
          "a folder on its path",
        ]]
      ) {
        const r = await nobodyCli(all, ["--dir", dir, "list"], { home, denoDir });
        assertEquals(
          r.err,
          `bgtask: cannot open the bgtask store "${dir}": this user cannot reach it, as ` +
            `"${rootHome}", ${what}, belongs to uid 0 (mode 700); use a store this user can ` +
            `reach (--dir DIR or BGTASK_DIR)\n`,
        );
      }
      // A HOME of root's that takes writes away (555): not this user's to chmod.
      // (It said: takes permissions away from its owner … chmod 700.)
      const ro = await nobodyCli(all, ["run", "true"], { home: readOnlyHome, denoDir });
      assertEquals(ro.code, 1);
      assertMatch(ro.err, /it is under \$HOME .* belongs to another user \(uid 0\)/);
      assertEquals(/chmod/.test(ro.err), false, ro.err);
      // Root made the cache folder in the user's own HOME (sudo -E): the chown that gives it
      // back, once root's tasks there have ended.
      await Deno.mkdir(`${home}/.cache`, { mode: 0o700 });
      const sudoE = await nobodyCli(all, ["run", "true"], { home, denoDir });
      assertEquals(
        sudoE.err,
        `bgtask: cannot create the bgtask store "${home}/.cache/bgtask": "${home}/.cache", its ` +
          `parent folder, belongs to uid 0 (mode 700) and this user may not use it; run bgtask ` +
          `as root, or, once no task runs in the store (bgtask list, as root), give it to this ` +
          `user: sudo chown -R "$(id -u)" ${home}/.cache\n`,
      );
      // The store itself root's: the same, with and without --allow-sys.
      const minimal = [
        "--allow-run=bash",
        `--allow-read=${rootStore}`,
        `--allow-write=${rootStore}`,
      ];
      for (const flags of [all, minimal]) {
        const r = await nobodyCli(flags, ["--dir", rootStore, "run", "true"], { home, denoDir });
        assertMatch(
          r.err,
          new RegExp(
            `^bgtask: cannot write to the bgtask store "${rootStore}": it belongs to uid 0 ` +
              `\\(mode 700\\) and this user may not use it; run bgtask as root, or, once no ` +
              `task runs in the store \\(bgtask list, as root\\), give it to this user: sudo ` +
              `chown -R "\\$\\(id -u\\)" ${rootStore}\\n$`,
          ),
        );
      }
      assertEquals([...Deno.readDirSync(rootHome)], []);
    } finally {
      for (const d of [denoDir, rootHome, home, readOnlyHome, rootStore]) {
        await Deno.remove(d, { recursive: true });
      }
    }
  },
});

Deno.test({
  name:
    `non-root: a task whose final record another user wrote (root's supervisor, after the store was given to this user) is told to be chowned, not chmod-ed, and rm removes it${
      skip ? ` (skipped: ${skip})` : ""
    }`,
  ignore: skip !== undefined,
  fn: () =>
    withNobodyStore(async (store, denoDir) => {
      for (let i = 0; i < 2; i++) {
        assertEquals((await asNobody(store, ["run", "--wait", "true"], { denoDir })).code, 0);
      }
      await new Deno.Command("chown", { args: ["root", `${store}/tasks/b1/final.json`] })
        .output();
      const status = await asNobody(store, ["status", "b1"], { denoDir });
      assertEquals(status.code, 1);
      // (It said: this user may not read its folder: chmod -R u+rwX …, which cannot work.)
      assertMatch(
        status.err,
        new RegExp(
          `^bgtask: task b1 is damaged: .*\\(it has ended, .*bgtask rm b1 removes the task; ` +
            `"${store}/tasks/b1/final.json" belongs to another user \\(uid 0\\), which chmod ` +
            `cannot change: give it back to the store's owner: sudo chown -R 65534 ` +
            `"${store}/tasks/b1", or run bgtask as uid 0\\)\\n$`,
        ),
      );
      // The user owns the task's folder: removing it needs no more.
      const rm = await asNobody(store, ["rm", "b1"], { denoDir });
      assertEquals(rm.code, 0, rm.err);
      assertEquals(await Deno.stat(`${store}/tasks/b1`).then(() => true, () => false), false);
      const list = await asNobody(store, ["list", "--json"], { denoDir });
      assertEquals(JSON.parse(list.out).map((t: { id: string }) => t.id), ["b2"], list.err);
    }),
});

Deno.test({
  name:
    `non-root: a store of another user's whose mode lets this one list it (750) says that a store is one user's, reading or writing${
      skip ? ` (skipped: ${skip})` : ""
    }`,
  ignore: skip !== undefined,
  fn: async () => {
    const denoDir = await tempDir("nobody");
    const store = await tempDir(); // root's
    const tasks = new TaskManager({ dir: store });
    try {
      await tasks.wait((await tasks.spawnShell("true")).id);
      await new Deno.Command("chgrp", { args: ["nogroup", store] }).output();
      await Deno.chmod(store, 0o750);
      // (It said "shared for reading (mode 750): other users may read its tasks", and a read
      // was refused by a bare "Permission denied".)
      for (const verb of [["list"], ["status", "b1"], ["run", "true"]]) {
        const r = await asNobody(store, verb, { denoDir });
        assertEquals(r.code, 1, verb[0]);
        assertEquals(
          r.err,
          `bgtask: cannot ${verb[0] === "run" ? "write to" : "read"} the bgtask store ` +
            `"${store}": it belongs to uid 0, and a store is one user's: its mode (750) lets ` +
            `others list its folder, but the records bgtask writes in it are its owner's alone ` +
            `(0600), to read and to change (run, kill, rm, …); run bgtask as that user, or use ` +
            `a store of your own (--dir DIR or BGTASK_DIR)\n`,
        );
      }
      assertEquals((await tasks.list()).length, 1);
    } finally {
      await tasks.close();
      for (const d of [denoDir, store]) await Deno.remove(d, { recursive: true });
    }
  },
});

/**
 * A python3 binary (not a script, such as pyenv's shims) that every user
 * can run, for a setuid copy of it (a stand-in for sudo); undefined without one.
 */
function python(): string | undefined {
  for (const path of ["/usr/bin/python3", "/usr/local/bin/python3"]) {
    try {
      const head = new Uint8Array(4);
      using f = Deno.openSync(path);
      if (f.readSync(head) === 4 && dec.decode(head) === "\x7fELF") return path;
    } catch {
      // Not there.
    }
  }
  return undefined;
}
const py = skip ? undefined : python();

/** The pids of live processes whose command line holds `mark`, and whose real uid is 0. */
function rootsMarked(mark: string): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      if (!Deno.readTextFileSync(`/proc/${e.name}/cmdline`).includes(mark)) continue;
      const status = Deno.readTextFileSync(`/proc/${e.name}/status`);
      // Real uid 0, TERM ignored (bit 15 of SigIgn): what the kill will meet.
      const ignored = BigInt(`0x${/^SigIgn:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? "0"}`);
      if (/^Uid:\s+0\s/m.test(status) && (ignored & (1n << 14n)) !== 0n) out.push(Number(e.name));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

Deno.test({
  name:
    `non-root: a kill that cannot end a process of the task (another user's, as a sudo'd command's) fails saying so and how to end it, the other tasks of a kill --all killed; the task's record says so too${
      skip
        ? ` (skipped: ${skip})`
        : py
        ? ""
        : " (skipped: no python3 for a setuid stand-in for sudo)"
    }`,
  ignore: skip !== undefined || py === undefined,
  fn: async () => {
    const denoDir = await tempDir("nobody");
    const store = await tempDir("nobody");
    // A setuid-root python that makes itself root for good (real uid 0, as
    // sudo does) and ignores SIGTERM: nobody may not signal it.
    const bin = await tempDir();
    await Deno.chmod(bin, 0o755);
    await Deno.copyFile(py!, `${bin}/py`);
    await Deno.chmod(`${bin}/py`, 0o4755);
    const mark = `bgtask-sudo-stand-in-${crypto.randomUUID()}`;
    const root = `${bin}/py -c 'import os, signal, time; os.setresuid(0, 0, 0); ` +
      `signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)' ${mark}`;
    try {
      // One whose timeout ends the rest of it, and leaves that (said in its record, below).
      const timedMark = `${mark}-timed`;
      const timed = await asNobody(store, [
        "run",
        "--timeout",
        "1s",
        `${root.replace(mark, timedMark)} & sleep 120`,
      ], { denoDir });
      assertEquals(timed.code, 0, timed.err);
      // (Ended before the kill --all below, which would kill it else.)
      const timedOut = JSON.parse(
        (await asNobody(store, ["wait", "--json", timed.out.trim()], { denoDir })).out,
      )[0];
      assertEquals(timedOut.reason, "timeout");
      assertMatch(
        timedOut.error,
        new RegExp(
          `^timed out after 1000 ms \\(timeoutMs\\); processes of it run on \\(process groups ` +
            `${timedOut.pid}\\) as another user.*-- -${timedOut.pid}\\)$`,
        ),
      );
      const groupMark = `${mark}-group`;
      const run = await asNobody(store, [
        "run",
        `${root.replace(mark, groupMark)} & sleep 120`,
      ], { denoDir });
      assertEquals(run.code, 0, run.err);
      const id = run.out.trim();
      await until(() => rootsMarked(groupMark).length === 1, "the root process to be ready").catch(
        async (e) => {
          const logs = await asNobody(store, ["logs", id], { denoDir });
          throw new Error(`${e.message}; the task's output: ${logs.out}${logs.err}`);
        },
      );
      const pgid = JSON.parse((await asNobody(store, ["status", "--json", id], { denoDir })).out)
        .pid;
      // One in a group of its own in the task's session (timeout makes one): a stray.
      const strayMark = `${mark}-stray`;
      const strayRun = await asNobody(store, [
        "run",
        `timeout 100 ${root.replace(mark, strayMark)}; echo after`,
      ], { denoDir });
      assertEquals(strayRun.code, 0, strayRun.err);
      const stray = strayRun.out.trim();
      const strayPid = await until(
        () => rootsMarked(strayMark).length === 1 ? rootsMarked(strayMark)[0] : 0,
        "the stray root process to be ready",
      );
      const strayGroup = Number(
        Deno.readTextFileSync(`/proc/${strayPid}/stat`).replace(/^.*\) /s, "").split(" ")[2],
      );
      const other = await asNobody(store, ["run", "sleep 300"], { denoDir });
      assertEquals(other.code, 0, other.err);
      // Every task killed (the other one too, listed), each survivor said: exit 1.
      const kill = await asNobody(store, ["kill", "--all", "--grace", "100ms"], { denoDir });
      assertEquals(kill.code, 1, kill.out + kill.err);
      assertMatch(kill.out, new RegExp(`^${other.out.trim()}\\s+killed`, "m"));
      for (const [task, group] of [[id, pgid], [stray, strayGroup]]) {
        assertMatch(
          kill.err,
          new RegExp(
            `cannot kill task ${task}: processes of its process group ${group} survived SIGKILL ` +
              `for 5 s: processes that run as another user .*sudo kill -KILL -- -${group}\\)`,
          ),
        );
      }
      // (The three stand-ins: the timed one's, the group's, the stray's.)
      assertEquals(rootsMarked(mark).length, 3, "a stand-in for sudo's command was ended");
      // Their supervisors record the kills once they have given up on the rest, saying so.
      for (const [task, group] of [[id, pgid], [stray, strayGroup]]) {
        await until(() => exists(`${store}/tasks/${task}/final.json`), "the final record", 30_000);
        const status = await asNobody(store, ["status", "--json", String(task)], { denoDir });
        const info = JSON.parse(status.out);
        assertEquals(info.status, "killed");
        assertMatch(
          info.error,
          new RegExp(
            `; processes of it run on \\(process groups ${group}\\) as another user.*-- -${group}\\)$`,
          ),
        );
      }
    } finally {
      for (const p of rootsMarked(mark)) Deno.kill(p, "SIGKILL");
      for (const d of [denoDir, store, bin]) await Deno.remove(d, { recursive: true });
    }
  },
});
