// Types of test-summary.mjs (plain JavaScript, run by node directly) for the TypeScript that imports it.

/** The counts behind the summary line, and one note per failure the test counts would miss. */
export interface TestSummary {
  passed: number;
  failed: number;
  skipped: number;
  notes: string[];
}

/** Counts a vitest JSON report for the summary line (see test-summary.mjs). */
export function summarizeVitestReport(report: unknown, exitStatus: number | null): TestSummary;

/** The summary line: `N passed, N failed` (and `, N skipped` when some were). */
export function summaryLine(summary: Pick<TestSummary, 'passed' | 'failed' | 'skipped'>): string;
