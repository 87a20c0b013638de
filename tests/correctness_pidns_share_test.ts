/**
 * One store shared between pid namespaces (a container or a sandbox and the
 * host: an agent's tool calls in `bwrap --unshare-pid`, its MCP server
 * outside). A task's recorded pids are its supervisor's namespace's; a look
 * from another namespace found other processes (or none) on them, and
 * recorded running tasks lost for good, freed their queue slots and started
 * the tasks queued behind them in its own namespace, and killed nothing.
 * Every task's `started` now names its namespace (the start time of its pid
 * 1), and a look from another one judges it by its token: alive while a
 * process carries it (the host, which sees every namespace, then acts on
 * the pids it sees), lost only where everything is seen, and otherwise
 * alive as far as can be told (kill and pause refused, saying why).
 *
 * Real namespaces (unshare, as tests/_helpers/pidns.ts makes them), real
 * processes; each namespace is the test's own.
 */

import assert from "node:assert/strict";
import { TaskManager } from "../mod.ts";
import { pidNamespaceUnavailable, runInPidNamespace } from "./_helpers/pidns.ts";
import { exists, settleStore, until } from "./_helpers/common.ts";
import { processesCarrying, taskToken } from "./_helpers/correctness.ts";

const CHILD = new URL("./_helpers/pidns_share_child.ts", import.meta.url).pathname;
const ROOT = new URL("../", import.meta.url).pathname;
const noNamespace = await pidNamespaceUnavailable();
const decoder = new TextDecoder();

/** A store in a folder of its own, removed by {@linkcode removeStore}. */
function store(): string {
  return Deno.makeTempDirSync({ prefix: "bgtask-pidns-share-" }) + "/store";
}

function removeStore(dir: string): void {
  Deno.removeSync(dir.slice(0, -"/store".length), { recursive: true });
}

/** A process's name ("" once it is gone). */
function comm(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
  } catch {
    return "";
  }
}

/**
 * Whether a process is task `id`'s supervisor or watchdog, by its command
 * line (`bash … bgtask-ID start STORE ID MODE`): in a namespace without a
 * /proc of its own it cannot name itself (its write to /proc/PID/comm is
 * the host's PID's, refused).
 */
function isSupervisor(pid: number, id: string): boolean {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes(`\0bgtask-${id}\0start\0`);
  } catch {
    return false;
  }
}

/** A process as a failure shows it: pid, name and state. */
function shown(pid: number): string {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return `${pid} ${comm(pid)} ${stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0]}`;
  } catch {
    return `${pid} (gone)`;
  }
}

/** Live (not zombie) processes, as this namespace sees them, whose environment holds `entry`. */
function carrying(entry: string): number[] {
  return processesCarrying([entry]);
}

/**
 * Runs the child in a namespace of its own, marked so that {@linkcode endNamespace}
 * finds its init (unshare ignores SIGTERM while it waits: an abort does not end it).
 */
function inNamespace(args: string[]): { run: ReturnType<typeof runInPidNamespace>; mark: string } {
  const id = crypto.randomUUID();
  const run = runInPidNamespace(CHILD, args, {
    env: {
      BGTASK_PIDNS_MARK: id,
      ...(Deno.env.get("BGTASK_MOD") && { BGTASK_MOD: Deno.env.get("BGTASK_MOD")! }),
    },
  });
  return { run, mark: `BGTASK_PIDNS_MARK=${id}` };
}

/** SIGKILLs the init of the namespace marked `mark` (ours): the kernel ends all in it. */
function endNamespace(mark: string): number {
  const init = carrying(mark).filter((p) => {
    try {
      const ns = Deno.readTextFileSync(`/proc/${p}/status`).match(/^NSpid:\s+(.*)$/m)?.[1];
      return ns?.split(/\s+/).length === 2 && ns.split(/\s+/)[1] === "1";
    } catch {
      return false;
    }
  });
  for (const p of init) Deno.kill(p, "SIGKILL");
  return init.length;
}

/** A test's end: its manager closed, its namespace ended, the store settled and removed. */
async function closeAll(
  dir: string,
  tm: TaskManager,
  mark: string,
  ns: Promise<unknown>,
): Promise<void> {
  await tm.close();
  endNamespace(mark);
  await ns.catch(() => {});
  await settleStore(dir);
  removeStore(dir);
}

const opts = (name: string) => ({
  name: `pid namespaces: ${name}${noNamespace ? ` (skipped: ${noNamespace})` : ""}`,
  ignore: noNamespace !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
});

Deno.test({
  ...opts(
    "the host looks at tasks started in a namespace: running (not lost), wait gets the real exit, kill ends the whole tree and records killed",
  ),
  async fn() {
    const dir = store();
    const { run: ns, mark } = inNamespace(["start", dir]);
    const tm = new TaskManager({ dir });
    try {
      await until(() => exists(`${dir}/ready`), "the namespace's tasks to start", 30_000);
      const started = Deno.readTextFileSync(`${dir}/tasks/b1/started`);
      assert.equal((await tm.getStatus("b1"))?.status, "running", started);
      assert.equal((await tm.getStatus("b2"))?.status, "running");
      assert.deepEqual((await tm.list()).map((t) => t.status), ["running", "running"]);
      // The tree of b2 (its shell and both sleeps) is seen from here, and ended.
      const token = `BGTASK_INVOCATION=${taskToken(dir, "b2")}`;
      assert.ok(carrying(token).length >= 3, `b2's processes: ${carrying(token)}`);
      const killed = await tm.kill("b2", { graceMs: 1000 });
      assert.equal(killed.status, "killed");
      assert.deepEqual(carrying(token), [], "a process of b2 outlived its kill");
      // b1 ends by itself: its exit, not "lost".
      Deno.writeTextFileSync(`${dir}/go`, "");
      const ended = await tm.wait("b1", { signal: AbortSignal.timeout(20_000) });
      assert.equal(ended.status, "failed");
      assert.equal(ended.exitCode, 7, ended.error ?? "");
      const run = await ns;
      assert.equal(run.code, 0, run.stderr);
    } finally {
      Deno.writeTextFileSync(`${dir}/go`, "");
      await closeAll(dir, tm, mark, ns);
    }
  },
});

Deno.test({
  ...opts(
    "a namespace looks at the host's running task: running, its record unchanged, kill and pause refused saying why, the task queued behind it not started",
  ),
  async fn() {
    const dir = store();
    const tm = new TaskManager({ dir });
    try {
      await tm.setQueue("q", { parallel: 1 });
      const first = await tm.spawnShell("sleep 60", { queue: "q" });
      const second = await tm.spawnShell("true", { queue: "q" });
      await until(() => exists(`${dir}/tasks/${first.id}/started`), "the first to start", 30_000);
      assert.equal((await tm.getStatus(first.id))?.status, "running");
      assert.equal(second.status, "queued");
      const before = Deno.readTextFileSync(`${dir}/tasks/${first.id}/started`);
      const run = await inNamespace(["look", dir, first.id]).run;
      assert.equal(run.code, 0, run.stderr);
      const r = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
      assert.equal(r.status, "running", JSON.stringify(r));
      assert.deepEqual(r.listed, [`${first.id} running`, `${second.id} queued`]);
      assert.match(r.kill, /PID namespace this process cannot see into/);
      assert.match(r.kill, /run the command where the task was started/);
      assert.match(r.pause, /PID namespace this process cannot see into/);
      // Nothing changed here: not lost, not killed, not paused; the second still waits.
      assert.ok(
        !exists(`${dir}/tasks/${first.id}/final.json`),
        "the host's task got a final record",
      );
      assert.equal(Deno.readTextFileSync(`${dir}/tasks/${first.id}/started`), before);
      const now = await tm.getStatus(first.id);
      assert.equal(now?.status, "running");
      assert.equal((await tm.getStatus(second.id))?.status, "queued");
      assert.ok(!exists(`${dir}/tasks/${second.id}/started`), "the queued task was started");
      assert.ok(!exists(`${dir}/tasks/${second.id}/launched`), "the queued task was launched");
    } finally {
      await tm.killQueue("q", { graceMs: 0 }).catch(() => {});
      await tm.close();
      await settleStore(dir);
      removeStore(dir);
    }
  },
});

Deno.test({
  ...opts(
    "kill --all in a namespace kills the tasks it can see and names each one refused (the host's), exit 1",
  ),
  async fn() {
    const dir = store();
    const tm = new TaskManager({ dir });
    try {
      const host = await tm.spawnShell("sleep 60");
      const run = await inNamespace(["killall", dir]).run;
      assert.equal(run.code, 0, run.stderr);
      const r = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
      // Its own task killed though the host's, listed first, was refused.
      assert.equal(r.status, "killed", JSON.stringify(r));
      assert.match(r.stdout, new RegExp(`^${r.own}\\s+killed`, "m"), JSON.stringify(r));
      assert.equal(r.code, 1, JSON.stringify(r));
      assert.match(r.stderr, new RegExp(`kill task ${host.id}: it runs in a PID namespace`));
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.deepEqual(carrying(`BGTASK_INVOCATION=${taskToken(dir, r.own)}`), []);
      assert.equal((await tm.getStatus(host.id))?.status, "running");
      // killQueue too: every kill it can make is made, then the refusal.
      await tm.setQueue("q", { parallel: 2 });
      const queued = await tm.spawnShell("sleep 60", { queue: "q" });
      const q = await inNamespace(["killqueue", dir]).run;
      assert.equal(q.code, 0, q.stderr);
      const k = JSON.parse(q.stdout.trim().split("\n").at(-1)!);
      assert.match(k.error, new RegExp(`kill task ${queued.id}: it runs in a PID namespace`));
      assert.equal(k.status, "killed", JSON.stringify(k));
      assert.equal((await tm.getStatus(queued.id))?.status, "running");
    } finally {
      await tm.killQueue("q", { graceMs: 0 }).catch(() => {});
      await tm.kill("b1", { graceMs: 0 }).catch(() => {});
      await tm.close();
      await settleStore(dir);
      removeStore(dir);
    }
  },
});

Deno.test({
  ...opts(
    "a namespace ends with its task (its init killed): the host's next look records it lost, saying it ran in another PID namespace",
  ),
  async fn() {
    const dir = store();
    const { run: ns, mark } = inNamespace(["hold", dir]);
    const tm = new TaskManager({ dir });
    try {
      await until(() => exists(`${dir}/ready`), "the namespace's task to start", 30_000);
      assert.equal((await tm.getStatus("b1"))?.status, "running");
      // The namespace's init: ours (it carries our mark), pid 1 in its namespace.
      assert.equal(endNamespace(mark), 1, "the namespace's init was not found");
      await ns;
      const lost = await tm.getStatus("b1");
      assert.equal(lost?.status, "failed");
      assert.match(lost?.error ?? "", /ran in another PID namespace \(a container or sandbox\)/);
    } finally {
      await closeAll(dir, tm, mark, ns);
    }
  },
});

Deno.test({
  ...opts(
    "a namespace with the host's /proc (unshare -p without --mount-proc) looks at the host's task: not lost",
  ),
  async fn() {
    const dir = store();
    const tm = new TaskManager({ dir });
    try {
      const t = await tm.spawnShell("sleep 60");
      const out = await withoutProc(OWN_PROC_NOT + 'timeout -s KILL 50 "$@"', [
        ...CHILD_RUN,
        "look",
        dir,
        t.id,
      ]).output();
      assert.equal(out.code, 0, decoder.decode(out.stderr));
      const r = JSON.parse(decoder.decode(out.stdout).trim().split("\n").at(-1)!);
      assert.equal(r.status, "running", JSON.stringify(r));
      assert.ok(!exists(`${dir}/tasks/${t.id}/final.json`), "the host's task got a final record");
      assert.equal((await tm.getStatus(t.id))?.status, "running");
    } finally {
      await tm.kill("b1", { graceMs: 0 }).catch(() => {});
      await tm.close();
      await settleStore(dir);
      removeStore(dir);
    }
  },
});

/** The child, run by Deno. */
const CHILD_RUN = [Deno.execPath(), "run", "-A", "--quiet", CHILD];
/** A script's start that fails (exit 9) where /proc is its own: /proc/self is another pid than $$. */
const OWN_PROC_NOT = '[[ $(readlink /proc/self) != "$$" ]] || exit 9; ';

/** `unshare --pid --fork` (no --mount-proc: the host's /proc) running bash `script` with `args`. */
function withoutProc(script: string, args: string[]): Deno.ChildProcess {
  const userns = Deno.uid() === 0 ? [] : ["--user", "--map-root-user"];
  return new Deno.Command("unshare", {
    args: [...userns, "--pid", "--fork", "--kill-child", "bash", "-c", script, "ns", ...args],
    cwd: ROOT,
    env: Deno.env.get("BGTASK_MOD") ? { BGTASK_MOD: Deno.env.get("BGTASK_MOD")! } : {},
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(90_000),
  }).spawn();
}

Deno.test({
  ...opts(
    "namespaces without a /proc of their own: the host sees their tasks run and kills a whole tree; a look from another such namespace signals none of its own processes",
  ),
  async fn() {
    const dir = store();
    const tm = new TaskManager({ dir });
    const a = withoutProc(OWN_PROC_NOT + '"$@"', [...CHILD_RUN, "start", dir]);
    try {
      await until(() => exists(`${dir}/ready`), "the namespace's tasks to start", 30_000);
      // Their start times could not be read there: the record keeps its words all the
      // same. b1 holds its queue's one slot: a task queued here waits (a look at the
      // queues runs their scheduler, which took b1 for lost).
      const queued = await tm.spawnShell("echo host", { queue: "w" });
      assert.deepEqual((await tm.getQueues()).map((q) => [q.running, q.queued]), [[1, 1]]);
      assert.deepEqual((await tm.list()).map((t) => `${t.id} ${t.status}`), [
        "b1 running",
        "b2 running",
        `${queued.id} queued`,
      ]);
      const token = `BGTASK_INVOCATION=${taskToken(dir, "b2")}`;
      assert.ok(carrying(token).length >= 4, `b2's processes: ${carrying(token)}`);
      assert.equal((await tm.kill("b2", { graceMs: 1000 })).status, "killed");
      // The task's tree is gone once kill() returns (its stray too); its
      // supervisor and watchdog (`bgtask-b2 start …`), which record the kill,
      // may still be leaving: they are given a few seconds.
      const tree = carrying(token).filter((p) => !isSupervisor(p, "b2"));
      assert.deepEqual(tree.map(shown), [], "a process of b2 (its stray?) outlived its kill");
      await until(() => carrying(token).length === 0, "b2's supervisor to leave", 5000)
        .catch(() => assert.fail(`b2's supervisor stayed: ${carrying(token).map(shown)}`));
      // A second such namespace, its pids taken by processes of its own (each its
      // own group), among them those b1's record names: it cannot tell whose they are.
      const b = withoutProc(
        OWN_PROC_NOT + 'for i in $(seq 2 80); do setsid sleep 300 & done; "$@"; ' +
          'n=0; for p in $(jobs -p); do kill -0 "$p" 2>/dev/null && n=$((n + 1)); done; ' +
          'echo "decoys $n"; kill $(jobs -p)',
        [...CHILD_RUN, "look", dir, "b1"],
      );
      const out = await b.output();
      const text = decoder.decode(out.stdout);
      assert.equal(out.code, 0, decoder.decode(out.stderr));
      const r = JSON.parse(text.trim().split("\n").at(-2)!);
      assert.equal(r.status, "running", text);
      assert.match(r.kill, /PID namespace/, text);
      assert.match(text, /decoys 79\n$/, "a process of the second namespace was signalled");
      assert.equal((await tm.getStatus("b1"))?.status, "running");
    } finally {
      Deno.writeTextFileSync(`${dir}/go`, "");
      await a.output().catch(() => {});
      await tm.close();
      await settleStore(dir);
      removeStore(dir);
    }
  },
});
