/**
 * Liveness checks and process-group kills, run in bash (see `bash_lib.ts`
 * for why not in Deno).
 *
 * @module
 */

import { BASH_LIB } from "./bash_lib.ts";
import { rethrowPermission } from "./permissions.ts";

/** What identifies a task's processes: pids plus start times, to see through pid reuse. */
export interface ProcessIds {
  supervisorPid: number;
  supervisorStart: string;
  taskPid: number;
  taskStart: string;
}

const ALIVE = BASH_LIB + `
for spec in "$@"; do
  read -r sp ss tp ts <<< "$spec"
  r=0
  if proc_info "$sp" && [[ $_state != Z && $_start == "$ss" ]]; then r=1
  elif proc_info "$tp"; then
    if [[ $_start != "$ts" ]]; then r=0
    elif [[ $_state != Z ]]; then r=1
    elif group_alive "$tp"; then r=1
    fi
  elif group_alive "$tp"; then r=1
  fi
  printf '%s\\n' "$r"
done
`;

const KILL = BASH_LIB + `
tp=$1 ts=$2 grace=$3
# A live process with the task's pid but another start time is not ours: the
# task's group is long gone (a pid in use as a group id is never handed out).
if proc_info "$tp" && [[ $_start != "$ts" ]]; then exit 0; fi
kill_group "$tp" "$grace" || exit 3
exit 0
`;

async function bash(script: string, args: string[], what: string): Promise<Deno.CommandOutput> {
  try {
    return await new Deno.Command("bash", {
      args: ["-c", script, "bgtask", ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`${what}: bash was not found on PATH`, { cause: e });
    }
    rethrowPermission(e, what, "--allow-run=bash");
  }
}

/**
 * Which of these tasks still have a process alive: the supervisor (same pid
 * and start time, not a zombie) or any non-zombie member of the task's group.
 * One bash process answers for the whole batch.
 *
 * Requires `--allow-run=bash`.
 */
export async function aliveMany(ids: ProcessIds[]): Promise<boolean[]> {
  if (ids.length === 0) return [];
  const specs = ids.map((p) =>
    `${p.supervisorPid} ${p.supervisorStart} ${p.taskPid} ${p.taskStart}`
  );
  const out = await bash(ALIVE, specs, "Cannot check whether a task is alive");
  const lines = new TextDecoder().decode(out.stdout).split("\n");
  if (out.code !== 0 || lines.length < ids.length) {
    throw new Error(
      `Cannot check whether a task is alive: bash exited with code ${out.code}`,
    );
  }
  return ids.map((_, i) => lines[i] === "1");
}

/**
 * Sends SIGTERM to the task's process group, SIGKILL after `graceMs`, and
 * resolves once no process of the group is alive.
 *
 * Requires `--allow-run=bash`.
 */
export async function killGroup(ids: ProcessIds, graceMs: number): Promise<void> {
  const out = await bash(
    KILL,
    [String(ids.taskPid), ids.taskStart, String(Math.max(0, Math.floor(graceMs)))],
    "Cannot kill task",
  );
  if (out.code === 3) {
    throw new Error(
      `Cannot kill task: processes of group ${ids.taskPid} survived SIGKILL for 5 s`,
    );
  }
  if (out.code !== 0) {
    throw new Error(`Cannot kill task: bash exited with code ${out.code}`);
  }
}
