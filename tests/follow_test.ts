import { assert, assertEquals, assertRejects } from "./_helpers/assert.ts";
import { TaskManager, TaskNotFoundError } from "../mod.ts";
import type { TaskRecords } from "../src/lifecycle.ts";
import { FsStore } from "../src/store/fs_store.ts";
import { followBytes } from "../src/ops/wait.ts";
import { exists, until, withStore } from "./_helpers/common.ts";
import { ctxOn } from "./_helpers/ctx.ts";

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

Deno.test("followBytes() yields the output byte for byte, bytes that are no UTF-8 and a character cut between two writes included, and ends with the task", async () => {
  await withStore(async (tasks, dir) => {
    const go = `${dir}/go`;
    // "é" is c3 a9: its two bytes are written apart, with the task blocked between.
    const t = await tasks.spawnShell(
      `printf 'a\\377\\303'; while [ ! -e '${go}' ]; do sleep 0.01; done; printf '\\251b'`,
    );
    const bytes: number[] = [];
    for await (const piece of tasks.followBytes(t.id)) {
      bytes.push(...piece);
      // What it wrote before it blocked, yielded while it is blocked: live.
      if (bytes.length >= 3 && !exists(go)) {
        assertEquals(bytes, [0x61, 0xff, 0xc3]);
        await Deno.writeTextFile(go, "");
      }
    }
    assertEquals(bytes, [0x61, 0xff, 0xc3, 0xa9, 0x62]);
    assertEquals((await tasks.getStatus(t.id))?.status, "completed");
    // The same output as text: the cut character whole, the stray byte U+FFFD.
    let text = "";
    for await (const piece of tasks.follow(t.id)) text += piece;
    assertEquals(text, "a\uFFFDéb");
  });
});

/** A store that counts the reads of a task's records. */
class CountingStore extends FsStore {
  reads = 0;

  override async read(id: string): Promise<TaskRecords | undefined> {
    this.reads++;
    return await super.read(id);
  }
}

/**
 * How many times an idle follow of a task reads its records in 1.5 s (the
 * time passing is the point: about 15 polls), with the change feed heard or
 * (`deaf`) not.
 */
async function idleReads(deaf: boolean): Promise<number> {
  let during = 0;
  await withStore(async (tasks, dir) => {
    const t = await tasks.spawnShell("echo hi; sleep 300");
    const store = new CountingStore(dir);
    const ctx = deaf ? ctxOn(store, `${dir}/no-such-feed`) : ctxOn(store);
    const stop = new AbortController();
    let seen = "";
    const following = (async () => {
      for await (const piece of followBytes(ctx, t.id, { signal: stop.signal })) {
        seen += new TextDecoder().decode(piece);
      }
    })();
    await until(() => seen === "hi\n", "the first output");
    const before = store.reads;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    during = store.reads - before;
    stop.abort();
    await following;
    assertEquals(seen, "hi\n");
  });
  return during;
}

Deno.test("follow: while nothing new is written, a poll looks at the output's size, not the task's records (those are read at liveness looks)", async () => {
  // The liveness looks at 0.2 s and 1.2 s: each a read, and one after it.
  const reads = await idleReads(false);
  assert(reads <= 6, `${reads} reads of the records in 1.5 s of nothing new`);
});

Deno.test("follow: where no change can be heard (no inotify), every poll reads the task's records, so its end is seen at the next", async () => {
  const reads = await idleReads(true);
  assert(reads >= 10, `${reads} reads of the records in 1.5 s of nothing new`);
});

Deno.test("followBytes() pieces hold at most maxBytes; follow() needs room for a character; bad options are refused", async () => {
  await withStore(async (tasks) => {
    const t = await tasks.spawnShell("printf '%s' 0123456789");
    await tasks.wait(t.id);
    const sizes: number[] = [];
    for await (const piece of tasks.followBytes(t.id, { maxBytes: 4 })) sizes.push(piece.length);
    assertEquals(sizes, [4, 4, 2]);
    const drain = async (pieces: AsyncIterable<unknown>) => {
      for await (const _ of pieces) { /* nothing */ }
    };
    await assertRejects(
      () => drain(tasks.followBytes(t.id, { maxBytes: 0 })),
      RangeError,
      /maxBytes must be at least 1, got 0/,
    );
    await assertRejects(
      () => drain(tasks.follow(t.id, { maxBytes: 2 })),
      RangeError,
      /maxBytes must be at least 4, got 2/,
    );
    // A negative size is out of range too; a fraction is no size, and the
    // message gives the real least value (not "≥ 0", which 0 would not pass).
    await assertRejects(
      () => tasks.readOutput(t.id, { maxBytes: -1 }),
      RangeError,
      /maxBytes must be at least 1, got -1/,
    );
    await assertRejects(
      () => drain(tasks.follow(t.id, { maxBytes: 1.5 })),
      TypeError,
      /maxBytes must be a whole number ≥ 4, got 1\.5/,
    );
    await assertRejects(
      // deno-lint-ignore no-explicit-any
      () => drain(tasks.followBytes(t.id, { bogus: 1 } as any)),
      TypeError,
      /unknown option "bogus"; the options are offset, maxBytes, signal/,
    );
  });
});

Deno.test("close() ends the manager's follow, followBytes and completions iterators, with or without a signal of their own (a server's disconnected streams kept it alive)", async () => {
  await withStore(async (tasks, dir) => {
    const quiet = await tasks.spawnShell("echo hello; sleep 300");
    const other = new TaskManager({ dir });
    const mine = new AbortController();
    const seen: string[] = [];
    const loops = [
      (async () => {
        for await (const text of other.follow(quiet.id)) seen.push(text);
      })(),
      (async () => {
        for await (const _ of other.followBytes(quiet.id, { signal: mine.signal })) { /* bytes */ }
      })(),
      (async () => {
        for await (const _ of other.completions({ consumer: "server" })) { /* none ends */ }
      })(),
    ];
    await until(() => seen.join("") === "hello\n", "the output so far");
    await other.close();
    // (Before: each waited for the task's end, 300 s.)
    const ended = await Promise.race([
      Promise.all(loops).then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 10_000)),
    ]);
    assert(ended, "every iterator ended at the close");
    assertEquals((await tasks.getStatus(quiet.id))?.status, "running", "the task runs on");
    assert(!mine.signal.aborted);
    await tasks.kill(quiet.id);
    // One begun after the close runs as any: to the end of an ended task's output.
    let after = "";
    for await (const text of other.follow(quiet.id)) after += text;
    assertEquals(after, "hello\n");
  });
});

Deno.test("close() of a killOnDispose manager: a follower of its task hears the task's last words before it ends", async () => {
  await withStore(async (_tasks, dir) => {
    const owner = new TaskManager({ dir, killOnDispose: true });
    const t = await owner.spawnShell("trap 'echo bye; exit 0' TERM; echo hi; sleep 300 & wait");
    let all = "";
    const following = (async () => {
      for await (const text of owner.follow(t.id)) all += text;
    })();
    await until(() => all === "hi\n", "the first line");
    await owner.close();
    await following;
    assertEquals(all, "hi\nbye\n");
  });
});
