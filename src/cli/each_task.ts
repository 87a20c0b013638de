/**
 * Doing one thing to each task named (`rm`, `pause`, `resume`, `restart`):
 * every id must exist before anything is done; a task the thing is refused
 * for is one line on stderr and exit 1, and the others are still done.
 *
 * @module
 */

import type { TaskInfo, TaskManager, TaskStatus } from "../../mod.ts";
import { InterruptedError } from "../errors.ts";
import { NOT_AN_ID, parseIds, type Values } from "./args.ts";
import { type Context, JSON_OPTION, type Verb } from "./context.ts";
import { describeError, UsageError } from "./errors.ts";
import { DamagedRecordError } from "../store/fs_store.ts";
import { printDone, printErr, sayMade } from "./output.ts";
import { QUEUE_OPTION, targets } from "./targets.ts";
import { holdSignals, stoppedBy } from "./signals.ts";

/**
 * Runs `act` on each id in `positionals`, in order, and prints what it
 * returned as the task table (or `--json` array). Returns the exit code: 0,
 * or the code of the first refusal.
 *
 * @param where How the verb is named in errors (`bgtask pause`).
 * @param made For an `act` that makes new tasks (`restart`), what one is
 *   called ("new task"): their ids are the only handle on them (see {@linkcode sayMade}).
 * @throws {UsageError} For no ids or a bad one.
 * @throws {TaskNotFoundError} For an id not in the store (nothing is done then).
 */
export async function eachTask(
  ctx: Context,
  values: Values,
  positionals: string[],
  where: string,
  act: (tasks: TaskManager, id: string) => Promise<TaskInfo>,
  ids: string[] = parseIds(where, positionals),
  made?: string,
): Promise<number> {
  const tasks = ctx.tasks();
  // Each is there (as findTasks checks). One whose final record is damaged is, and
  // ended: it is the act's to refuse or do (`rm` removes it).
  const listed = new Set((await tasks.list({ ids })).map((t) => t.id));
  for (const id of ids) {
    if (listed.has(id)) continue;
    await tasks.getStatusOrThrow(id).catch((e) => {
      if (!(e instanceof DamagedRecordError && e.ended)) throw e;
    });
  }
  const done: TaskInfo[] = [];
  let code = 0;
  // A Ctrl-C (SIGTERM, SIGHUP) stops it between two tasks, never inside
  // one (a removal cut in half, a restart whose new id nobody is told), and
  // what was done is still shown.
  const hold = holdSignals();
  let left: string[] = [];
  try {
    for (const [k, id] of ids.entries()) {
      if (hold.heard) {
        left = ids.slice(k);
        break;
      }
      try {
        done.push(await act(tasks, id));
      } catch (e) {
        // The same Ctrl-C ended a helper of it: not done, as those after it.
        if (e instanceof InterruptedError && hold.heard) {
          left = ids.slice(k);
          break;
        }
        // One task that cannot be acted on does not keep the others.
        const { line, code: failure } = describeError(e);
        printErr(line);
        code ||= failure;
      }
    }
  } finally {
    hold.release();
  }
  const json = values.json === true;
  if (json || done.length > 0 || code === 0) {
    const print = () => ctx.printTasks(done, json);
    await printDone(
      hold,
      () => made !== undefined && done.length > 0 ? sayMade(done, made, print) : print(),
    );
  }
  if (hold.heard) {
    printErr(
      `bgtask: interrupted (${hold.heard})${
        left.length > 0
          ? `; not done: ${left.join(" ")} (${where} ${left.join(" ")} does them)`
          : ""
      }`,
    );
    return stoppedBy(hold.heard);
  }
  return code;
}

/**
 * A verb `NAME ID… [--json]` that does `act` to each task named (see
 * {@linkcode eachTask}). With `queueToo`, the tasks in status `queueToo` of
 * `--queue Q` (or of the store, `--all`) are acted on too (`pause --queue
 * ci`: its running tasks, as `pueue pause -g ci` does besides holding the
 * queue), and an argument that is no id is taken for a queue meant (`pause
 * ci`): the error says how to give it.
 */
export function eachTaskVerb(
  name: string,
  act: (tasks: TaskManager, id: string) => Promise<TaskInfo>,
  queueToo?: TaskStatus,
): Verb {
  const where = `bgtask ${name}`;
  return {
    name,
    options: queueToo ? { ...QUEUE_OPTION, ...JSON_OPTION } : { ...JSON_OPTION },
    positionals: "some",
    ids: "every",
    writes: true,
    run: async (ctx, { values, positionals }) => {
      try {
        const grouped = values.queue !== undefined || values.all === true;
        if (queueToo && (grouped || positionals.length === 0)) {
          // Those named, then the queue's (or the store's) in that status.
          const named = new Set(positionals.length > 0 ? parseIds(where, positionals) : []);
          const found = await targets(ctx, values, positionals, where);
          const ids = found.filter((t) => named.has(t.id) || t.status === queueToo).map((t) =>
            t.id
          );
          return await eachTask(ctx, values, positionals, where, act, ids);
        }
        return await eachTask(ctx, values, positionals, where, act);
      } catch (e) {
        // (Only after the plain "not a task id": a hint said already, a range's or all's, stands.)
        const q = queueToo && e instanceof UsageError &&
          e.message.endsWith(NOT_AN_ID) &&
          positionals.find((p) => /^[A-Za-z0-9_.-]{1,64}$/.test(p) && !/^b?[0-9]+$/.test(p));
        if (q) {
          throw new UsageError(
            `${e.message}; for queue ${q}: bgtask queue ${name} ${q} (its waiting tasks), ` +
              `bgtask ${name} --queue ${q} (its ${queueToo} ones)`,
          );
        }
        throw e;
      }
    },
  };
}
