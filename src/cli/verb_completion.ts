/**
 * `bgtask completion bash|zsh|fish`: prints that shell's completion script
 * (made by shell_completion.ts). Not `completions`, which lists task notices.
 *
 * @module
 */

import type { Parsed } from "./args.ts";
import { COMMON_OPTIONS, type Context, type Verb } from "./context.ts";
import { UsageError } from "./errors.ts";
import { quote } from "./escape.ts";
import { printOut } from "./output.ts";

/** The `completion` verb. */
export const completionVerb: Verb = {
  name: "completion",
  options: {},
  positionals: "some",
  async run(_ctx: Context, { positionals }: Parsed): Promise<number> {
    const [{ completionScript, SHELLS, verbAbout, verbShapes }, { loadVerbs }, { helpText }] =
      await Promise.all([
        import("./shell_completion.ts"),
        import("./verbs.ts"),
        import("./help.ts"),
      ]);
    if (positionals.length !== 1) {
      throw new UsageError(
        `bgtask completion takes one shell, ${SHELLS.join(", ")}: e.g. ` +
          "source <(bgtask completion bash) (see bgtask completion --help)",
      );
    }
    const shell = SHELLS.find((s) => s === positionals[0]);
    if (shell === undefined) {
      throw new UsageError(
        `no completion script for ${quote(positionals[0])}: bgtask has them for ` +
          SHELLS.join(", "),
      );
    }
    const verbs = (await loadVerbs()).filter((v) => v.name !== "completion");
    const shapes = verbShapes(verbs, verbAbout(helpText()), COMMON_OPTIONS);
    await printOut(completionScript(shell, shapes));
    return 0;
  },
};
