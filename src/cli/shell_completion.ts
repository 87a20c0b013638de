/**
 * Shell completion scripts (`bgtask completion bash|zsh|fish`), made from
 * the verbs themselves: their options, the few words some options take,
 * and, as the user types, the task ids and queue names of the store (asked
 * of `bgtask list` and `bgtask queue`, with the `--dir` on the line).
 *
 * @module
 */

import { TASK_STATUSES } from "../lifecycle.ts";
import { KILL_SIGNALS } from "../kill_signal.ts";
import type { OptionSpecs } from "./args.ts";
import type { Verb } from "./context.ts";

/** The shells bgtask has a completion script for. */
export const SHELLS = ["bash", "zsh", "fish"] as const;

/** One of {@linkcode SHELLS}. */
export type Shell = typeof SHELLS[number];

/** The few words an option takes, by option name (the rest take anything). */
const WORDS: Readonly<Record<string, string>> = {
  color: "auto always never",
  stdin: "null pipe pty",
  status: TASK_STATUSES.join(" "),
  signal: KILL_SIGNALS.map((s) => s.slice(3)).join(" "),
  until: "exit input",
  key: "enter tab esc backspace space up down left right home end delete pageup pagedown " +
    "ctrl-c ctrl-d ctrl-z ctrl-l ctrl-u",
};

/** Options whose value is a folder, a queue's name, or task ids. */
const FOLDERS = new Set(["dir", "cwd"]);
const QUEUES = new Set(["queue"]);
const IDS = new Set(["after"]);

/** What a verb's positionals are, for completing them. */
type Positionals = "ids" | "first-id" | "command" | "queue" | "shell" | "verb" | "none";

/** One way to write an option: `--tail` or `-n`, for `tail`. */
export interface Flag {
  /** As typed: `--tail`, `-n`. */
  flag: string;
  /** The option's long name (what its value is looked up by): `tail`. */
  name: string;
  /** Whether it takes a value. */
  valued: boolean;
}

/** A verb as the scripts see it. */
export interface VerbShape {
  name: string;
  /** Its options, each long and (if it has one) short. */
  options: Flag[];
  positionals: Positionals;
  /** Its one-line description (fish shows it). */
  about: string;
}

function optionFlags(specs: OptionSpecs): Flag[] {
  return Object.entries(specs).flatMap(([name, s]) => {
    const valued = s.type === "string";
    const long = { flag: `--${name}`, name, valued };
    return s.short ? [long, { flag: `-${s.short}`, name, valued }] : [long];
  });
}

/**
 * The shapes of `verbs` (and of `help` and `completion`, which the command
 * line handles itself), with each one's line of the main help (`about`);
 * `common` are the options every verb takes (`--dir`, `--color`, `--help`).
 *
 * @example
 * ```ts
 * import { verbShapes } from "./shell_completion.ts";
 * import { deepEqual } from "node:assert/strict";
 * const [rm] = verbShapes(
 *   [{ name: "rm", options: { json: { type: "boolean" } }, positionals: "some", ids: "every", run: () => Promise.resolve(0) }],
 *   new Map([["rm", "delete finished tasks"]]),
 *   { dir: { type: "string" } },
 * );
 * deepEqual(rm.options.map((o) => o.flag), ["--json", "--dir"]);
 * deepEqual([rm.positionals, rm.about], ["ids", "delete finished tasks"]);
 * ```
 */
export function verbShapes(
  verbs: readonly Verb[],
  about: ReadonlyMap<string, string>,
  common: OptionSpecs = {},
): VerbShape[] {
  const shapes: VerbShape[] = verbs.map((v) => ({
    name: v.name,
    options: optionFlags({ ...v.options, ...common }),
    positionals: v.name === "queue"
      ? "queue"
      : v.ids === "first"
      ? "first-id"
      : v.ids === "every"
      ? "ids"
      : v.positionals === "command"
      ? "command"
      : "none",
    about: about.get(v.name) ?? "",
  }));
  const options = optionFlags(common);
  shapes.push(
    { name: "help", options, positionals: "verb", about: about.get("help") ?? "" },
    { name: "completion", options, positionals: "shell", about: about.get("completion") ?? "" },
  );
  return shapes;
}

/**
 * Each verb's line in the main help (`  rm ID…   delete finished tasks…`):
 * verb → what it does.
 *
 * @example
 * ```ts
 * import { verbAbout } from "./shell_completion.ts";
 * import { equal } from "node:assert/strict";
 * const help = "Usage: bgtask VERB\n\nVerbs:\n  rm ID…      delete them\n  list        the tasks\n\nOptions:\n";
 * const about = verbAbout(help);
 * equal(about.get("rm"), "delete them");
 * ```
 */
export function verbAbout(mainHelp: string): Map<string, string> {
  const out = new Map<string, string>();
  const section = mainHelp.split("\nVerbs:\n")[1]?.split("\n\n")[0] ?? "";
  for (const line of section.split("\n")) {
    const m = /^ {2}([a-z]+)\b.*?\s{2,}(\S.*)$/.exec(line);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

/**
 * The completion script for `shell`.
 *
 * @example
 * ```ts
 * import { completionScript } from "./shell_completion.ts";
 * import { ok } from "node:assert/strict";
 * const json = { flag: "--json", name: "json", valued: false };
 * const shapes = [{ name: "list", options: [json], positionals: "none" as const, about: "the tasks" }];
 * ok(completionScript("bash", shapes).includes("complete -F _bgtask bgtask"));
 * ```
 */
export function completionScript(shell: Shell, verbs: readonly VerbShape[]): string {
  switch (shell) {
    case "bash":
      return bashScript(verbs);
    case "zsh":
      return zshScript(verbs);
    case "fish":
      return fishScript(verbs);
  }
}

/** The options taken before a verb. */
const GLOBAL: readonly Flag[] = [
  { flag: "--dir", name: "dir", valued: true },
  { flag: "--color", name: "color", valued: true },
  { flag: "--help", name: "help", valued: false },
  { flag: "-h", name: "help", valued: false },
  { flag: "--version", name: "version", valued: false },
];

/** `--a --b -c`: options as a word list (only those that take a value, or none, if asked). */
function flags(options: readonly Flag[], valued: boolean | undefined = undefined): string {
  return options.filter((o) => valued === undefined || o.valued === valued).map((o) => o.flag)
    .join(" ");
}

/** The value words of an option, as a bash expression (empty: any value). */
function bashValue(option: string): string {
  if (FOLDERS.has(option)) return "dirs";
  if (QUEUES.has(option)) return '$(_bgtask_ask queue "${store[@]}")';
  if (IDS.has(option)) return '$(_bgtask_ask list "${store[@]}") last';
  return WORDS[option] ?? "";
}

function bashScript(verbs: readonly VerbShape[]): string {
  const valuedOf = verbs.map((v) => `    ${v.name}) valued="${flags(v.options, true)}" ;;`).join(
    "\n",
  );
  const allValued = [
    ...new Set(verbs.flatMap((v) => v.options).filter((o) => o.valued).map((o) => o.name)),
  ];
  const values = allValued.sort().map((o) => {
    const v = bashValue(o);
    if (v === "dirs") return `      --${o}) _bgtask_reply -d -- "$cur" ;;`;
    return v === "" ? `      --${o}) ;;` : `      --${o}) _bgtask_reply -W "${v}" -- "$cur" ;;`;
  }).join("\n");
  // A short option that takes a value, as its long one (logs -n: --tail).
  const shortValued = verbs.flatMap((v) =>
    v.options.filter((o) => o.valued && !o.flag.startsWith("--")).map((o) =>
      `    "${v.name} ${o.flag}") prev=--${o.name} ;;`
    )
  ).join("\n");
  const optionsOf = verbs.map((v) => `    ${v.name}) words="${flags(v.options)}" ;;`).join("\n");
  const positional = verbs.map((v) => `    ${v.name}) kind='${v.positionals.replace("-", "_")}' ;;`)
    .join("\n");
  return `# bash completion for bgtask: \`source <(bgtask completion bash)\` in ~/.bashrc, or
# bgtask completion bash > ~/.local/share/bash-completion/completions/bgtask
# (made by bgtask completion bash; task ids and queue names are the store's,
# asked of bgtask as you type, with the --dir on the line)

# _bgtask_ask list|queue [--dir DIR]: the first column of that table, as
# _bgtask_cmd (the command on the line, see _bgtask_command) prints it.
_bgtask_ask() {
  local what=$1 first _
  shift
  case $what in
  list) "\${_bgtask_cmd[@]}" "$@" list --last 200 2>/dev/null ;;
  queue) "\${_bgtask_cmd[@]}" "$@" queue 2>/dev/null ;;
  esac | {
    read -r _ || return 0
    while read -r first _; do printf '%s\\n' "$first"; done
  }
}

# _bgtask_dequote WORD: _bgtask_w = WORD as the shell would pass it on (the
# quotes around it, its backslashes and a leading ~/ undone; nothing is run).
_bgtask_dequote() {
  local w=$1
  case $w in
  \\'*\\' | \\"*\\") w=\${w:1:\${#w}-2} ;;
  *) w=\${w//\\\\/} ;;
  esac
  [[ $w == \\~/* ]] && w=$HOME/\${w:2}
  _bgtask_w=$w
}

# _bgtask_command WORD: _bgtask_cmd = what WORD runs, to ask it for ids and
# queues. A command or a function (bt() { bgtask "$@"; }) runs as it is; an
# alias does not (neither shell expands one held in a variable), so its words
# stand for it (alias bt='bgtask --dir ~/x': bgtask --dir ~/x, each dequoted;
# an alias whose first word is another alias, that one's too).
_bgtask_command() {
  local value w n j
  local -a parts
  _bgtask_cmd=("$1")
  for ((n = 0; n < 8; n++)); do
    if [[ -n \${ZSH_VERSION-} ]]; then
      value=\${aliases[\${_bgtask_cmd[0]}]-}
    else
      value=\${BASH_ALIASES[\${_bgtask_cmd[0]}]-}
    fi
    [[ -n $value ]] || return 0
    if [[ -n \${ZSH_VERSION-} ]]; then
      read -r -A parts <<<"$value"
    else
      read -r -a parts <<<"$value"
    fi
    ((\${#parts[@]} > 0)) || return 0
    w=\${_bgtask_cmd[0]}
    _bgtask_cmd=("\${_bgtask_cmd[@]:1}")
    for ((j = \${#parts[@]} - 1; j >= 0; j--)); do
      _bgtask_dequote "\${parts[j]}"
      _bgtask_cmd=("$_bgtask_w" "\${_bgtask_cmd[@]}")
    done
    # (alias bgtask='bgtask --dir ~/x': the shell does not expand it again.)
    [[ \${_bgtask_cmd[0]} == "$w" ]] && return 0
  done
  return 0
}

# _bgtask_reply COMPGEN-ARGS…: COMPREPLY, a word a line (a file name with a
# space in it is one word, and nothing is globbed).
_bgtask_reply() {
  local line
  COMPREPLY=()
  while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen "$@")
}

_bgtask() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=''
  local verb='' valued='' words='' kind=none i w npos=0
  local -a store=() _bgtask_cmd=()
  _bgtask_command "\${COMP_WORDS[0]}"
  COMPREPLY=()
  ((COMP_CWORD > 0)) && prev=\${COMP_WORDS[COMP_CWORD - 1]}
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    case $w in
    --dir)
      _bgtask_dequote "\${COMP_WORDS[i + 1]-}"
      store=(--dir "$_bgtask_w")
      ;;
    --dir=*)
      _bgtask_dequote "\${w#--dir=}"
      store=(--dir "$_bgtask_w")
      ;;
    esac
    if [[ -z $verb ]]; then
      case $w in
      --dir | --color) ((i++)) ;;
      -*) ;;
      *)
        verb=$w
        case $verb in
${valuedOf}
        esac
        ;;
      esac
    elif [[ $verb == run && $npos -gt 0 ]] || [[ $verb == send && $npos -gt 1 ]]; then
      npos=$((npos + 1))
    elif [[ " $valued " == *" $w "* ]]; then
      ((i++))
    elif [[ $w != -* ]]; then
      npos=$((npos + 1))
    fi
  done
  # The value of an option (not inside run's command, nor send's text)
  if [[ $prev == -* && " \${valued:---dir --color} " == *" $prev "* ]] &&
    ! [[ $verb == run && $npos -gt 0 ]]; then
    case "$verb $prev" in
${shortValued}
    esac
    case $prev in
${values}
    esac
    return 0
  fi
  if [[ -z $verb ]]; then
    if [[ $cur == -* ]]; then
      _bgtask_reply -W "${flags(GLOBAL)}" -- "$cur"
    else
      _bgtask_reply -W "${verbs.map((v) => v.name).join(" ")}" -- "$cur"
    fi
    return 0
  fi
  case $verb in
${positional}
  esac
  # run's command: a command, then its arguments (files)
  if [[ $kind == command && $npos -gt 0 ]]; then
    _bgtask_reply -f -- "$cur"
    return 0
  fi
  if [[ $cur == -* ]]; then
    case $verb in
${optionsOf}
    esac
    _bgtask_reply -W "$words" -- "$cur"
    return 0
  fi
  case $kind in
  ids) words="$(_bgtask_ask list "\${store[@]}") last" ;;
  first_id) ((npos == 0)) && words="$(_bgtask_ask list "\${store[@]}") last" ;;
  queue)
    if ((npos == 0)); then
      words="set pause resume rm"
    elif ((npos == 1)); then
      words=$(_bgtask_ask queue "\${store[@]}")
    fi
    ;;
  command)
    _bgtask_reply -c -- "$cur"
    return 0
    ;;
  shell) ((npos == 0)) && words="${SHELLS.join(" ")}" ;;
  verb) ((npos == 0)) && words="${verbs.map((v) => v.name).join(" ")}" ;;
  esac
  _bgtask_reply -W "$words" -- "$cur"
  return 0
}

complete -F _bgtask bgtask
`;
}

function zshScript(verbs: readonly VerbShape[]): string {
  return `# zsh completion for bgtask: \`source <(bgtask completion zsh)\` in ~/.zshrc,
# after compinit (not a file for $fpath: it runs the bash completion through
# zsh's bashcompinit, which registers it when sourced).
autoload -U +X bashcompinit && bashcompinit
${bashScript(verbs).split("\n").filter((l) => !l.startsWith("#")).join("\n")}`;
}

/** A fish single-quoted word. */
function fishQuote(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

function fishValue(option: string): string {
  if (FOLDERS.has(option)) return "-x -a '(__fish_complete_directories)'";
  if (QUEUES.has(option)) return "-x -a '(__bgtask_ask queue)'";
  if (IDS.has(option)) return "-x -a '(__bgtask_ask list) last'";
  const words = WORDS[option];
  return words ? `-x -a ${fishQuote(words)}` : "-x";
}

function fishScript(verbs: readonly VerbShape[]): string {
  const lines: string[] = [];
  const names = verbs.map((v) => v.name).join(" ");
  for (const v of verbs) {
    lines.push(
      `complete -c bgtask -n __bgtask_no_verb -a ${v.name} -d ${fishQuote(v.about)}`,
    );
  }
  const fishFlag = (o: Flag) =>
    (o.flag.startsWith("--") ? `-l ${o.name}` : `-s ${o.flag.slice(1)}`) +
    (o.valued ? ` ${fishValue(o.name)}` : "");
  for (const g of GLOBAL) lines.push(`complete -c bgtask -n __bgtask_no_verb ${fishFlag(g)}`);
  for (const v of verbs) {
    const when = `'__bgtask_options_of ${v.name}'`;
    for (const o of v.options) lines.push(`complete -c bgtask -n ${when} ${fishFlag(o)}`);
    const pos = `'__bgtask_positional ${v.name}`;
    switch (v.positionals) {
      case "ids":
        lines.push(`complete -c bgtask -n ${pos}' -a '(__bgtask_ask list) last'`);
        break;
      case "first-id":
        lines.push(`complete -c bgtask -n ${pos} 0' -a '(__bgtask_ask list) last'`);
        break;
      case "queue":
        lines.push(`complete -c bgtask -n ${pos} 0' -a 'set pause resume rm'`);
        lines.push(`complete -c bgtask -n ${pos} 1' -a '(__bgtask_ask queue)'`);
        break;
      case "command":
        lines.push(`complete -c bgtask -n ${pos} 0' -a '(__fish_complete_command)'`);
        lines.push(`complete -c bgtask -n '__bgtask_in_command ${v.name}' -F`);
        break;
      case "shell":
        lines.push(`complete -c bgtask -n ${pos} 0' -a ${fishQuote(SHELLS.join(" "))}`);
        break;
      case "verb":
        lines.push(`complete -c bgtask -n ${pos} 0' -a ${fishQuote(names)}`);
        break;
    }
  }
  const valuedOf = verbs.map((v) =>
    `                        case ${v.name}\n                            set valued ${
      flags(v.options, true) || "''"
    }`
  ).join("\n");
  return `# fish completion for bgtask: bgtask completion fish | source, or
# bgtask completion fish > ~/.config/fish/completions/bgtask.fish
# (made by bgtask completion fish; task ids and queue names are the store's,
# asked of bgtask as you type, with the --dir on the line)

# The words of the line before the cursor, after bgtask: VERB, then the
# number of its positionals so far, then the store options, one a line.
function __bgtask_parse
    set -l words (commandline -opc)
    set -e words[1]
    set -l verb
    set -l npos 0
    set -l store
    set -l valued
    while set -q words[1]
        set -l w $words[1]
        set -e words[1]
        switch $w
            case --dir
                set store --dir $words[1]
            case '--dir=*'
                set store $w
        end
        if test -z "$verb"
            switch $w
                case --dir --color
                    set -e words[1]
                case '-*'
                case '*'
                    set verb $w
                    # (The options of this verb that take a value.)
                    switch $verb
${valuedOf}
                    end
            end
        else if test "$verb" = run -a $npos -gt 0; or test "$verb" = send -a $npos -gt 1
            set npos (math $npos + 1)
        else if contains -- $w $valued
            set -e words[1]
        else if not string match -q -- '-*' $w
            set npos (math $npos + 1)
        end
    end
    printf '%s\\n' "$verb" $npos $store
end

# __bgtask_ask list|queue: the first column of that table, of the store on the line.
function __bgtask_ask
    set -l parsed (__bgtask_parse)
    set -l bin (commandline -opc)[1]
    switch $argv[1]
        case list
            $bin $parsed[3..-1] list --last 200 2>/dev/null | tail -n +2 | string replace -r '\\s.*' ''
        case queue
            $bin $parsed[3..-1] queue 2>/dev/null | tail -n +2 | string replace -r '\\s.*' ''
    end
end

function __bgtask_no_verb
    test -z (__bgtask_parse)[1]
end

# __bgtask_options_of VERB: the verb is VERB, and its options apply here.
function __bgtask_options_of
    set -l parsed (__bgtask_parse)
    test "$parsed[1]" = $argv[1]; or return 1
    not test $argv[1] = run -a $parsed[2] -gt 0
end

# __bgtask_positional VERB [N]: the verb is VERB (and N positionals came before).
function __bgtask_positional
    set -l parsed (__bgtask_parse)
    test "$parsed[1]" = $argv[1]; or return 1
    set -q argv[2]; or return 0
    test $parsed[2] -eq $argv[2]
end

# __bgtask_in_command VERB: inside run's command, past its first word.
function __bgtask_in_command
    set -l parsed (__bgtask_parse)
    test "$parsed[1]" = $argv[1] -a $parsed[2] -gt 0
end

complete -c bgtask -f
${lines.join("\n")}
`;
}
