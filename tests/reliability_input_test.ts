/**
 * Hostile and odd input (issue 6): ids that try to reach outside the store,
 * commands bash must receive verbatim, environment values and working
 * directories with awkward characters, and output that must be kept byte for
 * byte.
 */

import assert from "node:assert/strict";
import { TaskManager, TaskNotFoundError } from "../mod.ts";
import { formatSpec, parseSpec } from "../src/store/records.ts";
import {
  allOutput,
  assertBytes,
  concatBytes,
  encoder,
  ROOT,
  run,
  until,
  withStore,
  withTempDir,
} from "./_helpers/reliability.ts";
import { processesWithToken } from "./_helpers/correctness.ts";

/**
 * Ids that must never become a path. Each is refused even where a matching
 * folder exists: a string as no task, anything else as a TypeError.
 */
const HOSTILE_IDS: [string, unknown][] = [
  ["parent", "../x"],
  ["parent of a task", "b1/.."],
  ["deep parent", "b1/../../.."],
  ["dot", "."],
  ["absolute", "/etc/passwd"],
  ["absolute task folder", "/tmp/b1"],
  ["NUL", "b1\0"],
  ["NUL inside", "b\x001"],
  ["10 KB of digits", "b" + "1".repeat(10 * 1024)],
  ["10 KB of garbage", "x".repeat(10 * 1024)],
  ["fullwidth b", "ｂ1"],
  ["fullwidth digit", "b１"],
  ["arabic-indic digit", "b١"],
  ["cyrillic look-alike", "Ь1"],
  ["trailing newline", "b1\n"],
  ["leading space", " b1"],
  ["trailing space", "b1 "],
  ["upper case", "B1"],
  ["leading zero", "b01"],
  ["zero", "b0"],
  ["negative", "b-1"],
  ["suffix", "b1.json"],
  ["glob", "b*"],
  ["shell", "b1; touch pwned"],
  ["empty", ""],
  ["number", 1],
  ["null", null],
  ["undefined", undefined],
  ["object", { toString: () => "b1" }],
];

Deno.test("input: hostile ids are refused before any path is built, even where a decoy exists", async () => {
  await withStore("input-ids", async (tasks, dir) => {
    const b1 = await tasks.spawnShell("echo real");
    await tasks.wait(b1.id);
    assert.equal(b1.id, "b1");
    // Decoys: valid-looking task folders where a path built from a hostile id would land.
    const spec = parseSpec(await Deno.readTextFile(`${dir}/tasks/b1/spec`))!;
    const decoy = async (folder: string, id: string) => {
      await Deno.mkdir(folder, { recursive: true });
      await Deno.writeTextFile(`${folder}/spec`, formatSpec({ ...spec, id, description: "DECOY" }));
      await Deno.writeTextFile(`${folder}/output`, "DECOY\n");
    };
    await decoy(`${dir}/x`, "../x"); // tasks/../x
    await decoy(`${dir}/tasks/ｂ1`, "ｂ1");
    await decoy(`${dir}/tasks/b１`, "b１");
    await decoy(`${dir}/tasks/b01`, "b01");
    await Deno.writeTextFile(`${dir}/tasks/spec`, formatSpec(spec)); // tasks/b1/.. → tasks
    await Deno.writeTextFile(`${dir}/tasks/output`, "DECOY\n");

    for (const [name, id] of HOSTILE_IDS) {
      const bad = id as string;
      const text = typeof id === "string";
      if (text) assert.equal(await tasks.getStatus(bad), undefined, `getStatus(${name})`);
      else await assert.rejects(tasks.getStatus(bad), TypeError, `getStatus(${name})`);
      const notFound = (e: Error) => {
        assert.ok(
          text ? e instanceof TaskNotFoundError : e instanceof TypeError,
          `${name}: ${e.name}: ${e.message}`,
        );
        assert.ok(e.message.length < 300, `${name}: the message stays short`);
        return true;
      };
      await assert.rejects(tasks.readOutput(bad), notFound, `readOutput(${name})`);
      await assert.rejects(tasks.readOutputBytes(bad), notFound, `readOutputBytes(${name})`);
      await assert.rejects(tasks.readOutputChunk(bad), notFound, `readOutputChunk(${name})`);
      await assert.rejects(tasks.tailOutput(bad, 1), notFound, `tailOutput(${name})`);
      await assert.rejects(tasks.kill(bad), notFound, `kill(${name})`);
      await assert.rejects(tasks.wait(bad), notFound, `wait(${name})`);
      await assert.rejects(tasks.remove(bad), notFound, `remove(${name})`);
      await assert.rejects(tasks.follow(bad).next(), notFound, `follow(${name})`);
    }
    // The decoys were never read, nothing was created or removed, b1 is untouched.
    assert.ok(!(await tasks.list()).some((t) => t.description === "DECOY"));
    assert.equal(await tasks.readOutput("b1"), "real\n");
    await assert.rejects(Deno.lstat(`${dir}/tasks/pwned`), Deno.errors.NotFound);
    await assert.rejects(Deno.lstat(`${Deno.cwd()}/pwned`), Deno.errors.NotFound);
    for (const p of [`${dir}/x/spec`, `${dir}/tasks/ｂ1/output`, `${dir}/tasks/spec`]) {
      await Deno.lstat(p);
    }
  });
});

/** Commands that must reach bash exactly as written, and what they print. */
const COMMANDS: [string, string, string][] = [
  ["single and double quotes", `printf '%s|' "it's" 'say "hi"' "a\\"b"`, `it's|say "hi"|a"b|`],
  ["command substitution", "echo $(echo sub) \"$(printf '%s' q)\"", "sub q\n"],
  ["backticks", "echo `echo tick`", "tick\n"],
  ["newlines", "echo one\necho two\n\necho three", "one\ntwo\nthree\n"],
  ["unicode", "echo 'héllo wörld 日本語 🎉 ﷽'", "héllo wörld 日本語 🎉 ﷽\n"],
  ["dollar and globs stay the task's", "x='$HOME *'; printf '%s' \"$x\"", "$HOME *"],
  ["positional parameters are the task's own", 'printf "%s|" "$#" "$@"', "0|"],
  ["leading dash", "-n 2>/dev/null; echo after", "after\n"],
  ["leading double dash", "--version >/dev/null 2>&1; echo after", "after\n"],
  ["heredoc", "cat <<'EOF'\n$(not run)\nEOF", "$(not run)\n"],
  ["terminal escapes", "printf '\\033[31mred\\033[0m\\a'", "\x1b[31mred\x1b[0m\x07"],
  ["an exit in the command ends only the task", "echo before; exit 0; echo after", "before\n"],
];

Deno.test("input: commands with quotes, $(…), backticks, newlines and unicode reach bash verbatim", async () => {
  await withStore("input-cmd", async (tasks) => {
    for (const [name, command, expected] of COMMANDS) {
      const t = await tasks.spawnShell(command);
      const info = await tasks.wait(t.id);
      assert.equal(info.command, command, `${name}: the record keeps the command`);
      assert.equal(await tasks.readOutput(t.id), expected, name);
    }
  });
});

Deno.test("input: a command with a NUL byte is refused with a clear error and leaves nothing behind", async () => {
  await withStore("input-nul", async (tasks, dir) => {
    await assert.rejects(
      tasks.spawnShell("echo a\0echo b"),
      (e: Error) => e instanceof TypeError && /NUL/.test(e.message) && /bash/.test(e.message),
    );
    assert.deepEqual(await tasks.list(), []);
    // The store was not even created: a refused spawn writes nothing.
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  });
});

Deno.test("input: commands over the kernel's 128 KiB argument limit run byte-exact (from a file)", async () => {
  await withStore("input-long", async (tasks) => {
    const cases: [string, number][] = [["just over 128 KiB", 128 * 1024 + 1], ["1 MiB", 1 << 20]];
    for (const [name, size] of cases) {
      // A printf of a long literal with quotes, unicode and $(…) that must stay literal.
      const unit = `ab'"$(x)\`é日`;
      const payload = unit.repeat(Math.ceil(size / encoder.encode(unit).length));
      const command = `cat <<'BGTASK_EOF'\n${payload}\nBGTASK_EOF\nprintf 'end'`;
      assert.ok(encoder.encode(command).length > 128 * 1024);
      const t = await tasks.spawnShell(command);
      const info = await tasks.wait(t.id);
      assert.equal(info.status, "completed", `${name}: ${info.error}`);
      assert.equal(info.command, command, `${name}: the record keeps the whole command`);
      assertBytes(await allOutput(tasks, t.id), encoder.encode(`${payload}\nend`), name);
    }
  });
});

Deno.test("input: env values with =, newlines, quotes and $(…) reach the task exactly and run nothing", async () => {
  await withStore("input-env", async (tasks, dir) => {
    const env: Record<string, string> = {
      EQ: "a=b=c",
      NL: "line1\nline2\n",
      EMPTY: "",
      SUBST: `$(touch ${dir}/pwned-env)`,
      TICKS: `\`touch ${dir}/pwned-env2\``,
      QUOTES: `'"\\`,
      UNI: "ünï 日本 🎉",
      SPACES: "  lead and trail  ",
      DASH: "-n",
    };
    const names = Object.keys(env);
    const t = await tasks.spawnShell(`printf '%s\\0' ${names.map((n) => `"$${n}"`).join(" ")}`, {
      env,
    });
    assert.equal((await tasks.wait(t.id)).status, "completed");
    assertBytes(
      await allOutput(tasks, t.id),
      encoder.encode(names.map((n) => env[n] + "\0").join("")),
      "env values",
    );
    await assert.rejects(Deno.lstat(`${dir}/pwned-env`), Deno.errors.NotFound);
    await assert.rejects(Deno.lstat(`${dir}/pwned-env2`), Deno.errors.NotFound);
  });
});

Deno.test("input: env names the launcher uses itself (cmd, mode, BASH, …) cannot change what runs", async () => {
  await withStore("input-envnames", async (tasks, dir) => {
    const env: Record<string, string> = {
      cmd: `touch ${dir}/pwned-cmd`,
      mode: "file",
      kv: "kv-value",
      dir: "/",
      out: "/dev/null",
      pid: "1",
      tmo: "1",
      cap: "1",
      grace: "0",
      ev: "/dev/null",
      cwd: "/",
    };
    const names = Object.keys(env);
    const t = await tasks.spawnShell(
      `printf '%s\\n' ${names.map((n) => `"$${n}"`).join(" ")}; echo done`,
      { env },
    );
    const info = await tasks.wait(t.id);
    assert.equal(info.status, "completed", info.error ?? "");
    assert.equal(
      await tasks.readOutput(t.id),
      names.map((n) => env[n] + "\n").join("") + "done\n",
    );
    await assert.rejects(Deno.lstat(`${dir}/pwned-cmd`), Deno.errors.NotFound);
  });
});

Deno.test("input: env naming bgtask's own variables (tok, id, BGTASK_INVOCATION, BGTASK_PTY_CMD, …) changes neither what runs nor the token a kill looks for", async () => {
  await withStore("input-envown", async (tasks, dir) => {
    const env: Record<string, string> = {
      tok: "forged",
      id: "b999",
      td: "/",
      BGTASK_INVOCATION: "forged",
      BGTASK_TASK_ID: "b999",
      BGTASK_PTY_CMD: `touch ${dir}/pwned-pty; echo INJECTED`,
      BGTASK_PTY_BASH: "/bin/false",
      BGTASK_PTY_LONG: "1",
      BGTASK_PTY_FD: "1",
      BGTASK_PTY_WRAP: "touch /dev/null",
    };
    for (const stdin of ["null", "pty"] as const) {
      const t = await tasks.spawnShell('echo "ran $BGTASK_TASK_ID $BGTASK_INVOCATION"; sleep 60', {
        env,
        stdin,
      });
      const token =
        Deno.readTextFileSync(`${dir}/tasks/${t.id}/spec`).match(/\0token=([0-9a-f]+)/)![1];
      await until(
        async () => (await tasks.readOutput(t.id)).includes("ran"),
        `${stdin}: the command's output`,
      );
      assert.equal(
        (await tasks.readOutput(t.id)).replace(/\r/g, ""),
        `ran ${t.id} ${token}\n`,
        stdin,
      );
      // Its processes carry the real token: a kill finds and ends them all.
      assert.equal((await tasks.kill(t.id, { graceMs: 0 })).status, "killed");
      await until(() => processesWithToken([token]).length === 0, `${stdin}: nothing left`);
    }
    await assert.rejects(Deno.lstat(`${dir}/pwned-pty`), Deno.errors.NotFound);
  });
});

Deno.test("input: invalid env names and NUL in env values are refused with a clear error", async () => {
  await withStore("input-envbad", async (tasks) => {
    for (const name of ["A=B", "1A", "A B", "A;B", "", "$(x)", "Ä"]) {
      await assert.rejects(
        tasks.spawnShell("true", { env: { [name]: "v" } }),
        (e: Error) => e instanceof TypeError && e.message.includes(JSON.stringify(name)),
        `name ${JSON.stringify(name)}`,
      );
    }
    await assert.rejects(
      tasks.spawnShell("true", { env: { A: "a\0b" } }),
      (e: Error) => e instanceof TypeError && /NUL/.test(e.message),
    );
    assert.deepEqual(await tasks.list(), []);
  });
});

Deno.test("input: a cwd with spaces, unicode, newlines and shell syntax is used as it is", async () => {
  await withStore("input-cwd", async (tasks) => {
    await withTempDir("input-cwd-dirs", async (base) => {
      const names = [
        "with spaces",
        "ünïcödé 日本 🎉",
        "line\nbreak",
        "$(touch pwned-cwd)",
        "-dash",
        "quote'\"`",
        " trailing space ",
      ];
      for (const name of names) {
        const cwd = `${base}/${name}`;
        await Deno.mkdir(cwd);
        const t = await tasks.spawnShell(`printf '%s' "$PWD"; : > made-here`, { cwd });
        const info = await tasks.wait(t.id);
        assert.equal(info.status, "completed", `${JSON.stringify(name)}: ${info.error}`);
        assert.equal(await tasks.readOutput(t.id), cwd);
        assert.equal(info.cwd, cwd, "TaskInfo.cwd is the folder, exactly");
        assert.equal((await new TaskManager({ dir: tasks.dir }).getStatus(t.id))?.cwd, cwd);
        await Deno.lstat(`${cwd}/made-here`);
      }
      for (const e of Deno.readDirSync(base)) assert.notEqual(e.name, "pwned-cwd");
      await assert.rejects(Deno.lstat(`${Deno.cwd()}/pwned-cwd`), Deno.errors.NotFound);
    });
  });
});

Deno.test("input: output with \\r, no final newline, a 1 MB line and invalid UTF-8 is kept byte for byte", async () => {
  await withStore("input-output", async (tasks) => {
    const t = await tasks.spawnShell(
      "printf 'a\\rb\\r\\nc\\n'; head -c 1048576 /dev/zero | tr '\\0' x; printf '\\n'; " +
        "printf '\\xff\\xfe\\xc3\\x28 \\xe2\\x82 \\xf0\\x9f\\x98\\x80 \\x00 end'",
    );
    assert.equal((await tasks.wait(t.id)).status, "completed");
    const expected = concatBytes(
      "a\rb\r\nc\n",
      "x".repeat(1 << 20),
      "\n",
      new Uint8Array([0xff, 0xfe, 0xc3, 0x28, 0x20, 0xe2, 0x82, 0x20, 0xf0, 0x9f, 0x98, 0x80]),
      " \0 end",
    );
    assertBytes(await allOutput(tasks, t.id), expected, "raw output");
    // The text views decode lossily and never throw; the last line has no newline.
    const text = await tasks.readOutput(t.id);
    assert.ok(text.startsWith("a\rb\r\nc\n"));
    assert.ok(
      text.endsWith("\ufffd\ufffd\ufffd( \ufffd 😀 \0 end"),
      JSON.stringify(text.slice(-20)),
    );
    assert.equal(
      await tasks.tailOutput(t.id, 1),
      "\ufffd\ufffd\ufffd( \ufffd 😀 \0 end",
    );
    // Reading in small chunks reassembles the same bytes and never splits a character.
    let offset = 0;
    const parts: string[] = [];
    for (;;) {
      const chunk = await tasks.readOutputChunk(t.id, { offset, maxBytes: 4093 });
      parts.push(chunk.text);
      offset = chunk.nextOffset;
      if (chunk.done) break;
    }
    assert.equal(offset, expected.length);
    assert.equal(parts.join(""), text);
  });
});

Deno.test("input: descriptions with terminal escapes and shell syntax are stored verbatim", async () => {
  await withStore("input-desc", async (tasks, dir) => {
    const description =
      `\x1b[31mred\x1b[0m \x1b]0;title\x07 $(touch ${dir}/pwned) \`id\` '"\n\r\t ${
        "é".repeat(2000)
      }`;
    const t = await tasks.spawnShell("true", { description });
    await tasks.wait(t.id);
    assert.equal((await new TaskManager({ dir }).getStatus(t.id))?.description, description);
    assert.equal((await tasks.list())[0].description, description);
    await assert.rejects(Deno.lstat(`${dir}/pwned`), Deno.errors.NotFound);
  });
});

Deno.test("input: the CLI prints descriptions and commands with terminal escapes escaped (list, status) and --json verbatim", async () => {
  await withStore("input-cli-escape", async (tasks, dir) => {
    const description = "evil \x1b[2J\x1b]0;title\x07 \r\n next \x9b31m \u202e rtl \x00 \x7f";
    const command = "printf 'x'; : '\x1b[2J\x1b]0;pwn\x07\r'";
    const t = await tasks.spawnShell(command, { description });
    await tasks.wait(t.id);
    const cli = (...args: string[]) =>
      run(Deno.execPath(), ["run", "-A", "--quiet", `${ROOT}cli.ts`, "--dir", dir, ...args], {
        env: { NO_COLOR: "1" },
      });
    for (const args of [["list"], ["status", t.id]]) {
      const out = await cli(...args);
      assert.equal(out.code, 0, out.stderr);
      // Nothing that a terminal would act on: only newlines end rows; no C0/C1, DEL or bidi overrides.
      // deno-lint-ignore no-control-regex
      const unsafe = out.stdout.match(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/u);
      assert.equal(unsafe, null, `${args[0]} printed ${JSON.stringify(unsafe?.[0])}`);
      assert.ok(out.stdout.includes("\\x1b[2J"), `${args[0]} shows the escape: ${out.stdout}`);
    }
    const json = await cli("list", "--json");
    assert.equal(json.code, 0, json.stderr);
    const listed = JSON.parse(json.stdout);
    assert.equal(listed[0].description, description);
    assert.equal(listed[0].command, command);
  });
});
