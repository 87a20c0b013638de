/**
 * task-spooler (`tsp`) as a contender: its own server on a private socket,
 * so the bench never touches the user's queue, with job output files in the
 * bench's temp folder.
 *
 * @module
 */

import { quiet, run, which } from "./proc.ts";

/** Finds task-spooler, installing it with apt when allowed; null and a reason when absent. */
export async function findTsp(install: boolean): Promise<{ bin: string | null; note?: string }> {
  // Debian and Ubuntu name the binary `tsp` (`ts` is moreutils' timestamp tool there).
  let bin = await which("tsp");
  if (bin) return { bin };
  if (!install) {
    return { bin: null, note: "task-spooler (`tsp`) is not installed: its rows are skipped" };
  }
  const apt = await which("apt-get");
  if (!apt || Deno.uid() !== 0) {
    return {
      bin: null,
      note: "task-spooler (`tsp`) is not installed and apt-get as root is not available: " +
        "its rows are skipped (install package task-spooler to include them)",
    };
  }
  console.error("installing task-spooler with apt-get …");
  const r = await run("bash", [
    "-c",
    "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq task-spooler",
  ]);
  bin = await which("tsp");
  if (bin) return { bin };
  return {
    bin: null,
    note: `installing task-spooler failed (apt-get exit ${r.code}): its rows are skipped`,
  };
}

/** A private task-spooler server. */
export class Tsp {
  readonly bin: string;
  readonly env: Record<string, string>;

  /** @param bin The `tsp` binary. @param dir A folder for the socket and job output files. */
  constructor(bin: string, dir: string) {
    this.bin = bin;
    this.env = { TS_SOCKET: `${dir}/tsp.socket`, TMPDIR: dir, TS_MAXFINISHED: "100000" };
  }

  /** Runs `tsp args…`; resolves with its stdout. */
  async call(...args: string[]): Promise<string> {
    const r = await run(this.bin, args, { env: this.env });
    if (r.code !== 0 && args[0] !== "-w") {
      throw new Error(`tsp ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
    }
    return r.stdout;
  }

  /** Queues `command` and resolves with the job id. */
  async enqueue(...command: string[]): Promise<string> {
    return (await this.call(...command)).trim();
  }

  /** Waits for a job to finish (`tsp -w ID`). */
  async waitFor(id: string): Promise<void> {
    await quiet(this.bin, ["-w", id], { env: this.env });
  }

  /** Sets the number of jobs run at once (`tsp -S N`); this also starts the server. */
  async slots(n: number): Promise<void> {
    await this.call("-S", String(n));
  }

  /** Forgets finished jobs (`tsp -C`). */
  async clear(): Promise<void> {
    await this.call("-C");
  }

  /** Stops the server (`tsp -K`). */
  async stop(): Promise<void> {
    await quiet(this.bin, ["-K"], { env: this.env });
  }
}
