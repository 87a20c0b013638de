/**
 * What a refused permission says (from a library user's walk): every flag a
 * verb needs in one line, no flag the user gave already, the `--deny-…` flag
 * to drop where one refuses, bash granted by another path than PATH's, and
 * the scoped `--allow-net` of `mcp --http`.
 */

import assert from "node:assert/strict";
import { cli, minimalFlags, start, withStore } from "./cli_helpers.ts";
import { DENO_DIR, exists } from "./_helpers/common.ts";

/** The line a run of the CLI printed on stderr (the one starting "bgtask: "). */
function line(stderr: string): string {
  return stderr.split("\n").find((l) => l.startsWith("bgtask: ")) ?? stderr;
}

Deno.test("a verb that writes, given --allow-read alone, names --allow-run=bash and --allow-write in one line; given those, no flag it has", async () => {
  await withStore(async (dir) => {
    const running = await start(dir, "--stdin", "pipe", "sleep 300");
    await start(dir, "--wait", "true");
    // (The one that changes most last: each is then done, with every flag.)
    const verbs = [
      ["pause", running],
      ["send", running, "hi"],
      ["queue", "set", "q", "--parallel", "2"],
      ["clean"],
      ["kill", running],
    ];
    for (const args of verbs) {
      const readOnly = await cli(dir, args, { flags: [`--allow-read=${dir}`] });
      assert.equal(readOnly.code, 1, args.join(" "));
      assert.match(
        line(readOnly.stderr),
        new RegExp(`: missing permission, run again with --allow-run=bash --allow-write=${dir} `),
        `${args.join(" ")}: ${readOnly.stderr}`,
      );
      // Given bash and reading: the one flag left, none of those given.
      const noWrite = await cli(dir, args, { flags: ["--allow-run=bash", `--allow-read=${dir}`] });
      assert.equal(noWrite.code, 1, args.join(" "));
      assert.match(
        line(noWrite.stderr),
        new RegExp(`: missing permission, run again with --allow-write=${dir} \\(`),
        `${args.join(" ")}: ${noWrite.stderr}`,
      );
      // What the first line said is enough: one run again, and it is done.
      const told = await cli(dir, args, {
        flags: [`--allow-read=${dir}`, "--allow-run=bash", `--allow-write=${dir}`],
      });
      assert.equal(told.code, 0, `${args.join(" ")}: ${told.stderr}`);
      if (args[0] === "pause") await cli(dir, ["resume", running]);
    }
  });
});

Deno.test("a --deny-… flag that refuses the store is named to drop (no flag given already is asked for); an existing store is written to, not created", async () => {
  await withStore(async (dir) => {
    await start(dir, "true");
    const denied = await cli(dir, ["run", "true"], { flags: ["-A", `--deny-write=${dir}`] });
    assert.equal(denied.code, 1);
    assert.match(
      line(denied.stderr),
      new RegExp(
        // (-A grants writing already: only dropping the deny flag helps.)
        `^bgtask: cannot write to the bgtask store "${dir}": missing permission, run again ` +
          `without any --deny-write flag that covers ${dir} ` +
          `\\(Requires write access to "${dir}[^"]*"\\)`,
      ),
    );
    // Refused inside the store alone: that path is named, and the store, which
    // exists, is written to (not "created").
    const inside = await cli(dir, ["run", "true"], { flags: ["-A", `--deny-write=${dir}/tasks`] });
    assert.equal(inside.code, 1);
    assert.match(
      line(inside.stderr),
      new RegExp(
        `^bgtask: cannot write to the bgtask store "${dir}": missing permission, run again ` +
          `without any --deny-write flag that covers ${dir}/tasks `,
      ),
    );
    // Bash refused by --deny-run.
    const noBash = await cli(dir, ["run", "true"], {
      flags: ["--deny-run=bash", `--allow-read=${dir}`, `--allow-write=${dir}`],
    });
    assert.match(
      line(noBash.stderr),
      /^bgtask: cannot spawn task: missing permission, run again with --allow-run=bash, and without any --deny-run flag that covers bash, if one was given /,
    );
    assert.doesNotMatch(noBash.stderr, /not on this process's PATH/);
  });
});

Deno.test(
  "bash granted by another path than PATH's (--allow-run=/bin/bash): said so, not that bash is missing from PATH",
  { ignore: !exists("/bin/bash") },
  async () => {
    await withStore(async (dir, scratch) => {
      // PATH's first bash is another file than /bin/bash (a wrapper here;
      // /usr/bin/bash on a merged /usr, as the walk found).
      await Deno.mkdir(`${scratch}/bin`);
      const wrapper = `${scratch}/bin/bash`;
      await Deno.writeTextFile(wrapper, '#!/bin/sh\nexec /bin/bash "$@"\n', { mode: 0o755 });
      const env = { PATH: `${scratch}/bin:/usr/bin:/bin` };
      const flags = [`--allow-read=${dir}`, `--allow-write=${dir}`, "--allow-run=/bin/bash"];
      const r = await cli(dir, ["run", "true"], { flags, env });
      assert.equal(r.code, 1);
      assert.match(
        line(r.stderr),
        /^bgtask: cannot spawn task: missing permission, run again with --allow-run=bash .*; --allow-run=\/bin\/bash was given, but bgtask runs the bash found on this process's PATH, and Deno grants a path, not a file \(the same bash by another path, a link or \/bin for \/usr\/bin, is not granted\): grant --allow-run=bash \(which Deno looks up on PATH\)$/,
      );
      assert.doesNotMatch(r.stderr, /if it was given, bash is not on this process's PATH/);
      // Where PATH may be looked at, its bash is named.
      const seen = await cli(dir, ["run", "true"], {
        flags: [...flags, "--allow-env=PATH", `--allow-read=${wrapper}`],
        env,
      });
      assert.match(
        line(seen.stderr),
        new RegExp(
          `; --allow-run=/bin/bash was given, but this process's PATH finds bash at ${wrapper}: ` +
            `grant --allow-run=${wrapper} or --allow-run=bash \\(which Deno looks up on PATH\\)$`,
        ),
      );
      // Nothing was started, nor an id used.
      const list = await cli(dir, ["list", "--json"]);
      assert.deepEqual(JSON.parse(list.stdout), []);
    });
  },
);

Deno.test("mcp --http without net names the scoped --allow-net=HOST:PORT, as every other refusal names its flag", async () => {
  await withStore(async (dir) => {
    const r = await cli(dir, ["mcp", "--http", "127.0.0.1:18799"], { flags: minimalFlags(dir) });
    assert.equal(r.code, 1);
    assert.equal(
      line(r.stderr),
      "bgtask: cannot serve MCP on 127.0.0.1:18799: missing permission, run again with " +
        '--allow-net=127.0.0.1:18799 (Requires net access to "127.0.0.1:18799") (if this is an ' +
        "installed bgtask, its permissions are built in: install it again with them)",
    );
  });
});

Deno.test("without --no-prompt and with no terminal to prompt on (a script, CI, an MCP client), the advice names the flag to add", async () => {
  await withStore(async (dir) => {
    // (Deno reads a prompt it cannot show as "denied", as it reads a --deny-… flag.)
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--allow-read=${dir}`,
        `--allow-write=${dir}`,
        new URL("../cli.ts", import.meta.url).pathname,
        "--dir",
        dir,
        "run",
        "true",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 1);
    assert.match(
      line(new TextDecoder().decode(out.stderr)),
      /^bgtask: cannot spawn task: missing permission, run again with --allow-run=bash\b/,
    );
  });
});

/** A folder of this test's in /dev/shm (a tmpfs under /dev), when there is one to write to. */
function devShm(): string | undefined {
  try {
    return Deno.makeTempDirSync({ dir: "/dev/shm", prefix: "bgtask-devshm-" });
  } catch {
    return undefined;
  }
}
const shm = devShm();
if (shm) Deno.removeSync(shm);

Deno.test(
  `a store under /dev, which Deno lets only --allow-all reach, says so, not to add the flags given; a first use through a link there leaves no folder${
    shm ? "" : " (skipped: no /dev/shm to write to)"
  }`,
  { ignore: !shm },
  async () => {
    await withStore(async (_dir, scratch) => {
      const under = Deno.makeTempDirSync({ dir: "/dev/shm", prefix: "bgtask-devshm-" });
      try {
        const store = `${under}/store`;
        const said = "Deno treats paths under /dev specially and reaches";
        const fix = "only with --allow-all (-A), whatever --allow-read and --allow-write name; " +
          "put the store on a tmpfs mounted elsewhere or in a folder not under /dev (--dir DIR " +
          "or BGTASK_DIR), or run with -A";
        // (It said: run again with --allow-run=bash --allow-read=… --allow-write=…, the flags given.)
        for (const verb of [["run", "true"], ["list"]]) {
          const r = await cli(store, verb);
          assert.equal(r.code, 1, verb[0]);
          assert.equal(
            line(r.stderr),
            `bgtask: cannot ${verb[0] === "run" ? "create" : "open"} the bgtask store ` +
              `"${store}": ${said} "${store}" ${fix}`,
          );
        }
        // The default store, in a cache folder linked to /dev/shm: no empty store left there.
        const home = `${scratch}/home`;
        await Deno.mkdir(home);
        await Deno.symlink(under, `${home}/.cache`);
        const linked = `${home}/.cache/bgtask`;
        const r = await cli(linked, ["run", "true"], {
          noDir: true,
          env: { HOME: home, DENO_DIR },
        });
        assert.equal(r.code, 1);
        assert.equal(
          line(r.stderr),
          `bgtask: cannot write to the bgtask store "${linked}": ${said} "${under}/bgtask" ${fix}`,
        );
        assert.deepEqual([...Deno.readDirSync(under)], [], "a folder was left behind");
      } finally {
        await Deno.remove(under, { recursive: true });
      }
    });
  },
);

Deno.test("an installed bgtask (permissions for ~/.cache/bgtask) run with another XDG_CACHE_HOME names that store, and unsetting XDG_CACHE_HOME", async () => {
  await withStore(async (_dir, scratch) => {
    const granted = `${scratch}/.cache/bgtask`;
    const r = await cli(granted, ["list"], {
      noDir: true,
      env: { HOME: scratch, XDG_CACHE_HOME: `${scratch}/xdg`, DENO_DIR },
    });
    assert.equal(r.code, 1);
    // (It said "set BGTASK_DIR to it", naming no folder.)
    assert.match(
      line(r.stderr),
      new RegExp(
        `^bgtask: cannot open the bgtask store "${scratch}/xdg/bgtask": missing permission, ` +
          // (A look needs no --allow-write.)
          `run again with --allow-read=${scratch}/xdg/bgtask; ` +
          `or, to use the store these permissions are for, set BGTASK_DIR=${granted} or unset ` +
          `XDG_CACHE_HOME \\(`,
      ),
    );
  });
});

Deno.test("a dynamic loader's variable in the environment (LD_LIBRARY_PATH) names what Deno wants (--allow-run without a list, or the variable unset), not a flag already given; with either, the task runs and gets it", async () => {
  await withStore(async (dir) => {
    const env = { LD_LIBRARY_PATH: "/nonexistent-bgtask-test" };
    const refused = await cli(dir, ["run", "true"], { env });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      line(refused.stderr),
      /^bgtask: cannot spawn task: LD_LIBRARY_PATH is set in this process's environment, .*only under --allow-run without a list: run again with --allow-run in place of --allow-run=bash .*or unset it for bgtask \(env -u LD_LIBRARY_PATH …\) and give it to the tasks that need it \(bgtask run --env LD_LIBRARY_PATH=…/,
    );
    const flags = minimalFlags(dir).map((f) => f.startsWith("--allow-run") ? "--allow-run" : f);
    const wide = await cli(dir, ["run", "--wait", "echo $LD_LIBRARY_PATH"], { env, flags });
    assert.equal(wide.code, 0, wide.stderr);
    const given = await cli(dir, [
      "run",
      "--wait",
      "--env",
      `LD_LIBRARY_PATH=${env.LD_LIBRARY_PATH}`,
      "echo $LD_LIBRARY_PATH",
    ]);
    assert.equal(given.code, 0, given.stderr);
    for (const run of [wide, given]) {
      const logs = await cli(dir, ["logs", run.stdout.trim()]);
      assert.equal(logs.stdout, `${env.LD_LIBRARY_PATH}\n`);
    }
  });
});
