/**
 * What is tested: the `N passed, N failed` line CI reads counts each failed test once, counts a test file that failed
 * without a failed test (it could not be loaded), and never says `0 failed` for a run that failed. The reports are
 * written in the shape vitest 3's JSON reporter gave for these cases (a failed test inside a `describe`: three
 * failed "suites"; a file importing a missing module: a failed file with no tests).
 */
import { expect, it } from 'vitest';
import { summarizeVitestReport, summaryLine } from '../scripts/test-summary.mjs';

const failedTestFile = {
  name: '/repo/a.test.ts',
  status: 'failed',
  message: '',
  assertionResults: [{ status: 'failed' }, { status: 'passed' }],
};
const unloadableFile = {
  name: '/repo/b.test.ts',
  status: 'failed',
  message: "Cannot find module './missing.js' imported from /repo/b.test.ts\nmore detail",
  assertionResults: [],
};
const passedFile = { name: '/repo/c.test.ts', status: 'passed', message: '', assertionResults: [{ status: 'passed' }] };

it('one failed test inside a describe is one failure, not three', () => {
  const report = { numPassedTests: 2, numFailedTests: 1, numFailedTestSuites: 2, numPendingTests: 0, numTodoTests: 0, testResults: [failedTestFile, passedFile] };
  const summary = summarizeVitestReport(report, 1);
  expect(summary).toMatchObject({ passed: 2, failed: 1, skipped: 0 });
  expect(summaryLine(summary)).toBe('2 passed, 1 failed');
});

it('a test file that could not be loaded counts as a failure and is named', () => {
  const report = { numPassedTests: 2, numFailedTests: 1, numFailedTestSuites: 3, numPendingTests: 0, numTodoTests: 0, testResults: [failedTestFile, unloadableFile, passedFile] };
  const summary = summarizeVitestReport(report, 1);
  expect(summary.failed).toBe(2);
  expect(summary.notes).toEqual(["/repo/b.test.ts: Cannot find module './missing.js' imported from /repo/b.test.ts"]);
});

it('a failed run with nothing failed in its report, or with no report, still says 1 failed', () => {
  const clean = { numPassedTests: 5, numFailedTests: 0, numFailedTestSuites: 0, numPendingTests: 0, numTodoTests: 0, testResults: [passedFile] };
  expect(summarizeVitestReport(clean, 1)).toMatchObject({ passed: 5, failed: 1 });
  expect(summarizeVitestReport(clean, null).failed).toBe(1);
  expect(summarizeVitestReport(null, 1)).toMatchObject({ passed: 0, failed: 1 });
});

it('a passing run: its counts, skipped ones shown only when there are some', () => {
  const clean = { numPassedTests: 5, numFailedTests: 0, numFailedTestSuites: 0, numPendingTests: 1, numTodoTests: 1, testResults: [passedFile] };
  const summary = summarizeVitestReport(clean, 0);
  expect(summary).toEqual({ passed: 5, failed: 0, skipped: 2, notes: [] });
  expect(summaryLine(summary)).toBe('5 passed, 0 failed, 2 skipped');
  expect(summaryLine({ passed: 5, failed: 0, skipped: 0 })).toBe('5 passed, 0 failed');
});
