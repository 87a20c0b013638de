/**
 * `task_completions`: the tasks that finished and were not yet reported to
 * this MCP session, as the session's own completion consumer; with
 * `wait_s`, waits that long for one to finish when none has. At most
 * {@linkcode MAX_TASKS} tasks (and about {@linkcode MAX_CHARS} characters)
 * a call, failures first: the rest stay unreported, for the next call
 * (clients cut a long result, and what was cut would be lost for good).
 *
 * @module
 */

import type { TaskInfo } from "../../../mod.ts";
import { formatDuration } from "../../cli/duration.ts";
import { n, statusLine, textResult } from "../format.ts";
import { type Call, defineTool, noteTold, type Session, startedHere, toldAmong } from "../tool.ts";
import { endedEarly } from "../cancel.ts";
import { MAX_WAIT_S, waitLimit } from "../wait.ts";

/** The most tasks one call reports. */
export const MAX_TASKS = 50;
/** About the most characters of status lines one call reports (at least one line). */
export const MAX_CHARS = 8 * 1024;

interface Args {
  wait_s: number;
  only_mine: boolean;
}

/** What the model reads of `task_completions`. */
const DESCRIPTION =
  "The background tasks that have finished (completed, failed or killed) since this session " +
  "last called task_completions (or since the session began), each reported once to this " +
  "session — tasks of any session or of the command line; not those whose end another call " +
  "of this session already showed you (task_start, task_wait, task_write_stdin, task_kill, " +
  "task_status, task_read; a call cancelled before its answer showed nothing). Call it at " +
  "the start of a turn to catch up on what finished while you were busy (after a context " +
  "compaction too: what was not reported to you is still here). A new MCP session (the server restarted, or an HTTP " +
  "session expired) starts empty, unless the server runs with --consumer NAME: task_list " +
  "shows what ended before it. With wait_s, when nothing " +
  "has finished it waits up to that long and returns the moment a task finishes — whichever " +
  "of them ends first, without naming ids (task_wait waits for the ids you give). One call " +
  `reports at most ${MAX_TASKS} tasks, failures first; the rest stay for the next call ` +
  '("N more finished: call task_completions again").';

/**
 * What the description adds for a server run with `--consumer NAME` (see
 * `Session.named`).
 */
export const NAMED_NOTE = " This server keeps its reports across restarts (bgtask mcp " +
  "--consumer NAME): tasks that ended while it was down are reported too. only_mine knows only " +
  "the tasks started since this server started: the end of a task made before then (yours, " +
  "perhaps, from before a restart) is shown, not passed over.";

/** A drain's tasks that do not fit one answer: given back by `handle`, unclaimed. */
class TooMany extends Error {}

/** The answer that told of a drain's tasks was not sent: they are given back. */
class NotSent extends Error {}

/** The failed, killed and lost ones first; each group in the order they finished. */
function failuresFirst(done: readonly TaskInfo[]): TaskInfo[] {
  return [
    ...done.filter((t) => t.status !== "completed"),
    ...done.filter((t) => t.status === "completed"),
  ];
}

/** The status lines of `done` that one answer holds: failures first, within the caps. */
function answerLines(
  done: readonly TaskInfo[],
  now: number,
  mine: (id: string) => boolean,
): [TaskInfo, string][] {
  const out: [TaskInfo, string][] = [];
  let chars = 0;
  for (const t of failuresFirst(done)) {
    const line = statusLine(t, now, undefined, mine(t.id));
    if (out.length >= MAX_TASKS || (out.length > 0 && chars + line.length + 1 > MAX_CHARS)) break;
    out.push([t, line]);
    chars += line.length + 1;
  }
  return out;
}

/** What a drain took: its tasks, and which of them an answer of this session told already. */
interface Drained {
  got: TaskInfo[];
  told: Set<string>;
}

/**
 * Claims what finished for the session's consumer (waiting for one with
 * `wait`), as `drainCompletions` does, when all of it is to be reported and
 * fits one answer; else claims nothing and returns undefined (then the
 * caller picks). The claims stay pending (this process's) until the call's
 * answer is sent, and are given back if it never is: the SDK drops the
 * answer of a call cancelled after its drain (see `answer.ts`), and the
 * tasks are then reported by the next call, not lost.
 */
async function drainIfItFits(
  session: Session,
  shown: (t: TaskInfo, told: Set<string>) => boolean,
  call: Pick<Call, "answered" | "keep" | "signal">,
  wait?: { signal: AbortSignal },
): Promise<Drained | undefined> {
  const fits = (got: TaskInfo[], told: Set<string>) => {
    const lines = got.filter((t) => shown(t, told));
    return lines.length === answerLines(lines, Date.now(), (id) => startedHere(session, id)).length;
  };
  // (A call cancelled after its drain gives its claims back as it ends: the
  // drain then sees them.)
  const givingBack = [...session.drains ?? []].filter((d) => d.signal.aborted);
  await Promise.allSettled(givingBack.map((d) => d.done));
  let took!: (drained: Drained) => void;
  const taken = new Promise<Drained>((resolve) => took = resolve);
  const drain = session.tasks.drainCompletions({
    consumer: session.consumer,
    ...(wait ? { wait: true, signal: wait.signal } : {}),
    // (Thrown: they are given back, unclaimed, and the drain rejects.)
    handle: async (got) => {
      // (An end another call is telling: known told once its answer's fate is.)
      const told = await toldAmong(session, got.map((t) => t.id), call.signal);
      if (!fits(got, told)) throw new TooMany();
      took({ got, told });
      if (!(await call.answered)) throw new NotSent();
    },
  });
  // (Its end after the answer, given back or kept, is no one's to hear of.)
  const entry = { done: drain.catch(() => {}), signal: call.signal };
  session.drains?.add(entry);
  // (Its claims made done before the answer is written.)
  call.keep?.(entry.done);
  void entry.done.then(() => session.drains?.delete(entry));
  return await Promise.race([
    taken,
    drain.then(() => taken, (e) => {
      if (e instanceof TooMany) return undefined;
      throw e;
    }),
  ]);
}

/** The `task_completions` tool. */
export const taskCompletions = defineTool<Args>({
  name: "task_completions",
  title: "Tasks finished since last asked",
  description: DESCRIPTION,
  fields: {
    wait_s: {
      type: "number",
      minimum: 0,
      default: 0,
      unit: "seconds",
      description: `when nothing has finished, wait up to this long for a task to finish ` +
        `(default 0: do not wait; at most ${MAX_WAIT_S}: a larger value counts as ${MAX_WAIT_S})`,
    },
    only_mine: {
      type: "boolean",
      default: false,
      description: "report only tasks this session started (task_start); the ends of the " +
        "others are passed over for good (marked reported to this session, not shown)",
    },
  },
  describe: (session): string => session.named ? DESCRIPTION + NAMED_NOTE : DESCRIPTION,
  annotations: { readOnlyHint: false, openWorldHint: false },
  async run(session, args, call) {
    const { signal, ending } = call;
    const { tasks, consumer, registered } = session;
    await registered;
    const { ms: waitMs, note: capped } = waitLimit("wait_s", args.wait_s, "no wait");
    const mine = args.only_mine;
    const isMine = (id: string) => startedHere(session, id);
    // (A named consumer's: a task made before this session may be one its
    // previous server started, unknown here; shown rather than passed over.)
    const since = session.named?.since;
    const maybeMine = (t: TaskInfo) =>
      isMine(t.id) || (since !== undefined && Date.parse(t.createdAt) < since);
    // An end another call of this session has told (in an answer sent) is not
    // told again: taken, not shown.
    const fresh = (t: TaskInfo, told: Set<string>) => !told.has(t.id);
    const shown = (t: TaskInfo, told: Set<string>) => fresh(t, told) && (!mine || maybeMine(t));
    // (The client gone: no wait, as at the deadline, a look only.)
    const deadline = waitMs > 0 && !ending?.aborted
      ? AbortSignal.any([signal, AbortSignal.timeout(waitMs), ...(ending ? [ending] : [])])
      : undefined;
    let done: TaskInfo[] = [];
    let more = 0; // finished, to report, left for the next call
    let passedOver = 0; // only_mine: others' ends, marked reported unshown
    // Ends another call of this session told while this one waited (a
    // task_wait alongside: the store has them reported, and no drain sees
    // them): said, so that "no task finished within 15s" is not read as
    // nothing having ended.
    const toldBefore = new Set(session.told ?? []);
    for (;;) {
      let drained: Drained | undefined;
      try {
        drained = await drainIfItFits(session, shown, call, deadline && { signal: deadline });
      } catch (e) {
        if (signal.aborted || !deadline?.aborted) throw e;
        break; // the deadline passed: nothing was taken
      }
      if (drained === undefined) {
        // More than one answer holds: the first ones, failures first, are
        // claimed once this answer is sent (noteTold: a task_completions
        // alongside waits to know); the rest stay unclaimed, for the next call.
        const all = await tasks.peekCompletions({ consumer });
        const toldIds = await toldAmong(session, all.map((t) => t.id), signal);
        const told = all.filter((t) => shown(t, toldIds));
        const others = all.filter((t) => !shown(t, toldIds));
        done = answerLines(told, Date.now(), isMine).map(([t]) => t);
        more = told.length - done.length;
        passedOver += others.filter((t) => fresh(t, toldIds)).length;
        noteTold(session, [...done, ...others], call);
        break;
      }
      const { got, told } = drained;
      done = got.filter((t) => shown(t, told));
      passedOver += got.filter((t) => fresh(t, told) && !shown(t, told)).length;
      // (only_mine, and only others' tasks ended: passed over, the wait goes on.)
      if (done.length > 0 || !deadline || deadline.aborted) break;
    }
    // (A wait_s over the most: said after the answer.)
    const note = capped ? ` (${capped})` : "";
    const over = passedOver === 0
      ? ""
      : `\n(${n(passedOver)} ended task${
        passedOver === 1 ? "" : "s"
      } this session did not start: passed over, as only_mine asks.)`;
    const elsewhere = waitMs > 0 ? [...session.told ?? []].filter((id) => !toldBefore.has(id)) : [];
    const which = `${elsewhere.length > 0 ? "other " : ""}${
      mine ? "task this session started" : "task"
    }`;
    const toldThere = elsewhere.length === 0
      ? ""
      : `\n(${
        elsewhere.length === 1
          ? `${elsewhere[0]} ended: another call of this session showed its end`
          : `${elsewhere.join(", ")} ended: other calls of this session showed their ends`
      }.)`;
    if (done.length === 0 && more === 0) {
      return textResult(
        (waitMs > 0 && ending?.aborted
          ? `No ${which} finished (the wait ended early: ${endedEarly(ending)}) ` +
            "nor since the last task_completions."
          : waitMs > 0
          ? `No ${which} finished within ${formatDuration(waitMs)} (nor since the last ` +
            "task_completions). task_list shows what runs."
          : `No ${which} has finished since the last task_completions.`) +
          note + over +
          toldThere,
      );
    }
    const lines = answerLines(done, Date.now(), isMine).map(([, line]) => line);
    const heading = more === 0
      ? `${n(done.length)} finished since the last task_completions${note}:`
      : `${n(done.length)} of ${n(done.length + more)} finished since the last ` +
        `task_completions, failures first${note}:`;
    const rest = more === 0
      ? ""
      : `\n${n(more)} more finished: call task_completions again (they stay unreported until ` +
        "then).";
    return textResult([heading, ...lines].join("\n") + rest + over);
  },
});
