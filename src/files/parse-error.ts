/**
 * Why a file could not be parsed. Every code is stable: it is stored on the file row
 * (`errorCode`) and sent to clients in `file:failed`.
 */
export const PARSE_ERROR_CODES = [
  /** Text file (txt, md, csv) that is not valid UTF-8. */
  'TEXT_ENCODING',
  'CSV_TOO_MANY_ROWS',
  /** A quote that never closes: the rest of the file would silently become one cell. */
  'CSV_MALFORMED',
  'PDF_ENCRYPTED',
  'PDF_CORRUPT',
  'PDF_TOO_MANY_PAGES',
  /** A compressed stream of the PDF inflates past its cap (half of `parseMemoryMb`): a decompression bomb. */
  'PDF_TOO_LARGE_INFLATED',
  /** Declared or actual uncompressed size (or ratio, or entry count) beyond the limits. */
  'DOCX_ZIP_BOMB',
  'DOCX_CORRUPT',
  /** The parse ran past `parseTimeoutMs`; the worker thread was terminated. */
  'PARSE_TIMEOUT',
  /** The parse ran past `parseMemoryMb`, on the thread's heap or in its buffers outside it; the worker thread was terminated. */
  'PARSE_MEMORY',
  /** The parse was stopped on purpose (shutdown); it can run again later. */
  'PARSE_ABORTED',
  /** The worker thread could not start or died without an answer: a property of the host, not the file. */
  'PARSE_WORKER_FAILED',
  /** A parser threw something it does not classify: a bug or an unusual file. */
  'PARSE_FAILED',
  /** The stored bytes are missing or do not match their hash. */
  'FILE_MISSING',
  /** Infrastructure failed on every attempt (database, store); recorded so the file does not stay "parsing". */
  'PROCESSING_FAILED',
] as const;

export type ParseErrorCode = (typeof PARSE_ERROR_CODES)[number];

/** The plain shape a ParseError crosses a thread or process boundary as. */
export interface ParseErrorJson {
  code: ParseErrorCode;
  message: string;
  retryable: boolean;
}

export class ParseError extends Error {
  /** A retryable error may succeed on a later attempt; an unparseable file never will. */
  readonly retryable: boolean;

  constructor(
    readonly code: ParseErrorCode,
    message: string,
    opts: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ParseError';
    this.retryable = opts.retryable ?? false;
  }

  toJSON(): ParseErrorJson {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }

  static fromJSON(json: ParseErrorJson): ParseError {
    return new ParseError(json.code, json.message, { retryable: json.retryable });
  }
}

export const isParseError = (e: unknown): e is ParseError => e instanceof ParseError;
