/**
 * A wall clock that steps while tasks run (an NTP step as a VM boots or
 * resumes, a laptop's clock set after a suspend, a container whose clock is
 * not the host's): every deadline bgtask keeps counts time that passed, not
 * readings of the wall clock, and a consumer hears of every task that ends
 * after it began, whatever the clocks say. The processes here run on a wall
 * clock of their own (tests/_helpers/clock_step.c, LD_PRELOADed: the wall
 * clock moves, the monotonic and boot clocks do not), stepped by the test
 * while they run; the test's own process keeps the real one.
 */

import assert from "node:assert/strict";
import { TaskManager } from "../mod.ts";
import { clockStepUnavailable, type SteppedClock, steppedClock } from "./_helpers/clock_step.ts";
import { childOptions, cli, cliArgs, minimalFlags } from "./cli_helpers.ts";
import { exists, settleStore, until } from "./_helpers/common.ts";
import { processesCarrying, taskToken } from "./_helpers/correctness.ts";

const HOUR = 3_600_000;
const skip = await clockStepUnavailable();

function opts(name: string) {
  return {
    name: `clock steps: ${name}${skip ? ` (skipped: ${skip})` : ""}`,
    ignore: skip !== undefined,
  };
}

/**
 * The CLI's flags with --allow-run unscoped: Deno starts a program with
 * LD_PRELOAD in its environment (the clock's) only under that.
 */
function flags(dir: string): string[] {
  return minimalFlags(dir).map((f) => f.startsWith("--allow-run") ? "--allow-run" : f);
}

/** A store of its own, clocks to step, and a clean-up of both (and of the tasks). */
async function withClocks(
  count: number,
  fn: (dir: string, clocks: SteppedClock[], tasks: TaskManager) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-clock-step-test-" });
  const clocks = await Promise.all(Array.from({ length: count }, () => steppedClock()));
  const tasks = new TaskManager({ dir });
  try {
    await fn(dir, clocks, tasks);
  } finally {
    for (const c of clocks) c.set(0); // (a hung old build's deadline comes back at once)
    for (const t of await tasks.list()) {
      if (t.finishedAt === null) await tasks.kill(t.id, { graceMs: 0 }).catch(() => {});
    }
    await tasks.close();
    await settleStore(dir);
    for (const c of clocks) c.remove();
    await Deno.remove(dir, { recursive: true });
  }
}

/** `bgtask run …` on `clock`: the task's id. */
async function runOn(dir: string, clock: SteppedClock, args: string[]): Promise<string> {
  const r = await cli(dir, ["run", ...args], { env: clock.env, flags: flags(dir) });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** Starts `bgtask …` on `clock`, stdin piped; its exit code and how long it took (ms). */
function startOn(dir: string, clock: SteppedClock, args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: cliArgs(dir, args, { flags: flags(dir) }),
    ...childOptions(clock.env),
    stdin: "piped",
    signal: AbortSignal.timeout(60_000),
  }).spawn();
  const t0 = performance.now();
  return {
    child,
    done: child.output().then((o) => ({
      code: o.code,
      ms: performance.now() - t0,
      at: performance.now(),
      stderr: new TextDecoder().decode(o.stderr),
    })),
  };
}

Deno.test({
  ...opts(
    "a timeout counts run time: a step of the wall clock forward does not fire it, one back does not hold it",
  ),
  async fn() {
    await withClocks(2, async (dir, [ahead, behind], tasks) => {
      const long = await runOn(dir, ahead, ["--timeout", "30s", "sleep 300"]);
      const short = await runOn(dir, behind, ["--timeout", "2500ms", "sleep 300"]);
      ahead.set(HOUR);
      behind.set(-HOUR);
      // Back an hour: it times out all the same, 2.5 s in (it had waited an hour more).
      const ended = await tasks.wait(short, { signal: AbortSignal.timeout(20_000) });
      assert.equal(ended.reason, "timeout", ended.error ?? "");
      // Forward an hour: 30 s have not passed (it had timed out at once).
      const still = await tasks.getStatus(long);
      assert.equal(still?.status, "running", still?.error ?? "");
    });
  },
});

Deno.test({
  ...opts(
    "paused time is counted on the same clock as the timeout: a step of the wall clock during a pause neither holds nor fires it",
  ),
  async fn() {
    await withClocks(2, async (dir, [ahead, behind], tasks) => {
      const on = (clock: SteppedClock, args: string[]) =>
        cli(dir, args, { env: clock.env, flags: flags(dir) });
      // Each paused as soon as it runs; `ran`: at most that long it ran before.
      const ids: string[] = [];
      const ran: number[] = [];
      for (const clock of [ahead, behind]) {
        const t0 = performance.now();
        ids.push(await runOn(dir, clock, ["--timeout", "4s", "sleep 300"]));
        assert.equal((await on(clock, ["pause", ids.at(-1)!])).code, 0);
        ran.push(performance.now() - t0);
      }
      ahead.set(HOUR);
      behind.set(-2 * HOUR);
      // Paused longer than the timeout: only the time it ran counts.
      await new Promise((r) => setTimeout(r, 4200));
      let resuming = 0;
      for (const [i, clock] of [ahead, behind].entries()) {
        resuming = performance.now();
        const r = await on(clock, ["resume", ids[i]]);
        assert.equal(r.code, 0, r.stderr);
      }
      const resumed = performance.now();
      // Forward an hour while paused: it times out all the same (had an hour more).
      const first = await tasks.wait(ids[0], { signal: AbortSignal.timeout(20_000) });
      assert.equal(first.reason, "timeout", first.error ?? "");
      // Back two hours while paused: not at once, after the rest of its 4 s:
      // at least 4 s less the most it ran before its pause and the most its
      // resume took (a loaded machine's CLI calls take seconds; the boot
      // clock bgtask's bash reads counts in hundredths).
      const second = await tasks.wait(ids[1], { signal: AbortSignal.timeout(20_000) });
      assert.equal(second.reason, "timeout", second.error ?? "");
      const after = performance.now() - resumed;
      const least = 4000 - ran[1] - (resumed - resuming) - 20;
      assert.ok(after > least, `it timed out ${after} ms after it resumed, not the ${least} left`);
    });
  },
});

Deno.test({
  ...opts("a kill's grace counts run time: a step back of the wall clock does not hold SIGKILL"),
  async fn() {
    await withClocks(1, async (dir, [clock], tasks) => {
      const id = await runOn(dir, clock, [
        "trap 'echo got TERM' TERM; while :; do sleep 0.1; done",
      ]);
      const kill = startOn(dir, clock, ["kill", "--grace", "1500ms", id]);
      await kill.child.stdin.close();
      // Its grace under way (the task said so), the wall clock goes back an hour.
      await until(
        () => Deno.readTextFileSync(`${dir}/tasks/${id}/output`).includes("got TERM"),
        "the task to get SIGTERM",
      );
      clock.set(-HOUR);
      const stepped = performance.now();
      const r = await kill.done;
      assert.equal(r.code, 0, r.stderr);
      // SIGKILL at the end of the grace (1.5 s), not when the task's watchdog
      // takes over a kill that seems to hang (3 s after the grace: before,
      // the kill's own wait held on an hour).
      assert.ok(r.at - stepped < 3500, `the kill ended ${r.at - stepped} ms after the step`);
      assert.equal((await tasks.getStatus(id))?.status, "killed");
    });
  },
});

Deno.test({
  ...opts("send --timeout counts run time: a step back of the wall clock does not hold it"),
  async fn() {
    await withClocks(1, async (dir, [clock]) => {
      // It reads a little (so the send is writing), then nothing: the send
      // fills the pipe and waits for its timeout.
      const id = await runOn(dir, clock, [
        "--stdin",
        "pipe",
        "head -c 1000 >/dev/null; echo read; sleep 300",
      ]);
      const send = startOn(dir, clock, ["send", "--timeout", "2s", id, "-"]);
      const writer = send.child.stdin.getWriter();
      const writing = writer.write(new Uint8Array(1 << 20)).then(() => writer.close()).catch(
        () => {},
      );
      await until(
        () => Deno.readTextFileSync(`${dir}/tasks/${id}/output`).includes("read"),
        "the task to read from the send",
      );
      clock.set(-HOUR);
      const r = await send.done;
      await writing;
      assert.equal(r.code, 124, r.stderr);
      assert.ok(r.ms < 15_000, `send took ${r.ms} ms`);
    });
  },
});

Deno.test({
  ...opts(
    "a waiter keeps looking at its task after a step back of the wall clock: a task whose processes all died reads lost",
  ),
  async fn() {
    await withClocks(1, async (dir, [clock]) => {
      const id = await runOn(dir, clock, ["sleep 300"]);
      const wait = startOn(dir, clock, ["wait", id]);
      await wait.child.stdin.close();
      // Waiting, then the step, then the task's end unseen. (The pause lets
      // the waiter schedule its looks before the step, as a waiter that has
      // waited a while has: without it, a build that keeps those on the wall
      // clock could pass. It cannot make this build fail.)
      const token = `BGTASK_INVOCATION=${taskToken(dir, id)}`;
      await until(() => processesCarrying([token]).length === 3, "the task's three processes");
      await new Promise((r) => setTimeout(r, 1500));
      clock.set(-HOUR);
      for (const p of processesCarrying([token])) {
        Deno.kill(p, "SIGKILL");
      }
      const r = await wait.done;
      assert.equal(r.code, 125, r.stderr);
      assert.ok(r.ms < 30_000, `wait took ${r.ms} ms`);
    });
  },
});

Deno.test({
  ...opts(
    "a consumer registered before the wall clock stepped back hears of every task that ends after it (peek, clean's keep, drain)",
  ),
  async fn() {
    await withClocks(1, async (dir, [clock], tasks) => {
      // Registered an hour "later" than the tasks' ends will read.
      clock.set(HOUR);
      const reg = await cli(dir, ["completions", "--consumer", "agent"], {
        env: clock.env,
        flags: flags(dir),
      });
      assert.equal(reg.code, 0, reg.stderr);
      const run = await cli(dir, ["run", "--wait", "echo hi"]);
      assert.equal(run.code, 0, run.stderr);
      const id = run.stdout.trim().split("\n")[0];
      const peek = await cli(dir, ["completions", "--consumer", "agent", "--peek", "--json"]);
      assert.deepEqual(JSON.parse(peek.stdout).map((t: { id: string }) => t.id), [id]);
      // Unread by the agent: kept by a clean.
      const clean = await cli(dir, ["clean"]);
      assert.equal(clean.code, 0, clean.stderr);
      assert.ok(exists(`${dir}/tasks/${id}`), "clean deleted a task the agent has not had");
      // Acknowledged (as an MCP session does for what it was told of)…
      assert.deepEqual(await tasks.acknowledgeCompletions([id], { consumer: "agent" }), [id]);
      // …and the next one drained.
      const next = await cli(dir, ["run", "--wait", "echo again"]);
      assert.equal(next.code, 0, next.stderr);
      const drain = await cli(dir, ["completions", "--consumer", "agent", "--json"]);
      assert.deepEqual(JSON.parse(drain.stdout).map((t: { id: string }) => t.id), [
        next.stdout.trim().split("\n")[0],
      ]);
    });
  },
});
