/**
 * `bgtask completion bash|zsh|fish`: each script, loaded into the real
 * shell, completes verbs, options, option values, folders, commands, and
 * the task ids and queue names of the store on the line — asked of a real
 * `bgtask` (a wrapper on PATH that runs this checkout's cli.ts).
 *
 * zsh runs the bash script through its bashcompinit, called as its
 * `compgen -F` calls it (its own matching, which filters by the word typed,
 * is done here); fish answers `complete -C LINE` itself. A shell that is
 * not installed is skipped, saying so (CI installs zsh and fish).
 */

import { assert, assertEquals } from "./_helpers/assert.ts";
import { cli, CLI_PATH, withStore } from "./cli_helpers.ts";

const decoder = new TextDecoder();

function installed(shell: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${shell}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** A folder with `bgtask` on it: this checkout's CLI with every permission. */
async function binWithBgtask(): Promise<string> {
  const bin = await Deno.makeTempDir({ prefix: "bgtask-bin-" });
  await Deno.writeTextFile(
    `${bin}/bgtask`,
    `#!/bin/sh\nexec "${Deno.execPath()}" run -A --no-prompt "${CLI_PATH}" "$@"\n`,
    { mode: 0o755 },
  );
  return bin;
}

/**
 * What the shell completes for the words of a line as typed (quotes
 * included; the cursor at the end of the last, "" for a new word), as a
 * sorted set.
 */
type Ask = (line: string[]) => Promise<string[]>;

async function run(
  program: string,
  args: string[],
  path: string,
  env: Record<string, string> = {},
): Promise<string> {
  const out = await new Deno.Command(program, {
    args,
    env: { PATH: path, HOME: Deno.env.get("HOME") ?? "/tmp", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  assert(out.success, `${program} ${args.join(" ")}: ${decoder.decode(out.stderr)}`);
  return decoder.decode(out.stdout);
}

function words(text: string): string[] {
  return [...new Set(text.split("\n").filter((w) => w !== ""))].sort();
}

// (Each ask gets the script, the shell code a user's rc adds after it (aliases,
// functions), then the words of the line, the last one the word being typed.)
// (Under set -e, as some shells are set up: a status 1 inside would end the user's shell.)
const BASH_ASK = `set -e
source "$1"
eval "$2"
shift 2
COMP_WORDS=("$@")
COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
_bgtask
printf '%s\\n' "\${COMPREPLY[@]}"`;

const ZSH_ASK = `autoload -U compinit && compinit -u -D
source "$1"
eval "$2"
shift 2
emulate -L sh
COMP_WORDS=("$@")
COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))
cur=\${COMP_WORDS[COMP_CWORD]}
_bgtask
for w in "\${COMPREPLY[@]}"; do case $w in "$cur"*) printf '%s\\n' "$w" ;; esac; done`;

/**
 * A shell's way to ask, given its script's file; `setup` is run after it (the
 * user's aliases), `env` added to the environment.
 */
function asker(
  shell: string,
  script: string,
  path: string,
  setup = "",
  env: Record<string, string> = {},
): Ask {
  switch (shell) {
    case "bash":
      return async (line) =>
        words(await run("bash", ["-c", BASH_ASK, "ask", script, setup, ...line], path, env));
    case "zsh":
      return async (line) =>
        words(
          await run("zsh", ["-f", "-c", ZSH_ASK, "ask", script, setup, ...line], path, env),
        );
    default:
      // (fish reads the line as typed: its words joined.)
      return async (line) =>
        words(
          (await run(
            "fish",
            [
              "--no-config",
              "-c",
              "source $argv[1]; eval $argv[2]; complete -C$argv[3]",
              script,
              setup,
              line.join(" "),
            ],
            path,
            env,
          )).split("\n").map((l) => l.split("\t")[0]).join("\n"),
        );
  }
}

/**
 * A test of completion in each shell that is installed (skipped where it is
 * not): `fn` gets the shell, a fresh store, a PATH on which `bgtask` runs
 * this checkout, and that PATH's folder (removed after), for scripts.
 */
function eachShell(
  what: string,
  fn: (shell: string, dir: string, path: string, bin: string) => Promise<void>,
): void {
  for (const shell of ["bash", "zsh", "fish"]) {
    const missing = !installed(shell);
    Deno.test({
      name: `completion ${shell}: ${what}${missing ? ` (skipped: ${shell} is not installed)` : ""}`,
      ignore: missing,
      async fn() {
        await withStore(async (dir) => {
          const bin = await binWithBgtask();
          try {
            await fn(shell, dir, `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`, bin);
          } finally {
            await Deno.remove(bin, { recursive: true });
          }
        });
      },
    });
  }
}

eachShell(
  "verbs, options and their values, folders, commands, and the store's ids and queues as typed",
  async (shell, dir, path, bin) => {
    assertEquals((await cli(dir, ["queue", "set", "ci", "--parallel", "2"])).code, 0);
    for (
      const args of [["run", "--wait", "true"], ["run", "--wait", "--queue", "ci", "true"]]
    ) {
      assertEquals((await cli(dir, args)).code, 0);
    }
    const made = await cli(dir, ["completion", shell]);
    assertEquals([made.code, made.stderr], [0, ""]);
    if (shell === "fish") {
      // Each verb with its line of the main help beside it.
      const described = [
        ...made.stdout.matchAll(/-n __bgtask_no_verb -a (\S+) -d '([^']*)'/g),
      ];
      assertEquals(described.length, 18, "16 verbs, help and completion");
      for (const [, verb, about] of described) assert(about.length > 5, verb);
    }
    const script = `${bin}/script.${shell}`;
    await Deno.writeTextFile(script, made.stdout);
    const ask = asker(shell, script, path);
    const d = `bgtask --dir ${dir}`;
    const cases: [string, string[]][] = [
      ["bgtask st", ["status"]],
      ["bgtask re", ["restart", "resume"]],
      ["bgtask --col", ["--color"]],
      ["bgtask --color ", ["always", "auto", "never"]],
      ["bgtask completion ", ["bash", "fish", "zsh"]],
      ["bgtask help r", ["restart", "resume", "rm", "run"]],
      // the store's, of the --dir on the line (`last` too)
      [`${d} status `, ["b1", "b2", "last"]],
      [`${d} logs --tail 5 `, ["b1", "b2", "last"]],
      [`${d} run --after `, ["b1", "b2", "last"]],
      [`${d} run --queue `, ["ci"]],
      [`${d} queue `, ["pause", "resume", "rm", "set"]],
      [`${d} queue pause `, ["ci"]],
      // a verb's options, and the words an option takes
      ["bgtask kill --", [
        "--all",
        "--color",
        "--dir",
        "--grace",
        "--help",
        "--json",
        "--queue",
        "--signal",
      ]],
      ["bgtask run --stdin p", ["pipe", "pty"]],
      ["bgtask kill --signal U", ["USR1", "USR2"]],
      // short options: logs -n takes a value (none offered), send -n none
      [`${d} logs -n 5 `, ["b1", "b2", "last"]],
      [`${d} logs -n `, []],
      [`${d} send -n `, ["b1", "b2", "last"]],
      [`${d} send -n b1 `, []],
      ["bgtask list --status r", ["running"]],
      // send's text, and run's command: the command's own, not bgtask's
      [`${d} send b1 `, []],
      ["bgtask run echo --q", []],
    ];
    for (const [line, want] of cases) assertEquals(await ask(line.split(" ")), want, line);
    // A store whose path has a space, typed quoted or escaped (or from ~/).
    const spaced = `${dir}/my store`;
    const made2 = await cli(dir, ["--dir", spaced, "run", "--wait", "true"], { noDir: true });
    assertEquals(made2.code, 0, made2.stderr);
    for (const typed of [`'${spaced}'`, `"${spaced}"`, spaced.replaceAll(" ", "\\ ")]) {
      assertEquals(
        await ask(["bgtask", "--dir", typed, "status", ""]),
        ["b1", "last"],
        typed,
      );
    }
    // a command (also after an option and its value), and folders for --cwd
    for (const line of ["bgtask run ech", "bgtask run --queue ci ech"]) {
      assert((await ask(line.split(" "))).includes("echo"), line);
    }
    if (shell !== "zsh") {
      // (zsh's compgen globs the word being completed itself: not asked here.)
      assert(
        (await ask(["bgtask", "run", "--cwd", dir.slice(0, -2)])).some((w) =>
          dir.startsWith(w.replace(/\/$/, ""))
        ),
      );
    }
  },
);

/**
 * The shell code that makes `bt`, `bd`, `bx` aliases and `bf` a function
 * standing for bgtask, with completion as README says: `bd` with a store of
 * its own (`--dir`), `bx` the way a checkout runs it (deno run … cli.ts).
 */
function aliases(shell: string, other: string): string {
  const deno = `${Deno.execPath()} run -A --no-prompt ${CLI_PATH}`;
  const names = ["bt", "bd", "bx", "bf"];
  if (shell === "fish") {
    return [
      "alias bt=bgtask",
      `alias bd="bgtask --dir ${other}"`,
      `alias bx="${deno}"`,
      "function bf; bgtask $argv; end",
      ...names.map((n) => `complete -c ${n} -w bgtask`),
    ].join("\n");
  }
  return [
    "alias bt=bgtask",
    `alias bd='bgtask --dir ${other}'`,
    `alias bx='${deno}'`,
    'bf() { bgtask "$@"; }',
    ...names.map((n) => `complete -F _bgtask ${n}`),
  ].join("\n");
}

eachShell(
  "an alias of bgtask (alias bt=bgtask, one with --dir, one that is deno run … cli.ts) and a function complete the store's ids and queues",
  async (shell, dir, path, bin) => {
    const other = `${dir}/other`;
    for (
      const args of [
        ["queue", "set", "ci", "--parallel", "2"],
        ["run", "--wait", "true"],
        ["run", "--wait", "--queue", "ci", "true"],
        ["--dir", other, "queue", "set", "oq", "--parallel", "2"],
        ["--dir", other, "run", "--wait", "--queue", "oq", "true"],
      ]
    ) {
      const r = await cli(dir, args, { noDir: args[0] === "--dir" });
      assertEquals(r.code, 0, r.stderr);
    }
    const made = await cli(dir, ["completion", shell]);
    const script = `${bin}/script.${shell}`;
    await Deno.writeTextFile(script, made.stdout);
    // (bgtask's store by BGTASK_DIR, as a user's is by default.)
    const ask = asker(shell, script, path, aliases(shell, other), { BGTASK_DIR: dir });
    const cases: [string, string[]][] = [
      ["bt lo", ["logs"]],
      ["bt logs ", ["b1", "b2", "last"]],
      ["bt wait --queue ", ["ci"]],
      ["bx status ", ["b1", "b2", "last"]],
      ["bx queue pause ", ["ci"]],
      // the alias's --dir is the store asked
      ["bd logs ", ["b1", "last"]],
      ["bd wait --queue ", ["oq"]],
      // a --dir on the line, after an alias without one
      [`bt --dir ${other} kill --queue `, ["oq"]],
      ["bf logs ", ["b1", "b2", "last"]],
      ["bf run --queue ", ["ci"]],
    ];
    for (const [line, want] of cases) {
      assertEquals(await ask(line.split(" ")), want, `${shell}: ${line}`);
    }
  },
);
