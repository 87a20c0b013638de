/**
 * Case 2's child: one contender writes one task's output to a file, in a
 * process of its own, and prints `{ ms, hwmMB, baseMB, size }` as JSON:
 * the wall time of the work, the peak resident memory of this managing
 * process (VmHWM) after it and before it, and the size of the file written.
 *
 * Usage: `output_child.ts bgtask|raw|buffer COMMAND WORKDIR`
 *
 * @module
 */

import { TaskManager } from "../../mod.ts";

function vmHwmMB(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kib = Number(/^VmHWM:\s*(\d+)\s*kB/m.exec(status)?.[1] ?? NaN);
  return kib / 1024;
}

async function work(mode: string, command: string, dir: string): Promise<string> {
  if (mode === "raw") {
    const file = `${dir}/out`;
    const { code } = await new Deno.Command("bash", {
      args: ["-c", `${command} > "$1"`, "raw", file],
      stdin: "null",
    }).spawn().status;
    if (code !== 0) throw new Error(`raw redirect exited ${code}`);
    return file;
  }
  if (mode === "buffer") {
    // The original design: collect the whole output in memory, then write it.
    const file = `${dir}/out`;
    const out = await new Deno.Command("bash", {
      args: ["-c", command],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    await Deno.writeFile(file, out.stdout);
    return file;
  }
  if (mode === "bgtask") {
    const tasks = new TaskManager({ dir });
    const task = await tasks.spawnShell(command);
    const info = await tasks.wait(task.id);
    if (info.status !== "completed") {
      throw new Error(`bgtask task ended ${info.status}: ${info.error}`);
    }
    return info.outputFile;
  }
  throw new Error(`unknown mode ${mode}`);
}

const [mode, command, dir] = Deno.args;
if (mode === "bgtask") await new TaskManager({ dir }).list(); // store set up outside the timing
const baseMB = vmHwmMB();
const t0 = performance.now();
const file = await work(mode, command, dir);
const ms = performance.now() - t0;
const hwmMB = vmHwmMB();
const size = (await Deno.stat(file)).size;
console.log(JSON.stringify({ ms, hwmMB, baseMB, size }));
