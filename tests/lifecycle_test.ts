/**
 * The lifecycle (src/lifecycle.ts) as a pure module: which records mean which
 * state, the named transitions, and the one records → TaskInfo function.
 */

import assert from "node:assert/strict";
import {
  isFinal,
  requireTransition,
  statusOf,
  TASK_STATUSES,
  type TaskRecords,
  toTaskInfo,
  TRANSITIONS,
} from "../src/lifecycle.ts";
import { TaskStateError } from "../mod.ts";
import type { SpawnRecord } from "../src/store/records.ts";

const spec: SpawnRecord = {
  id: "b7",
  command: "make",
  description: "",
  cwd: "/src",
  createdAt: 1_000,
  timeoutMs: 0,
  maxOutputBytes: 0,
  graceMs: 2000,
  env: {},
  stdin: "null",
  columns: 80,
  rows: 24,
  queue: "ci",
  after: ["b3"],
  afterPolicy: "success",
  restartOf: null,
  token: "t",
  longCommand: false,
  inherited: false,
};
const started = {
  supervisorPid: 10,
  supervisorStart: "5",
  taskPid: 11,
  taskStart: "6",
  startedAt: 3_000,
  cwd: "/src",
};
const final = {
  status: "failed" as const,
  exitCode: 2,
  signal: null,
  error: "exited with code 2",
  finishedAt: 4_000,
  by: "exit",
};
const ctx = { outputFile: "/s/tasks/b7/output", outputBytes: 12 };

Deno.test("lifecycle: the state comes from which records exist", () => {
  const cases: [TaskRecords, string][] = [
    [{ spec }, "queued"],
    [{ spec, launchedAt: 2_000 }, "queued"],
    [{ spec, started }, "running"],
    [{ spec, started, paused: { totalMs: 0, since: 3_500 } }, "paused"],
    [{ spec, started, paused: { totalMs: 500, since: 0 } }, "running"],
    [{ spec, started, final }, "failed"],
    [{ spec, final: { ...final, status: "killed", by: "kill" } }, "killed"],
  ];
  for (const [r, want] of cases) assert.equal(statusOf(r), want, JSON.stringify(r));
  assert.deepEqual(TASK_STATUSES.filter(isFinal), ["completed", "failed", "killed"]);
});

Deno.test("lifecycle: every transition names where it may start; others are refused naming the state", () => {
  requireTransition("b7", "running", "pause");
  requireTransition("b7", "paused", "resume");
  requireTransition("b7", "queued", "kill");
  for (const t of Object.keys(TRANSITIONS) as (keyof typeof TRANSITIONS)[]) {
    for (const s of TASK_STATUSES) {
      const allowed = (TRANSITIONS[t].from as readonly string[]).includes(s);
      if (allowed) requireTransition("b7", s, t);
      else {
        assert.throws(
          () => requireTransition("b7", s, t),
          (e: Error) =>
            e instanceof TaskStateError &&
            e.message.includes(isFinal(s) ? `it has ended (${s})` : `it is ${s}`),
          `${t} from ${s}`,
        );
      }
    }
  }
  // Nothing leaves a final state.
  for (const t of Object.values(TRANSITIONS)) {
    assert.ok(!(t.from as readonly string[]).some((s) => isFinal(s as "failed")));
  }
});

Deno.test("lifecycle: toTaskInfo gives times from the real start, and nulls until they exist", () => {
  const queued = toTaskInfo({ spec }, ctx);
  assert.equal(queued.status, "queued");
  assert.equal(queued.createdAt, new Date(1_000).toISOString());
  assert.equal(queued.startedAt, null);
  assert.equal(queued.pid, null);
  assert.equal(queued.cwd, "/src");
  assert.deepEqual(queued.after, ["b3"]);
  assert.equal(queued.queue, "ci");
  const done = toTaskInfo({ spec, started, final }, ctx);
  assert.equal(done.startedAt, new Date(3_000).toISOString());
  assert.equal(done.finishedAt, new Date(4_000).toISOString());
  assert.equal(done.exitCode, 2);
  assert.equal(done.reason, "exit");
  assert.equal(done.pid, 11);
  assert.equal(done.outputBytes, 12);
  assert.equal(done.waitingForInput, false);
  const lost = toTaskInfo({ spec, final: { ...final, by: "dependency" } }, ctx);
  assert.equal(lost.reason, "dependency");
});
