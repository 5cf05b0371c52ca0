import { Type } from '@sinclair/typebox';

/** Shared pieces of route schemas. Bodies are closed objects: unknown fields are refused. */
export const closed = { additionalProperties: false } as const;
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, closed);
export const Name = Type.String({ minLength: 1, maxLength: 128 });
export const Password = Type.String({ minLength: 8, maxLength: 256 });
export const Cidrs = Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100 });
