/**
 * The version, read from deno.json so that it cannot drift from the package.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };

/**
 * The package version, e.g. `"0.1.0"`.
 *
 * @example
 * ```ts
 * import { VERSION } from "./version.ts";
 * console.log(/^\d+\.\d+\.\d+/.test(VERSION)); // true
 * ```
 */
export const VERSION: string = denoJson.version;
