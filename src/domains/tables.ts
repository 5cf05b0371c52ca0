export interface SendingDomainTable {
  id: string;
  tenant_id: string;
  domain: string;
  /** Selector of the key that signs now. */
  dkim_selector: string;
  /** Sub-domain used for VERP return paths and bounces, e.g. bounces.example.com. */
  return_path_domain: string;
  /** When 1, mail from this domain is held until DNS verification passes. */
  require_verification: number;
  verified_at: number | null;
  /** JSON of the last verification result. */
  last_check: string | null;
  created_at: number;
  updated_at: number;
}

export interface DkimKeyTable {
  id: string;
  domain_id: string;
  selector: string;
  algorithm: string;
  private_key_pem: string;
  /** Base64 DER of the public key, the p= of the DNS record. */
  public_key: string;
  active: number;
  created_at: number;
  retired_at: number | null;
}

export interface DomainTables {
  sending_domains: SendingDomainTable;
  dkim_keys: DkimKeyTable;
}

/** Adds these tables to the store's typed Database (src/store/schema.ts). */
declare module '../store/schema.ts' {
  interface Database extends DomainTables {}
}
