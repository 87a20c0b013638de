import { assertEquals } from "./_helpers/assert.ts";
import { DENO_DIR, runDeno } from "./_helpers/common.ts";

const code = `import { cacheDir, defaultStoreDir } from MOD;
  console.log(JSON.stringify([cacheDir("linux"), cacheDir("darwin"), defaultStoreDir()]));`;
const flags = ["--allow-env=HOME,XDG_CACHE_HOME,BGTASK_DIR"];
// Deno itself reads XDG_CACHE_HOME for its own cache: each child gets DENO_DIR,
// where it is now, so the fake values below do not make the child create folders.

Deno.test("the store defaults to the platform cache directory", async (t) => {
  await t.step("XDG_CACHE_HOME wins on Linux", async () => {
    const r = await runDeno(flags, code, {
      env: { HOME: "/home/u", XDG_CACHE_HOME: "/xdg", BGTASK_DIR: "", DENO_DIR },
    });
    assertEquals(JSON.parse(r.stdout), ["/xdg", "/home/u/Library/Caches", "/xdg/bgtask"]);
  });
  await t.step("~/.cache without XDG_CACHE_HOME; a relative XDG value is ignored", async () => {
    const r = await runDeno(flags, code, {
      env: { HOME: "/home/u", XDG_CACHE_HOME: "rel", BGTASK_DIR: "", DENO_DIR },
    });
    assertEquals(JSON.parse(r.stdout)[0], "/home/u/.cache");
  });
  await t.step("neither HOME nor XDG_CACHE_HOME: the error names the ways out", async () => {
    const r = await runDeno(
      flags,
      `import { cacheDir } from MOD;
      try { cacheDir("linux"); } catch (e) { console.log((e as Error).message); }`,
      {
        env: { HOME: "", XDG_CACHE_HOME: "", DENO_DIR },
      },
    );
    assertEquals(
      r.stdout.trim(),
      "Cannot find the cache directory: neither $XDG_CACHE_HOME nor $HOME is set " +
        "(give the store: a dir to new TaskManager, --dir DIR to the CLI, or $BGTASK_DIR; or set HOME)",
    );
  });
  await t.step(
    "a relative HOME is ignored as a relative XDG_CACHE_HOME is (the path is absolute, as promised)",
    async () => {
      // From a library user's walk: HOME=relhome gave "relhome/.cache".
      const r = await runDeno(
        flags,
        `import { cacheDir } from MOD;
      for (const os of ["linux", "darwin"] as const) {
        try { console.log(cacheDir(os)); } catch (e) { console.log((e as Error).message); }
      }`,
        { env: { HOME: "relhome", XDG_CACHE_HOME: "", DENO_DIR } },
      );
      assertEquals(r.stdout.trim().split("\n"), [
        // (It said "neither $XDG_CACHE_HOME nor $HOME is set ($HOME is "relhome", …)".)
        'Cannot find the cache directory: $HOME is "relhome", a relative path, which is ' +
        "ignored, and $XDG_CACHE_HOME is not set (give the store: a dir to new TaskManager, " +
        "--dir DIR to the CLI, or $BGTASK_DIR; or set HOME)",
        'Cannot find the cache directory: $HOME is "relhome", a relative path, which is ' +
        "ignored (give the store: a dir to new TaskManager, --dir DIR to the CLI, or " +
        "$BGTASK_DIR; or set HOME)",
      ]);
      // An absolute XDG_CACHE_HOME is still used.
      const xdg = await runDeno(
        flags,
        `import { cacheDir } from MOD;
      console.log(cacheDir("linux"));`,
        { env: { HOME: "relhome", XDG_CACHE_HOME: "/xdg", DENO_DIR } },
      );
      assertEquals(xdg.stdout.trim(), "/xdg");
    },
  );
  await t.step("with XDG_CACHE_HOME set, HOME is not read: --allow-env needs no HOME", async () => {
    // (A CI walk: granted XDG_CACHE_HOME and BGTASK_DIR, set, it failed "(reading $HOME)".)
    const r = await runDeno(
      ["--allow-env=XDG_CACHE_HOME,BGTASK_DIR"],
      `import { cacheDir, defaultStoreDir } from MOD;
      console.log(JSON.stringify([cacheDir("linux"), defaultStoreDir()]));`,
      { env: { HOME: "/home/u", XDG_CACHE_HOME: "/xdg", BGTASK_DIR: "", DENO_DIR } },
    );
    assertEquals(JSON.parse(r.stdout), ["/xdg", "/xdg/bgtask"], r.stderr);
  });
  await t.step("BGTASK_DIR overrides", async () => {
    const r = await runDeno(flags, code, {
      env: { HOME: "/home/u", BGTASK_DIR: "/s/t", DENO_DIR },
    });
    assertEquals(JSON.parse(r.stdout)[2], "/s/t");
  });
});

Deno.test("new TaskManager() with HOME (or XDG_CACHE_HOME, BGTASK_DIR) not UTF-8 throws an error naming the variable and { dir }, not Deno's InvalidData", async () => {
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      script,
      `import { TaskManager } from ${JSON.stringify(new URL("../mod.ts", import.meta.url).href)};
      try { new TaskManager(); console.log("no error"); }
      catch (e) { console.log(e.constructor.name + ": " + (e as Error).message); }`,
    );
    for (const name of ["HOME", "XDG_CACHE_HOME", "BGTASK_DIR"]) {
      const out = await new Deno.Command("bash", {
        args: [
          "-c",
          `export ${name}="$(printf '/tmp/caf\\351')"; exec "$@"`,
          "bash",
          Deno.execPath(),
          "run",
          "--no-prompt",
          ...flags,
          script,
        ],
        clearEnv: true,
        env: { PATH: Deno.env.get("PATH") ?? "", HOME: "/tmp", DENO_DIR },
      }).output();
      assertEquals(
        new TextDecoder().decode(out.stdout).trim(),
        `Error: Cannot find the bgtask store: $${name} holds bytes that are not UTF-8, which ` +
          "Deno cannot read; name the store explicitly (bgtask --dir DIR, new TaskManager({ dir " +
          `})), or set ${name} to a path that is UTF-8`,
      );
    }
  } finally {
    await Deno.remove(script);
  }
});
