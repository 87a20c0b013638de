/**
 * The error for one task's records that cannot be read.
 *
 * @module
 */

import { StoreError } from "../../errors.ts";
import type { SpawnRecord, StartedRecord } from "../records.ts";

/**
 * A task's records cannot be read (the rest of the store is fine). Callers see
 * a StoreError naming the task; bgtask itself tells it from store-wide
 * failures by its class rather than by its message.
 */
export class DamagedRecordError extends StoreError {
  /** The damaged task. */
  readonly id: string;
  /** Which record cannot be read, when it is known (`start`: its processes may still run). */
  readonly record?: "start" | "final";
  /**
   * For a damaged start record: the token the task's processes carry, which
   * tells whether any of them is left.
   */
  token?: string;
  /**
   * For a damaged final record (so the task has ended): its other records,
   * and its output file, which reads as any ended task's.
   */
  ended?: { spec: SpawnRecord; started?: StartedRecord; outputFile: string };
  /**
   * Creates the error for a task.
   *
   * @param id The damaged task.
   * @param message What is damaged, naming the file.
   * @param record Which record cannot be read, when known.
   */
  constructor(id: string, message: string, record?: "start" | "final") {
    super(message);
    this.id = id;
    if (record !== undefined) this.record = record;
  }
}
