/**
 * Running helper processes from the bench.
 *
 * @module
 */

/** What a finished helper process left. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

const decoder = new TextDecoder();

/** Runs `cmd args…` to completion and collects its output. */
export async function run(
  cmd: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; stdin?: string } = {},
): Promise<Ran> {
  const child = new Deno.Command(cmd, {
    args,
    env: options.env,
    cwd: options.cwd,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Runs a bash script with arguments (`$1`, …). */
export function bash(script: string, ...args: string[]): Promise<Ran> {
  return run("bash", ["-c", script, "bench", ...args]);
}

/** Runs `cmd args…` with every stream closed and resolves with its exit code. */
export async function quiet(
  cmd: string,
  args: string[],
  options: { env?: Record<string, string>; detached?: boolean } = {},
): Promise<number> {
  const { code } = await new Deno.Command(cmd, {
    args,
    env: options.env,
    detached: options.detached,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn().status;
  return code;
}

/** The absolute path of a command on PATH, or null. */
export async function which(name: string): Promise<string | null> {
  const r = await bash('command -v -- "$1"', name);
  const path = r.stdout.trim();
  return r.code === 0 && path.startsWith("/") ? path : null;
}

/** Runs `fn(i)` for i in 0…n-1, at most `parallel` at a time. */
export async function pool(
  n: number,
  parallel: number,
  fn: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
}

/**
 * Removes a path recursively, ignoring "not found". A store's supervisors may
 * still write their last lines (the completion log) just after a task is
 * seen finished: a folder that gained a file meanwhile is removed again.
 */
export async function rmrf(path: string): Promise<void> {
  for (let attempt = 0;; attempt++) {
    try {
      await Deno.remove(path, { recursive: true });
      return;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      if (attempt >= 20 || !/not empty|os error 39\b/i.test(String(e))) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
