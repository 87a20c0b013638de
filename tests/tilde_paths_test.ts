/**
 * `~` is a shell's shorthand for the home folder, expanded only at a word's
 * start and unquoted: `--dir=~/store`, `BGTASK_DIR="~/store"` and the
 * library's `{ dir: "~/store" }` reach bgtask as they are. It took them as a
 * folder named `~` in the working directory, made it at the first run, and
 * a later `rm -rf ~` to clean that up is the well-known disaster. Such a
 * store path is refused now, naming the fix; a working directory with a `~`
 * folder in it that does not exist says why. A `file:` URL is taken as the
 * store, as Deno's own file APIs take one.
 */

import assert from "node:assert/strict";
import { TaskManager } from "../mod.ts";
import { cli, mistakeProblems, withStore } from "./cli_helpers.ts";

/** Runs the CLI in `cwd` (so that a `~` folder would be made there, not in the repository). */
function cliIn(cwd: string, args: string[], env: Record<string, string> = {}) {
  return cli(cwd, args, { noDir: true, cwd, env });
}

/** The names in a folder. */
function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("paths: a --dir or BGTASK_DIR that starts with ~ is refused, naming the fix, and no folder ~ is made", async () => {
  await withStore(async (_dir, scratch) => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        ["--dir=~/store", "run", "true"],
        {},
        /^bgtask: --dir "~\/store" starts with "~", .*write --dir ~\/store \(after a space, not "=", and unquoted\), or the full path$/,
      ],
      [["list", "--dir", "~"], {}, /^bgtask: --dir "~" starts with "~"/],
      [["--dir=~me/s", "list"], {}, /--dir "~me\/s" starts with "~".*write --dir ~me\/s /],
      [
        ["run", "true"],
        { BGTASK_DIR: "~/store" },
        /^bgtask: cannot find the bgtask store: \$BGTASK_DIR is "~\/store", .*"\$HOME\/x"/,
      ],
      [["--dir=", "list"], {}, /^bgtask: --dir is empty: give the store's folder$/],
    ];
    for (const [args, env, pattern] of cases) {
      const r = await cliIn(scratch, args, env);
      assert.deepEqual(mistakeProblems(r), [], `${args.join(" ")}`);
      assert.match(r.stderr.trimEnd(), pattern);
    }
    assert.deepEqual(names(scratch), [], "nothing made in the working directory");
    // A folder that is named ~ on purpose is given as ./~ .
    const r = await cliIn(scratch, ["--dir", "./~", "run", "true"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(names(scratch), ["~"]);
    assert.equal((await cliIn(scratch, ["--dir", "./~", "wait", "last"])).code, 0);
  });
});

Deno.test("paths: a --cwd with a ~ folder that does not exist says the shell did not expand it", async () => {
  await withStore(async (dir, scratch) => {
    const r = await cliIn(scratch, ["--dir", dir, "run", "--cwd=~/repo", "true"]);
    assert.deepEqual(mistakeProblems(r), []);
    assert.match(
      r.stderr,
      /directory ".*\/~\/repo" does not exist \(a "~" in it is taken as a folder's name: .*give the full path\)/,
    );
  });
});

Deno.test("paths: the library takes a file: URL for dir, and refuses ~ and other URLs naming the fix", async () => {
  await withStore(async (_dir, scratch) => {
    const url = new URL(`file://${scratch}/my%20store/`);
    const tasks = new TaskManager({ dir: url });
    assert.equal(tasks.dir, `${scratch}/my store`);
    const t = await tasks.spawnShell("echo hi");
    assert.equal((await tasks.wait(t.id)).status, "completed");
    assert.deepEqual(names(scratch), ["my store"]);
    assert.equal(await new TaskManager({ dir: `${scratch}/my store` }).readOutput(t.id), "hi\n");
    await tasks.close();

    assert.throws(
      () => new TaskManager({ dir: "~/store" }),
      /^TypeError: Cannot open the store: dir "~\/store" starts with "~", .*give the full path .*"\.\/~\/store" for a folder named "~"/,
    );
    assert.throws(
      () => new TaskManager({ dir: new URL("https://example.com/store") }),
      /^TypeError: Cannot open the store: dir "https:\/\/example.com\/store" is no file: URL/,
    );
    assert.throws(
      () => new TaskManager({ dir: 5 as unknown as string }),
      /^TypeError: Cannot open the store: dir must be a non-empty path \(a string\) or a file: URL/,
    );
  });
});
