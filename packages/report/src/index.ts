export { escapeHtml, htmlTable, renderHtmlReport, type ReportSection } from './html';
export { vegaLiteToSvg, type TopLevelSpec } from './plot';
