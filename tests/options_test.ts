/**
 * Options objects with a name they do not take are refused, naming it and
 * the likely one: from JavaScript, `{ timeout: 5000 }` (for `timeoutMs`)
 * used to be ignored, and the task ran without its timeout.
 */

import assert from "node:assert/strict";
import { TaskManager } from "../mod.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

/** Each call rejects with a TypeError whose message matches. */
async function refusedEach(cases: [string, () => Promise<unknown>, RegExp][]): Promise<void> {
  for (const [name, call, message] of cases) {
    await assert.rejects(call, (e: unknown) => {
      assert.ok(e instanceof TypeError, `${name}: ${e}`);
      assert.match(e.message, message, name);
      return true;
    });
  }
}

Deno.test("options: an unknown name is refused by every method that takes options, before anything is done", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-options-" });
  try {
    const tasks = new TaskManager({ dir });
    const o = (v: object) => v as Loose;
    const cases: [string, () => Promise<unknown>, RegExp][] = [
      [
        "spawnShell",
        () => tasks.spawnShell("true", o({ timeout: 5000 })),
        /^Cannot spawn task: unknown option "timeout" \(did you mean timeoutMs\?\); the options are description, cwd, env, timeoutMs, /,
      ],
      [
        "spawnShell, case",
        () => tasks.spawnShell("true", o({ maxoutputbytes: 1 })),
        /unknown option "maxoutputbytes" \(did you mean maxOutputBytes\?\)/,
      ],
      ["list", () => tasks.list(o({ state: "running" })), /did you mean status\?/],
      [
        "kill",
        () => tasks.kill("b1", o({ grace: 0 })),
        /^Cannot kill task: .*did you mean graceMs\?/,
      ],
      [
        "wait",
        () => tasks.wait("b1", o({ timeout: 5 })),
        /^Cannot wait: unknown option "timeout"; the options are signal, until; for a deadline, signal: AbortSignal\.timeout\(ms\)$/,
      ],
      [
        "drainCompletions",
        () => tasks.drainCompletions(o({ wait: true, timeoutMs: 5 })),
        /unknown option "timeoutMs"; .*; for a deadline, signal: AbortSignal\.timeout\(ms\)$/,
      ],
      ["readOutput", () => tasks.readOutput("b1", o({ max: 1 })), /did you mean maxBytes\?/],
      ["readOutputChunk", () => tasks.readOutputChunk("b1", o({ from: 1 })), /"from"/],
      ["tailOutput", () => tasks.tailOutput("b1", 3, o({ limit: 1 })), /"limit"/],
      ["writeStdin", () => tasks.writeStdin("b1", "x", o({ timeout: 1 })), /timeoutMs\?/],
      [
        "resizeTerminal",
        () => tasks.resizeTerminal("b1", o({ cols: 80, rows: 24 })),
        /"cols" \(did you mean columns\?\)/,
      ],
      ["drainCompletions", () => tasks.drainCompletions(o({ name: "a" })), /"name"/],
      ["peekCompletions", () => tasks.peekCompletions(o({ consumers: "a" })), /consumer\?/],
      ["clean", () => tasks.clean(o({ olderThan: 1 })), /did you mean olderThanMs\?/],
      ["setQueue", () => tasks.setQueue("q", o({ parallel: 2, max: 3 })), /"max"/],
      [
        "completions",
        () => tasks.completions(o({ consumerName: "a" })).next(),
        /did you mean consumer\?/,
      ],
      ["follow", () => tasks.follow("b1", o({ start: 0 })).next(), /"start"/],
    ];
    await refusedEach(cases);
    assert.throws(
      () => new TaskManager(o({ directory: dir })),
      /^TypeError: Cannot open the store: unknown option "directory" \(did you mean dir\?\)/,
    );
    // Nothing was created by any of them.
    assert.deepEqual(await tasks.list(), []);
    assert.deepEqual(await tasks.getQueues(), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("options: a signal that is no AbortSignal, a flag that is no boolean, a callback that is no function are refused at the call, naming the option", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-options-" });
  try {
    const tasks = new TaskManager({ dir });
    const t = await tasks.spawnShell("sleep 30");
    const o = (v: object) => v as Loose;
    const cases: [string, () => Promise<unknown>, RegExp][] = [
      [
        "wait",
        () => tasks.wait(t.id, o({ signal: 5 })),
        /^Cannot wait: signal must be an AbortSignal/,
      ],
      [
        "follow",
        () => tasks.follow(t.id, o({ signal: {} })).next(),
        /^Cannot follow output: signal must be an AbortSignal .*got an object/,
      ],
      [
        "completions",
        () => tasks.completions(o({ signal: 1 })).next(),
        /signal must be an AbortSignal/,
      ],
      [
        "drainCompletions",
        () => tasks.drainCompletions(o({ handle: 5 })),
        /handle must be a function, got 5/,
      ],
      [
        "clean",
        () => tasks.clean(o({ unread: "yes" })),
        /^Cannot clean.*unread must be true or false, got "yes"/,
      ],
      [
        "list",
        () => tasks.list(o({ onDamaged: 5 })),
        /^Cannot list tasks: onDamaged must be a function/,
      ],
      // A signal given in the options' place: it has no keys, and passed as no options (the
      // wait ran to the task's end, the iterators never ended, the clean removed every
      // finished task).
      [
        "wait with a signal for options",
        () => tasks.wait(t.id, o(AbortSignal.timeout(100))),
        /^Cannot wait: the options must be a plain object \(an AbortSignal was given\); give the signal as \{ signal \}/,
      ],
      [
        "follow with a signal for options",
        () => tasks.follow(t.id, o(AbortSignal.timeout(100))).next(),
        /an AbortSignal was given\); give the signal as \{ signal \}/,
      ],
      [
        "completions with a signal for options",
        () => tasks.completions(o(AbortSignal.timeout(100))).next(),
        /an AbortSignal was given\); give the signal as \{ signal \}/,
      ],
      [
        "clean with a signal for options",
        () => tasks.clean(o(AbortSignal.abort())),
        /^Cannot clean.*an AbortSignal was given\); give the signal as \{ signal \}/,
      ],
      [
        "spawnShell with an object of a class",
        () => tasks.spawnShell("true", o(new Map([["timeoutMs", 5]]))),
        /the options must be a plain object \(a Map object was given\); the options are /,
      ],
    ];
    await refusedEach(cases);
    assert.throws(
      () => new TaskManager(o({ dir, killOnDispose: "yes" })),
      /^TypeError: Cannot open the store: killOnDispose must be true or false, got "yes"/,
    );
    // drainCompletions honours an aborted signal: nothing is claimed.
    await tasks.kill(t.id, { graceMs: 0 });
    await assert.rejects(
      () => tasks.drainCompletions({ signal: AbortSignal.abort(new Error("stop")) }),
      /stop/,
    );
    assert.deepEqual((await tasks.drainCompletions()).map((i) => i.id), [t.id]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("options: an env value that is not a string says what it got, and how to leave a variable out; a NUL is named", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-options-" });
  try {
    const tasks = new TaskManager({ dir });
    const env = (v: unknown) => ({ env: { A: v } }) as Loose;
    await refusedEach([
      [
        "undefined",
        () => tasks.spawnShell("true", env(undefined)),
        /^Cannot spawn task: environment value of A must be a string, got undefined \(to leave A out, omit it from env\)$/,
      ],
      ["a number", () => tasks.spawnShell("true", env(3)), /must be a string, got 3\b/],
      ["NUL", () => tasks.spawnShell("true", env("a\0b")), /value of A holds a NUL byte/],
    ]);
    // Nothing was made: no id claimed.
    assert.deepEqual(await tasks.list(), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
