/**
 * The environment a task that waits (in a queue, for its dependencies)
 * inherits: its spawner's, recorded at the spawn, since another process
 * (the supervisor of a task that ends, a scheduler) starts it later.
 *
 * @module
 */

import type { Inherited } from "../store/records.ts";
import { environmentViaBash } from "../supervisor/run.ts";

/**
 * Variables that carry bgtask's own scripts and test faults to its bash: a
 * task started at once never sees them (its supervisor unsets them), so
 * neither does one started later.
 */
const OWN = new Set(["BGTASK_SH", "BGTASK_SUP", "BGTASK_QSH", "BGTASK_ISH", "BGTASK_TEST_FAULT"]);
/** What bash can export: other names in an environment never reach a task through it. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Read once, through bash, when Deno may not read them itself (then nothing here can change them either). */
let viaBash: Promise<Inherited> | undefined;

function granted(desc: Deno.PermissionDescriptor): boolean {
  return Deno.permissions.querySync(desc).state === "granted";
}

/** This process's umask, or undefined without `--allow-sys`. */
function ownUmask(): number | undefined {
  try {
    return Deno.umask();
  } catch {
    return undefined;
  }
}

/**
 * This process's environment and umask, as a child process inherits them:
 * from Deno when it may read them (`--allow-env`, `--allow-sys`), else from a
 * bash it starts, once per process.
 *
 * Requires `--allow-run=bash`.
 */
export async function spawnerEnvironment(): Promise<Inherited> {
  const env = granted({ name: "env" }) ? Deno.env.toObject() : undefined;
  let umask = ownUmask();
  let from = env;
  if (from === undefined || umask === undefined) {
    viaBash ??= environmentViaBash().catch((e) => {
      viaBash = undefined;
      throw e;
    });
    const read = await viaBash;
    from ??= read.env;
    umask ??= read.umask;
  }
  const kept: Record<string, string> = {};
  for (const [k, v] of Object.entries(from)) {
    if (NAME.test(k) && !OWN.has(k)) kept[k] = v;
  }
  return { env: kept, umask };
}
