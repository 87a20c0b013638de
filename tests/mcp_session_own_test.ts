/**
 * What an MCP session knows of its own: the tasks it started (marked in
 * status lines), a queue limit it changed (said with the old value), the
 * ends it was told of (not told again by a task_completions alongside), and
 * a named consumer kept across restarts (`bgtask mcp --consumer NAME`).
 */

import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { assert, assertEquals, assertMatch } from "./_helpers/assert.ts";
import { TaskManager } from "../mod.ts";
import { connect, taskId, withMcp } from "./_helpers/mcp.ts";
import { gate, mcpArgs, minimalFlags, ROOT, settleStore, withStore } from "./_helpers/common.ts";
import { within } from "./_helpers/mcp_http.ts";

const CLI = `${ROOT}cli.ts`;
const MINE = "(started by this session)";

Deno.test("status lines mark the tasks this session started, not another session's nor the command line's", async () => {
  await withStore(async (tasks) => {
    // From a walk: task_list and task_completions mixed every agent's tasks and the human's.
    const a = await connect(tasks);
    const b = await connect(tasks);
    try {
      const mine = taskId((await a.call("task_start", { command: "exit 0" })).text);
      const theirs = taskId((await b.call("task_start", { command: "exit 1" })).text);
      const cli = await tasks.spawnShell("exit 2");
      await tasks.wait(cli.id);
      const list = (await a.call("task_list", {})).text;
      assertMatch(list, new RegExp(`\\n${mine} completed .* \\(started by this session\\) — `));
      for (const id of [theirs, cli.id]) {
        const line = list.split("\n").find((l) => l.startsWith(`${id} `))!;
        assert(!line.includes(MINE), line);
      }
      // b's notices: its own end was told by its task_start; the others', unmarked.
      const told = (await b.call("task_completions", {})).text;
      assertMatch(told, new RegExp(`\\n${mine} completed`));
      assert(!told.includes(MINE), told);
      assert((await a.call("task_status", { id: mine })).text.split("\n")[0].includes(MINE));
      assert(!(await b.call("task_status", { id: mine })).text.split("\n")[0].includes(MINE));
    } finally {
      await a.close();
      await b.close();
    }
  });
});

Deno.test("task_start with queue and parallel says the value it replaced, when it changed another's", async () => {
  await withMcp(async (mcp) => {
    // From a walk: B set parallel 4, A's parallel 1 made it 1 with 4 running, and A was told
    // only "queue build runs 1 at once".
    const first = await mcp.call("task_start", {
      command: "exit 0",
      queue: "build",
      parallel: 4,
      wait_s: 0,
    });
    assertMatch(first.text, /\nqueue build runs 4 at once \(parallel\)\n/);
    const second = await mcp.call("task_start", {
      command: "exit 0",
      queue: "build",
      parallel: 1,
      wait_s: 0,
    });
    assertMatch(
      second.text,
      /\nqueue build runs 1 at once \(parallel; was 4: changed for all its tasks/,
    );
    const same = await mcp.call("task_start", {
      command: "exit 0",
      queue: "build",
      parallel: 1,
      wait_s: 0,
    });
    assertMatch(same.text, /\nqueue build runs 1 at once \(parallel\)\n/);
  });
});

/** A manager whose acknowledgements wait, once `gate` is set, until it resolves. */
class GatedAcks extends TaskManager {
  gate?: PromiseWithResolvers<void>;
  acking = Promise.withResolvers<void>();
  override async acknowledgeCompletions(
    ...args: Parameters<TaskManager["acknowledgeCompletions"]>
  ): ReturnType<TaskManager["acknowledgeCompletions"]> {
    if (this.gate) {
      this.acking.resolve();
      await this.gate.promise;
    }
    return await super.acknowledgeCompletions(...args);
  }
}

Deno.test("a task_completions alongside a task_wait that tells a task's end does not tell it again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-mcp-told-" });
  const tasks = new GatedAcks({ dir });
  const mcp = await connect(tasks);
  try {
    // From a walk: two parallel calls of one session told one end twice (1 in 5): the
    // wait's acknowledgement came after the completions' drain.
    const id = taskId(
      (await mcp.call("task_start", { command: gate(`${dir}/go`), wait_s: 0 }))
        .text,
    );
    tasks.gate = Promise.withResolvers();
    const waiting = mcp.call("task_wait", { ids: [id] });
    waiting.catch(() => {}); // awaited below
    await Deno.writeTextFile(`${dir}/go`, "");
    // The wait has its answer and acknowledges it (held here): a task_completions now.
    await within(tasks.acking.promise, 20_000, "the wait's acknowledgement");
    const completions = await mcp.call("task_completions", {});
    tasks.gate.resolve();
    assertMatch((await waiting).text, new RegExp(`\\n${id} completed`));
    assertMatch(completions.text, /^No task has finished since the last task_completions/);
  } finally {
    tasks.gate?.resolve();
    await mcp.close();
    await tasks.close();
    await settleStore(dir);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the server advertises no capability it does not use (logging, tools.listChanged); task_completions' description does not take a compaction for a new session", async () => {
  await withMcp(async (mcp) => {
    const caps = mcp.client.getServerCapabilities()!;
    assertEquals(caps.logging, undefined);
    assert(!caps.tools?.listChanged, JSON.stringify(caps));
    const { tools } = await mcp.client.listTools();
    const completions = tools.find((t) => t.name === "task_completions")!;
    assert(!completions.description!.includes("lost context"), completions.description);
    assertMatch(completions.description!, /context compaction too/);
    assertMatch(completions.description!, /--consumer NAME/);
  });
});

function stdioServer(dir: string, extra: string[]): StdioClientTransport {
  return new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "--no-prompt", ...minimalFlags(dir), CLI, "--dir", dir, "mcp", ...extra],
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "/tmp",
      DENO_DIR: Deno.env.get("DENO_DIR") ?? "",
      NO_COLOR: "1",
    },
    stderr: "pipe",
  });
}

/** Whether process `pid` (one this test started) still exists. */
function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT"); // probes existence without harm
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`server ${pid} did not exit`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const text = (r: unknown) => (r as { content: { text: string }[] }).content[0].text;

Deno.test("stdio: bgtask mcp --consumer NAME keeps its consumer across restarts (an exit, a SIGKILL): the next server reports the tasks that ended meanwhile", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-mcp-named-" });
  const tasks = new TaskManager({ dir });
  const clients: Client[] = [];
  const start = async () => {
    const transport = stdioServer(dir, ["--consumer", "agent-1"]);
    const client = new Client({ name: "t", version: "1" });
    clients.push(client);
    await client.connect(transport);
    await client.callTool({ name: "task_list", arguments: {} });
    return { client, pid: transport.pid! };
  };
  try {
    // From a walk: a restarted server's agent lost the notices of the tasks that ended while
    // it was down (each server had a random consumer, forgotten at exit).
    const first = await start();
    const { tools } = await first.client.listTools();
    assertMatch(
      tools.find((t) => t.name === "task_completions")!.description!,
      /keeps its reports across restarts/,
    );
    await first.client.close();
    await gone(first.pid);
    assert(Deno.readDirSync(`${dir}/consumers`).some((e) => e.name === "agent-1"));
    const down = await tasks.spawnShell("exit 3");
    await tasks.wait(down.id);
    const second = await start();
    assertMatch(
      text(await second.client.callTool({ name: "task_completions", arguments: {} })),
      new RegExp(`\\n${down.id} failed \\(exit code 3\\)`),
    );
    // SIGKILLed (no clean exit at all): the next one still reports what ended meanwhile.
    Deno.kill(second.pid, "SIGKILL");
    await gone(second.pid);
    const later = await tasks.spawnShell("exit 4");
    await tasks.wait(later.id);
    const third = await start();
    const after = text(await third.client.callTool({ name: "task_completions", arguments: {} }));
    assertMatch(after, new RegExp(`\\n${later.id} failed \\(exit code 4\\)`));
    assert(!after.includes(`${down.id} `), after);
  } finally {
    for (const c of clients) await c.close().catch(() => {});
    await tasks.close();
    await settleStore(dir);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bgtask mcp --consumer is refused with --http, for a name completions --consumer refuses, and for default", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-mcp-named-args-" });
  try {
    const run = (...args: string[]) => mcpArgs(dir, ...args);
    const http = await run("--http", "0", "--consumer", "agent-1");
    assertEquals(http.code, 2);
    assertMatch(http.stderr, /--consumer is only used over stdio: an --http server has many/);
    const bad = await run("--consumer", "my agent");
    assertEquals(bad.code, 2);
    assertMatch(bad.stderr, /invalid name "my agent" for --consumer \(letters, digits/);
    const cliOwn = await run("--consumer", "default");
    assertEquals(cliOwn.code, 2);
    assertMatch(cliOwn.stderr, /--consumer default is the command line's own consumer/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
