/** One data record of an import file, or why the record at that line cannot be read. */
export type RecordItem =
  | { line: number; fields: string[] }
  | { line: number; error: string; code: RecordErrorCode };

export type RecordErrorCode = 'encoding' | 'quoting' | 'too_long';
