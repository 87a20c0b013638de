/**
 * Tool arguments: each tool declares its fields once; from that come the
 * JSON Schema listed by `tools/list` and the check run on every call. A bad
 * argument is answered with one sentence that names the argument, what it
 * must be, and what was given — the fix is in the sentence.
 *
 * The result is a Standard Schema (what the MCP SDK's `registerTool` takes),
 * so no schema library is needed.
 *
 * @module
 */

import { isValidId } from "../../mod.ts";
import { likeliest } from "../options.ts";

/** One argument of a tool. */
export type Field =
  | {
    type: "string";
    description: string;
    required?: boolean;
    /** Reject "" (and whitespace only). */
    nonEmpty?: boolean;
    /** Only these values. */
    enum?: readonly string[];
  }
  | {
    type: "number" | "integer";
    description: string;
    required?: boolean;
    minimum: number;
    /** None: any larger value is accepted (a wait's seconds, which the tool caps, saying so). */
    maximum?: number;
    default?: number;
    /** The unit, for messages: "seconds", "bytes". */
    unit: string;
  }
  | { type: "boolean"; description: string; required?: boolean; default?: boolean }
  /** A task id: `b3` (or `3`), returned as `b3`. */
  | { type: "id"; description: string; required?: boolean }
  /** A non-empty list of task ids, duplicates dropped. */
  | { type: "ids"; description: string; required?: boolean; maxItems: number }
  /** Environment variables: an object of strings. */
  | { type: "env"; description: string; required?: boolean }
  /** One of `values`, or a list of them. Returned as a list. */
  | { type: "enumList"; description: string; required?: boolean; values: readonly string[] };

/** A tool's fields, by argument name. */
export type Fields = Record<string, Field>;

/** The Standard Schema shape the SDK's `registerTool` accepts (validation and JSON Schema). */
export interface ArgsSchema<T> {
  /** Standard Schema v1 props, with the JSON Schema extension. */
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (
      value: unknown,
    ) => { value: T; issues?: undefined } | { issues: { message: string }[] };
    readonly jsonSchema: {
      readonly input: (options?: unknown) => Record<string, unknown>;
      readonly output: (options?: unknown) => Record<string, unknown>;
    };
    readonly types?: { readonly input: T; readonly output: T };
  };
}

/** Thrown by {@linkcode checkArgs} for a bad argument; its message is the whole answer. */
export class ArgumentError extends Error {
  /** @param message What is wrong and what is expected. */
  constructor(message: string) {
    super(message);
    this.name = "ArgumentError";
  }
}

/**
 * A seconds argument as the whole milliseconds the library counts, rounded
 * to the nearest. A positive value under 1 ms is refused, as the CLI refuses
 * a duration under one unit: rounded, it would be 0, which means something
 * else to the library (`zero`: "no timeout") — a limit silently turned into
 * none.
 *
 * @param zero What 0 means for this argument, for the fix (`no timeout`).
 * @throws {ArgumentError} Naming the argument, and the fix: 0, or at least 0.001.
 *
 * @example
 * ```ts
 * import { wholeMs } from "./args.ts";
 * import { equal } from "node:assert/strict";
 * equal(wholeMs("timeout_s", 1.5, "no timeout"), 1500);
 * ```
 */
export function wholeMs(name: string, seconds: number, zero: string): number {
  const ms = seconds * 1000;
  if (ms > 0 && ms < 1) {
    throw new ArgumentError(
      `${name} ${seconds} is under 1 ms, the smallest step bgtask counts, and would round to ` +
        `0, which means ${zero}: give at least 0.001, or 0 for ${zero}`,
    );
  }
  return Math.round(ms);
}

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? v.slice(0, 60) + "…" : v);
  if (Array.isArray(v)) return "a list";
  if (v === null) return "null";
  if (typeof v === "object") return "an object";
  return String(v);
}

/** Parses `b3` or `3` as a task id; undefined when it is not one. */
export function asId(v: unknown): string | undefined {
  if (typeof v === "number" && Number.isSafeInteger(v) && v > 0) return `b${v}`;
  if (typeof v !== "string") return undefined;
  const id = /^[1-9][0-9]*$/.test(v.trim()) ? `b${v.trim()}` : v.trim();
  return isValidId(id) ? id : undefined;
}

function idError(name: string, v: unknown): ArgumentError {
  // A list where one id goes (task_kill's id, as ids in task_wait): said as such.
  if (Array.isArray(v)) {
    return new ArgumentError(
      `${name} takes one task id ("b1"), not a list: call once per task (task_wait takes ids, ` +
        `a list)`,
    );
  }
  return new ArgumentError(
    `${name} ${show(v)} is not a task id: ids look like "b1", "b2", … (task_list shows them)`,
  );
}

function checkField(name: string, f: Field, v: unknown): unknown {
  switch (f.type) {
    case "string": {
      if (typeof v !== "string") {
        throw new ArgumentError(`${name} must be a string, got ${show(v)}`);
      }
      if (f.nonEmpty && v.trim() === "") throw new ArgumentError(`${name} must not be empty`);
      if (f.enum && !f.enum.includes(v)) {
        throw new ArgumentError(
          `${name} must be one of ${f.enum.map((e) => `"${e}"`).join(", ")}, got ${show(v)}`,
        );
      }
      return v;
    }
    case "number":
    case "integer": {
      const whole = f.type === "integer";
      const ok = typeof v === "number" && Number.isFinite(v) &&
        (!whole || Number.isSafeInteger(v)) && v >= f.minimum && v <= (f.maximum ?? Infinity);
      if (!ok) {
        const range = f.maximum === undefined
          ? `of at least ${f.minimum}`
          : `from ${f.minimum} to ${f.maximum}`;
        throw new ArgumentError(
          `${name} must be ${whole ? "a whole number" : "a number"} of ${f.unit} ${range}, ` +
            `got ${show(v)}`,
        );
      }
      return v;
    }
    case "boolean":
      if (typeof v !== "boolean") {
        throw new ArgumentError(`${name} must be true or false, got ${show(v)}`);
      }
      return v;
    case "id": {
      const id = asId(v);
      if (!id) throw idError(name, v);
      return id;
    }
    case "ids": {
      const list = Array.isArray(v) ? v : [v];
      if (list.length === 0) {
        throw new ArgumentError(`${name} must list at least one task id, e.g. ["b3"]`);
      }
      if (list.length > f.maxItems) {
        throw new ArgumentError(
          `${name} lists ${list.length} tasks; at most ${f.maxItems} at once`,
        );
      }
      const ids: string[] = [];
      for (const item of list) {
        const id = asId(item);
        if (!id) throw idError(`${name} entry`, item);
        if (!ids.includes(id)) ids.push(id);
      }
      return ids;
    }
    case "env": {
      if (typeof v !== "object" || v === null || Array.isArray(v)) {
        throw new ArgumentError(`${name} must be an object of strings, e.g. {"PORT": "8080"}`);
      }
      for (const [k, val] of Object.entries(v)) {
        if (typeof val !== "string") {
          throw new ArgumentError(`${name}.${k} must be a string, got ${show(val)}`);
        }
      }
      return v;
    }
    case "enumList": {
      const list = Array.isArray(v) ? v : [v];
      if (list.length === 0) {
        throw new ArgumentError(
          `${name} is an empty list, which nothing would match: leave it out for all, or give ` +
            `one or more of ${f.values.map((e) => `"${e}"`).join(", ")}`,
        );
      }
      for (const item of list) {
        if (typeof item !== "string" || !f.values.includes(item)) {
          throw new ArgumentError(
            `${name} must be one of ${f.values.map((e) => `"${e}"`).join(", ")} ` +
              `(or a list of them), got ${show(item)}`,
          );
        }
      }
      return [...new Set(list)];
    }
  }
}

/**
 * Checks `args` against `fields`: unknown names, missing required ones and
 * bad values are errors; defaults are filled in.
 *
 * @throws {ArgumentError} Naming the argument and what it must be.
 *
 * @example
 * ```ts
 * import { checkArgs } from "./args.ts";
 * import { deepEqual } from "node:assert/strict";
 * const fields = { id: { type: "id" as const, description: "a task", required: true } };
 * deepEqual(checkArgs("task_status", fields, { id: "3" }), { id: "b3" });
 * ```
 */
export function checkArgs(tool: string, fields: Fields, args: unknown): Record<string, unknown> {
  const given = args ?? {};
  if (typeof given !== "object" || Array.isArray(given)) {
    throw new ArgumentError(`${tool} takes an object of arguments`);
  }
  const names = Object.keys(fields);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(given)) {
    if (!(key in fields)) {
      // ("timeout": timeout_s, the unit a model leaves out; else the likeliest name.)
      const like = names.includes(`${key}_s`) ? `${key}_s` : likeliest(key, names);
      throw new ArgumentError(
        `unknown argument "${key}" for ${tool}` + (like ? `: did you mean ${like}?` : "") +
          (names.length ? ` (it takes ${names.join(", ")})` : " (it takes none)"),
      );
    }
  }
  for (const [name, f] of Object.entries(fields)) {
    const v = (given as Record<string, unknown>)[name];
    if (v === undefined || v === null) {
      if (f.required) throw new ArgumentError(`${name} is required: ${f.description}`);
      if ("default" in f && f.default !== undefined) out[name] = f.default;
      continue;
    }
    out[name] = checkField(name, f, v);
  }
  return out;
}

function jsonSchemaOf(f: Field): Record<string, unknown> {
  const base = { description: f.description };
  switch (f.type) {
    case "string":
      return { ...base, type: "string", ...(f.enum ? { enum: [...f.enum] } : {}) };
    case "number":
    case "integer":
      return {
        ...base,
        type: f.type,
        minimum: f.minimum,
        ...(f.maximum !== undefined ? { maximum: f.maximum } : {}),
        ...(f.default !== undefined ? { default: f.default } : {}),
      };
    case "boolean":
      return {
        ...base,
        type: "boolean",
        ...(f.default !== undefined ? { default: f.default } : {}),
      };
    case "id":
      return { ...base, type: "string", pattern: "^b?[1-9][0-9]*$" };
    case "ids":
      return {
        ...base,
        type: "array",
        items: { type: "string", pattern: "^b?[1-9][0-9]*$" },
        minItems: 1,
        maxItems: f.maxItems,
      };
    case "env":
      return { ...base, type: "object", additionalProperties: { type: "string" } };
    case "enumList":
      return {
        ...base,
        anyOf: [
          { type: "string", enum: [...f.values] },
          { type: "array", items: { type: "string", enum: [...f.values] }, minItems: 1 },
        ],
      };
  }
}

/**
 * The JSON Schema of a tool's arguments.
 *
 * @example
 * ```ts
 * import { jsonSchema } from "./args.ts";
 * import { deepEqual } from "node:assert/strict";
 * const s = jsonSchema({ id: { type: "id", description: "a task", required: true } });
 * deepEqual(s.required, ["id"]);
 * ```
 */
export function jsonSchema(fields: Fields): Record<string, unknown> {
  const required = Object.entries(fields).filter(([, f]) => f.required).map(([n]) => n);
  return {
    type: "object",
    properties: Object.fromEntries(Object.entries(fields).map(([n, f]) => [n, jsonSchemaOf(f)])),
    ...(required.length ? { required } : {}),
    additionalProperties: false,
  };
}

/**
 * A Standard Schema for a tool: `tools/list` shows {@linkcode jsonSchema},
 * and each call is checked by {@linkcode checkArgs}.
 *
 * @example
 * ```ts
 * import { argsSchema } from "./args.ts";
 * import { deepEqual } from "node:assert/strict";
 * const s = argsSchema<{ id: string }>("task_status", {
 *   id: { type: "id", description: "a task", required: true },
 * });
 * deepEqual(s["~standard"].validate({ id: "b2" }), { value: { id: "b2" } });
 * ```
 */
export function argsSchema<T>(tool: string, fields: Fields): ArgsSchema<T> {
  const schema = jsonSchema(fields);
  return {
    "~standard": {
      version: 1,
      vendor: "bgtask",
      validate(value: unknown) {
        try {
          return { value: checkArgs(tool, fields, value) as T };
        } catch (e) {
          if (!(e instanceof ArgumentError)) throw e;
          return { issues: [{ message: e.message }] };
        }
      },
      jsonSchema: { input: () => schema, output: () => schema },
    },
  };
}
