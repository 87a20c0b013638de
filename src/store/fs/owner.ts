/**
 * Who this process is, as far as it may be told without asking.
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
