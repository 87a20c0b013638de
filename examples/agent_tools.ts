/**
 * How an AI agent exposes background shells as tools: start, read, kill,
 * and a notifier that tells the model, exactly once, when a task finishes.
 *
 * The tool shapes are plain JSON-in, JSON-out functions; wire them to your
 * model's tool-calling API. Run this file to see a scripted "model" use them:
 *
 *     deno run --allow-run=bash --allow-read=.bgtask --allow-write=.bgtask examples/agent_tools.ts
 *
 * @module
 */

import { TaskManager } from "../mod.ts";

/** The tools, as a model would see them. */
export function agentTools(tasks: TaskManager) {
  return {
    /** Starts a command in the background; returns its id at once. */
    async start_shell(args: { command: string; description?: string; timeout_ms?: number }) {
      const t = await tasks.spawnShell(args.command, {
        description: args.description,
        timeoutMs: args.timeout_ms,
        maxOutputBytes: 64 * 1024 * 1024,
      });
      return { id: t.id, status: t.status };
    },
    /** New output since `offset` (pass back `next_offset`), capped for the context window. */
    async read_output(args: { id: string; offset?: number }) {
      const chunk = await tasks.readOutputChunk(args.id, {
        offset: args.offset ?? 0,
        maxBytes: 16 * 1024,
      });
      const info = await tasks.getStatus(args.id);
      return {
        text: chunk.text,
        next_offset: chunk.nextOffset,
        status: info?.status,
        exit_code: info?.exitCode,
      };
    },
    /** Kills the task's whole process tree. */
    async kill_shell(args: { id: string }) {
      const t = await tasks.kill(args.id, { graceMs: 1000 });
      return { id: t.id, status: t.status };
    },
    /** The last lines of a task's output, for a quick look. */
    async tail_output(args: { id: string; lines?: number }) {
      return { text: await tasks.tailOutput(args.id, args.lines ?? 20) };
    },
  };
}

/**
 * Feeds "task finished" notices into the agent's next turn. The agent is its
 * own completion consumer: each task that finishes from its first use on is
 * delivered to it once, even across restarts of the agent, and a person
 * running `bgtask completions` (the `default` consumer) takes none of them.
 */
export async function notifyCompletions(
  tasks: TaskManager,
  notify: (message: string) => void,
  signal: AbortSignal,
): Promise<void> {
  for await (const t of tasks.completions({ consumer: "agent", signal })) {
    const how = t.status === "completed" ? "completed" : `${t.status} (${t.error})`;
    notify(`Background task ${t.id} "${t.description || t.command}" ${how}.`);
  }
}

if (import.meta.main) {
  await using tasks = new TaskManager({ dir: ".bgtask", killOnDispose: true });
  const tools = agentTools(tasks);
  const stop = new AbortController();
  const inbox: string[] = [];
  const notifier = notifyCompletions(tasks, (m) => inbox.push(m), stop.signal);
  // Ctrl-C (or the harness's SIGTERM) closes the manager, which kills its tasks: no orphans.
  // (Leaving this scope does too; a process that just exits would not.)
  const onSignal = (signal: "SIGINT" | "SIGTERM") => async () => {
    stop.abort();
    await tasks.close();
    Deno.exit(signal === "SIGINT" ? 130 : 143);
  };
  const handlers = (["SIGINT", "SIGTERM"] as const).map((s) => [s, onSignal(s)] as const);
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);

  // A scripted "model": start a test run and a dev server, peek, kill the server.
  const tests = await tools.start_shell({
    command: "echo running tests; sleep 0.5; echo '3 passed'",
    description: "unit tests",
  });
  const server = await tools.start_shell({
    command: "echo listening on :8000; sleep 300",
    description: "dev server",
  });
  await new Promise((r) => setTimeout(r, 200));
  console.log("peek:", await tools.read_output({ id: server.id }));
  console.log("kill:", await tools.kill_shell({ id: server.id }));

  // Between turns the agent checks its inbox; here we just wait for both notices.
  while (inbox.filter((m) => m.includes(tests.id) || m.includes(server.id)).length < 2) {
    await new Promise((r) => setTimeout(r, 20));
  }
  stop.abort();
  await notifier;
  for (const message of inbox) console.log("notice:", message);
  console.log("tests said:", (await tools.read_output({ id: tests.id })).text.trim());
  for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
}
