/**
 * The bearer token of `bgtask mcp --http`: given (flag or environment), or
 * generated once into the store with mode 0600 and reused, so that a
 * client's configuration keeps working across restarts.
 *
 * @module
 */

import { FsStore } from "../store/fs_store.ts";

/** The environment variable that may carry the token. */
export const TOKEN_ENV = "BGTASK_MCP_TOKEN";
/** Tokens shorter than this are refused (guessable). */
export const MIN_TOKEN_LENGTH = 16;

/** Where the token came from, and the token. */
export interface Token {
  token: string;
  /** `flag`, `env`, or the file's path. */
  source: string;
  /**
   * For a token from the file: `BGTASK_MCP_TOKEN` could not be read (not
   * granted by --allow-env), so one set there was not used. (Whether it is
   * set cannot be told without reading it.)
   */
  envUnreadable?: boolean;
}

/** A new random token: 32 bytes, base64url. */
export function newToken(): string {
  const b = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...b)).replaceAll("+", "-").replaceAll("/", "_").replace(
    /=+$/,
    "",
  );
}

/** Checks a given token; throws a TypeError naming the problem. */
export function checkToken(token: string, from: string): string {
  const t = token.trim();
  if (t.length < MIN_TOKEN_LENGTH || /[\s"',]/.test(t)) {
    throw new TypeError(
      `the token from ${from} must be at least ${MIN_TOKEN_LENGTH} characters, without spaces ` +
        `or quotes (leave it out and one is generated into the store)`,
    );
  }
  return t;
}

/** The token in `BGTASK_MCP_TOKEN`, when the variable is set and may be read. */
function fromEnv(): string | undefined {
  const allowed = Deno.permissions.querySync({ name: "env", variable: TOKEN_ENV }).state;
  if (allowed !== "granted") return undefined;
  const v = Deno.env.get(TOKEN_ENV);
  return v === undefined || v === "" ? undefined : checkToken(v, TOKEN_ENV);
}

/**
 * The token to require: `flag` if given, else `$BGTASK_MCP_TOKEN` (when
 * `--allow-env` grants it), else the store's token file — created with mode
 * 0600 on first use. A token file readable by others is made private again.
 */
export async function loadToken(storeDir: string, flag?: string): Promise<Token> {
  if (flag !== undefined) return { token: checkToken(flag, "--token"), source: "--token" };
  const env = fromEnv();
  if (env) return { token: env, source: TOKEN_ENV };
  // The store's checks first (this user's, 0700, no symlink, not a shared
  // folder): a token file in a folder others may write could be one they
  // planted, and then they could run commands through this server.
  const store = new FsStore(storeDir);
  await store.open("write");
  const path = store.mcpTokenPath;
  try {
    await Deno.writeTextFile(path, newToken() + "\n", { createNew: true, mode: 0o600 });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
  const st = await Deno.stat(path);
  if (st.mode !== null && (st.mode & 0o077) !== 0) await Deno.chmod(path, 0o600);
  const token = (await Deno.readTextFile(path)).trim();
  const envUnreadable =
    Deno.permissions.querySync({ name: "env", variable: TOKEN_ENV }).state !== "granted";
  return { token: checkToken(token, path), source: path, envUnreadable };
}
