/**
 * What the ops of a manager work with, on a store of the test's own (a
 * subclass that counts or forces what the real one does).
 *
 * @module
 */

import type { FsStore } from "../../src/store/fs_store.ts";
import { ChangeHub } from "../../src/watch.ts";
import { SharedChecks } from "../../src/ops/shared_checks.ts";
import { OwnTasks } from "../../src/ops/own_tasks.ts";
import { whoami } from "../../src/supervisor/run.ts";
import type { Ctx } from "../../src/ops/context.ts";

/**
 * What the ops of a manager work with, on `store`; its change feed is
 * watched at `feed` (a path that does not exist: a manager that hears no
 * change, as on a filesystem without inotify).
 */
export function ctxOn(store: FsStore, feed: string = store.changeFeed): Ctx {
  return {
    store,
    hub: new ChangeHub(feed),
    mine: new OwnTasks(),
    self: () => whoami(),
    checks: new SharedChecks(),
    spawner: undefined,
  };
}
