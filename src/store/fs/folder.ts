/**
 * The store's folder: opening it (made, checked to be this user's and not
 * a symlink), knowing it stays the one opened, and the errors that name the
 * store, the cause and the fix.
 *
 * @module
 */

import { resolve } from "../../path.ts";
import { StoreError } from "../../errors.ts";
import {
  isGranted,
  isPermissionError,
  permissionAdvice,
  rethrowPermission,
  shellWord,
} from "../../permissions.ts";
import { DamagedRecordError } from "./damaged.ts";
import { myUidAsked } from "./owner.ts";
import { ifOwnerAlready, kernelFs, kernelTop, notByOwnership } from "./refused.ts";

/** The uid a file of a user not mapped into this user namespace shows (the kernel's default). */
const OVERFLOW_UID = 65534;
import { append, createExclusive, exists, existsQuietly, isNoSpace } from "./files.ts";
import { Layout } from "./layout.ts";

/** How the store's folder was chosen, so that advice about it names the right knob. */
export type StoreSource = "option" | "BGTASK_DIR" | "default";

/**
 * How long a look at the store folder's identity stands: the calls one
 * operation makes within it (a record a task) are not looked at again.
 */
const RECHECK_MS = 5;

/** What tells one folder from another made later at the same path. */
interface Identity {
  dev: number;
  ino: number | null;
  /** Its birth time in ms (null where the file system does not keep it). */
  born: number | null;
}

function identityOf(st: Deno.FileInfo): Identity {
  return { dev: st.dev, ino: st.ino, born: st.birthtime?.getTime() ?? null };
}

function sameFolder(st: Deno.FileInfo, was: Identity): boolean {
  const now = identityOf(st);
  return now.dev === was.dev && now.ino === was.ino && now.born === was.born;
}

/** The error for a umask that takes the owner's own permissions away (`made` came out `mode`). */
function umaskError(action: string, made: string, mode: number): StoreError {
  return new StoreError(
    `Cannot ${action}: this process's umask takes the owner's own permissions away (${made} ` +
      `came out ${(mode & 0o7777).toString(8)}), so nothing bgtask writes could be written ` +
      `again; use a umask such as 077 or 022`,
  );
}

/** $HOME and its owner, when they may be read without asking and it is an absolute path. */
function homeOf(): { path: string; uid: number } | undefined {
  try {
    if (!isGranted({ name: "env", variable: "HOME" })) return undefined;
    const given = Deno.env.get("HOME");
    if (!given?.startsWith("/")) return undefined;
    const path = resolve(given);
    if (!isGranted({ name: "read", path })) return undefined;
    const uid = Deno.statSync(path).uid;
    return uid === null ? undefined : { path, uid };
  } catch {
    return undefined;
  }
}

/**
 * The store $XDG_CACHE_HOME took the place of (`$HOME/.cache/bgtask`) when
 * this process may use it: the one an installed bgtask's permissions are
 * for (see Install in the README), run with another XDG_CACHE_HOME.
 */
function grantedCacheStore(dir: string): string | undefined {
  try {
    if (!isGranted({ name: "env", variable: "HOME" })) return undefined;
    if (!isGranted({ name: "env", variable: "XDG_CACHE_HOME" })) return undefined;
    const home = Deno.env.get("HOME");
    if (!home?.startsWith("/") || !Deno.env.get("XDG_CACHE_HOME")?.startsWith("/")) {
      return undefined;
    }
    const store = resolve(home, ".cache", "bgtask");
    if (store === dir) return undefined;
    return isGranted({ name: "read", path: store }) && isGranted({ name: "write", path: store })
      ? store
      : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `path` is `folder` or inside it. */
function within(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder.endsWith("/") ? folder : `${folder}/`);
}

/** The store's folder, as one manager opened it. */
export class StoreFolder {
  /** The store's paths. */
  readonly layout: Layout;
  /** The absolute store folder. */
  readonly dir: string;
  readonly #source: StoreSource;
  /**
   * This process made a file in the store (opening it to write): the store
   * is this user's, and a refusal in it is about something inside.
   */
  #wroteProbe = false;
  #opened?: Promise<boolean>;
  #openedFor?: "read" | "write";
  /**
   * The store folder this manager opened, once it has: its device, inode and
   * birth time (a folder made anew at the path may get the inode the removed
   * one had, and does here, on ext4).
   */
  #identity?: Identity;
  /**
   * The store's random id (its `store-id` file), once read: what tells it
   * from a store made anew at its path when its folder alone cannot (see
   * #sameStore).
   */
  #storeId?: string;
  /** The store was removed (or replaced) under this manager: it stays closed. */
  #removed = false;
  /** When the folder was last found to be the one opened (performance.now()). */
  #checkedAt = -Infinity;

  /**
   * @param dir The store folder (need not exist yet).
   * @param source How it was chosen (for advice in errors).
   */
  constructor(dir: string, source: StoreSource) {
    this.layout = new Layout(resolve(dir));
    this.dir = this.layout.dir;
    this.#source = source;
  }

  /**
   * Checks the store once per mode and caches success (a failure is not
   * cached, so a later call tries again; nor is a store not there yet, which
   * another process may make at any time). `write` implies `read`. A call
   * also makes sure the folder is still the one opened (an lstat, about 3 µs,
   * at most once in {@linkcode RECHECK_MS}): a store removed, or removed and
   * made anew by someone else, closes this one for good (its error says why,
   * and that a new manager starts a new store).
   */
  open(mode: "read" | "write"): Promise<boolean> {
    try {
      this.#checkSame();
      if (this.#opened && (this.#openedFor === "write" || mode === "read")) return this.#opened;
      const there = this.#open(mode);
      if (!there) return Promise.resolve(false);
      this.#opened = Promise.resolve(true);
      this.#openedFor = mode;
      return this.#opened;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * {@linkcode open}, looking again at once whether the folder is still the
   * store opened: for saying why a task is not found (the store's removal,
   * within a moment of the last look, is the likelier why).
   */
  openNow(mode: "read" | "write"): Promise<boolean> {
    this.#checkedAt = -Infinity;
    return this.open(mode);
  }

  /** Throws the removed store's error when the folder opened is gone or another. */
  #checkSame(): void {
    if (this.#removed) throw new StoreError(this.#removedMessage());
    const was = this.#identity;
    if (!was) return;
    // Once per operation, not per record it reads: a list of 10,000 tasks
    // opens the store for each (+8% with an lstat each).
    const now = performance.now();
    if (now - this.#checkedAt < RECHECK_MS) return;
    this.#checkedAt = now;
    let st: Deno.FileInfo;
    try {
      st = Deno.lstatSync(this.dir);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) this.gone(e);
      this.fail(e, "open");
    }
    if (!this.#sameStore(st, was)) this.gone();
    this.#identity = identityOf(st);
  }

  /**
   * Whether the folder now at the store's path (`st`) is the store opened
   * (`was`). A folder that looks the same (device, inode, birth time) on a
   * file system that keeps birth times is; otherwise the store's id decides:
   * a folder's inode is not stable everywhere (overlayfs over two file
   * systems gives a directory a new one once its entry is evicted; a store
   * restored from a copy has a new one), and where no birth time is kept a
   * store made anew may have the removed one's inode and nothing else to tell
   * it by. An older store without an id (that this process could not give
   * one) has only its folder: a device or inode of another is another store;
   * a birth time alone that changed is taken for a copy-up (overlayfs).
   */
  #sameStore(st: Deno.FileInfo, was: Identity): boolean {
    if (was.born !== null && sameFolder(st, was)) return true;
    if (this.#storeId !== undefined) {
      const id = this.#readStoreId();
      // (Unreadable for the moment: the folder is all there is to go by.)
      if (id === undefined) return st.dev === was.dev && st.ino === was.ino;
      return id === this.#storeId;
    }
    return st.dev === was.dev && st.ino === was.ino;
  }

  /**
   * The store's id; null when it has none (made by an older bgtask), and
   * undefined when it cannot be read now (another error than its absence).
   */
  #readStoreId(): string | null | undefined {
    try {
      return Deno.readTextFileSync(this.layout.storeId).trim() || null;
    } catch (e) {
      return e instanceof Deno.errors.NotFound ? null : undefined;
    }
  }

  /**
   * Reads the store's id, at an open; at a write open (`give`), gives a
   * store without one its id first (an older bgtask's). The id is written to
   * a file of its own, then linked into place (a link fails if one is
   * there): whoever opens the store at the same moment reads it whole, or
   * not at all. Never fails the open (a full disk: a store without an id
   * stays usable, as an older bgtask's is); a read never writes.
   */
  #learnStoreId(give: boolean): void {
    let id = this.#readStoreId();
    if (id === null && give) {
      try {
        createExclusive(this.layout.storeId, crypto.randomUUID() + "\n");
      } catch {
        // No room: a store without an id (as an older bgtask's). (One linked
        // by another process meanwhile stands: createExclusive left it.)
      }
      id = this.#readStoreId();
    }
    if (typeof id !== "string") return;
    // (Opened before under another id: another store.)
    if (this.#storeId !== undefined && id !== this.#storeId) this.gone();
    this.#storeId = id;
  }

  /** Closes this store for good, as removed, and throws its error. */
  gone(cause?: unknown): never {
    this.#removed = true;
    throw new StoreError(this.#removedMessage(), cause === undefined ? undefined : { cause });
  }

  // Opening takes a dozen small calls, made synchronously (microseconds each
  // where an async call waits for the thread pool): 11 ms to claim the first
  // id of a process became 3.
  #open(mode: "read" | "write"): boolean {
    const dir = this.dir;
    const made = mode === "write" && !existsQuietly(dir);
    // Made with its parent folders: those as `mkdir -p` makes them (under
    // the umask: `--dir ./build/.bgtask` leaves build/ as readable as any
    // folder), the store among them, which is then closed to others.
    let withParents = false;
    let createdHere = false;
    if (mode === "write") {
      const failed = (e: unknown) => {
        // (Not knowing whether it exists, for want of --allow-read: "open".)
        const unseen = isPermissionError(e) &&
          Deno.permissions.querySync({ name: "read", path: dir }).state !== "granted";
        this.fail(
          e,
          existsQuietly(dir) ? "write to" : unseen ? "open" : "create",
          undefined,
          true,
        );
      };
      try {
        Deno.mkdirSync(dir, { mode: 0o700 });
        createdHere = true;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) {
          // (One call: Deno lets the store's --allow-write make the parents
          // on the way, not a call of their own.)
          try {
            Deno.mkdirSync(dir, { recursive: true });
            withParents = true;
            createdHere = true;
          } catch (e) {
            failed(e);
          }
        } else if (!(e instanceof Deno.errors.AlreadyExists)) {
          failed(e);
        }
      }
    }
    try {
      return this.#openThere(mode, made, withParents);
    } catch (e) {
      // A first use that Deno refused (a store reached through a link to
      // /dev): the folder this call made is not left behind, when empty.
      if (createdHere && e instanceof Deno.errors.NotCapable) {
        try {
          Deno.removeSync(dir);
        } catch { /* not empty: someone else's use of it began */ }
      }
      throw e;
    }
  }

  /** The rest of {@linkcode #open}, once the folder is there (`made`: by this open). */
  #openThere(mode: "read" | "write", made: boolean, withParents: boolean): boolean {
    const dir = this.dir;
    let st: Deno.FileInfo;
    try {
      st = Deno.lstatSync(dir);
    } catch (e) {
      if (mode === "read" && e instanceof Deno.errors.NotFound) return false;
      // (The store folder's own: a path through a file is named so, with the fix.)
      this.fail(e, "open", undefined, true);
    }
    if (made && st.isDirectory && st.mode !== null && (st.mode & 0o700) !== 0o700) {
      // Made 0700 (or 777 with its parents) and found otherwise: the umask
      // takes the owner's own permissions away, and every folder and file
      // bgtask made would be as unusable. Nothing is left behind.
      try {
        Deno.removeSync(dir);
      } catch { /* (not empty: someone else's now) */ }
      throw umaskError(
        `create the bgtask store "${dir}"`,
        withParents ? "a folder made 777" : "a folder made 700",
        st.mode,
      );
    }
    if (withParents && st.isDirectory) st = this.#closeNew(st);
    if (st.isSymlink) throw new StoreError(this.#symlinkMessage());
    if (!st.isDirectory) throw new StoreError(`Store "${dir}" is not a folder`);
    // A folder that is no store (yet) reads as none: nothing has run there.
    if (mode === "read" && !this.#mayBeStore()) return false;
    // (Opened for reading before, and now for writing: the same store.)
    const was = this.#identity;
    if (was && !this.#sameStore(st, was)) this.gone();
    if (st.mode !== null && (st.mode & 0o022) !== 0) throw new StoreError(this.#looseMessage(st));
    this.#checkOwner(st, mode);
    if (mode === "write") {
      if (!exists(this.layout.tasks)) this.#checkFresh();
      for (const sub of this.layout.folders) {
        try {
          Deno.mkdirSync(sub, { mode: 0o700 });
        } catch (e) {
          if (!(e instanceof Deno.errors.AlreadyExists)) {
            // (A store that was there: what is refused is a write to it.)
            this.fail(e, made ? "create" : "write to", undefined, true);
          }
        }
      }
      try {
        append(this.layout.log);
      } catch (e) {
        this.fail(e, "write to");
      }
    }
    this.#learnStoreId(mode === "write");
    // Taken last, once this open's own writes are made (on overlayfs the
    // first one gives the folder a new birth time).
    try {
      this.#identity = identityOf(Deno.lstatSync(dir));
    } catch (e) {
      this.fail(e, "open");
    }
    return true;
  }

  /**
   * A store just made with its parent folders, under the umask: made 0700
   * before anything is put in it. A file another user put there meanwhile
   * (a umask that left it writable to others) is refused.
   */
  #closeNew(st: Deno.FileInfo): Deno.FileInfo {
    try {
      Deno.chmodSync(this.dir, 0o700);
      for (const entry of Deno.readDirSync(this.dir)) {
        const uid = Deno.lstatSync(`${this.dir}/${entry.name}`).uid;
        if (uid !== null && uid !== st.uid) {
          throw new StoreError(
            `Store "${this.dir}" was written to by another user (uid ${uid}) as it was made: ` +
              "remove it, and make its parent folders with a umask that keeps others out " +
              "(umask 022)",
          );
        }
      }
      return Deno.lstatSync(this.dir);
    } catch (e) {
      this.fail(e, "create", undefined, true);
    }
  }

  /**
   * Whether the folder is, or may be, a store: it has a store's id or its
   * tasks folder (or cannot be looked into: the checks that follow say why).
   */
  #mayBeStore(): boolean {
    try {
      return exists(this.layout.tasks) || exists(this.layout.storeId);
    } catch {
      return true;
    }
  }

  /**
   * A folder about to become a store must not hold a file bgtask would
   * write over: a mistyped path would turn a project folder into a store,
   * its own `next` overwritten. (Other files are let be: bgtask writes
   * nothing else that a folder can already hold, and a test's temp store is
   * often its scratch folder too. The CLI says when it made a store among
   * other files: see `foreignEntries` in fs_store.ts.)
   */
  #checkFresh(): void {
    let ours: boolean;
    try {
      // Ours (a store whose tasks folder went), or one cut short: a number, or nothing.
      ours = /^\d*\n?$/.test(Deno.readTextFileSync(this.layout.hint));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      if (!(e instanceof Deno.errors.IsADirectory)) throw e;
      ours = false;
    }
    if (ours) return;
    throw new StoreError(
      `"${this.dir}" is not a bgtask store: its "next" is someone else's (bgtask would ` +
        `write over it); give bgtask a folder of its own (new or empty)`,
    );
  }

  /**
   * The error for a store folder others may write to. A shared folder (the
   * sticky bit: /tmp, /var/tmp, /dev/shm) is nobody's to chmod (as root,
   * `chmod 700 /tmp` breaks every other user): a folder of its own inside
   * it is the fix. Another user's is theirs. Otherwise (ours, or not known
   * without --allow-sys) the chmod that makes it private.
   */
  #looseMessage(st: Deno.FileInfo): string {
    const mode = (st.mode! & 0o7777).toString(8);
    const head = `Store "${this.dir}" is writable by group or others (mode ${mode})`;
    if ((st.mode! & 0o1000) !== 0) {
      return `${head}: it is a shared folder (anyone may make files in it), and bgtask needs a ` +
        `folder of its own: the default one (leave out --dir and BGTASK_DIR), or one made ` +
        `inside it by mktemp -d (--dir "$(mktemp -d -p ${shellWord(this.dir)})"); never chmod ` +
        `a shared folder`;
    }
    const me = Deno.permissions.querySync({ name: "sys", kind: "uid" }).state === "granted"
      ? Deno.uid()
      : null;
    if (me !== null && st.uid !== null && st.uid !== me) {
      return `${head}, and it belongs to uid ${st.uid}: use a store of your own (--dir DIR or ` +
        `BGTASK_DIR)`;
    }
    return `${head}; if it is yours, run: chmod 700 ${shellWord(this.dir)}`;
  }

  #symlinkMessage(): string {
    const fix = this.#source === "BGTASK_DIR"
      ? "set BGTASK_DIR to the real folder"
      : this.#source === "default"
      ? "replace the link with a folder, or set BGTASK_DIR to the real folder"
      : "pass the real folder as the store";
    return `Store "${this.dir}" is a symlink; refusing to use it (${fix})`;
  }

  /**
   * The store must be ours. Without --allow-sys, a file we create is ours:
   * compare owners (before anything else is created in a folder that may be
   * someone else's). A read-only check uses Deno.uid() when allowed, and
   * otherwise trusts the folder's mode (reading never writes).
   */
  #checkOwner(st: Deno.FileInfo, mode: "read" | "write"): void {
    if (st.uid === null) return;
    let me: number | null = null;
    if (mode === "read") {
      const sys = Deno.permissions.querySync({ name: "sys", kind: "uid" }).state;
      if (sys === "granted") me = Deno.uid();
    } else {
      const probe = this.layout.probe();
      try {
        // (Opened, not written with writeFileSync, whose mode is applied past
        // the umask: the umask must show, as it does on the folders made.)
        Deno.openSync(probe, { createNew: true, write: true, mode: 0o600 }).close();
        const made = Deno.lstatSync(probe);
        me = made.uid;
        this.#wroteProbe = true;
        if (made.mode !== null && (made.mode & 0o600) !== 0o600) {
          // Made 0600, found less: the umask takes the owner's own permissions
          // away, and the folders bgtask makes (tasks, queues) would be unusable.
          throw umaskError(`write to the bgtask store "${this.dir}"`, "a file made 600", made.mode);
        }
      } catch (e) {
        this.fail(e, "write to", undefined, true);
      } finally {
        try {
          Deno.removeSync(probe);
        } catch {
          // already gone, or never made (the error above says why)
        }
      }
    }
    if (me !== null && me !== st.uid) {
      throw new StoreError(
        `Store "${this.dir}" is owned by another user (uid ${st.uid}, we are ${me}); run ` +
          `bgtask as that user, or use a store of your own (--dir DIR or BGTASK_DIR)`,
      );
    }
  }

  /**
   * The error of a store removed while it was open. This store stays closed
   * (its ids would start again at b1, and anyone holding an old id would
   * find another task): a new one must be opened.
   */
  #removedMessage(): string {
    const anew = "a new TaskManager (or restarting this program)";
    if (existsQuietly(this.dir)) {
      return `Store "${this.dir}" was removed and made anew while this manager had it open: ` +
        `its ids start again at b1, so a manager that had the old one stops here; ${anew} ` +
        "uses the new one";
    }
    return `Store "${this.dir}" does not exist (was it removed?): a manager that had it stops ` +
      `here; ${anew} starts a new store there`;
  }

  /**
   * Maps a filesystem error on the store to a StoreError or a permission
   * hint. `opening`: the error is the store folder's own, met while opening
   * it (then a path through a file, or a folder that takes no files, is what
   * is wrong with the store; inside it, the same errors are one task's).
   */
  fail(e: unknown, action: string, what?: string, opening = false): never {
    if (e instanceof StoreError) throw e;
    if (e instanceof Deno.errors.PermissionDenied) this.explainDenied(e, action);
    if (isPermissionError(e)) {
      // Deno grants paths under /dev (and a few others) to --allow-all
      // alone: no --allow-read or --allow-write helps (a store there, or one
      // reached through a link to there).
      const all = /requires all access to "([^"]+)"/i.exec((e as Error).message);
      if (all) {
        const refused = all[1].replace(/\/\.probe-[^/]*$/, "");
        // (/proc and /sys too: the kernel's, where no store can be made even with -A.)
        const kernel = kernelFs(refused);
        throw new Deno.errors.NotCapable(
          `Cannot ${action} the bgtask store "${this.dir}": Deno treats paths under ` +
            `${kernelTop(refused) ?? "/dev"} specially and reaches "${refused}" only with ` +
            `--allow-all (-A), ` +
            `whatever --allow-read and --allow-write name; ` +
            (kernel
              ? `and it is under ${kernel}: use a store elsewhere (--dir DIR or BGTASK_DIR)`
              : `put the store on a tmpfs mounted elsewhere or in a folder not under /dev ` +
                `(--dir DIR or BGTASK_DIR), or run with -A`),
          { cause: e },
        );
      }
      // A store found by default or by $BGTASK_DIR may not be the one the
      // permissions were given for (an installed bgtask whose MCP client
      // config sets no BGTASK_DIR): say how to name that one instead.
      const cacheStore = this.#source === "default" ? grantedCacheStore(this.dir) : undefined;
      const other = this.#source === "option"
        ? ""
        : cacheStore !== undefined
        ? `; or, to use the store these permissions are for, set BGTASK_DIR=` +
          `${shellWord(cacheStore)} or unset XDG_CACHE_HOME`
        : this.#source === "default"
        ? "; or, to use the store these permissions are for, set BGTASK_DIR to it"
        : "; or set BGTASK_DIR to the store these permissions are for";
      rethrowPermission(
        e,
        `Cannot ${action} the bgtask store "${this.dir}"`,
        permissionAdvice(this.dir, this.#source !== "option", e) + other,
      );
    }
    if (e instanceof Deno.errors.NotFound && action !== "create" && !exists(this.dir)) {
      this.gone(e);
    }
    const target = what ?? `the bgtask store "${this.dir}"`;
    const message = (e as Error).message;
    // A full disk: what frees room (reading needs none, and removing finds it).
    const fix = isNoSpace(e)
      ? ` (the disk is full, of bytes or of inodes: df -h, df -i; bgtask list --json gives ` +
        `each task's outputBytes; bgtask rm ID ` +
        `or bgtask clean deletes finished tasks and frees their room)`
      : action === "create" && /os error 13\b/.test((e as Error).message)
      ? ` (this user may not create it there: use a store elsewhere, --dir DIR or BGTASK_DIR)`
      : /os error 30\b|Read-only file system/i.test(message)
      ? ` (the file system is read-only: reading still works; remount it read-write, or use ` +
        `another store, --dir DIR or BGTASK_DIR)`
      : opening && /os error 20\b/.test(message)
      ? ` (a part of its path is a file, not a folder: use another path, --dir DIR or ` +
        `BGTASK_DIR)`
      : opening && e instanceof Deno.errors.NotFound && action === "write to"
      ? ` (it takes no new files: a special file system, such as /proc? Use a store ` +
        `elsewhere, --dir DIR or BGTASK_DIR)`
      : "";
    throw new StoreError(`Cannot ${action} ${target}: ${message}${fix}`, {
      cause: e,
    });
  }

  /**
   * The system refused (not a missing Deno permission): when the store's
   * owner or mode says why, an error that says so and what to run. (A store
   * made by root in a user's home, as `sudo -E` does, or one whose mode lost
   * the owner's write bit.) A chown is offered only for the store itself, or
   * a folder inside this user's own $HOME; under a $HOME that is another
   * user's (`su -m`), that is said. Returns when they do not explain it.
   */
  explainDenied(e: Error, action: string): void {
    // The store, or (not made yet, or not to be looked at) the nearest
    // folder on its path that can be.
    let at = this.dir;
    let st: Deno.FileInfo | undefined;
    for (;;) {
      try {
        st = Deno.lstatSync(at);
        break;
      } catch {
        const up = resolve(at, "..");
        if (up === at) return;
        at = up;
      }
    }
    if (st.mode === null || st.uid === null || !st.isDirectory) return;
    const head = `Cannot ${action} the bgtask store "${this.dir}"`;
    const where = at === this.dir
      ? "it"
      : at === resolve(this.dir, "..")
      ? `"${at}", its parent folder,`
      : `"${at}", a folder on its path,`;
    const m = (st.mode & 0o7777).toString(8);
    const me = myUidAsked();
    // (Unknown without --allow-sys: then only what the modes say is said.)
    const ours = me === null ? undefined : st.uid === me;
    const home = me === null ? undefined : homeOf();
    // Root in a user namespace (rootless podman, unshare -r) is stopped by
    // the files of users not mapped into it, which show as the overflow uid.
    if (me === 0 && st.uid === OVERFLOW_UID && (st.mode & 0o007) !== 0o007) {
      throw new StoreError(
        `${head}: ${where} belongs to uid ${st.uid} (mode ${m}): in a user namespace (rootless ` +
          `podman, unshare -r, a remapped container) that is a user not mapped into it, whose ` +
          `files stop its root as any user's; use a store of this namespace's own (--dir DIR or ` +
          `BGTASK_DIR), or give it to a mapped user from outside`,
        { cause: e },
      );
    }
    // Root, whom modes and owners do not stop: something else refuses, and
    // "run bgtask as that user" (uid 0) is no advice.
    if (me === 0) {
      throw new StoreError(notByOwnership(head, where, st.uid, me, this.dir), { cause: e });
    }
    // Under a $HOME that is another user's (`su -m`, `sudo -E`): the store
    // is the one of that user's, not this one's, whoever made what in it.
    if (ours === false && home && home.uid !== me && within(this.dir, home.path)) {
      throw new StoreError(
        `${head}: it is under $HOME ("${home.path}"), which belongs to another user (uid ` +
          `${home.uid}), not to this one (su -m and sudo -E keep the HOME of who ran them), so ` +
          `this user may not use it; run with your own HOME (su - or sudo -H), or name a store ` +
          `of your own (--dir DIR or BGTASK_DIR)`,
        { cause: e },
      );
    }
    if ((st.mode & 0o700) !== 0o700) {
      if (ours === false) {
        throw new StoreError(
          `${head}: ${where} belongs to uid ${st.uid} (mode ${m}), not to this user, and this ` +
            `user may not use it; use a store of your own (--dir DIR or BGTASK_DIR)`,
          { cause: e },
        );
      }
      throw new StoreError(
        `${head}: ${where} has mode ${m}, which takes permissions away from its owner (a umask ` +
          `such as 277 makes folders so); if it is yours, run: chmod 700 "${at}" (and use a ` +
          `umask such as 077)`,
        { cause: e },
      );
    }
    let readable = true;
    try {
      Deno.readDirSync(at)[Symbol.iterator]().next();
    } catch {
      readable = false;
    }
    // Ours, with its modes whole, and not to be read all the same: not the owner either.
    if (ours === true && !readable) {
      throw new StoreError(notByOwnership(head, where, st.uid, me!, this.dir), { cause: e });
    }
    // Readable by another user, whose owner let the group or others look at
    // it: a store is its owner's all the same (the records in it are made 0600).
    if (
      ours !== true && readable && at === this.dir && (st.mode & 0o044) !== 0 &&
      (st.mode & 0o022) === 0 &&
      (action === "read" ? this.#othersTasks() : !this.#wroteProbe)
    ) {
      throw new StoreError(
        `${head}: it belongs to uid ${st.uid}, and a store is one user's: its mode (${m}) ` +
          `lets others list its folder, but the records bgtask writes in it are its owner's ` +
          `alone (0600), to read and to change (run, kill, rm, …); run bgtask as that user, or ` +
          `use a store of your own (--dir DIR or BGTASK_DIR)` +
          (me === null ? ifOwnerAlready(st.uid, this.dir) : ""),
        { cause: e },
      );
    }
    // Readable and searchable by us: the refusal is about something inside,
    // such as one of its own folders whose mode takes the owner's bits away.
    if (readable) {
      if (at === this.dir && action !== "read") this.#explainInside(e, action);
      return;
    }
    // Made by root in this user's way (`sudo -E` in their own home): give it
    // back, once root's tasks in it have ended (their supervisors write
    // their last records as root: a task running then stays unreadable).
    // Anything else is another user's, never to be taken.
    const ownHome = home !== undefined && home.uid === me && within(at, home.path);
    if (st.uid === 0 && (at === this.dir || ownHome)) {
      throw new StoreError(
        `${head}: ${where} belongs to uid 0 (mode ${m}) and this user may not use it; run ` +
          `bgtask as root, or, once no task runs in the store (bgtask list, as root), give it ` +
          `to this user: sudo chown -R "$(id -u)" ${shellWord(at)}`,
        { cause: e },
      );
    }
    if (at === this.dir) {
      throw new StoreError(
        `${head}: it belongs to uid ${st.uid} (mode ${m}) and this user may not use it; run ` +
          `bgtask as that user, or use a store of your own (--dir DIR or BGTASK_DIR)`,
        { cause: e },
      );
    }
    throw new StoreError(
      `${head}: this user cannot reach it, as ${where} belongs to uid ${st.uid} (mode ${m}); ` +
        `use a store this user can reach (--dir DIR or BGTASK_DIR)`,
      { cause: e },
    );
  }

  /**
   * Whether the store's tasks folder is another user's: its owner may use
   * it (its mode is whole), and this user may not list it.
   */
  #othersTasks(): boolean {
    try {
      const st = Deno.lstatSync(this.layout.tasks);
      if (!st.isDirectory || st.mode === null || (st.mode & 0o700) !== 0o700) return false;
    } catch {
      return false;
    }
    return !this.storeReadable();
  }

  /**
   * A refused write inside a store that is readable: when one of its own
   * folders has lost its owner's write or search bit (a chmod), an error
   * that names it and the chmod that gives them back.
   */
  #explainInside(e: Error, action: string): void {
    for (const sub of this.layout.folders) {
      let st: Deno.FileInfo;
      try {
        st = Deno.lstatSync(sub);
      } catch {
        continue;
      }
      if (!st.isDirectory || st.mode === null || (st.mode & 0o700) === 0o700) continue;
      throw new StoreError(
        `Cannot ${action} the bgtask store "${this.dir}": its folder "${sub}" has mode ` +
          `${(st.mode & 0o7777).toString(8)}, which takes permissions away from its owner; ` +
          `if it is yours, run: chmod -R u+rwX ${shellWord(this.dir)}`,
        { cause: e },
      );
    }
  }

  /** Runs store I/O so that errors name the store and the flag to add. */
  async io<T>(action: string, fn: () => T | Promise<T>, what?: string): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof TypeError || e instanceof DamagedRecordError) throw e;
      this.fail(e, action, what);
    }
  }

  /** Whether this user may list the store's task folders (the store itself is fine). */
  storeReadable(): boolean {
    try {
      Deno.readDirSync(this.layout.tasks)[Symbol.iterator]().next();
      return true;
    } catch {
      return false;
    }
  }

  /** The names in one of the store's folders that `keep` keeps (none when it is not there). */
  async names(dir: string, keep: (name: string) => boolean): Promise<string[]> {
    return await this.io("read", async () => {
      const out: string[] = [];
      try {
        for await (const e of Deno.readDir(dir)) if (keep(e.name)) out.push(e.name);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound && exists(this.dir)) return out;
        throw e;
      }
      return out;
    });
  }
}
