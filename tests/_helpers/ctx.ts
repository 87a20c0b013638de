/**
 * What the ops of a manager work with, on a store of the test's own (a
 * subclass that counts or forces what the real one does).
 *
 * @module
 */

import type { FsStore } from "../../src/store/fs_store.ts";
import { ChangeHub } from "../../src/watch.ts";
import { SharedChecks } from "../../src/ops/shared_checks.ts";
import { whoami } from "../../src/supervisor/run.ts";
import type { Ctx } from "../../src/ops/context.ts";

/** What the ops of a manager work with, on `store`. */
export function ctxOn(store: FsStore): Ctx {
  return {
    store,
    hub: new ChangeHub(store.changeFeed),
    mine: new Set(),
    self: () => whoami(),
    checks: new SharedChecks(),
  };
}
