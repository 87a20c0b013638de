/**
 * What a refusal says when it is not about who owns the store: root is
 * stopped by no mode or owner, and an owner whose modes are whole is not
 * stopped by them either. Telling them to "run bgtask as that user" (uid 0,
 * to root) sent them nowhere.
 *
 * @module
 */

/**
 * The message for a store the system refused though neither its owner nor
 * its mode explains it. `head`: "Cannot write to the bgtask store …";
 * `where`: "it", or the folder on its path that was looked at; `owner`:
 * that folder's uid; `me`: this process's.
 *
 * @example
 * ```ts
 * import { notByOwnership } from "./refused.ts";
 * import { match } from "node:assert/strict";
 * match(
 *   notByOwnership('Cannot write to the bgtask store "/sys/kernel"', "it", 0, 0, "/sys/kernel"),
 *   /this process runs as root.*sysfs.*--dir DIR or BGTASK_DIR/,
 * );
 * ```
 */
export function notByOwnership(
  head: string,
  where: string,
  owner: number,
  me: number,
  dir: string,
): string {
  const who = me === 0
    ? "this process runs as root (uid 0), whom no file's owner or mode stops"
    : `${where} belongs to this user (uid ${me}), with its owner's permissions whole`;
  return `${head}: the system refused, though ${who}${
    me === 0 && owner !== 0 ? ` (${where} belongs to uid ${owner})` : ""
  }, so something else refuses: ${otherCauses(dir)}; use another store (--dir DIR or BGTASK_DIR)`;
}

/**
 * What to add to advice about the owner when this process may not be told
 * its own uid (no `--allow-sys=uid`): if it is that owner already, what
 * else refuses.
 */
export function ifOwnerAlready(owner: number, dir: string): string {
  return `; if bgtask runs as uid ${owner} already, the owner is not why: ${otherCauses(dir)}`;
}

/**
 * The kernel's file system a path is under, `/proc` or `/sys`, or undefined
 * elsewhere.
 *
 * @example
 * ```ts
 * import { kernelTop } from "./refused.ts";
 * import { equal } from "node:assert/strict";
 * equal(kernelTop("/sys/kernel"), "/sys");
 * equal(kernelTop("/system"), undefined);
 * ```
 */
export function kernelTop(path: string): string | undefined {
  return /^(\/(?:sys|proc))(?:\/|$)/.exec(path)?.[1];
}

/**
 * What a path under /proc or /sys is under (`/sys, the kernel's sysfs,
 * which holds no files of anyone's making`), or undefined elsewhere.
 *
 * @example
 * ```ts
 * import { kernelFs } from "./refused.ts";
 * import { equal } from "node:assert/strict";
 * equal(kernelFs("/sys/kernel"), "/sys, the kernel's sysfs, which holds no files of anyone's making");
 * equal(kernelFs("/system"), undefined);
 * ```
 */
export function kernelFs(path: string): string | undefined {
  const top = kernelTop(path);
  return top && `${top}, the kernel's ${top.slice(1)}fs, which holds no files of anyone's making`;
}

/** What refuses a store besides its owner and modes. */
function otherCauses(dir: string): string {
  const kernel = kernelFs(dir);
  return kernel
    ? `it is under ${kernel}`
    : "perhaps a special file system (such as sysfs or /proc) that takes no files of anyone's " +
      "making, an immutable folder (chattr +i, which lsattr -d shows), SELinux or AppArmor, " +
      "or an NFS export that squashes root";
}
