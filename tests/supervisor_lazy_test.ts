// The supervisor script parses its rarely needed functions (kills, caps, a
// task that cannot start) and the watchdog's only when first called: each
// is a one-line stub that evaluates its group, cut from the end of the
// script's own text by offset (tools/gen_scripts.ts). Bash runs the
// generated text here: a stub that pointed at the wrong bytes would define
// nothing, or other functions.
import { deepEqual } from "node:assert/strict";
import { SUPERVISOR_SH } from "../src/supervisor/scripts.ts";
import { run } from "./_helpers/reliability.ts";

const STUB = /^([a-z_]+)\(\) \{ (_lazy ([A-Z]) [0-9]+ [0-9]+) && \1 "\$@"; \}$/gm;

Deno.test("supervisor script: a lazy function is a stub until called; the first call of its group defines them all, and runs", async () => {
  const stubs = [...SUPERVISOR_SH.matchAll(STUB)].map((m) => ({ f: m[1], call: m[2], g: m[3] }));
  const groups = [...new Set(stubs.map((s) => s.g))];
  deepEqual(groups.length >= 2 && stubs.some((s) => s.f === "kill_group"), true);
  // What each function is now: "stub" or "real", one line a group.
  const report = groups.map((g) =>
    `r=''; for f in ${
      stubs.filter((s) => s.g === g).map((s) => s.f).join(" ")
    }; do if declare -f "$f" | grep -q '_lazy [A-Z]'; then r+=" stub"; else r+=" real"; fi; done; ` +
    `echo "${g}:$(printf '%s\\n' $r | sort -u | tr '\\n' ' ')"\n`
  ).join("");
  const first = stubs.find((s) => s.f === "sig_name")!;
  const probe = report +
    // The first call of one function of a group: the group's bodies replace its stubs.
    `sig_name 15; echo "sig_name 15: $_sig"\n` + report +
    // A group already defined is not evaluated again (its stubs would come back).
    `${first.call} && echo again; echo "second: $?"\n` + report +
    "exit 0\n";
  // The script up to its dispatch (which would run a verb), the probe, and
  // the rest, which the probe's exit keeps bash from reading: `_sh` ends as
  // the script does, so the stubs' offsets hold.
  const cut = SUPERVISOR_SH.indexOf("\ncase $verb in\n") + 1;
  const out = await run("bash", ["--posix", "-c", 'set +o posix; eval "$BGTASK_SH"', "probe"], {
    env: { BGTASK_SH: SUPERVISOR_SH.slice(0, cut) + probe + SUPERVISOR_SH.slice(cut) },
  });
  deepEqual(out.stderr, "");
  const [k, w] = [first.g, groups.find((g) => g !== first.g)!];
  const lines = out.stdout.split("\n");
  const state = (g: string, s: string) => `${g}:${s} `;
  deepEqual(lines.filter((l) => l.startsWith(`${k}:`)), [
    state(k, "stub"),
    state(k, "real"),
    state(k, "real"),
  ]);
  deepEqual(lines.filter((l) => l.startsWith(`${w}:`)), [
    state(w, "stub"),
    state(w, "stub"),
    state(w, "stub"),
  ]);
  deepEqual(lines.filter((l) => l !== "" && !/^[A-Z]:/.test(l)), [
    "sig_name 15: SIGTERM",
    "second: 1",
  ]);
});
