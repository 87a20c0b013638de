/**
 * A store the system refuses though its owner and mode allow it: to root,
 * `bgtask --dir /sys/kernel run …` said the store "belongs to uid 0, and a
 * store is one user's … run bgtask as that user", which root already is.
 * Now it says what else refuses (sysfs, an immutable folder, …) and to use
 * another store.
 */

import assert from "node:assert/strict";
import { StoreError, TaskManager } from "../mod.ts";
import { IS_ROOT, withTempDir } from "./_helpers/reliability.ts";
import { cli } from "./cli_helpers.ts";

const HAS_SYS = (() => {
  try {
    return Deno.statSync("/sys/kernel").isDirectory;
  } catch {
    return false;
  }
})();

/** chattr +i on `dir`, or false where the file system or the process may not. */
async function immutable(dir: string, on: boolean): Promise<boolean> {
  const out = await new Deno.Command("chattr", { args: [on ? "+i" : "-i", dir], stderr: "null" })
    .output().catch(() => undefined);
  return out?.success === true;
}

/** Whether a folder can be made immutable here (root, chattr, a file system that has it). */
const CAN_IMMUTABLE = IS_ROOT && await (async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-chattr-" });
  try {
    return await immutable(dir, true) && await immutable(dir, false);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
})();

/** Whether this process may make a user namespace (unshare -r) to run a command in. */
const CAN_USERNS = IS_ROOT && await new Deno.Command("unshare", {
  args: ["-r", "true"],
  stdout: "null",
  stderr: "null",
}).output().then((o) => o.success, () => false);

Deno.test({
  name: `store refused: to root, a store under /sys says sysfs refuses, not its owner${
    IS_ROOT && HAS_SYS ? "" : " (skipped: needs root and /sys)"
  }`,
  ignore: !IS_ROOT || !HAS_SYS,
  fn: async () => {
    // In process, with the uid known (-A): the message says root is not stopped by owners.
    await assert.rejects(
      new TaskManager({ dir: "/sys/kernel" }).spawnShell("echo a"),
      (e: Error) => {
        assert.ok(e instanceof StoreError, String(e));
        assert.equal(
          e.message,
          'Cannot write to the bgtask store "/sys/kernel": the system refused, though this ' +
            "process runs as root (uid 0), whom no file's owner or mode stops, so something " +
            "else refuses: it is under /sys, the kernel's sysfs, which holds no files of " +
            "anyone's making; use another store (--dir DIR or BGTASK_DIR)",
        );
        return true;
      },
    );
    // The CLI with its own permissions: Deno's -A-only rule, told of /sys (it said /dev).
    const r = await cli("/sys/kernel", ["run", "echo", "a"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^bgtask: cannot create the bgtask store "\/sys\/kernel": Deno treats paths under \/sys specially .*and it is under \/sys, the kernel's sysfs, which holds no files of anyone's making: use a store elsewhere \(--dir DIR or BGTASK_DIR\)\n$/,
    );
  },
});

Deno.test({
  name: `store refused: to root, an immutable store is not said to be another user's${
    CAN_IMMUTABLE ? "" : " (skipped: needs root and chattr +i)"
  }`,
  ignore: !CAN_IMMUTABLE,
  fn: async () => {
    await withTempDir("refused-immutable", async (tmp) => {
      const dir = `${tmp}/store`;
      await Deno.mkdir(dir, { mode: 0o755 });
      await Deno.chmod(dir, 0o755);
      assert.ok(await immutable(dir, true), "chattr +i");
      try {
        const causes = "perhaps a special file system (such as sysfs or /proc) that takes no " +
          "files of anyone's making, an immutable folder (chattr +i, which lsattr -d shows), " +
          "SELinux or AppArmor, or an NFS export that squashes root";
        await assert.rejects(
          new TaskManager({ dir }).spawnShell("echo a"),
          (e: Error) => {
            assert.ok(e instanceof StoreError, String(e));
            assert.equal(
              e.message,
              `Cannot write to the bgtask store "${dir}": the system refused, though this ` +
                `process runs as root (uid 0), whom no file's owner or mode stops, so ` +
                `something else refuses: ${causes}; use another store (--dir DIR or BGTASK_DIR)`,
            );
            return true;
          },
        );
        // The CLI, which may not ask Deno who it is (no --allow-sys), asks a bash.
        const r = await cli(dir, ["run", "echo", "a"]);
        assert.equal(r.code, 1);
        assert.equal(
          r.stderr,
          `bgtask: cannot write to the bgtask store "${dir}": the system refused, though this ` +
            `process runs as root (uid 0), whom no file's owner or mode stops, so something ` +
            `else refuses: ${causes}; use another store (--dir DIR or BGTASK_DIR)\n`,
        );
      } finally {
        await immutable(dir, false);
      }
    });
  },
});

Deno.test({
  name:
    `store refused: to root in a user namespace, a folder of a user not mapped into it is said to be so${
      CAN_USERNS ? "" : " (skipped: needs root and unshare -r)"
    }`,
  ignore: !CAN_USERNS,
  fn: async () => {
    await withTempDir("refused-userns", async (tmp) => {
      // Made by root outside; in the namespace, uid 12345 is no one's: 65534 (the overflow uid).
      const own = `${tmp}/own`;
      await Deno.mkdir(own, { mode: 0o700 });
      await Deno.chmod(own, 0o700);
      const tasks = new TaskManager({ dir: `${own}/store` });
      await tasks.wait((await tasks.spawnShell("true")).id);
      await Deno.chown(own, 12345, 12345);
      const r = await cli(`${own}/store`, ["list"], { via: ["unshare", "-r"], flags: ["-A"] });
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /"[^"]*\/own", its parent folder, belongs to uid 65534 \(mode 700\): in a user namespace \(rootless podman, unshare -r, a remapped container\) that is a user not mapped into it/,
      );
      assert.doesNotMatch(r.stderr, /whom no file's owner or mode stops/);
    });
  },
});
