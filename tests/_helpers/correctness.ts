/**
 * Helpers for the correctness suites (issue 10): finding a task's processes
 * by the token they carry, peak memory of a child process, running the CLI
 * with chosen flags.
 *
 * @module
 */

/** The random token a task's processes carry (`BGTASK_INVOCATION`), read from its spawn record. */
export function taskToken(dir: string, id: string): string | undefined {
  try {
    const spec = Deno.readTextFileSync(`${dir}/tasks/${id}/spec`);
    return /\0token=([0-9a-f]+)\0/.exec(spec)?.[1];
  } catch {
    return undefined;
  }
}

/** Live processes whose environment carries `BGTASK_INVOCATION=token` (a task's, and only its) for one of the tokens. */
export function processesWithToken(token: string | string[]): number[] {
  return processesCarrying(
    (Array.isArray(token) ? token : [token]).map((t) => `BGTASK_INVOCATION=${t}`),
  );
}

/** Live (not zombie) processes, as this pid namespace sees them, whose environment holds one of `wanted` (`NAME=value`). */
export function processesCarrying(wanted: string[]): number[] {
  const out: number[] = [];
  if (wanted.length === 0) return out;
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      const env = Deno.readTextFileSync(`/proc/${e.name}/environ`).split("\0");
      if (env.some((kv) => wanted.includes(kv))) out.push(Number(e.name));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/** Whether a process carries the token (true also when it is gone meanwhile: it left nothing). */
export function carries(pid: number, token: string): boolean {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/environ`).split("\0").includes(
      `BGTASK_INVOCATION=${token}`,
    );
  } catch {
    return true;
  }
}

/**
 * SIGKILLs every process carrying the token (clean-up after a failed
 * assertion: the token is what makes sure they are the test's own).
 */
export function killByToken(token: string | undefined): void {
  if (!token) return;
  for (const pid of processesWithToken(token)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

/** The peak resident memory of this process in bytes (VmHWM), from /proc/self/status. */
export function peakRss(): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(Deno.readTextFileSync("/proc/self/status"));
  if (!m) throw new Error("no VmHWM in /proc/self/status");
  return Number(m[1]) * 1024;
}

/** Bytes as MiB with one decimal, for messages. */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
