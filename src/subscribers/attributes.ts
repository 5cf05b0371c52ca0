import { invalid } from '../core/errors.ts';

export type Attributes = Record<string, unknown>;

const MAX_JSON = 16_384;
const MAX_KEYS = 200;

/** Custom attributes: a JSON object of at most 200 keys and 16 KiB, keys up to 64 characters. */
export function checkAttributes(value: unknown, field = 'attributes'): Attributes {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid('attributes must be a JSON object', [{ field, message: 'not an object' }]);
  const keys = Object.keys(value);
  if (keys.length > MAX_KEYS) throw invalid(`attributes may have at most ${MAX_KEYS} keys`, [{ field, message: 'too many keys' }]);
  const badKey = keys.find((k) => !k.trim() || k.length > 64);
  if (badKey !== undefined) throw invalid(`attribute name "${badKey}" must be 1 to 64 characters`, [{ field: `${field}.${badKey}`, message: 'bad name' }]);
  if (JSON.stringify(value).length > MAX_JSON) throw invalid(`attributes may take at most ${MAX_JSON} bytes of JSON`, [{ field, message: 'too large' }]);
  return value as Attributes;
}

/** Shallow merge; a null value removes the key. Identical on both engines because it runs here. */
export function mergeAttributes(current: string | null | undefined, patch: Attributes): string {
  let base: Attributes = {};
  if (current) {
    try {
      const parsed: unknown = JSON.parse(current);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) base = parsed as Attributes;
    } catch {
      // A corrupt value is replaced rather than blocking every later update.
    }
  }
  const out: Attributes = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return JSON.stringify(out);
}

export function parseAttributes(json: string): Attributes {
  try {
    const v: unknown = JSON.parse(json);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Attributes) : {};
  } catch {
    return {};
  }
}
