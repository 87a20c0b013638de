/**
 * `bgtask queue [--json]`: the queues; `bgtask queue set Q --parallel N`,
 * `bgtask queue pause Q`, `bgtask queue resume Q`: change one and print it;
 * `bgtask queue rm Q`: delete one whose tasks have all ended.
 *
 * The action and the queue's name are positionals after `queue`, as in
 * `docker network create NAME`; the options may stand anywhere.
 *
 * @module
 */

import { type QueueInfo, type TaskManager, TaskStateError } from "../../mod.ts";
import { type Parsed, parseName, parsePositive } from "./args.ts";
import { type Context, JSON_OPTION, type Verb } from "./context.ts";
import { UsageError } from "./errors.ts";
import { quote } from "./escape.ts";
import { likeliest } from "../options.ts";
import { printErr, printJson, printOut } from "./output.ts";
import { queueTable } from "./queue_view.ts";
import { pausedQueuesOf } from "./paused_queues.ts";
import { noStoreAt, QueueNotFoundError, requireQueue, StoreNotFoundError } from "./targets.ts";

const ACTIONS = ["set", "pause", "resume", "rm"] as const;
type Action = typeof ACTIONS[number];

const SEE = "(see bgtask queue --help)";

/** The action and the queue's name, checked. */
function parseAction(
  positionals: string[],
  parallel: string | undefined,
): { action: Action; name: string } {
  const [word, name, extra] = positionals;
  if (!(ACTIONS as readonly string[]).includes(word)) {
    const like = likeliest(word, ACTIONS);
    throw new UsageError(
      `unknown action ${quote(word)} for bgtask queue${like ? `: did you mean ${like}?` : ""} ` +
        "(expected set, pause, resume or rm; bgtask queue alone lists the queues)",
    );
  }
  const action = word as Action;
  if (name === undefined) {
    throw new UsageError(`missing queue name for bgtask queue ${action} ${SEE}`);
  }
  if (extra !== undefined) {
    // `queue set ci 4`: pueue's `parallel 4 -g ci` order, the count without its option.
    const count = action === "set" && !parallel && /^[1-9][0-9]*$/.test(extra)
      ? `: did you mean bgtask queue set ${quote(name).slice(1, -1)} --parallel ${extra}?`
      : "";
    throw new UsageError(
      `unexpected argument ${quote(extra)} for bgtask queue ${action}${count} ${SEE}`,
    );
  }
  return { action, name: parseName(name, "a queue") };
}

/** The `queue` verb. */
export const queueVerb: Verb = {
  name: "queue",
  // (Its actions: set, pause, resume, rm. Listing only reads.)
  writes: ({ positionals }) => positionals.length > 0,
  options: { parallel: { type: "string" }, ...JSON_OPTION },
  positionals: "some",
  async run(ctx: Context, { values, positionals }: Parsed): Promise<number> {
    const json = values.json === true;
    const tasks = ctx.tasks();
    const parallel = values.parallel as string | undefined;
    if (positionals.length === 0) {
      if (parallel !== undefined) {
        throw new UsageError(`--parallel is only used with bgtask queue set Q ${SEE}`);
      }
      // (As list: none, all the same, but a mistyped --dir is said so.)
      const missing = await ctx.missingStore();
      if (missing !== undefined) printErr(`bgtask: note: ${noStoreAt(missing)}`);
      const queues = await tasks.getQueues();
      if (json) await printJson(queues);
      else await printOut(queueTable(queues, ctx.style, ctx.width));
      return 0;
    }
    const { action, name } = parseAction(positionals, parallel);
    if (action === "rm") return await remove(tasks, name, parallel, json);
    let queue: QueueInfo;
    if (action === "set") {
      if (parallel === undefined) {
        throw new UsageError(
          `missing --parallel N for bgtask queue set (how many of its tasks run at once) ${SEE}`,
        );
      }
      queue = await tasks.setQueue(name, { parallel: parsePositive(parallel, "--parallel") });
    } else {
      if (parallel !== undefined) {
        throw new UsageError(`--parallel is only used with bgtask queue set, not ${action} ${SEE}`);
      }
      // (Pausing a new name is how a stash is made: said how, as pueue's
      // users would try it. With no store at all, a mistyped --dir is the
      // likelier why: said first, or its remedy made a store there.)
      const missing = await ctx.missingStore();
      if (missing !== undefined) throw new StoreNotFoundError(missing);
      await requireQueue(
        tasks,
        name,
        action === "pause"
          ? "to make it paused (its tasks wait until it is resumed): " +
            `bgtask queue set ${name} --parallel 1, then bgtask queue pause ${name}`
          : undefined,
      );
      queue = action === "pause" ? await tasks.pauseQueue(name) : await tasks.resumeQueue(name);
    }
    if (json) await printJson(queue);
    else await printOut(queueTable([queue], ctx.style, ctx.width));
    return 0;
  },
};

/** `queue rm Q`: refused (exit 1) for an unknown queue or one with unfinished tasks. */
async function remove(
  tasks: TaskManager,
  name: string,
  parallel: string | undefined,
  json: boolean,
): Promise<number> {
  if (parallel !== undefined) {
    throw new UsageError(`--parallel is only used with bgtask queue set, not rm ${SEE}`);
  }
  let removed: boolean;
  try {
    removed = await tasks.removeQueue(name);
  } catch (e) {
    if (!(e instanceof TaskStateError)) throw e;
    // (A paused queue's queued tasks start only once it is resumed: a wait alone never returns.)
    const queued = await tasks.list({ queue: name, status: "queued" }).catch(() => []);
    const paused = (await pausedQueuesOf(tasks, queued).catch(() => [])).length > 0;
    const wait = paused
      ? `bgtask queue resume ${name} then bgtask wait --queue ${name}`
      : `bgtask wait --queue ${name}`;
    throw new TaskStateError(
      e.id,
      e.message.replace(
        /\(kill them or wait for them first\)$/,
        `(end them first: bgtask kill --queue ${name}, or ${wait})`,
      ),
    );
  }
  if (!removed) throw new QueueNotFoundError(name);
  if (json) await printJson({ name, removed: true });
  // (A name that ends in "." is quoted: "Removed queue a.." read as a typo.)
  else await printOut(`Removed queue ${name.endsWith(".") ? `"${name}"` : name}.\n`);
  return 0;
}
