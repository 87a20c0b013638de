/**
 * `bgtask kill ID… [--queue Q] [--signal SIG] [--grace DUR] [--json]`: ends
 * tasks and their whole process trees; with `--queue`, every unfinished task
 * of a queue.
 *
 * @module
 */

import { KILL_SIGNALS, type KillSignal, type TaskInfo, type TaskManager } from "../../mod.ts";
import { killSignalNamed } from "../kill_signal.ts";
import type { Parsed } from "./args.ts";
import { type Context, JSON_OPTION, type Verb } from "./context.ts";
import { parseDuration } from "./duration.ts";
import { printErr } from "./output.ts";
import { describeError, EXIT_FAILURE, UsageError } from "./errors.ts";
import { signalNumber } from "./exit_codes.ts";
import { TaskNotFoundError, TaskStateError } from "../errors.ts";
import { endBy, listen } from "./signals.ts";
import { QUEUE_OPTION, selfAmong, targets } from "./targets.ts";

/** How many queued tasks are killed at once (each such kill runs a bash to hand the queue on). */
const POOL = 8;
/**
 * How many running tasks are killed at once. The kills under way together
 * share one bash (see killGroup in run.ts), which looks at every process
 * once a round for them all: the more at once, the fewer looks (300 idle
 * tasks: 9.3 s at 48, 7.4 s at 256). What each holds meanwhile is a record
 * being read or written; under a low limit of open files, fewer go at once
 * (os error 24, below).
 */
const RUNNING_POOL = 256;
/**
 * How many times `--all` and `--queue` look again for tasks started while
 * they killed (a task being killed may start others: its spawn under way when
 * SIGTERM came finishes, see run). A chain that starts one more each time it
 * is killed is given this many rounds, then named.
 */
const RELIST_ROUNDS = 20;

/**
 * The first signal `--signal` names: as kill(1) takes it, a name with or
 * without SIG in any case (`INT`, `sigint`) or its number on this system
 * (`2`); one of {@linkcode KILL_SIGNALS}, else a usage error listing them.
 *
 * @example
 * ```ts
 * import { parseSignal } from "./verb_kill.ts";
 * import { equal, throws } from "node:assert/strict";
 * equal(parseSignal("int"), "SIGINT");
 * equal(parseSignal("SIGKILL"), "SIGKILL");
 * equal(parseSignal("2"), "SIGINT");
 * throws(() => parseSignal("STOP"), /invalid signal "STOP" for --signal \(one of TERM/);
 * ```
 */
export function parseSignal(text: string): KillSignal {
  const name = /^\d+$/.test(text)
    ? KILL_SIGNALS.find((s) => signalNumber(s) === Number(text))
    : killSignalNamed(text);
  if (name !== undefined) return name;
  const forms = KILL_SIGNALS.map((s) => `${s.slice(3)} ${signalNumber(s)}`).join(", ");
  throw new UsageError(
    `invalid signal ${JSON.stringify(text)} for --signal (one of ` +
      `${KILL_SIGNALS.map((s) => s.slice(3)).join(", ")}, with or without SIG, in any case, or ` +
      `its number: ${forms}; SIGKILL follows the first after --grace)`,
  );
}

/**
 * Whether `e`, thrown by one task's kill, is that task's alone (it is
 * refused, as one in a PID namespace this process cannot see into, or it
 * was removed meanwhile): said on its own line while the others are killed.
 * Anything else (the store, a permission, a Ctrl-C) would be the same for
 * every task, and stops the verb.
 */
function taskAlone(e: unknown): boolean {
  return e instanceof TaskStateError || e instanceof TaskNotFoundError;
}

/**
 * Kills `list`, at most `pool` at a time; results in the same order (a
 * hole where a task's kill was refused: its error is in `refused`). The
 * ids whose kill began go into `begun`.
 */
async function killAll(
  tasks: TaskManager,
  list: TaskInfo[],
  graceMs: number | undefined,
  signal: KillSignal,
  pool: number,
  begun: Set<string>,
  refused: Map<string, unknown>,
): Promise<(TaskInfo | undefined)[]> {
  const out: (TaskInfo | undefined)[] = new Array(list.length);
  let next = 0;
  let active = 0;
  const again: number[] = [];
  const worker = async () => {
    active++;
    try {
      for (;;) {
        const i = again.length > 0 ? again.shift()! : next < list.length ? next++ : -1;
        if (i < 0) return;
        begun.add(list[i].id);
        try {
          // Ended already, as found (also when its end could not be recorded
          // yet, a full disk): nothing to kill, and it stays as it ended.
          out[i] = list[i].finishedAt !== null
            ? list[i]
            : await tasks.kill(list[i].id, { graceMs, signal });
        } catch (e) {
          // Out of open files (a low ulimit -n): one kill at a time fewer,
          // its task left to the others (a kill asked again is the same kill).
          if (active > 1 && e instanceof Error && /\(os error 24\)/.test(e.message)) {
            again.push(i);
            return;
          }
          if (!taskAlone(e)) throw e;
          refused.set(list[i].id, e);
        }
      }
    } finally {
      active--;
    }
  };
  await Promise.all(Array.from({ length: Math.min(pool, list.length) }, worker));
  return out;
}

/** The `kill` verb. */
export const killVerb: Verb = {
  name: "kill",
  writes: true,
  options: {
    grace: { type: "string" },
    signal: { type: "string", short: "s" },
    ...QUEUE_OPTION,
    ...JSON_OPTION,
  },
  positionals: "some",
  ids: "every",
  async run(ctx: Context, { values, positionals }: Parsed): Promise<number> {
    const graceMs = values.grace === undefined
      ? undefined
      : parseDuration(values.grace as string, "--grace", "SIGKILL at once");
    // (Checked before any task is looked up: a mistake kills nothing.)
    const signal = values.signal === undefined ? "SIGTERM" : parseSignal(values.signal as string);
    // A damaged task (its start record unreadable) cannot be shown, but killed.
    const damaged: string[] = [];
    const list = await targets(ctx, values, positionals, "bgtask kill", damaged);
    const tasks = ctx.tasks();
    // The tasks that wait first: a slot freed by a killed task must find
    // nothing left to start.
    const waiting = list.filter((t) => t.status === "queued");
    const others = list.filter((t) => t.status !== "queued");
    const killed = new Map<string, TaskInfo>();
    // A task whose kill is refused does not keep the others from theirs:
    // one line each on stderr, and exit 1 (as `pause`, `rm` and `restart`).
    const refused = new Map<string, unknown>();
    const begun = new Set<string>(damaged);
    // Interrupted during a grace period: a kill begun goes on without us (it
    // runs in a session of its own, and the task's watchdog finishes one
    // left half-done), and the person is told so; one not begun is named.
    const onInterrupt = () => {
      const ids = [...list.map((t) => t.id), ...damaged].filter((id) =>
        !killed.has(id) && !refused.has(id)
      );
      const going = ids.filter((id) => begun.has(id) || values.queue !== undefined);
      const left = ids.filter((id) => !going.includes(id));
      printErr(
        `bgtask: interrupted; ${
          going.length > 0
            ? `the kill of ${going.join(", ")} goes on without this command (SIGKILL after ` +
              "the grace)"
            : "nothing was being killed"
        }${
          left.length > 0 ? `; not killed: ${left.join(", ")} (bgtask kill ${left.join(" ")})` : ""
        }: see bgtask list`,
      );
      endBy("SIGINT");
    };
    const stopListening = listen("SIGINT", onInterrupt);
    let ended: TaskInfo[];
    let joined: TaskInfo[] = [];
    let kept: TaskInfo[] = [];
    try {
      // A queue's tasks under its lock: none of those waiting starts meanwhile.
      // (Run from a task of the queue: one by one, the waiting first, as
      // targets leaves that task out; killQueue would kill it too.)
      const inQueue = values.queue !== undefined &&
        await selfAmong(await tasks.list({ queue: values.queue as string }), tasks.dir);
      if (values.queue !== undefined && inQueue === undefined) {
        // (A refused one is killed again below, to be named with its refusal;
        // the kills made are the same kills asked again.)
        const fromQueue = await tasks.killQueue(values.queue as string, { graceMs, signal }).catch(
          (e) => {
            if (!taskAlone(e)) throw e;
            return [];
          },
        );
        for (const t of fromQueue) killed.set(t.id, t);
        const listed = new Set(list.map((t) => t.id));
        joined = fromQueue.filter((t) => !listed.has(t.id));
      }
      // Running tasks many at once, as each may wait out its grace period;
      // not all at once: each kill holds a bash helper's pipes, and 330 at
      // once ran out of open files (ulimit -n 1024), the rest left running.
      for (const [batch, pool] of [[waiting, POOL], [others, RUNNING_POOL]] as const) {
        const left = batch.filter((t) => !killed.has(t.id));
        for (const t of await killAll(tasks, left, graceMs, signal, pool, begun, refused)) {
          if (t) killed.set(t.id, t);
        }
      }
      const kills = damaged.map((id) =>
        tasks.kill(id, { graceMs, signal }).catch((e) => {
          if (!taskAlone(e)) throw e;
          refused.set(id, e);
        })
      );
      ended = (await Promise.all(kills)).filter((t) => t !== undefined);
      // Started meanwhile by a task being killed (a fan-out script's spawn
      // under way at its SIGTERM): --all and --queue kill those too, looking
      // again until none is left (it exited 0 with them running).
      if (values.all === true || values.queue !== undefined) {
        for (let round = 0;; round++) {
          const fresh = (await targets(ctx, values, [], "bgtask kill"))
            .filter((t) => !killed.has(t.id) && !refused.has(t.id));
          if (fresh.length === 0) break;
          if (round === RELIST_ROUNDS) {
            kept = fresh;
            break;
          }
          list.push(...fresh);
          const queued = fresh.filter((t) => t.status === "queued");
          const rest = fresh.filter((t) => t.status !== "queued");
          for (const [batch, pool] of [[queued, POOL], [rest, RUNNING_POOL]] as const) {
            for (const t of await killAll(tasks, batch, graceMs, signal, pool, begun, refused)) {
              if (t) killed.set(t.id, t);
            }
          }
        }
      }
    } finally {
      stopListening();
    }
    for (const e of refused.values()) printErr(describeError(e).line);
    if (kept.length > 0) {
      const ids = kept.map((t) => t.id);
      printErr(
        `bgtask: tasks kept being started while this kill ran (by tasks it was killing, a chain ` +
          `that starts one more when killed?): ${RELIST_ROUNDS} rounds later, still unfinished: ` +
          `${ids.join(", ")}; bgtask kill ${ids.join(" ")} (and see bgtask list)`,
      );
    }
    const shown = [...list.flatMap((t) => killed.get(t.id) ?? []), ...joined, ...ended];
    if (shown.length > 0 || refused.size === 0 || values.json === true) {
      await ctx.printTasks(shown, values.json === true);
    }
    return refused.size > 0 || kept.length > 0 ? EXIT_FAILURE : 0;
  },
};
