export interface TenantTable {
  id: string;
  name: string;
  /** 帐户类型: bulk (群发客户) or transactional. */
  account_type: string;
  status: string;
  created_at: number;
  updated_at: number;
}

export interface TenantTables {
  tenants: TenantTable;
}

/** Adds these tables to the store's typed Database (src/store/schema.ts). */
declare module '../store/schema.ts' {
  interface Database extends TenantTables {}
}
