/**
 * Reading a bash helper's pipes (src/supervisor/bash.ts): every byte, in
 * order, through buffers used again, so that a process that runs bash often
 * does not leave a fresh chunk of memory outside V8's heap at every read.
 */

import assert from "node:assert";
import { pipeBuffersMade, readPipe, runBash, runBashForWords } from "../src/supervisor/bash.ts";
import { isAlive, until } from "./_helpers/common.ts";

const decoder = new TextDecoder();

Deno.test("readPipe: a helper's output, many reads long, every byte in order", async () => {
  // 300,000 bytes: 19 reads of 16 KiB at least; a counter, so a chunk lost,
  // repeated or out of order shows.
  const out = await runBash({
    args: ["-c", 'for ((i = 0; i < 50000; i++)); do printf "%05d\\n" "$i"; done'],
    stdout: "piped",
    stderr: "piped",
  });
  assert.equal(out.code, 0);
  assert.equal(out.stderr.length, 0);
  const lines = decoder.decode(out.stdout).split("\n");
  assert.equal(lines.pop(), "");
  assert.equal(lines.length, 50000);
  lines.forEach((line, i) => assert.equal(line, String(i).padStart(5, "0")));
});

Deno.test("readPipe: helpers read at once keep their bytes apart", async () => {
  const outs = await Promise.all(Array.from({ length: 12 }, (_, k) =>
    runBash({
      args: [
        "-c",
        'head -c "$1" /dev/zero | tr "\\0" "$2"; printf "%s" "$2" >&2',
        "x",
        `${20000 + k}`,
        String.fromCharCode(97 + k),
      ],
      stdout: "piped",
      stderr: "piped",
    })));
  outs.forEach((out, k) => {
    const c = String.fromCharCode(97 + k);
    assert.equal(decoder.decode(out.stdout), c.repeat(20000 + k));
    assert.equal(decoder.decode(out.stderr), c);
  });
});

Deno.test("readPipe: buffers are used again, not made for every read", async () => {
  for (let i = 0; i < 5; i++) {
    await runBash({ args: ["-c", "echo out; echo err >&2"], stdout: "piped", stderr: "piped" });
  }
  const before = pipeBuffersMade();
  for (let i = 0; i < 40; i++) {
    const out = await runBash({
      args: ["-c", "echo out; echo err >&2"],
      stdout: "piped",
      stderr: "piped",
    });
    assert.equal(decoder.decode(out.stdout), "out\n");
    assert.equal(decoder.decode(out.stderr), "err\n");
  }
  // 80 pipes read, one after another: no buffer made for them.
  assert.equal(pipeBuffersMade() - before, 0);
});

Deno.test("readPipe: a stream that is not a byte stream, and none at all", async () => {
  const plain = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array([1, 2]));
      c.enqueue(new Uint8Array([3]));
      c.close();
    },
  });
  assert.deepEqual(await readPipe(plain), new Uint8Array([1, 2, 3]));
  assert.equal((await readPipe(null)).length, 0);
});

Deno.test("runBashForWords: returns once the report is whole, while bash still runs and holds the pipe; awaits bash when the pipe ends first", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A report in two writes, then bash waits (the pipe still open) until
    // told to go, 10 s at most: a call that waited for bash fails below.
    const out = await runBashForWords({
      args: [
        "-c",
        'printf "ok\\0%s" "$$"; printf "\\0"; ' +
        'for ((i = 0; i < 1000; i++)); do [ -e "$1/go" ] && break; sleep 0.01; done; echo late',
        "x",
        dir,
      ],
    }, 2);
    assert.equal(out.code, null);
    const [word, pid, rest] = decoder.decode(out.stdout).split("\0");
    assert.deepEqual([word, rest], ["ok", ""]);
    // bash is still there: the call did not wait for it.
    assert.equal(isAlive(Number(pid)), true, "bash still runs");
    await Deno.writeTextFile(`${dir}/go`, "");
    await until(() => !isAlive(Number(pid)), "bash to end");
    // The pipe ends first (fewer words than asked): bash's exit code, and all it printed.
    const short = await runBashForWords({ args: ["-c", 'printf "error\\0"; exit 3'] }, 2);
    assert.deepEqual([short.code, decoder.decode(short.stdout)], [3, "error\0"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
