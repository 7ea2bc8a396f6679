export {
  USAGE_ERROR_EXIT_CODE,
  exitOnUsageError,
  parseChoice,
  parseNonNegativeInt,
  parseNumberList,
  parsePositiveInt,
  parsePositiveNumber,
  runAction,
} from './cli';
export { readJson, writeFileAtomic, writeJsonAtomic } from './files';
export { escapeHtml, htmlTable, renderHtmlReport, type ReportSection } from './html';
export { vegaLiteToSvg, type TopLevelSpec } from './plot';
export { ProgressBar, formatDuration } from './progress';
export { prepareCliBackend } from './backend';
