/**
 * Case 6 — kill: the time from asking for a kill to a tree of processes
 * being gone, for a tree that dies on SIGTERM and one that ignores it (whose
 * grace period, spent waiting on purpose, is subtracted from its figure).
 *
 * - bgtask: `kill(id, { graceMs })` on a running task; it resolves only once
 *   nothing of the task's process group is alive (checked again afterwards).
 * - floor: the bench itself signals the group of a detached bash
 *   (`Deno.kill(-pgid)`), SIGKILLs after the grace, and polls the tree's
 *   known pids in /proc every millisecond until all are gone.
 *
 * And many tasks at once (a `bgtask kill --all`): `killMany` running
 * `sleep`s, all killed by one `Promise.all` of `kill()`, against the floor
 * signalling as many detached bash groups and polling their pids.
 *
 * @module
 */

import { TaskManager } from "../../mod.ts";
import type { Context } from "../lib/context.ts";
import { anyAlive, groupMembers, statOf } from "../lib/group.ts";
import { LineReader } from "../lib/lines.ts";
import type { CaseResult, Row } from "../lib/report.ts";
import { type Contender, rowsOf, sideBySide } from "../lib/runner.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A bash script making a tree of `size` processes: itself and `size − 1` sleeps. */
function tree(size: number, ignoreTerm: boolean): string {
  return `${ignoreTerm ? "trap '' TERM; " : ""}for ((i = 1; i < ${size}; i++)); do ` +
    `sleep 300 & done; echo ready; wait`;
}

async function untilReady(tasks: TaskManager, id: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if ((await tasks.readOutput(id)).includes("ready")) return;
    await sleep(5);
  }
  throw new Error(`task ${id} never became ready`);
}

function expectSize(pgid: number, size: number): void {
  const n = groupMembers(pgid).length;
  if (n !== size) throw new Error(`the tree has ${n} processes, expected ${size}`);
}

function contenders(ctx: Context, tasks: TaskManager, ignoreTerm: boolean): Contender[] {
  const { killTree: size, killGraceMs: grace } = ctx.sizes;
  const script = tree(size, ignoreTerm);
  const minus = ignoreTerm ? grace : 0;
  return [
    {
      name: "bgtask",
      run: async () => {
        const t = await tasks.spawnShell(script);
        await untilReady(tasks, t.id);
        expectSize(t.pid!, size);
        const t0 = performance.now();
        const info = await tasks.kill(t.id, { graceMs: grace });
        const ms = performance.now() - t0;
        if (info.status !== "killed") throw new Error(`kill left ${t.id} ${info.status}`);
        if (groupMembers(t.pid!).length) throw new Error(`kill() returned, ${t.id} lives on`);
        return { ms: ms - minus };
      },
    },
    {
      name: "floor",
      run: async () => {
        const child = new Deno.Command("bash", {
          args: ["-c", script],
          detached: true,
          stdin: "null",
          stdout: "piped",
          stderr: "null",
        }).spawn();
        const lines = new LineReader(child.stdout);
        if ((await lines.next()) !== "ready") throw new Error("tree never became ready");
        const pids = groupMembers(child.pid);
        if (pids.length !== size) throw new Error(`tree has ${pids.length} processes`);
        const t0 = performance.now();
        Deno.kill(-child.pid, "SIGTERM");
        const deadline = t0 + grace;
        let killed = false;
        while (anyAlive(pids)) {
          if (!killed && performance.now() >= deadline) {
            Deno.kill(-child.pid, "SIGKILL");
            killed = true;
          }
          await sleep(1);
        }
        const ms = performance.now() - t0;
        await child.status;
        await lines.done;
        return { ms: ms - minus };
      },
    },
  ];
}

/** N running tasks (each `sleep 300`) killed at once: ms a task, for each contender. */
function manyContenders(ctx: Context, tasks: TaskManager): Contender[] {
  const n = ctx.sizes.killMany;
  return [
    {
      name: "bgtask",
      run: async () => {
        const ts = await Promise.all(
          Array.from({ length: n }, () => tasks.spawnShell("exec sleep 300")),
        );
        const t0 = performance.now();
        const ended = await Promise.all(ts.map((t) => tasks.kill(t.id)));
        const ms = performance.now() - t0;
        const alive = ended.filter((t) => t.status !== "killed");
        if (alive.length) throw new Error(`kill left ${alive[0].id} ${alive[0].status}`);
        if (anyAlive(ts.map((t) => t.pid!))) throw new Error("kill() returned, a task lives on");
        for (const t of ts) await tasks.remove(t.id);
        return { ms: ms / n };
      },
    },
    {
      name: "floor",
      run: async () => {
        const kids = Array.from({ length: n }, () =>
          new Deno.Command("bash", {
            args: ["-c", "exec sleep 300"],
            detached: true,
            stdin: "null",
            stdout: "null",
            stderr: "null",
          }).spawn());
        const pids = kids.map((k) => k.pid);
        for (let i = 0; i < 2000 && pids.some((p) => statOf(p)?.pgrp !== p); i++) await sleep(1);
        const t0 = performance.now();
        for (const p of pids) Deno.kill(-p, "SIGTERM");
        while (anyAlive(pids)) await sleep(1);
        const ms = performance.now() - t0;
        await Promise.all(kids.map((k) => k.status));
        return { ms: ms / n };
      },
    },
  ];
}

/** The rows of one measure: bgtask against the floor, side by side. */
async function measured(
  ctx: Context,
  measure: string,
  contenders: Contender[],
  reps: number,
): Promise<Row[]> {
  ctx.log(`kill: ${measure}`);
  const result = await sideBySide(contenders, { warmup: ctx.sizes.warmup, reps });
  return rowsOf(result, measure, "ms", "ms", (name) => name === "bgtask" ? ["floor"] : undefined);
}

/** Runs case 6. */
export async function killCase(ctx: Context): Promise<CaseResult> {
  const t0 = performance.now();
  const { killTree: size, killGraceMs: grace } = ctx.sizes;
  const dir = await Deno.makeTempDir({ dir: ctx.tmp, prefix: "kill-" });
  const tasks = new TaskManager({ dir });
  const rows: Row[] = [];
  try {
    for (const ignoreTerm of [false, true]) {
      const measure = ignoreTerm
        ? `${size}-process tree ignoring TERM, ms beyond the ${grace} ms grace`
        : `${size}-process tree, TERM-able, ms`;
      rows.push(
        ...await measured(ctx, measure, contenders(ctx, tasks, ignoreTerm), ctx.sizes.killReps),
      );
    }
    const many = `${ctx.sizes.killMany} tasks (\`sleep\`) killed at once, ms a task`;
    rows.push(...await measured(ctx, many, manyContenders(ctx, tasks), ctx.sizes.reps));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const notes = [
    `The tree: \`${tree(size, false)}\` (the TERM-ignoring one starts with \`trap '' TERM\`, ` +
    "which its sleeps inherit). The timer starts once all its processes exist (checked in /proc).",
    `Many at once: ${ctx.sizes.killMany} tasks, each \`exec sleep 300\`, killed by one ` +
    "`Promise.all` of `kill()` with the default grace (they die at SIGTERM); the floor signals " +
    "as many detached bash groups itself. Their cost grows with the machine's process count: " +
    "every kill looks at every process.",
    `Grace: ${grace} ms, subtracted from the TERM-ignoring figures. Zombies awaiting their ` +
    "parent count as gone, for both contenders.",
  ];
  return { title: "6. Kill", rows, goals: [], notes, seconds: (performance.now() - t0) / 1000 };
}
