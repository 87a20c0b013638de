/**
 * The CLI end to end: every verb run as a subprocess under the minimal
 * permissions, against a temporary store.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { TaskInfo } from "../mod.ts";
import denoJson from "../deno.json" with { type: "json" };
import { ROOT } from "./_helpers/common.ts";
import { childOptions, cli, cliArgs, cliJson, gate, start, withStore } from "./cli_helpers.ts";
import { VERB_NAMES } from "../src/cli/verbs.ts";

// Every verb the CLI has (a new one is covered without a change here).
const VERBS = VERB_NAMES;

Deno.test("the version is newer than the CHANGELOG's last release, a pre-release while changes are unreleased", async () => {
  // (It said 0.1.0 at every revision since 0.1, whose store format differs: a bug report
  // could not tell the builds apart.)
  const changelog = await Deno.readTextFile(new URL("../CHANGELOG.md", import.meta.url));
  const released = /^## (\d+)\.(\d+)\.(\d+) /m.exec(changelog)!.slice(1).map(Number);
  const m = /^(\d+)\.(\d+)\.(\d+)(-.+)?$/.exec(denoJson.version)!;
  const ours = m.slice(1, 4).map(Number);
  const cmp = ours[0] - released[0] || ours[1] - released[1] || ours[2] - released[2];
  assert.ok(cmp > 0, `${denoJson.version} is not newer than ${released.join(".")}`);
  assert.equal(/^## Unreleased/m.test(changelog), m[4] !== undefined, denoJson.version);
});

Deno.test("--version prints the version from deno.json; --help documents verbs and exit codes", async () => {
  await withStore(async (dir) => {
    const [version, help, bare, helpVerb, helpHelp, helpDashes, helpH, helpVerbDashes] =
      await Promise
        .all([
          cli(dir, ["--version"]),
          cli(dir, ["--help"]),
          cli(dir, []),
          cli(dir, ["help", "wait"]),
          cli(dir, ["help", "help"]),
          cli(dir, ["help", "--help"]),
          cli(dir, ["help", "-h"]),
          cli(dir, ["help", "wait", "--help"]),
        ]);
    assert.equal(version.code, 0);
    assert.equal(version.stdout, `bgtask ${denoJson.version}\n`);
    assert.equal(help.code, 0);
    for (const verb of VERBS) assert.match(help.stdout, new RegExp(`^  ${verb} `, "m"));
    for (const code of ["124", "125", "143", "128+N"]) assert.ok(help.stdout.includes(code), code);
    assert.match(help.stdout, /Examples:/);
    assert.equal(bare.code, 0);
    assert.equal(bare.stdout, help.stdout);
    assert.deepEqual([helpHelp.code, helpHelp.stdout], [0, help.stdout]);
    assert.deepEqual([helpDashes.code, helpDashes.stdout], [0, help.stdout]);
    assert.deepEqual([helpH.code, helpH.stdout], [0, help.stdout]);
    assert.deepEqual([helpVerbDashes.code, helpVerbDashes.stdout], [0, helpVerb.stdout]);
    assert.equal(helpVerb.code, 0);
    assert.match(helpVerb.stdout, /^Usage: bgtask wait ID…/);
    assert.equal(help.stderr + bare.stderr + helpVerb.stderr, "");
    // -h or --help before a verb is that verb's help, as after it (it was the main help);
    // before a word that is no verb, that word is named.
    for (const flag of ["-h", "--help"]) {
      assert.deepEqual(await cli(dir, [flag, "wait"]), { ...helpVerb });
      const typo = await cli(dir, [flag, "wiat"]);
      assert.equal(typo.code, 2);
      assert.match(typo.stderr, /^bgtask: unknown verb "wiat": did you mean wait\?/);
    }
  });
});

Deno.test("--help says only what holds: the options that may follow the verb, a quoting example that works", async () => {
  await withStore(async (dir) => {
    const [help, runHelp, listHelp, listVersion] = await Promise.all([
      cli(dir, ["--help"]),
      cli(dir, ["run", "--help"]),
      cli(dir, ["list", "-h"]),
      cli(dir, ["list", "--version"]),
    ]);
    assert.match(
      help.stdout,
      /^Options \(--dir, --color and -h\/--help may also follow the verb\):$/m,
    );
    // The exit codes of an interruption hold for every verb that waits, and
    // list's help names what list shows (as the README's table does).
    assert.match(
      help.stdout,
      /^ {2}130 interrupted by Ctrl-C \(SIGINT; 143 SIGTERM, 129 SIGHUP\)/m,
    );
    assert.match(listHelp.stdout, /"running \(input\)"/);
    assert.match(listHelp.stdout, /"ci #3 paused"/);
    assert.equal(listHelp.code, 0);
    assert.equal(listVersion.code, 2); // --version only comes before the verb
    // After help as after any verb: --dir and --color with their values are no topic.
    for (const args of [["help", "--color", "never", "list"], ["help", "--dir", dir, "list"]]) {
      const r = await cli(dir, args);
      assert.equal(r.code, 0, `${args}: ${r.stderr}`);
      assert.equal(r.stdout, listHelp.stdout, String(args));
    }
    assert.match(help.stdout, /^Usage: bgtask \[--dir DIR\] \[--color WHEN\] VERB /m);
    // The example, typed into bash as printed, hands bgtask the command it talks about.
    const example = /^ {2}(bgtask run '.*')$/m.exec(runHelp.stdout)?.[1];
    assert.ok(example, runHelp.stdout);
    const args = await new Deno.Command("bash", {
      args: ["-c", `bgtask() { printf '%s\\n' "$@"; }; ${example}`],
      stdout: "piped",
    }).output();
    assert.equal(new TextDecoder().decode(args.stdout), 'run\ngrep -r "a b" .\n');
  });
});

Deno.test("every verb has --help with usage and examples, in lines of at most 80 columns", async () => {
  await withStore(async (dir) => {
    const results = await Promise.all(VERBS.map((v) => cli(dir, [v, "--help"])));
    for (const [i, r] of results.entries()) {
      assert.equal(r.code, 0, VERBS[i]);
      assert.match(r.stdout, new RegExp(`^Usage: bgtask ${VERBS[i]}\\b`), VERBS[i]);
      assert.match(r.stdout, /\nExamples:\n/, VERBS[i]);
      assert.equal(r.stderr, "");
    }
    const main = await cli(dir, ["--help"]);
    const long = [main, ...results].flatMap((r) => r.stdout.split("\n"))
      .filter((line) => [...line].length > 80);
    assert.deepEqual(long, []);
  });
});

Deno.test("no --help writes a control character but newline (a raw CR redrew wait --help's line over itself)", async () => {
  // wait --help wrote "\r" as a real carriage return: on a terminal "a line redrawn
  // with" was overwritten by the rest of its line.
  await withStore(async (dir) => {
    const runs = await Promise.all([
      cli(dir, ["--help"]),
      ...VERBS.map((v) => cli(dir, [v, "--help"])),
    ]);
    const found: string[] = [];
    for (const [i, r] of runs.entries()) {
      assert.equal(r.code, 0);
      const name = i === 0 ? "bgtask --help" : `bgtask ${VERBS[i - 1]} --help`;
      // C0 controls but \n, DEL, and the C1 controls a terminal also acts on.
      for (const [at, ch] of [...r.stdout].entries()) {
        const c = ch.codePointAt(0)!;
        if (c === 0x0a || (c > 0x1f && c < 0x7f) || c > 0x9f) continue;
        found.push(`${name}: ${JSON.stringify([...r.stdout].slice(at - 20, at + 20).join(""))}`);
      }
    }
    assert.deepEqual(found, []);
  });
});

Deno.test("run prints only the id and returns while the task still runs", async () => {
  await withStore(async (dir, scratch) => {
    const go = join(scratch, "go");
    const r = await cli(dir, ["run", `${gate(go)}; echo released`]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "b1\n");
    assert.equal(r.stderr, "");
    // The gate is still closed, so the task cannot have finished.
    const status = JSON.parse((await cli(dir, ["status", "b1", "--json"])).stdout) as TaskInfo;
    assert.equal(status.status, "running");
    await Deno.writeTextFile(go, "");
    const waited = await cli(dir, ["wait", "b1"]);
    assert.equal(waited.code, 0);
    assert.equal((await cli(dir, ["logs", "b1"])).stdout, "released\n");
  });
});

Deno.test("run reads options only up to the first word of the command; -- also works", async () => {
  await withStore(async (dir, scratch) => {
    const a = await start(dir, "printf", "%s-", "x", "y");
    const b = await start(dir, "--", "echo", "--help");
    const c = await start(dir, "echo", "--description", "not an option");
    const d = await start(
      dir,
      "--description=env and cwd",
      "--env",
      "A=1",
      "--env",
      "B=x=y",
      "--cwd",
      scratch,
      'echo "$A $B"; pwd',
    );
    const waited = await cli(dir, ["wait", a, b, c, d]);
    assert.equal(waited.code, 0, waited.stderr);
    const logs = await Promise.all([a, b, c, d].map((id) => cli(dir, ["logs", id])));
    assert.deepEqual(logs.map((l) => l.stdout), [
      "x-y-",
      "--help\n",
      "--description not an option\n",
      `1 x=y\n${await Deno.realPath(scratch)}\n`,
    ]);
    const info = JSON.parse((await cli(dir, ["status", d, "--json"])).stdout) as TaskInfo;
    assert.equal(info.description, "env and cwd");
    assert.equal(info.command, 'echo "$A $B"; pwd');
  });
});

Deno.test("a task's stdin is /dev/null, even when bgtask's own stdin has data; help and README say so", async () => {
  await withStore(async (dir) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: cliArgs(dir, ["run", "--wait", "cat; readlink /proc/$$/fd/0"]),
      ...childOptions(),
      stdin: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("typed into bgtask\n"));
    await writer.close();
    const run = await child.output();
    assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
    assert.equal((await cli(dir, ["logs", "b1"])).stdout, "/dev/null\n");

    const help = await cli(dir, ["run", "--help"]);
    assert.match(help.stdout, /^The task's stdin is \/dev\/null: /m);
    const readme = await Deno.readTextFile(join(ROOT, "README.md"));
    const guide = readme.slice(
      readme.indexOf("## CLI guide"),
      readme.indexOf("\n## ", readme.indexOf("## CLI guide") + 1),
    );
    assert.match(guide, /The task's stdin is `\/dev\/null`/);
  });
});

Deno.test("run --json prints the TaskInfo; run --wait prints the id and exits like wait", async () => {
  await withStore(async (dir) => {
    const json = await cli(dir, ["run", "--json", "--timeout", "1m", "--max-output", "1k", "true"]);
    assert.equal(json.code, 0);
    const info = JSON.parse(json.stdout) as TaskInfo;
    assert.equal(info.id, "b1");
    assert.equal(info.command, "true");
    assert.equal(info.timeoutMs, 60_000);
    assert.equal(info.maxOutputBytes, 1024);
    const waited = await cli(dir, ["run", "--wait", "exit 5"]);
    assert.equal(waited.code, 5);
    assert.equal(waited.stdout, "b2\n");
    assert.equal(waited.stderr, "", "no spinner when stderr is a pipe");
    const waitedJson = await cli(dir, ["run", "--wait", "--json", "echo hi"]);
    assert.equal(waitedJson.code, 0);
    assert.equal((JSON.parse(waitedJson.stdout) as TaskInfo).status, "completed");
  });
});

Deno.test("list prints an aligned table, filters by status, and --json parses back", async () => {
  await withStore(async (dir) => {
    await start(dir, "--wait", "--description", "good one", "true");
    await cli(dir, ["run", "--wait", "exit 4"]);
    const table = await cli(dir, ["list"]);
    assert.equal(table.code, 0);
    const lines = table.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 3);
    assert.match(lines[0], /^ID +STATUS +EXIT +STARTED +DURATION +TASK$/);
    assert.match(lines[1], /^b1 +completed +0 +(now|\d+s ago) +\S+ +good one$/);
    assert.match(lines[2], /^b2 +failed +4 +(now|\d+s ago) +\S+ +exit 4$/);
    // Aligned: every row's STATUS starts where the header's does.
    const col = lines[0].indexOf("STATUS");
    for (const l of lines.slice(1)) assert.match(l.slice(col), /^(completed|failed)/);
    assert.ok(!table.stdout.includes("\x1b"), "no colour when stdout is a pipe");

    const all = JSON.parse((await cli(dir, ["list", "--json"])).stdout) as TaskInfo[];
    assert.deepEqual(all.map((t) => [t.id, t.status, t.exitCode]), [
      ["b1", "completed", 0],
      ["b2", "failed", 4],
    ]);
    for (
      const key of ["id", "command", "description", "cwd", "status", "exitCode", "signal", "error"]
    ) {
      assert.ok(key in all[0], key);
    }
    const failed = JSON.parse((await cli(dir, ["list", "--status", "failed", "--json"])).stdout);
    assert.deepEqual(failed.map((t: TaskInfo) => t.id), ["b2"]);
    const both = await cli(dir, ["list", "--status", "failed,completed", "--json"]);
    assert.equal(JSON.parse(both.stdout).length, 2);
  });
});

Deno.test("control characters in task text are escaped in tables and status", async () => {
  await withStore(async (dir) => {
    // (A trailing "\r" would not survive: Deno drops it from command-line arguments.)
    const evil = "\x1b[2J\x1b]0;pwned\x07red\nsecond\rline";
    await cli(dir, ["run", "--wait", "--description", evil, "true"]);
    await cli(dir, ["run", "--wait", "printf 'a\\tb'; : \x1b[31m"]);
    for (const args of [["list"], ["status", "b1"], ["status", "b2"], ["completions"]]) {
      const r = await cli(dir, args);
      assert.equal(r.code, 0);
      assert.ok(!r.stdout.includes("\x1b"), `${args}: raw ESC`);
      assert.ok(!r.stdout.includes("\x07") && !r.stdout.includes("\r"), `${args}: raw control`);
      if (args[0] === "list") {
        assert.equal(r.stdout.trimEnd().split("\n").length, 3, "one line per task");
        assert.ok(r.stdout.includes("\\x1b[2J\\x1b]0;pwned\\x07red\\nsecond\\rline"));
        assert.ok(r.stdout.includes(": \\x1b[31m"));
      }
    }
  });
});

Deno.test("status shows one task; --json is its TaskInfo", async () => {
  await withStore(async (dir) => {
    await cli(dir, ["run", "--wait", "--description", "three", "echo out; exit 3"]);
    const human = await cli(dir, ["status", "b1"]);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /^id: +b1$/m);
    assert.match(human.stdout, /^status: +failed$/m);
    assert.match(human.stdout, /^exit: +3$/m);
    assert.match(human.stdout, /^description: +three$/m);
    assert.match(human.stdout, /^output: .*\(4 B\)$/m);
    const json = await cli(dir, ["status", "1", "--json"]);
    const info = JSON.parse(json.stdout) as TaskInfo;
    assert.equal(info.id, "b1");
    assert.equal(info.exitCode, 3);
    assert.equal(info.error, "exited with code 3");
    assert.doesNotMatch(human.stdout, /^leftovers:/m);
    // A server started with `&` ended with the task: status says so, and how to keep one.
    await cli(dir, ["run", "--wait", "sleep 300 & echo started"]);
    const left = await cli(dir, ["status", "b2"]);
    assert.match(left.stdout, /^status: +completed$/m);
    assert.match(
      left.stdout,
      /^leftovers: +ended: its shell left processes running \(`cmd &`\), which end with the task \(run a server as the task itself, or `setsid cmd &` to outlive it\)$/m,
    );
    assert.equal(
      (JSON.parse((await cli(dir, ["status", "b2", "--json"])).stdout) as TaskInfo)
        .leftoversEnded,
      true,
    );
  });
});

Deno.test("status shows its times in the local zone, with the offset (TZ picks it, as for date); --json keeps UTC", async () => {
  await withStore(async (dir) => {
    await cli(dir, ["run", "--wait", "true"]);
    const info = JSON.parse((await cli(dir, ["status", "b1", "--json"])).stdout) as TaskInfo;
    assert.match(info.createdAt, /Z$/);
    // India: +05:30 all year, no daylight saving time to make the hour depend on the date.
    const human = await cli(dir, ["status", "b1"], { env: { TZ: "Asia/Kolkata" } });
    const local = new Date(Date.parse(info.createdAt) + 330 * 60_000).toISOString()
      .replace("T", " ").replace("Z", " +05:30");
    assert.match(human.stdout, new RegExp(`^created: +${local.replace(/[.+]/g, "\\$&")} \\(`, "m"));
    assert.match(human.stdout, /^started: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \+05:30 \(/m);
    assert.match(human.stdout, /^finished: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \+05:30$/m);
    const utc = await cli(dir, ["status", "b1"], { env: { TZ: "UTC" } });
    assert.match(utc.stdout, / \+00:00 \(/);
  });
});

Deno.test("the store comes from --dir (before or after the verb) or BGTASK_DIR", async () => {
  await withStore(async (dir) => {
    const viaEnv = await cli(dir, ["run", "echo env"], { noDir: true, env: { BGTASK_DIR: dir } });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.equal(viaEnv.stdout, "b1\n");
    const after = await cli(dir, ["list", "--json", "--dir", dir], { noDir: true });
    assert.deepEqual(JSON.parse(after.stdout).map((t: TaskInfo) => t.id), ["b1"]);
    const listed = await cli(dir, ["list", "--json"], { noDir: true, env: { BGTASK_DIR: dir } });
    assert.equal(JSON.parse(listed.stdout).length, 1);
  });
});

Deno.test("--dir before and after the verb is refused as --dir given twice before it is", async () => {
  await withStore(async (dir, scratch) => {
    // (cli() puts `--dir <store>` before the verb.)
    const twice = await cli(dir, ["--dir", scratch, "list"]);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /^bgtask: option --dir was given twice; it takes one value/);
    for (const args of [["list", "--dir", scratch], ["run", "--dir", scratch, "echo x"]]) {
      const r = await cli(dir, args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}`);
      assert.equal(
        r.stderr,
        `bgtask: option --dir was given twice (before and after the verb); it takes one value ` +
          `(see bgtask ${args[0]} --help)\n`,
      );
      assert.equal(r.stdout, "");
    }
    // Nothing ran, in either store.
    assert.deepEqual([...Deno.readDirSync(scratch)], []);
    assert.deepEqual(await cliJson<TaskInfo[]>(dir, ["list"]), []);
  });
});

Deno.test("list leaves out a damaged task and says so on stderr", async () => {
  await withStore(async (dir) => {
    await start(dir, "--wait", "true");
    await start(dir, "--wait", "true");
    await Deno.writeTextFile(join(dir, "tasks", "b1", "spec"), "{ not a spec");
    const r = await cli(dir, ["list"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^b2 +completed/m);
    assert.doesNotMatch(r.stdout, /^b1 /m);
    assert.match(r.stderr, /^bgtask: task b1 is damaged: .*\n$/);
  });
});
