/** One data record of an import file, or why the record at that line cannot be read. */
export type RecordItem =
  | { line: number; fields: string[] }
  | { line: number; error: string; code: RecordErrorCode };

/** `unclosed`: a quoted field still open past the record limits (the rest of the file would be one field). */
export type RecordErrorCode = 'encoding' | 'quoting' | 'too_long' | 'unclosed';
