/**
 * A description of the machine a run was made on.
 *
 * @module
 */

import { bash } from "./proc.ts";

/** Label → value lines describing the machine, for the report's header. */
export async function describeMachine(
  tmp: string,
  root: string,
): Promise<[string, string][]> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? "unknown";
  const memKiB = Number(/^MemTotal:\s*(\d+)/m.exec(meminfo)?.[1] ?? NaN);
  const df = await bash('df -hT -- "$1" | tail -n 1', tmp);
  const [dev, fsType, size] = df.stdout.trim().split(/\s+/);
  const bash_ = await bash('printf %s "$BASH_VERSION"');
  const load = (await Deno.readTextFile("/proc/loadavg").catch(() => "?")).split(" ").slice(0, 3);
  const rev = await bash(
    'cd -- "$1" && git rev-parse --short HEAD 2>/dev/null && git status --porcelain -- src mod.ts cli.ts 2>/dev/null | wc -l',
    root,
  );
  const [commit, dirty] = rev.stdout.trim().split("\n");
  return [
    ["Date", new Date().toISOString()],
    ["CPU", `${cpu} — nproc ${navigator.hardwareConcurrency}`],
    ["Memory", `${(memKiB / 1024 ** 2).toFixed(1)} GiB`],
    ["Kernel", `${Deno.build.os} ${Deno.osRelease()} (${Deno.build.arch})`],
    ["Deno", `${Deno.version.deno} (V8 ${Deno.version.v8}, TypeScript ${Deno.version.typescript})`],
    ["bash", bash_.stdout],
    ["Load average at start", `${load.join(" ")} (1, 5, 15 min)`],
    [
      "bgtask revision",
      commit
        ? `${commit}${Number(dirty) > 0 ? ` + uncommitted changes in ${dirty} file(s)` : ""}`
        : "?",
    ],
    ["Disk of the temp folder", `${dev ?? "?"} ${fsType ?? "?"} ${size ?? "?"} (${tmp})`],
  ];
}
