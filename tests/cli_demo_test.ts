/**
 * The Quick start: `deno task demo` and `deno task bgtask …`, run for real in
 * a copy of the project (so the checkout's own ./.bgtask is left alone).
 */

import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { ROOT, settleStore } from "./_helpers/common.ts";
import { childOptions, type CliResult } from "./cli_helpers.ts";

/**
 * What `deno task` needs: the config, its lockfile, the code, and nothing of
 * the checkout's state. (A clone has the lockfile; without it, Deno asks the
 * npm registry for every package's versions again, even with all of them cached.)
 */
const PROJECT_FILES = ["deno.json", "deno.lock", "mod.ts", "cli.ts", "demo.ts", "src", "dist"];

/** Runs `deno task …args` in `project`. */
async function denoTask(project: string, args: string[]): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", ...args],
    cwd: project,
    ...childOptions({ NO_COLOR: "1" }),
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
    bytes: out.stdout,
  };
}

/** Deno's own warnings (the task runner's "Task demo …" line is not one). */
// `deno task`'s echo of the task it runs, "Task NAME COMMAND…" (maybe coloured): not a warning,
// though the command's V8 flag has "experimental" in its name.
// deno-lint-ignore no-control-regex
const TASK_ECHO = /^(\x1b\[[0-9;]*m)*Task /;

function warnings(stderr: string): string[] {
  return stderr.split("\n").filter((line) =>
    /warning|experimental/i.test(line) && !TASK_ECHO.test(line)
  );
}

Deno.test("deno task demo prints no Deno warning and ends with CLI hints that work as printed", async () => {
  const project = await Deno.makeTempDir({ prefix: "bgtask-demo-" });
  try {
    for (const file of PROJECT_FILES) {
      await cp(join(ROOT, file), join(project, file), { recursive: true });
    }
    const demo = await denoTask(project, ["demo"]);
    assert.equal(demo.code, 0, demo.stderr);
    assert.deepEqual(warnings(demo.stderr), []);

    // The hints: one for a Quick-start user (npx only), one with Deno installed,
    // each a `deno task` of this project at the version that ran the demo.
    const hints = demo.stdout.split("see them with the CLI:\n")[1]?.trimEnd().split("\n");
    assert.deepEqual(hints, [
      "  with Deno installed:     deno task bgtask list",
      `  with only Node.js/npm:   npx -y deno@${Deno.version.deno} task bgtask list`,
    ]);

    // `deno task bgtask list`, as printed (npx would run the same task with the same Deno).
    const list = await denoTask(project, ["bgtask", "list"]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(warnings(list.stderr), []);
    assert.match(list.stdout, /^b1 +completed +0 .* a pretend build$/m);
    assert.match(list.stdout, /^b2 +killed .* a tree to kill$/m);
  } finally {
    await settleStore(join(project, ".bgtask"));
    await Deno.remove(project, { recursive: true });
  }
});
