export interface TemplateTable {
  id: string;
  tenant_id: string;
  name: string;
  subject: string;
  html: string | null;
  text: string | null;
  mjml: string | null;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface TemplateTables {
  templates: TemplateTable;
}

/** Adds these tables to the store's typed Database (src/store/schema.ts). */
declare module '../store/schema.ts' {
  interface Database extends TemplateTables {}
}
