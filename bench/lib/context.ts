/**
 * What every case gets: the sizes for this mode, a temp folder, the tools found.
 *
 * @module
 */

/** Sizes and repetition counts; see {@linkcode FULL} and {@linkcode QUICK}. */
export interface Sizes {
  /** Untimed runs of each contender before timing. */
  warmup: number;
  /** Timed repetitions of each contender (spawn, CLI, store scale). */
  reps: number;
  /** Case 1: tasks per repetition, and how many at a time in the parallel run. */
  spawnTasks: number;
  spawnParallel: number;
  /** Case 2: bytes each task writes, and the repetitions (a run is seconds long). */
  outputBytes: number;
  outputReps: number;
  /** Case 3: completions measured per contender. */
  latencySamples: number;
  /** Case 4: store sizes, and calls timed per getStatus/drain sample. */
  storeSizes: number[];
  statusCalls: number;
  /** Case 5: whole-process calls per sample. */
  cliCalls: number;
  /** Case 6: processes in the tree, the grace given, and the repetitions. */
  killTree: number;
  killGraceMs: number;
  killReps: number;
  /** Case 6: tasks killed at once (a `kill --all`), each a `sleep`. */
  killMany: number;
}

/** The full run (`deno task bench`): the sizes, about 4 minutes on 2 cores. */
export const FULL: Sizes = {
  warmup: 1,
  reps: 5,
  spawnTasks: 200,
  spawnParallel: 8,
  outputBytes: 1024 ** 3,
  outputReps: 5,
  latencySamples: 60,
  storeSizes: [10, 1_000, 10_000],
  statusCalls: 200,
  cliCalls: 10,
  killTree: 50,
  killGraceMs: 300,
  killReps: 10,
  killMany: 200,
};

/** The quick run (`--quick`): tiny sizes, a few seconds; checks that every case still runs. */
export const QUICK: Sizes = {
  warmup: 1,
  reps: 2,
  spawnTasks: 4,
  spawnParallel: 2,
  outputBytes: 1024 ** 2,
  outputReps: 1,
  latencySamples: 3,
  storeSizes: [10, 50],
  statusCalls: 5,
  cliCalls: 1,
  killTree: 5,
  killGraceMs: 100,
  killReps: 1,
  killMany: 4,
};

/** Shared by all cases of one run. */
export interface Context {
  quick: boolean;
  sizes: Sizes;
  /** A temp folder for this run (removed at the end); on the disk being measured. */
  tmp: string;
  /** The repository root (for cli.ts and mod.ts). */
  root: string;
  /** The task-spooler binary, or null (with the reason in `tspNote`). */
  tsp: string | null;
  tspNote?: string;
  /** Progress output (stderr). */
  log: (message: string) => void;
}

/** A human size: "1 GiB", "1 MiB". */
export function bytesLabel(n: number): string {
  if (n >= 1024 ** 3 && n % 1024 ** 3 === 0) return `${n / 1024 ** 3} GiB`;
  if (n >= 1024 ** 2 && n % 1024 ** 2 === 0) return `${n / 1024 ** 2} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} B`;
}
