export { exportImages, dayRange, countSelection } from './export.ts';
export type { ExportOptions, ExportProgress, ExportResult, ExportSelection } from './export.ts';
export { DEFAULT_TEMPLATE, TEMPLATE_TOKENS, TemplateError, renderName, safeSegment } from './file-names.ts';
export { MANIFEST_COLUMNS } from './manifest.ts';
