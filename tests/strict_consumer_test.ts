/**
 * A consumer whose compiler options are stricter than bgtask's own
 * (`exactOptionalPropertyTypes`, which typescript-eslint's strict configs
 * and many templates turn on) passes a `string | undefined` it holds as an
 * option, as the README's agent example does: the option types take it (they
 * refused it: TS2379 at every such call, for a JSR consumer too).
 */

import assert from "node:assert/strict";

const MOD = new URL("../mod.ts", import.meta.url).href;

Deno.test("option types take an explicit undefined under exactOptionalPropertyTypes (a consumer's own code checks clean)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bgtask-strict-" });
  try {
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify({ compilerOptions: { exactOptionalPropertyTypes: true } }),
    );
    await Deno.writeTextFile(
      `${dir}/app.ts`,
      `import { TaskManager } from ${JSON.stringify(MOD)};
const maybe: string | undefined = Deno.args[0];
const n: number | undefined = Deno.args.length > 1 ? 1 : undefined;
const signal: AbortSignal | undefined = undefined;
const tasks = new TaskManager({ dir: maybe, killOnDispose: undefined });
const t = await tasks.spawnShell("true", {
  description: maybe, cwd: maybe, queue: maybe, timeoutMs: n, maxOutputBytes: n, graceMs: n,
  after: undefined, afterPolicy: undefined, stdin: undefined, columns: n, rows: n, env: undefined,
});
await tasks.wait(t.id, { signal, until: undefined });
await tasks.waitForLine(t.id, /x/, { signal, offset: n });
await tasks.kill(t.id, { graceMs: n });
await tasks.readOutput(t.id, { maxBytes: n });
await tasks.list({ queue: maybe, last: n, status: undefined, ids: undefined, onDamaged: undefined });
await tasks.drainCompletions({ consumer: maybe, signal, wait: undefined, handle: undefined });
await tasks.peekCompletions({ consumer: maybe, ephemeral: undefined });
for await (const _ of tasks.follow(t.id, { offset: n, signal })) break;
await tasks.clean({ olderThanMs: n, keep: n, queue: maybe, unread: undefined, signal });
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", `${dir}/app.ts`],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    // deno-lint-ignore no-control-regex
    const text = new TextDecoder().decode(out.stderr).replaceAll(/\x1b\[[0-9;]*m/g, "");
    // (bgtask's own files, local here, are checked with these options too: only the consumer's count.)
    const inApp = text.split("\n").filter((l) => l.includes(`${dir}/app.ts:`));
    assert.deepEqual(inApp, [], text.slice(0, 3000));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
