/**
 * Who this process is, as far as it may be told without asking (or, for an
 * error, by asking a bash).
 *
 * @module
 */

import { isGranted } from "../../permissions.ts";

/**
 * This process's user id, when it may be told without asking
 * (`--allow-sys=uid`, or read access to /proc/self/status); else null.
 */
export function myUid(): number | null {
  try {
    if (isGranted({ name: "sys", kind: "uid" })) return Deno.uid();
    const status = "/proc/self/status";
    if (!isGranted({ name: "read", path: status })) return null;
    // (Real, effective, saved, file system: files are opened as the effective one.)
    const m = /^Uid:\s+\d+\s+(\d+)/m.exec(Deno.readTextFileSync(status));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * This process's user id as {@linkcode myUid} tells it, or else as a bash
 * tells it (`$EUID`), when it may run one: for errors only, which must not
 * advise root to "run as" root. Null when neither may be asked.
 */
export function myUidAsked(): number | null {
  const known = myUid();
  if (known !== null || !isGranted({ name: "run", command: "bash" })) return known;
  try {
    // (A clear environment: no BASH_ENV is read.)
    const out = new Deno.Command("bash", {
      args: ["-c", 'echo "$EUID"'],
      clearEnv: true,
      stdin: "null",
      stderr: "null",
    }).outputSync();
    const m = /^(\d+)\n$/.exec(new TextDecoder().decode(out.stdout));
    return out.success && m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
