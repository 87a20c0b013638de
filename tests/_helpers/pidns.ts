/**
 * Running a Deno script in a pid namespace of its own, for tests that steer
 * pid allocation (`/proc/sys/kernel/ns_last_pid`) or cycle through pids: in
 * their own namespace they cannot hand another test's processes a reused pid,
 * nor reach any process outside by pid, and every process they leave is
 * SIGKILLed by the kernel when the namespace's init exits.
 *
 * Inside, a bash init (pid 1, `argv[0]` = {@linkcode INIT_NAME}) runs the
 * script, reaps the orphans the kernel hands it (supervisors outlive their
 * launchers), and exits with the script's status. The script sees the
 * namespace's own `/proc` (`--mount-proc`, in a private mount namespace).
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url).pathname;
const decoder = new TextDecoder();

/** The name pid 1 of the namespace runs under (scripts check for it before steering pids). */
export const INIT_NAME = "bgtask-pidns-init";

/** The pid namespace this process is in (`pid:[N]`), as a script inside can compare. */
export function ownPidNamespace(): string {
  return Deno.readLinkSync("/proc/self/ns/pid");
}

/** The bash init: runs "$@", reaps every child (adopted orphans too), exits with its status. */
const INIT = `
"$@" &
child=$!
rc=0
while :; do
  wait "$child"
  rc=$?
  kill -0 "$child" 2>/dev/null || break
done
exit "$rc"
`;

function unshareArgs(): string[] {
  const args = ["--pid", "--fork", "--kill-child", "--mount", "--mount-proc"];
  // Without root, a user namespace of our own gives the capabilities inside.
  return Deno.uid() === 0 ? args : ["--user", "--map-root-user", ...args];
}

/** unshare's arguments to run `cmd` under this file's init, in a pid namespace of its own. */
function inNamespace(...cmd: string[]): string[] {
  return [...unshareArgs(), "bash", "-c", INIT, INIT_NAME, ...cmd];
}

let probed: Promise<string | undefined> | undefined;

/**
 * Why no pid namespace with a writable `ns_last_pid` can be made here
 * (undefined when it can): the reason a test states when it skips.
 */
export function pidNamespaceUnavailable(): Promise<string | undefined> {
  probed ??= (async () => {
    const probe = `[[ $(readlink /proc/self/ns/pid) != "$1" ]] || exit 3
      [[ $(tr '\\0' ' ' </proc/1/cmdline) == *" ${INIT_NAME} "* ]] || exit 4
      echo 100 > /proc/sys/kernel/ns_last_pid || exit 5
      bash -c 'echo $$'
      :`;
    try {
      const out = await new Deno.Command("unshare", {
        args: inNamespace("bash", "-c", probe, "probe", ownPidNamespace()),
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const said = decoder.decode(out.stdout).trim();
      if (out.code === 0 && said === "101") return undefined;
      const why = decoder.decode(out.stderr).trim().split("\n")[0] || `status ${out.code}`;
      return `cannot make a pid namespace with a writable ns_last_pid (unshare: ${why})`;
    } catch (e) {
      return `unshare is not available (${(e as Error).message})`;
    }
  })();
  return probed;
}

/** What a script run in a namespace printed, and how it ended. */
export interface NamespaceRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `deno run -A <script> <args>` as the only program of a new pid (and
 * mount) namespace, from the repository root, and returns when the
 * namespace is gone. `signal` ends it early (the kernel then kills what is
 * left in it).
 */
export async function runInPidNamespace(
  script: string,
  args: string[],
  opts: { env?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<NamespaceRun> {
  const out = await new Deno.Command("unshare", {
    args: inNamespace(
      Deno.execPath(),
      "run",
      "-A",
      "--quiet",
      script,
      ...args,
    ),
    cwd: ROOT,
    env: { ...opts.env, BGTASK_OUTER_PIDNS: ownPidNamespace() },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: opts.signal,
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/**
 * For scripts meant to run inside: throws unless this process is in a pid
 * namespace of its own, made by {@linkcode runInPidNamespace}, with its own
 * `/proc` — so that nothing it does to pids can reach processes outside.
 */
export function assertOwnPidNamespace(): void {
  const outer = Deno.env.get("BGTASK_OUTER_PIDNS");
  if (!outer) throw new Error("not started by runInPidNamespace (BGTASK_OUTER_PIDNS unset)");
  if (ownPidNamespace() === outer) throw new Error("in the test runner's pid namespace");
  if (Deno.readLinkSync("/proc/self") !== String(Deno.pid)) {
    throw new Error("/proc is not the namespace's own (its /proc/self is another pid)");
  }
  const init = Deno.readTextFileSync("/proc/1/cmdline").split("\0");
  if (init[3] !== INIT_NAME) {
    throw new Error(`pid 1 is ${JSON.stringify(init.join(" "))}, not our init`);
  }
}

/**
 * Live processes in the namespace other than its init and this one (and
 * `keep`), with their command lines: what a script inside must have left
 * nothing of when it ends.
 */
export function otherProcesses(keep: number[] = []): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const pid = Number(e.name);
    if (pid === 1 || pid === Deno.pid || keep.includes(pid)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      const cmd = Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ");
      out.push(`${pid} ${cmd.slice(0, 100)}`);
    } catch {
      // gone
    }
  }
  return out;
}
