/** Tiny assertion helpers over node:assert/strict, with Deno-std-like names. */

import assertNode from "node:assert/strict";

export function assert(cond: unknown, msg?: string): asserts cond {
  assertNode.ok(cond, msg);
}

export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  assertNode.deepStrictEqual(actual, expected, msg);
}

export function assertMatch(actual: string, re: RegExp, msg?: string): void {
  assertNode.match(actual, re, msg);
}

/** Awaits `fn`, expects it to reject with `cls` and a message matching `re`; returns the error. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  cls: new (...args: any[]) => E,
  re?: RegExp,
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    assertNode.ok(e instanceof cls, `expected ${cls.name}, got ${e}`);
    if (re) assertNode.match((e as Error).message, re);
    return e as E;
  }
  throw new assertNode.AssertionError({ message: `expected rejection with ${cls.name}` });
}
