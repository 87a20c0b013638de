// src/path.ts against node:path's POSIX functions (the oracle), on every
// path built from a small alphabet of segments, and on the cases bgtask uses.
import { equal } from "node:assert/strict";
import { posix } from "node:path";
import { join, normalize, resolve } from "../src/path.ts";

const PIECES = ["", "/", "a", "b", ".", "..", "//", "a/", "/b", "../", "./", "c.d", "..."];

/** Every string made of up to `depth` pieces. */
function paths(depth: number): string[] {
  let level = [""];
  const all = new Set(level);
  for (let d = 0; d < depth; d++) {
    level = level.flatMap((p) => PIECES.map((q) => p + q));
    for (const p of level) all.add(p);
  }
  return [...all];
}

Deno.test("path: normalize agrees with node:path posix.normalize", () => {
  for (const p of paths(4)) equal(normalize(p), posix.normalize(p), JSON.stringify(p));
});

Deno.test("path: join agrees with node:path posix.join", () => {
  const some = paths(2);
  for (const a of some) {
    for (const b of some) equal(join(a, b), posix.join(a, b), JSON.stringify([a, b]));
  }
  equal(join(), posix.join());
  equal(join("/store", "tasks", "b1", "final.json"), "/store/tasks/b1/final.json");
});

Deno.test("path: resolve agrees with node:path posix.resolve, from the working directory", () => {
  const some = paths(2);
  for (const a of some) {
    equal(resolve(a), posix.resolve(a), JSON.stringify(a));
    for (const b of some) equal(resolve(a, b), posix.resolve(a, b), JSON.stringify([a, b]));
  }
  equal(resolve(), Deno.cwd());
  equal(resolve(Deno.cwd(), "../x"), posix.resolve("../x"));
});
