// `eia-native/report`: the HTML/Markdown report of a RUN folder (or of a sweep's shards), and Table 2 as Markdown.
export { writeReport, type ReportOptions, type ReportResult } from '../report/index.js';
export { renderTable2Markdown } from '../steering/tables.js';
