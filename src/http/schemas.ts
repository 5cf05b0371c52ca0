import { Type } from '@sinclair/typebox';

/** Shared pieces of route schemas. Bodies are closed objects: unknown fields are refused. */
export const closed = { additionalProperties: false } as const;

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, closed);
export const Name = Type.String({ minLength: 1, maxLength: 128 });
export const Password = Type.String({ minLength: 8, maxLength: 256 });
export const Cidrs = Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100 });

/**
 * Text that ends up in a mail header (a display name, a subject, a filename, a content type):
 * one line, so CR, LF and NUL are refused with a 400 naming the field (problems.ts words it).
 */
export const HEADER_SAFE_PATTERN = '^[^\\r\\n\\u0000]*$';
export const HeaderText = (options: { minLength?: number; maxLength: number; description?: string }) => Type.String({ ...options, pattern: HEADER_SAFE_PATTERN });

/** A header field name (RFC 5322: printable ASCII except the colon). */
export const HEADER_NAME_PATTERN = '^[\\x21-\\x39\\x3b-\\x7e]{1,100}$';

/** A MIME type with optional parameters, on one line: `application/pdf`, `text/csv; charset=utf-8`. */
export const CONTENT_TYPE_PATTERN = '^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(?:[ \\t]*;[ \\t]*[A-Za-z0-9!#$&^_.+-]+=(?:[A-Za-z0-9!#$&^_.+-]+|"[^"\\r\\n\\u0000]*"))*$';

/**
 * Template variables: an object of at most `maxProperties` names of at most 100 characters.
 * Values are any JSON; their nesting depth is bounded for every body by the JSON parser
 * (json-body.ts, MAX_JSON_DEPTH) and their size by the body limit.
 */
export const Vars = (description = 'Liquid variables', maxProperties = 1000) =>
  Type.Record(Type.String(), Type.Unknown(), { description, maxProperties, propertyNames: { maxLength: 100 } });
