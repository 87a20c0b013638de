/**
 * `task_start`: starts a shell command in the background; for a short
 * command, one call returns its end state and output.
 *
 * @module
 */

import type { QueueInfo, SpawnOptions } from "../../../mod.ts";
import { isFinal } from "../../lifecycle.ts";
import { statusLine, textResult } from "../format.ts";
import { pieceFacts, readWindow, showPiece } from "../read.ts";
import { undetectedPromptHint } from "../prompt_hint.ts";
import { defineTool, noteTold, remember } from "../tool.ts";
import { ArgumentError, wholeMs } from "../args.ts";
import { CwdError } from "../../ops/spawn.ts";
import { MAX_WAIT_S, waitFor, waitLimit, waitSecondsField } from "../wait.ts";
import { queuedNext, standingOf } from "../queued.ts";
import { cancelledByClient } from "../cancel.ts";

/** The grace of the kill of a task whose start the client cancelled (task_kill's default). */
const CANCELLED_GRACE_MS = 2000;

/** What `task_start` returns at most of a task's output. */
export const START_OUTPUT_BYTES = 16 * 1024;

interface Args {
  command: string;
  description?: string;
  cwd?: string;
  env?: Record<string, string>;
  timeout_s?: number;
  max_output_bytes?: number;
  queue?: string;
  parallel?: number;
  after?: string[];
  after_policy?: "success" | "any";
  stdin?: "null" | "pipe" | "pty";
  columns?: number;
  rows?: number;
  wait_s: number;
}

/**
 * `cwd` as given, when absolute. A relative one is refused: it would be
 * taken from the server's own directory, which the agent cannot know (and a
 * command run in the wrong place may do harm there).
 */
function absoluteCwd(cwd: string | undefined): string | undefined {
  if (cwd === undefined || cwd.startsWith("/")) return cwd;
  throw new ArgumentError(
    `cwd must be an absolute path (starting with /), got ${JSON.stringify(cwd)}${
      cwd.startsWith("~") ? " (~ is not expanded)" : ""
    }: a relative one would start from this server's own directory, which you cannot know; ` +
      "give the directory's full path",
  );
}

/**
 * The core's refusal of the working directory ("Cannot spawn task:
 * directory … does not exist") as an error of the argument it came from,
 * as every other bad argument is named.
 */
function asCwdError(e: unknown, cwd: string | undefined): unknown {
  if (cwd === undefined || !(e instanceof CwdError)) return e;
  return new ArgumentError(
    `cwd: ${e.problem}${e.fix ? `; ${e.fix}` : ""} (the task did not start)`,
  );
}

/** The options of `spawnShell` that the arguments map to (one line each, so new ones are one line). */
function spawnOptions(a: Args): SpawnOptions {
  if (a.parallel !== undefined && a.queue === undefined) {
    throw new ArgumentError(
      "parallel sets how many tasks of a queue run at once: give queue too (the task then " +
        "runs in that queue), or leave parallel out",
    );
  }
  if (a.after_policy !== undefined && !a.after?.length) {
    throw new ArgumentError(
      "after_policy applies only with after (the tasks to run after): give after, or leave " +
        "after_policy out",
    );
  }
  return {
    description: a.description,
    cwd: absoluteCwd(a.cwd),
    env: a.env,
    timeoutMs: a.timeout_s === undefined
      ? undefined
      : wholeMs("timeout_s", a.timeout_s, "no timeout"),
    maxOutputBytes: a.max_output_bytes,
    queue: a.queue,
    after: a.after,
    afterPolicy: a.after_policy,
    stdin: a.stdin,
    columns: a.columns,
    rows: a.rows,
  };
}

/**
 * What `task_start` says of the queue whose `parallel` it set: when that
 * changed what another call (another agent's, a person's) had set, the old
 * value, and that it holds for the queue's other tasks too (a task already
 * running past the new limit runs on).
 *
 * @example
 * ```ts
 * import { queueLine } from "./task_start.ts";
 * import { equal } from "node:assert/strict";
 * const q = { name: "build", parallel: 1, paused: false, running: 0, queued: 0 };
 * equal(queueLine(q, { ...q, parallel: 1 }), "queue build runs 1 at once (parallel)");
 * equal(
 *   queueLine(q, { ...q, parallel: 4, running: 4 }),
 *   "queue build runs 1 at once (parallel; was 4: changed for all its tasks, and the 4 " +
 *     "running run on)",
 * );
 * ```
 */
export function queueLine(queue: QueueInfo, before: QueueInfo | undefined): string {
  if (!before || before.parallel === queue.parallel) {
    return `queue ${queue.name} runs ${queue.parallel} at once (parallel)`;
  }
  const on = before.running > queue.parallel ? `, and the ${before.running} running run on` : "";
  return `queue ${queue.name} runs ${queue.parallel} at once (parallel; was ${before.parallel}: ` +
    `changed for all its tasks${on})`;
}

/** The `task_start` tool. */
export const taskStart = defineTool<Args>({
  name: "task_start",
  title: "Start a background task",
  description:
    "Run a shell command (bash -c) in the background: builds, test suites, dev servers, " +
    "long scripts. The task keeps running after this call returns and survives this server; " +
    "its output (stdout and stderr interleaved) is kept in a file.\n" +
    `The call waits up to wait_s seconds (default 10, at most ${MAX_WAIT_S}): if the command ends by ` +
    "then, you get its final status, exit code and output in this one call. Otherwise you " +
    'get its id (like "b3"), status running, the output so far and a next_cursor: then use ' +
    "task_wait to wait for it to end (or to print something) instead of polling task_read, " +
    "and task_kill to stop it. Use wait_s 0 for servers you do not want to wait for. A task " +
    "lasts as long as its command: what it leaves running in the background (`server &`) is " +
    "ended when it exits, so run a server as the command itself.\n" +
    'Interactive commands (prompts, REPLs, installers that ask): stdin "pipe" lets ' +
    'task_write_stdin answer them; stdin "pty" runs the command on a terminal, for programs ' +
    "that need one (its echo of what you send is in the output). Such a task's call returns " +
    "as soon as it waits for input.\n" +
    "If you cancel this call, the task it started is killed (whole process tree): its id " +
    "never reached you. A call that ends unanswered otherwise (the connection closed, the " +
    "server stopped) leaves the task running: task_list shows it.",
  fields: {
    command: {
      type: "string",
      required: true,
      nonEmpty: true,
      description: 'the shell command line, e.g. "npm test" or "make -j4 2>&1"',
    },
    description: { type: "string", description: "a few words saying what the task is for" },
    cwd: {
      type: "string",
      nonEmpty: true,
      description: "the directory to run in, as an absolute path (a relative one is refused); " +
        "default: the server's own directory (task_status shows it)",
    },
    env: { type: "env", description: 'extra environment variables, e.g. {"PORT": "8080"}' },
    timeout_s: {
      type: "number",
      minimum: 0,
      maximum: 30 * 86_400,
      unit: "seconds",
      description:
        "end the task (its whole process tree) after this many seconds (at least 0.001); 0: never",
    },
    max_output_bytes: {
      type: "integer",
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      unit: "bytes",
      description: "end the task once its output passes this many bytes (default 1 GiB; 0: no cap)",
    },
    queue: {
      type: "string",
      nonEmpty: true,
      description: "run in this queue: it waits (status queued) until one of the queue's slots " +
        "is free, so a fan-out of many tasks does not run all at once (a queue never set up " +
        "runs one task at a time: parallel sets how many; letters, digits, _ . -)",
    },
    parallel: {
      type: "integer",
      minimum: 1,
      maximum: 1000,
      unit: "tasks",
      description: "with queue: how many of the queue's tasks run at once, set before this task " +
        "joins it; it holds for the queue's other tasks too (e.g. 2 for \"6 shards, 2 at a " +
        'time": pass it with the first)',
    },
    after: {
      type: "ids",
      maxItems: 100,
      description:
        'start only after these tasks have ended, e.g. ["b3", "b4"] (deploy after build)',
    },
    after_policy: {
      type: "string",
      enum: ["success", "any"],
      description: 'with after: "success" (default) runs only if they all completed, otherwise ' +
        'the task fails without running; "any" runs after they end, however',
    },
    stdin: {
      type: "string",
      enum: ["null", "pipe", "pty"],
      description: 'the command\'s stdin: "null" (default: /dev/null, so reading input gets ' +
        'end-of-file), "pipe" (task_write_stdin writes to it) or "pty" (a terminal)',
    },
    columns: {
      type: "integer",
      minimum: 1,
      maximum: 65535,
      unit: "columns",
      description: 'for stdin "pty": the terminal\'s width (default 80)',
    },
    rows: {
      type: "integer",
      minimum: 1,
      maximum: 65535,
      unit: "rows",
      description: 'for stdin "pty": the terminal\'s height (default 24)',
    },
    wait_s: waitSecondsField(
      `how long this call waits for the command to end (default 10; at most ${MAX_WAIT_S}: a ` +
        `larger value counts as ${MAX_WAIT_S})`,
    ),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
  async run(session, args, call) {
    const { tasks, cursors } = session;
    // (Checked before the spawn: a refusal must not leave a task running.)
    const { ms: waitMs, note: capped } = waitLimit("wait_s", args.wait_s, "no wait");
    const options = spawnOptions(args);
    // The queue's limit first: the task joins a queue that already runs that many at once.
    // (Set back as it was when the task cannot start: a refused start changes nothing.)
    const before = args.parallel === undefined
      ? undefined
      : (await tasks.getQueues()).find((q) => q.name === args.queue);
    const queue = args.parallel !== undefined
      ? await tasks.setQueue(args.queue!, { parallel: args.parallel })
      : undefined;
    const started = await tasks.spawnShell(args.command, options).catch(async (e) => {
      if (queue) {
        await (before
          ? tasks.setQueue(queue.name, { parallel: before.parallel })
          : tasks.removeQueue(queue.name)).catch(() => {});
      }
      throw asCwdError(e, options.cwd);
    });
    session.started?.add(started.id);
    let info = started;
    if (waitMs > 0) {
      const outcome = await waitFor(tasks, {
        tasks: [started],
        mode: "any",
        // An interactive task may wait for an answer: back as soon as it does.
        until: started.stdin === "null" ? "exit" : "input",
        timeoutMs: waitMs,
        signal: call.signal,
        deadline: call.ending,
        onProgress: (id, line) => call.progress(`${id}: ${line}`),
      });
      info = outcome.outcomes[0].info;
    } else {
      info = (await tasks.getStatus(started.id)) ?? started;
    }
    noteTold(session, [info], call);
    const piece = await readWindow(tasks, info, 0, START_OUTPUT_BYTES);
    remember(cursors, info.id, piece.end);
    const where = await standingOf(tasks, [info]);
    const lines = [
      statusLine(info, Date.now(), where),
      ...(queue ? [queueLine(queue, before)] : []),
      pieceFacts(piece),
      showPiece(info.id, piece),
    ];
    if (info.status === "running" && info.stdin !== "null") {
      const write = `task_write_stdin {"id": "${info.id}", "data": "…${
        info.stdin === "pty" ? "\\r" : "\\n"
      }"}`;
      const wait = `task_wait {"ids": ["${info.id}"], "until": "input"}`;
      const kill = `task_kill {"id": "${info.id}"} to stop it`;
      lines.push(
        info.waitingForInput
          ? `${info.id} runs on in the background and waits for input. Next: ${write} to ` +
            `answer (it returns the reply), ${wait} to wait for its next prompt, ${kill}.`
          // (Not asking yet: waiting for its prompt comes first.)
          : `${info.id} runs on in the background, not waiting for input now. Next: ${wait} ` +
            `to wait for its prompt, ${write} to send input (it returns the reply), ${kill}.`,
      );
      const hint = await undetectedPromptHint(tasks, info);
      if (hint) lines.push(hint);
    } else if (info.status === "running") {
      lines.push(
        `${info.id} runs on in the background. Next: task_wait {"ids": ["${info.id}"]} to wait ` +
          `for it to end, task_wait {"ids": ["${info.id}"], "until": "output", "cursor": ` +
          `${piece.end}} for new output, ` +
          `task_kill {"id": "${info.id}"} to stop it.`,
      );
    } else if (piece.omitted && isFinal(info.status)) {
      // Its middle was left out: an error there is not in view.
      lines.push(
        `The middle of its output was left out (bytes ${piece.omitted.from}–` +
          `${piece.omitted.to}). Next: task_read {"id": "${info.id}", "grep": ` +
          `"/error|fail|warn/i"} finds such lines in all of it, task_read {"id": "${info.id}", ` +
          `"cursor": ${piece.omitted.from}} reads the part left out.`,
      );
    } else if (info.status === "queued") {
      // An interactive task will want input before it ends: wait for that.
      const wait = info.stdin === "null"
        ? `task_wait {"ids": ["${info.id}"]} to wait for it to run and end`
        : `task_wait {"ids": ["${info.id}"], "until": "input"} to wait for it to run and ask ` +
          `for input (task_write_stdin answers once it has started)`;
      lines.push(
        `${info.id} waits its turn (${
          info.after.length > 0 ? `after ${info.after.join(", ")}` : `queue ${info.queue}`
        }). Next: ${wait}, task_list ` +
          `to see the line, task_kill {"id": "${info.id}"} to drop it before it starts.`,
      );
      // (Its queue paused: nothing starts it until someone resumes the queue.)
      if (info.queue !== null && where?.paused?.has(info.queue)) {
        lines.push(queuedNext(info, where));
      }
    }
    if (capped) lines.push(capped);
    if (cancelledByClient(call.signal)) {
      // The client cancelled the call: this answer is never sent, so the
      // task's id never reached it. A task nobody knows of would run on
      // unseen (a retry would start a second one): it is ended, whole tree,
      // as task_kill ends it. A call unanswered because its connection
      // closed, or the session or server ended, is no such choice: a task
      // keeps running when the agent or the server goes away (over stdio
      // too), so it runs on, and task_list shows it.
      const now = (await tasks.getStatus(started.id)) ?? info;
      if (!isFinal(now.status)) {
        await tasks.kill(started.id, { graceMs: CANCELLED_GRACE_MS }).catch(() => {});
      }
    }
    return textResult(lines.join("\n"));
  },
});
