/**
 * Builds `src/supervisor/scripts.ts` from the shell files next to it: each
 * entry script with the files it includes (`#@include lib.sh`) inlined, and
 * comment-only and blank lines and indentation dropped (bash parses every
 * byte of them on every spawn: ~0.3 ms a kilobyte here). In the supervisor
 * script, a function marked `NAME() { #@lazy G` is parsed only when first
 * called (see `withLazy`); elsewhere the mark is only a comment. The .sh
 * files are the single source of truth; the generated module is checked in,
 * so the published package needs no text imports.
 *
 *     deno task gen            rewrite the module
 *     deno task gen --check    exit 1 if it is stale (CI)
 *
 * @module
 */

const DIR = new URL("../src/supervisor/", import.meta.url);
const OUT = new URL("scripts.ts", DIR);
const ENTRIES = [
  ["SUPERVISOR_SH", "supervisor.sh", "The launcher, supervisor and watchdog of one task."],
  [
    "QUEUE_SH",
    "queue.sh",
    "The queue and dependency scheduler, parsed by a supervisor when needed.",
  ],
  ["CONTROL_SH", "control.sh", "Liveness checks, signals, queue scheduling for Deno."],
  [
    "STDIN_SH",
    "stdin.sh",
    "Interactive tasks (a pipe or a terminal for stdin), parsed only for them.",
  ],
] as const;

function read(name: string): string {
  return Deno.readTextFileSync(new URL(name, DIR));
}

/**
 * Drops comment-only and blank lines and leading indentation, except between
 * two `#@verbatim` lines (a multi-line string whose lines matter as they
 * are, such as Python code); the scripts have no here-documents.
 */
function strip(text: string): string {
  const out: string[] = [];
  let verbatim = false;
  for (const l of text.split("\n")) {
    if (/^#@verbatim$/.test(l)) verbatim = !verbatim;
    else if (verbatim) out.push(l);
    else if (!/^\s*(#.*)?$/.test(l)) out.push(l.trimStart());
  }
  return out.join("\n") + "\n";
}

/** The scripts a supervisor evaluates (`$_qsh`, `$_ish`), which call its functions. */
const EVALUATED = ["queue.sh", "stdin.sh"];

/** A function marked `NAME() { #@lazy GROUP` (GROUP: one letter). */
const LAZY = /^([a-z_]+)\(\) \{ #@lazy ([A-Z])$/;

function build(entry: string, lazy: boolean): string {
  const lines = read(entry).split("\n").flatMap((l) => {
    const m = /#@include (\S+)$/.exec(l);
    return m ? read(m[1]).split("\n") : [l];
  });
  return lazy ? withLazy(lines) : strip(lines.join("\n").replaceAll(" #@lazy ", " #"));
}

/**
 * The script with its `#@lazy` functions parsed only when first called: a
 * function of group G is replaced where it stood by a one-line stub (none
 * when only its own group calls it), and the group's functions are appended
 * after the script's last command, where bash's `eval` of the script never
 * parses them (it parses a command at a time, and the last one exits; were
 * it reached, it would only define them).
 * A stub's first call evaluates its group, taken from the end of `$_sh` (the
 * script's own text) by offset: a pattern would cost a scan of it all.
 */
function withLazy(lines: string[]): string {
  const eager: string[] = [];
  const groups = new Map<string, string[]>();
  let group: string[] | undefined;
  for (const l of lines) {
    const m = LAZY.exec(l);
    if (m) {
      group = groups.get(m[2]) ?? [];
      groups.set(m[2], group);
      eager.push(`${m[1]}() { STUB_${m[2]} && ${m[1]} "$@"; }`);
      group.push(`${m[1]}() {`);
      continue;
    }
    if (group) {
      if (l !== "}" && /^\S/.test(l) && !l.startsWith("#")) {
        throw new Error(`a lazy function's line starts at column 0 before its end: ${l}`);
      }
      group.push(l);
      if (l === "}") group = undefined;
      continue;
    }
    eager.push(l);
  }
  // The groups, one after the other at the end: a stub names where its group
  // starts, counted back from the end (ASCII only, so that characters are
  // bytes in any locale), and its length.
  const texts = [...groups.entries()].map(([g, lines]) => [g, strip(lines.join("\n"))]);
  const tail = texts.map(([, text]) => text).join("");
  if ([...tail].some((c) => c.charCodeAt(0) > 0x7f)) {
    throw new Error("lazy functions must be ASCII (their offsets count from the end)");
  }
  let body = strip(eager.join("\n"));
  // A stub only for a function called from outside its group (the eager
  // text, another group, the scripts the supervisor evaluates): one called
  // only by its own group's functions is defined by the time they run. (Each
  // stub costs every spawn its parse.) A name in a comment counts too.
  const evaluated = EVALUATED.map((f) => strip(read(f))).join("\n");
  for (const [g] of texts) {
    const stub = new RegExp(`^([a-z_]+)\\(\\) \\{ STUB_${g} && \\1 "\\$@"; \\}\\n`, "gm");
    const outside = [body.replace(stub, ""), ...texts.filter(([h]) => h !== g).map(([, t]) => t)]
      .join("\n") + evaluated;
    body = body.replace(
      stub,
      (line, name) => new RegExp(`\\b${name}\\b`).test(outside) ? line : "",
    );
  }
  let from = tail.length;
  for (const [g, text] of texts) {
    body = body.replaceAll(`STUB_${g} `, `_lazy ${g} ${from} ${text.length} `);
    from -= text.length;
  }
  const helper = "_lazy() {\n" +
    "local v=_lz_$1\n" +
    "[[ -z ${!v-} ]] || return 1\n" +
    'printf -v "$v" 1\n' +
    'eval "${_sh: -$2:$3}"\n' +
    "}\n";
  return helper + body + tail;
}

function render(): string {
  let out = "// Generated by `deno task gen` (tools/gen_scripts.ts) from src/supervisor/*.sh.\n" +
    "// Do not edit: change the .sh files and run `deno task gen`.\n\n";
  for (const [name, file, doc] of ENTRIES) {
    const lib = read(file).includes("#@include lib.sh") ? " and `lib.sh`" : "";
    out += `/** ${doc} Built from \`${file}\`${lib}. */\n`;
    out += `export const ${name}: string = ${
      JSON.stringify(build(file, name === "SUPERVISOR_SH"))
    };\n\n`;
  }
  return out.trimEnd() + "\n";
}

const text = render();
if (Deno.args.includes("--check")) {
  let current = "";
  try {
    current = Deno.readTextFileSync(OUT);
  } catch { /* missing counts as stale */ }
  if (current !== text) {
    console.error("src/supervisor/scripts.ts is stale: run `deno task gen` and commit it");
    Deno.exit(1);
  }
} else {
  Deno.writeTextFileSync(OUT, text);
}
