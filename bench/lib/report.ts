/**
 * Benchmark results: their shape, the console table and the Markdown report.
 *
 * @module
 */

import { fmt, fmtRatio, summarize } from "./stats.ts";

/** One measured figure of one contender. */
export interface Row {
  /** What is measured, e.g. "sequential, ms per task". */
  measure: string;
  /** Who is measured, e.g. "bgtask". */
  contender: string;
  /** The samples, in `unit`. */
  samples: number[];
  /** "ms", "MB", … */
  unit: string;
  /** Contenders of the same measure to divide this row's median by. */
  ratioTo?: string[];
}

/** A goal from the issue, and whether this run met it (null: not measured; "info": no numeric goal). */
export interface Goal {
  goal: string;
  measured: string;
  met: boolean | null | "info";
}

/** What one case reports. */
export interface CaseResult {
  /** "1. Spawn overhead". */
  title: string;
  rows: Row[];
  goals: Goal[];
  /** Method notes and skipped contenders. */
  notes: string[];
  /** Wall time of the case, seconds. */
  seconds: number;
}

/** The median of a contender's row for a measure, or NaN when absent. */
export function medianOf(rows: Row[], measure: string, contender: string): number {
  const row = rows.find((r) => r.measure === measure && r.contender === contender);
  return row ? summarize(row.samples).median : NaN;
}

function ratioText(row: Row, rows: Row[]): string {
  if (!row.ratioTo?.length) return "";
  const mine = summarize(row.samples).median;
  return row.ratioTo
    .filter((c) => rows.some((r) => r.measure === row.measure && r.contender === c))
    .map((c) => `${fmtRatio(mine / medianOf(rows, row.measure, c))} ${c}`)
    .join(", ");
}

const HEADER = ["Measure", "Contender", "Median", "Min–max", "p95", "n", "Ratio (median)"];

function cells(row: Row, rows: Row[]): string[] {
  const s = summarize(row.samples);
  return [
    row.measure,
    row.contender,
    `${fmt(s.median)} ${row.unit}`,
    `${fmt(s.min)}–${fmt(s.max)}`,
    fmt(s.p95),
    String(s.n),
    ratioText(row, rows),
  ];
}

function goalCells(g: Goal): string[] {
  const verdict = g.met === "info"
    ? "(reported)"
    : g.met === null
    ? "not measured"
    : g.met
    ? "met"
    : "MISSED";
  return [g.goal, g.measured, verdict];
}

function aligned(lines: string[][]): string {
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => [...l[i]].length)));
  return lines
    .map((l) => l.map((c, i) => c + " ".repeat(widths[i] - [...c].length)).join("  ").trimEnd())
    .join("\n");
}

/** The results as plain aligned tables, for the terminal. */
export function consoleReport(results: CaseResult[]): string {
  const out: string[] = [];
  for (const r of results) {
    out.push(`\n== ${r.title}  (${r.seconds.toFixed(1)} s)`);
    if (r.rows.length) out.push(aligned([HEADER, ...r.rows.map((row) => cells(row, r.rows))]));
    for (const n of r.notes) out.push(`  note: ${n}`);
  }
  const goals = results.flatMap((r) => r.goals);
  if (goals.length) {
    out.push("\n== Goals");
    out.push(aligned([["Goal", "Measured", "Verdict"], ...goals.map(goalCells)]));
  }
  return out.join("\n");
}

function mdTable(header: string[], lines: string[][]): string {
  const esc = (c: string) => c.replaceAll("|", "\\|");
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...lines.map((l) => `| ${l.map(esc).join(" | ")} |`),
  ].join("\n");
}

/** The results as Markdown: a goals table, then one section per case. */
export function markdownReport(results: CaseResult[]): string {
  const out: string[] = [];
  const goals = results.flatMap((r) => r.goals);
  out.push("### Goals\n");
  out.push(mdTable(["Goal", "Measured", "Verdict"], goals.map(goalCells)));
  for (const r of results) {
    out.push(`\n### ${r.title}\n`);
    if (r.rows.length) out.push(mdTable(HEADER, r.rows.map((row) => cells(row, r.rows))));
    if (r.notes.length) out.push("\n" + r.notes.map((n) => `- ${n}`).join("\n"));
    out.push(`\n_Case wall time: ${r.seconds.toFixed(1)} s._`);
  }
  return out.join("\n") + "\n";
}
