// The plain summary line CI reads (`N passed, N failed`), from vitest's JSON report.

/**
 * Counts a vitest JSON report (`--reporter=json`) for the summary line.
 *
 * failed = failed tests + test files that failed without a failed test (a file that could not be loaded, or whose
 * hooks threw: its tests never ran, so vitest's test counts miss it). vitest's `numFailedTestSuites` is not added: it
 * counts the file and every `describe` around a failed test again, so one failed test read as three.
 * A run that exited non-zero with nothing failed in its report (an unhandled error, a crash before the report) counts
 * as one failure, so the line never says `0 failed` for a failed run.
 *
 * @param {unknown} report the parsed JSON report, or null when vitest wrote none
 * @param {number | null} exitStatus vitest's exit status (null: killed by a signal)
 * @returns {{ passed: number, failed: number, skipped: number, notes: string[] }}
 */
export function summarizeVitestReport(report, exitStatus) {
  const notes = [];
  if (report === null || typeof report !== 'object') {
    return { passed: 0, failed: 1, skipped: 0, notes: ['vitest wrote no JSON report: counted as 1 failed'] };
  }
  const files = Array.isArray(report.testResults) ? report.testResults : [];
  const filesFailedWithoutTest = files.filter(
    (file) => file.status === 'failed' && !(file.assertionResults ?? []).some((test) => test.status === 'failed'),
  );
  for (const file of filesFailedWithoutTest) notes.push(`${file.name}: ${(file.message ?? 'failed').split('\n')[0]}`);
  const passed = report.numPassedTests ?? 0;
  let failed = (report.numFailedTests ?? 0) + filesFailedWithoutTest.length;
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  if (exitStatus !== 0 && failed === 0) {
    failed = 1;
    notes.push(`vitest exited with status ${exitStatus} but its report has no failed test: counted as 1 failed`);
  }
  return { passed, failed, skipped, notes };
}

/** The summary line: `N passed, N failed` (and `, N skipped` when some were). */
export function summaryLine({ passed, failed, skipped }) {
  return `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
}
