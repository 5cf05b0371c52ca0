/** The templates capability's surface: what the other capabilities may use. */
export { TEMPLATE_MAX_CHARS, TEMPLATE_MAX_MARKUP } from './liquid.ts';
export { RenderBudget, buildMime, compileTemplate, previewTemplate, renderMessage } from './render.ts';
export type { CompiledTemplate, RenderLimits } from './render.ts';
export { createTemplate, getTemplate, getTemplateRow, listTemplates, previewStoredTemplate, updateTemplate } from './stored.ts';
