/**
 * The environment a task that waits (in a queue, for its dependencies)
 * inherits: its spawner's, recorded at the spawn, since another process
 * (the supervisor of a task that ends, a scheduler) starts it later.
 *
 * @module
 */

import type { Inherited } from "../store/records.ts";
import { environmentViaBash } from "../supervisor/run.ts";

/** The environment as a bash this process started saw it, and what Deno saw of it then. */
interface Snapshot {
  inherited: Inherited;
  /** `Deno.env.toObject()` at that moment; undefined without `--allow-env`. */
  seen?: Record<string, string>;
}

let last: Promise<Snapshot> | undefined;

function envIfGranted(): Record<string, string> | undefined {
  if (Deno.permissions.querySync({ name: "env" }).state !== "granted") return undefined;
  return Deno.env.toObject();
}

/**
 * This process's umask, or undefined without `--allow-sys`. Asked first: at
 * a terminal, a call without the permission stops at Deno's prompt (a
 * spawn into a busy queue held the queue's lock there, and every `bgtask
 * list` of the store waited for someone to answer it).
 */
function ownUmask(): number | undefined {
  if (Deno.permissions.querySync({ name: "sys", kind: "umask" }).state !== "granted") {
    return undefined;
  }
  try {
    return Deno.umask();
  } catch {
    return undefined;
  }
}

function same(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
}

/**
 * This process's environment and umask, as a child process inherits them,
 * byte for byte. A bash reads them (Deno's view leaves out values that are
 * not UTF-8). With `--allow-env` (all of it), once for as long as Deno's
 * view stays the same; without it, every time: a scoped `--allow-env=NAME`
 * may change NAME unseen (the CLI spawns once a process anyway).
 *
 * Requires `--allow-run=bash`.
 */
export async function spawnerEnvironment(): Promise<Inherited> {
  const now = envIfGranted();
  const known = last && (await last.catch(() => undefined));
  if (!known || !now || !known.seen || !same(now, known.seen)) {
    // (What Deno sees is taken before bash reads: a change made meanwhile
    // is then a change for the next call.)
    last = environmentViaBash().then((inherited) => ({ inherited, seen: now }));
    last.catch(() => last = undefined);
  }
  const { inherited } = await last!;
  return { ...inherited, umask: ownUmask() ?? inherited.umask };
}
