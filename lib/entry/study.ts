// `eia-native/study`: several models side by side (`eia-native study`) and its report, and the
// quantized copies whose drift a study measures (`eia-native quantize`; docs/study.md).
export { runStudy, type StudyOptions, type StudyModel, type StudyResult } from '../pipeline/study.js';
export { writeStudyReport, type StudyReportResult } from '../report/study.js';
export { quantizeModel, quantTypes, type QuantizeOptions, type QuantizeResult } from '../engine/quantize.js';
