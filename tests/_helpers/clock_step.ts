/**
 * A wall clock a test can step under the processes it starts (see
 * clock_step.c): `cc` builds the shim once a process, into a temp folder.
 *
 * @module
 */

const SOURCE = new URL("./clock_step.c", import.meta.url).pathname;

let built: Promise<string | { why: string }> | undefined;

/** Builds the shim: its path, or why it cannot be built here. */
function build(): Promise<string | { why: string }> {
  return built ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "bgtask-clock-step-" });
    const lib = `${dir}/clock_step.so`;
    const out = await new Deno.Command("cc", {
      args: ["-shared", "-fPIC", "-O2", "-o", lib, SOURCE, "-ldl"],
      stdout: "null",
      stderr: "piped",
    }).output().catch(() => undefined);
    if (!out) return { why: "no C compiler (cc) to build the clock shim" };
    if (!out.success) return { why: `cc failed: ${new TextDecoder().decode(out.stderr).trim()}` };
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    return lib;
  })();
}

/** Why the shim cannot be had here, or undefined when it can. */
export async function clockStepUnavailable(): Promise<string | undefined> {
  const lib = await build();
  return typeof lib === "string" ? undefined : lib.why;
}

/** A wall clock of its own for the processes given its `env`. */
export interface SteppedClock {
  /** The environment that puts a process (and what it starts) on this clock. */
  env: Record<string, string>;
  /** Steps the clock: its offset from the real time, in ms (0: the real time). */
  set(offsetMs: number): void;
  /** Removes its file. */
  remove(): void;
}

/** A clock at the real time until stepped. */
export async function steppedClock(): Promise<SteppedClock> {
  const lib = await build();
  if (typeof lib !== "string") throw new Error(lib.why);
  const dir = await Deno.makeTempDir({ prefix: "bgtask-clock-" });
  const file = `${dir}/offset`;
  Deno.writeTextFileSync(file, "0\n");
  return {
    env: { LD_PRELOAD: lib, BGTASK_TEST_CLOCK_FILE: file },
    set: (ms) => {
      // (Whole at once: a reader between a truncation and a write would read no step.)
      Deno.writeTextFileSync(`${file}.new`, `${ms}\n`);
      Deno.renameSync(`${file}.new`, file);
    },
    remove: () => Deno.removeSync(dir, { recursive: true }),
  };
}
