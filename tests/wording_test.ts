/**
 * Messages that said a thing twice or left out the fix: a removed task's
 * "(by remove or clean; bgtask rm or clean)", "Removed queue a..", a size
 * in PB ("invalid size"), a duration whose last number had no unit, and a
 * range given to --after.
 */

import assert from "node:assert/strict";
import { TaskManager, TaskNotFoundError } from "../mod.ts";
import { parseSize } from "../src/cli/size.ts";
import { parseDuration } from "../src/cli/duration.ts";
import { parseIdList } from "../src/cli/args.ts";
import { cli, withStore } from "./cli_helpers.ts";

Deno.test("wording: a removed task is said to be removed once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-wording-" });
  try {
    const tasks = new TaskManager({ dir });
    const t = await tasks.wait((await tasks.spawnShell("true")).id);
    await tasks.remove(t.id);
    await assert.rejects(tasks.getStatusOrThrow(t.id), (e: Error) => {
      assert.ok(e instanceof TaskNotFoundError);
      assert.equal(
        e.message,
        `Task ${t.id} was removed, with its records, by rm (remove) or clean`,
      );
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wording: a unit that is none, a number left without its unit, a range for --after", () => {
  for (const text of ["1PB", "99999999PB"]) {
    assert.throws(() => parseSize(text, "--max-output", "no cap"), {
      message: `invalid size "${text}" for --max-output: "PB" is not a unit (the units are B, k, ` +
        "M, G and T: e.g. 4096, 512k, 10MB, 1GiB; k/KiB = 1024, kB = 1000)",
    });
  }
  // Kubernetes' binary units, written without their B.
  for (const [text, meant] of [["10Mi", "10MiB"], ["5ki", "5KiB"]]) {
    assert.throws(() => parseSize(text, "--max-output", "no cap"), {
      message: `invalid size "${text}" for --max-output: "${text.replace(/^\d+/, "")}" is not a ` +
        `unit; did you mean ${meant}? (the units are B, k, M, G and T: e.g. 4096, 512k, 10MB, ` +
        "1GiB; k/KiB = 1024, kB = 1000)",
    });
  }
  assert.throws(() => parseDuration("1h30", "--timeout", "no timeout"), {
    message: 'invalid duration "1h30" for --timeout: its last number has no unit; did you mean ' +
      "1h30m? (e.g. 500ms, 30s, 5m, 2h, 1d, 1h30m (each unit once, the largest first); a plain " +
      "number means seconds)",
  });
  assert.throws(() => parseDuration("1m30x", "--timeout", "no timeout"), (e: Error) => {
    assert.ok(!e.message.includes("did you mean"), e.message);
    return true;
  });
  assert.throws(() => parseIdList(["b1..b3"], "--after"), {
    message: '"b1..b3" is a range, which --after does not take: list the ids, --after b1,b2,b3',
  });
  assert.throws(() => parseIdList(["b1,2-20"], "--after"), {
    message: '"2-20" is a range, which --after does not take: list the ids, --after ' +
      'b2,b3,…,b20 (in a shell, --after "$(seq -s, -f b%.0f 2 20)")',
  });
});

Deno.test("wording: a queue whose name ends in a period is quoted when removed", async () => {
  await withStore(async (dir) => {
    assert.equal((await cli(dir, ["queue", "set", "a..", "--parallel", "1"])).code, 0);
    const r = await cli(dir, ["queue", "rm", "a.."]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'Removed queue "a..".\n', ""]);
  });
});
