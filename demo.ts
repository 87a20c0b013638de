/**
 * A short tour: start a background task, watch its status and output grow,
 * kill a process tree, and receive each completion exactly once.
 *
 * Run with `deno task demo` (or `npx -y deno@2.9.6 task demo`). Its store
 * is ./.bgtask, and the task grants exactly that folder, bash, and the three
 * environment variables.
 *
 * @module
 */

import { TaskManager } from "./mod.ts";

const tasks = new TaskManager({ dir: ".bgtask" });
const show = (label: string, value: unknown) => console.log(`${label.padEnd(22)} ${value}`);

console.log(`store: ${tasks.dir}\n`);

const build = await tasks.spawnShell(
  "for i in 1 2 3; do echo \"step $i\"; sleep 0.3; done; echo 'warning: demo' >&2",
  { description: "a pretend build" },
);
show(`spawned ${build.id}`, `pid ${build.pid}, ${build.status}: ${build.command}`);

await new Promise((r) => setTimeout(r, 400));
const early = await tasks.getStatus(build.id);
show(
  `${build.id} after 0.4 s`,
  `${early?.status}; output so far: ${JSON.stringify(await tasks.readOutput(build.id))}`,
);

const tree = await tasks.spawnShell("sleep 300 & sleep 300 & wait", {
  description: "a tree to kill",
});
show(`spawned ${tree.id}`, `a shell with two children`);
const killed = await tasks.kill(tree.id, { graceMs: 500 });
show(`killed ${tree.id}`, `${killed.status} (${killed.error})`);

let offset = 0;
for await (const text of tasks.follow(build.id, { offset: 0 })) {
  for (const line of text.trimEnd().split("\n")) show(`${build.id} output`, line);
  offset += new TextEncoder().encode(text).length;
}
const done = await tasks.wait(build.id);
show(`${build.id} finished`, `${done.status}, exit code ${done.exitCode}, ${offset} bytes`);

const news = await tasks.drainCompletions();
show("completions", news.map((t) => `${t.id}:${t.status}`).join(" "));
show("completions again", JSON.stringify(await tasks.drainCompletions()) + " (each is told once)");

// The CLI on the same store, for those with Deno installed and for those
// with only Node.js/npm (the README's Quick start), at this Deno's version.
console.log(`\n${(await tasks.list()).length} task(s) in the store; see them with the CLI:`);
console.log(`  with Deno installed:     deno task bgtask list`);
console.log(`  with only Node.js/npm:   npx -y deno@${Deno.version.deno} task bgtask list`);
