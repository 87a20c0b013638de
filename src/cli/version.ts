/**
 * The version, read from deno.json so that it cannot drift from the package.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };

/**
 * The package version, e.g. `"0.2.0-dev"`.
 *
 * @example
 * ```ts
 * import { VERSION } from "./version.ts";
 * import { match } from "node:assert/strict";
 * match(VERSION, /^\d+\.\d+\.\d+/);
 * ```
 */
export const VERSION: string = denoJson.version;
