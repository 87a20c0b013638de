import { assertEquals, assertRejects } from "./_helpers/assert.ts";
import { TaskNotFoundError } from "../mod.ts";
import { withStore } from "./_helpers/common.ts";

Deno.test("follow() yields output as it is written and ends when the task has finished", async () => {
  await withStore(async (tasks) => {
    const cwd = await Deno.makeTempDir();
    const t = await tasks.spawnShell(
      "echo one; while [ ! -e go ]; do sleep 0.01; done; printf 'tw'; sleep 0.05; echo o",
      { cwd },
    );
    try {
      const pieces: string[] = [];
      for await (const text of tasks.follow(t.id)) {
        pieces.push(text);
        // The first piece arrives while the task is still blocked: it is live.
        if (pieces.length === 1) {
          assertEquals(text, "one\n");
          assertEquals((await tasks.getStatus(t.id))?.status, "running");
          await Deno.writeTextFile(`${cwd}/go`, "");
        }
      }
      assertEquals(pieces.join(""), "one\ntwo\n");
      assertEquals((await tasks.getStatus(t.id))?.status, "completed");
    } finally {
      await tasks.kill(t.id, { graceMs: 0 }).catch(() => {});
      await Deno.remove(cwd, { recursive: true });
    }
  });
});

Deno.test("follow() starts from an offset and stops on abort", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell("echo abcdef; sleep 300");
    const ac = new AbortController();
    let all = "";
    for await (const text of tasks.follow(t.id, { offset: 3, signal: ac.signal })) {
      all += text;
      ac.abort();
    }
    assertEquals(all, "def\n");
    await tasks.kill(t.id, { graceMs: 100 });
    await assertRejects(async () => {
      for await (const _ of tasks.follow("b9")) { /* never */ }
    }, TaskNotFoundError);
  });
});
