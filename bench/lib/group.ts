/**
 * Watching a process group from /proc (Linux), for case 6.
 *
 * @module
 */

/** The pids of the live (non-zombie) processes whose process group is `pgid`. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const stat = statOf(Number(e.name));
    if (stat && stat.pgrp === pgid && stat.state !== "Z") out.push(Number(e.name));
  }
  return out;
}

/** True while any of `pids` is alive and not a zombie. */
export function anyAlive(pids: number[]): boolean {
  return pids.some((p) => {
    const s = statOf(p);
    return s !== undefined && s.state !== "Z";
  });
}

/**
 * A process's state, group and CPU time (clock ticks, its own and its reaped
 * children's), from /proc; undefined once it is gone.
 */
export function statOf(pid: number): { state: string; pgrp: number; ticks: number } | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  return { state: f[0], pgrp: Number(f[2]), ticks };
}
