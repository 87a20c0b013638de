/**
 * Helpers for the CLI tests: run `cli.ts` as a real subprocess with the
 * minimal permissions, against a temporary store.
 *
 * @module
 */

/** The CLI entry point. */
export const CLI_PATH: string = new URL("../cli.ts", import.meta.url).pathname;

/** The exact permission flags the CLI must be able to run under, for a store. */
export { gate, minimalFlags } from "./_helpers/common.ts";
import { CHILD_DEADLINE_MS, minimalFlags, sameV8, settleStore } from "./_helpers/common.ts";

/** A finished CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout, byte for byte. */
  bytes: Uint8Array;
}

/** Options for {@linkcode cli}. */
export interface CliOptions {
  /** Extra environment (the child otherwise gets only PATH, HOME and DENO_DIR). */
  env?: Record<string, string>;
  /** Permission flags instead of {@linkcode minimalFlags} (and V8 flags of its own, if any: see sameV8). */
  flags?: string[];
  /** Do not add `--dir <store>` (to test BGTASK_DIR, or no store at all). */
  noDir?: boolean;
  /** A program and its arguments that start the CLI (given as its last arguments). */
  via?: string[];
  /** The working directory to run it in (default: this process's). */
  cwd?: string;
}

/** The child's environment: only what Deno and bash need, plus `extra`. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR"]) {
    const v = Deno.env.get(name);
    if (v !== undefined) env[name] = v;
  }
  return { ...env, ...extra };
}

/** Options for a CLI child: a clean environment, no stdin, both outputs captured. */
export function childOptions(env?: Record<string, string>) {
  return {
    clearEnv: true,
    env: childEnv(env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  } as const;
}

/** The `deno` arguments that run the CLI on `args` against `dir`. */
export function cliArgs(dir: string, args: string[], options: CliOptions = {}): string[] {
  const flags = options.flags ?? minimalFlags(dir);
  return [
    "run",
    "--no-prompt",
    ...sameV8(flags),
    ...flags,
    CLI_PATH,
    ...(options.noDir ? [] : ["--dir", dir]),
    ...args,
  ];
}

/** Runs `bgtask --dir <dir> ...args` to completion. */
export async function cli(
  dir: string,
  args: string[],
  options: CliOptions = {},
): Promise<CliResult> {
  const [program, ...before] = options.via ?? [];
  const out = await new Deno.Command(program ?? Deno.execPath(), {
    args: [...before, ...(program ? [Deno.execPath()] : []), ...cliArgs(dir, args, options)],
    ...childOptions(options.env),
    cwd: options.cwd,
    signal: AbortSignal.timeout(CHILD_DEADLINE_MS), // a hang fails the test, not the suite
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
    bytes: out.stdout,
  };
}

/**
 * Runs `bgtask --dir <dir> ...args` in a process that counts how often files
 * whose path matches `pattern` are opened or read whole meanwhile (asserting
 * success): for tests that bound what a verb reads.
 */
export async function countReads(
  dir: string,
  pattern: string,
  args: string[],
): Promise<{ bytes: Uint8Array; reads: number }> {
  const child = new URL("./_helpers/file_reads_child.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...minimalFlags(dir), child, pattern, "--dir", dir, ...args],
    ...childOptions(),
    signal: AbortSignal.timeout(CHILD_DEADLINE_MS),
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (out.code !== 0) throw new Error(`bgtask ${args.join(" ")} failed (${out.code}): ${stderr}`);
  return { bytes: out.stdout, reads: Number(/reads (\d+)\n$/.exec(stderr)?.[1]) };
}

/** Starts `bgtask --dir <dir> ...args` with stdout piped, for streaming tests. */
export function spawnCli(dir: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: cliArgs(dir, args),
    clearEnv: true,
    env: childEnv(),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Runs `bgtask run ...args` and returns the printed id (asserting success). */
export async function start(dir: string, ...args: string[]): Promise<string> {
  const r = await cli(dir, ["run", ...args]);
  if (r.code !== 0 || !/^b\d+\n$/.test(r.stdout)) {
    throw new Error(`run failed (${r.code}): ${r.stdout} ${r.stderr}`);
  }
  return r.stdout.trim();
}

/**
 * Runs `fn` with a fresh store (and a scratch folder outside it), then kills
 * whatever is still queued, paused or running in the store and removes both.
 * The test fails if a process of its tasks had to be SIGKILLed (see `settleStore`).
 */
export async function withStore(
  fn: (dir: string, scratch: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-cli-store-" });
  const scratch = await Deno.makeTempDir({ prefix: "bgtask-cli-scratch-" });
  let failed = false;
  try {
    await fn(dir, scratch);
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    const left = await settleStore(dir);
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(scratch, { recursive: true });
    if (left.length > 0 && !failed) {
      // deno-lint-ignore no-unsafe-finally
      throw new Error(`Test left task processes behind: ${left.join(", ")}`);
    }
  }
}

/** Asserts the shape of a user mistake: one stderr line, no stack frames, nothing on stdout. */
export function mistakeProblems(r: CliResult): string[] {
  const problems: string[] = [];
  if (r.code === 0) problems.push("exit code 0");
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  if (lines.length !== 1) {
    problems.push(`${lines.length} stderr lines: ${JSON.stringify(r.stderr)}`);
  }
  if (!r.stderr.startsWith("bgtask: ")) problems.push(`no "bgtask: " prefix: ${r.stderr}`);
  if (/^\s+at /m.test(r.stderr) || /\.ts:\d+:\d+/.test(r.stderr)) problems.push("a stack trace");
  if (r.stderr.includes("\x1b")) problems.push("a raw escape character");
  if (r.stdout !== "") problems.push(`stdout: ${JSON.stringify(r.stdout)}`);
  return problems;
}

/** Runs `bgtask ...args --json` (asserting exit 0) and parses its output. */
export async function cliJson<T>(dir: string, args: string[]): Promise<T> {
  const r = await cli(dir, [...args, "--json"]);
  if (r.code !== 0) throw new Error(`${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
