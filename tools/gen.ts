/**
 * `deno task gen [--check]`: the generated files, in order — the supervisor
 * scripts module (tools/gen_scripts.ts), then the CLI's bundle, which
 * contains it (tools/gen_bundle.ts). With `--check`, exit 1 if one is stale.
 *
 * @module
 */

await import("./gen_scripts.ts");
await import("./gen_bundle.ts");
