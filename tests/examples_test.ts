import { assert, assertEquals } from "./_helpers/assert.ts";
import { ROOT } from "./_helpers/common.ts";

Deno.test("the agent example from the README runs under the minimal permissions", async () => {
  const cwd = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--allow-run=bash",
        "--allow-read=.bgtask",
        "--allow-write=.bgtask",
        `${ROOT}examples/agent_tools.ts`,
      ],
      cwd,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    assert(stdout.includes('notice: Background task b1 "unit tests" completed.'), stdout);
    assert(stdout.includes('notice: Background task b2 "dev server" killed'), stdout);
    assert(stdout.includes("tests said: running tests\n3 passed"), stdout);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
