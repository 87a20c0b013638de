/** src/timers.ts: timers that keep the process alive as setTimeout does, without Deno's Node timers. */

import { assert, assertEquals } from "./_helpers/assert.ts";
import { every, later, sleep } from "../src/timers.ts";

const TIMERS = new URL("../src/timers.ts", import.meta.url).href;

/** Runs `code` (with later, every and sleep imported) in a fresh Deno; its stdout and exit code. */
async function inDeno(code: string): Promise<{ out: string; code: number }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", `import { every, later, sleep } from "${TIMERS}";\n${code}`],
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(30_000), // (a timer that held the process for ever)
  });
  const r = await child.output();
  return { out: new TextDecoder().decode(r.stdout), code: r.code };
}

Deno.test("later: calls once, not sooner than asked; a cancelled call never comes", async () => {
  const t0 = performance.now();
  const at = await new Promise<number>((resolve) => later(30, () => resolve(performance.now())));
  assert(at - t0 >= 30, `called after ${at - t0} ms`);
  let called = 0;
  const cancel = later(10, () => called++);
  cancel();
  cancel(); // harmless twice
  await sleep(40);
  assertEquals(called, 0);
});

Deno.test("later: 0, a negative delay or NaN call on a later turn, never at once (as setTimeout)", async () => {
  for (const ms of [0, -5, NaN, -Infinity]) {
    let called = false;
    const done = new Promise<void>((resolve) =>
      later(ms, () => {
        called = true;
        resolve();
      })
    );
    assertEquals(called, false);
    await done;
    assert(called);
  }
});

Deno.test("later: a delay past 2^31 ms is a delay (setTimeout's would fire at once); infinite ones are refused", async () => {
  let called = false;
  const cancel = later(2 ** 31 + 5_000, () => called = true);
  await sleep(50);
  cancel();
  assertEquals(called, false);
  let refused = "";
  try {
    later(Infinity, () => {});
  } catch (e) {
    refused = String(e);
  }
  assert(/must be finite/.test(refused), refused);
});

Deno.test("every: calls until stopped, then never again", async () => {
  let n = 0;
  let stop = () => {};
  await new Promise<void>((resolve) => {
    stop = every(5, () => {
      if (++n === 3) resolve();
    });
  });
  stop();
  const at = n;
  await sleep(30);
  assertEquals(n, at);
});

Deno.test("sleep: an aborted signal ends it at once, and one that aborts meanwhile ends it then", async () => {
  await sleep(60_000, AbortSignal.abort());
  const c = new AbortController();
  const t0 = performance.now();
  const slept = sleep(60_000, c.signal);
  later(20, () => c.abort());
  await slept;
  assert(performance.now() - t0 < 30_000);
});

Deno.test("a pending timer keeps the process alive until it fires; a cancelled one, or a stopped every, does not", async () => {
  // Waits for the timer: its line is printed, and only then does the process end.
  const kept = await inDeno(`later(300, () => console.log("fired"));`);
  assertEquals(kept, { out: "fired\n", code: 0 });
  // Cancelled with an hour to go: the process ends (within the test's 30 s, not in an hour).
  const cancelled = await inDeno(
    `const c = later(3_600_000, () => console.log("fired")); c(); console.log("left");`,
  );
  assertEquals(cancelled, { out: "left\n", code: 0 });
  const stopped = await inDeno(
    `let n = 0; const stop = every(10, () => { if (++n === 2) { stop(); console.log(n); } });`,
  );
  assertEquals(stopped, { out: "2\n", code: 0 });
  const slept = await inDeno(`await sleep(200); console.log("woke");`);
  assertEquals(slept, { out: "woke\n", code: 0 });
});
