/**
 * Issue 10, fault 7: startedAt was when the spawn record was written, not
 * when the command started. With 200 tasks spawned at once, a `sleep 1.9`
 * read as having run 4.0 s: its launch waited behind the others'.
 *
 * Now startedAt comes from the supervisor's `started` record (taken just
 * before it forks the command) and createdAt is separate. Each task here
 * writes its own start and end ($EPOCHREALTIME) into its output, and its
 * record is compared with them.
 */

import assert from "node:assert/strict";
import { HEAVY, withStore } from "./_helpers/reliability.ts";

const TASKS = HEAVY ? 200 : 100;
/** How far finishedAt − startedAt may be from the command's own run time. */
const TOLERANCE_MS = HEAVY ? 800 : 600;

Deno.test(`startedAt: ${TASKS} tasks spawned at once each record their command's own run time (within ${TOLERANCE_MS} ms), createdAt apart`, async () => {
  await withStore("started-at", async (tasks) => {
    // Run times from 1.0 to 1.9 s, each measured by the command itself.
    const spawned = await Promise.all(
      Array.from(
        { length: TASKS },
        (_, i) => tasks.spawnShell(`s=$EPOCHREALTIME; sleep 1.${i % 10}; echo "$s $EPOCHREALTIME"`),
      ),
    );
    const infos = await Promise.all(
      spawned.map((t) => tasks.wait(t.id, { signal: AbortSignal.timeout(120_000) })),
    );
    let worstRun = 0, worstStart = 0, latestStart = -Infinity;
    const problems: string[] = [];
    for (const info of infos) {
      assert.equal(info.status, "completed", JSON.stringify(info));
      const [cmdStart, cmdEnd] = (await tasks.readOutput(info.id)).trim().split(" ").map((x) =>
        Number(x) * 1000
      );
      const created = Date.parse(info.createdAt);
      const started = Date.parse(info.startedAt!);
      const finished = Date.parse(info.finishedAt!);
      const runErr = Math.abs((finished - started) - (cmdEnd - cmdStart));
      worstRun = Math.max(worstRun, runErr);
      worstStart = Math.max(worstStart, cmdStart - started);
      latestStart = Math.max(latestStart, started - created);
      const where = `${info.id}: created ${created}, started ${started}, command ${
        cmdStart.toFixed(1)
      }–${cmdEnd.toFixed(1)}, finished ${finished}`;
      if (!Number.isFinite(created)) problems.push(`no createdAt: ${where}`);
      if (created > started) problems.push(`created after it started: ${where}`);
      // Taken before the command is forked: never after the command's own first instruction.
      if (started > cmdStart + 1) problems.push(`started after its command did: ${where}`);
      if (finished < cmdEnd - 1) problems.push(`finished before its command did: ${where}`);
      if (runErr > TOLERANCE_MS) problems.push(`run time off by ${runErr.toFixed(0)} ms: ${where}`);
    }
    console.log(
      `run time off by at most ${worstRun.toFixed(0)} ms; command started at most ${
        worstStart.toFixed(0)
      } ms after startedAt; the last task started ${latestStart} ms after its createdAt`,
    );
    assert.equal(
      problems.length,
      0,
      `${problems.length} problems:\n${problems.slice(0, 10).join("\n")}`,
    );
  });
});
