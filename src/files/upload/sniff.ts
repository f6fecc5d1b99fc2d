import { isUtf8 } from 'node:buffer';
import type { FileKind } from '../../db/entities/file';
import { AppError } from '../../shared/errors';
import { extensionOf } from './filename';
import { isZip, readCentralDirectory } from '../zip/central-directory';

/**
 * Decides what a file is from its bytes, then checks that its name agrees. The name only chooses
 * between formats the bytes cannot tell apart (csv, txt and md are all plain UTF-8 text).
 */

export interface SniffResult {
  kind: FileKind;
  mime: string;
}

export const MIME_BY_KIND: Record<FileKind, string> = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  csv: 'text/csv',
  txt: 'text/plain',
  md: 'text/markdown',
};

const KIND_BY_EXTENSION: Record<string, FileKind> = {
  pdf: 'pdf',
  docx: 'docx',
  csv: 'csv',
  txt: 'txt',
  text: 'txt',
  md: 'md',
  markdown: 'md',
};

export const SUPPORTED_EXTENSIONS = Object.keys(KIND_BY_EXTENSION);

/** What the bytes are, before the name is considered. */
type Content = 'pdf' | 'docx' | 'zip' | 'text' | 'non-utf8-text' | 'binary';

const TEXT_KINDS: ReadonlySet<FileKind> = new Set(['csv', 'txt', 'md']);
const PDF_MAGIC = [0x25, 0x50, 0x44, 0x46, 0x2d]; // "%PDF-"

const startsWith = (bytes: Uint8Array, magic: number[]) => magic.every((b, i) => bytes[i] === b);

function zipContent(bytes: Uint8Array): Content {
  try {
    const names = readCentralDirectory(bytes, { maxEntries: 100_000 }).map((e) => e.name);
    return names.includes('word/document.xml') ? 'docx' : 'zip';
  } catch {
    return 'binary'; // starts like a zip but its directory is unreadable
  }
}

export function sniffContent(bytes: Uint8Array): Content {
  if (startsWith(bytes, PDF_MAGIC)) return 'pdf';
  if (isZip(bytes)) return zipContent(bytes);
  // UTF-16 text (BOM FF FE / FE FF) is text, just not in the one encoding we read.
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) return 'non-utf8-text';
  // NUL never occurs in UTF-8 text; it does in nearly every binary format (and in UTF-16).
  if (bytes.indexOf(0) !== -1) return 'binary';
  return isUtf8(bytes) ? 'text' : 'non-utf8-text';
}

const DESCRIPTION: Record<Content, string> = {
  pdf: 'a PDF',
  docx: 'a Word document',
  zip: 'a zip archive',
  text: 'plain text',
  'non-utf8-text': 'text that is not UTF-8',
  binary: 'binary data',
};

/**
 * Returns the file's kind and MIME type, or throws an AppError: EMPTY_FILE, UNSUPPORTED_FILE_TYPE
 * (an extension we do not parse), FILE_TYPE_MISMATCH (bytes of another type than the name says),
 * TEXT_ENCODING (a text file that is not UTF-8).
 */
export function sniffFile(filename: string, bytes: Uint8Array): SniffResult {
  if (bytes.length === 0) throw new AppError('EMPTY_FILE', `"${filename}" is empty`);
  const ext = extensionOf(filename);
  const claimed = KIND_BY_EXTENSION[ext];
  if (!claimed) {
    throw new AppError('UNSUPPORTED_FILE_TYPE', `".${ext}" files are not supported; use one of: ${SUPPORTED_EXTENSIONS.join(', ')}`, {
      extension: ext,
      supported: SUPPORTED_EXTENSIONS,
    });
  }
  const content = sniffContent(bytes);
  const ok =
    (content === 'pdf' && claimed === 'pdf') ||
    (content === 'docx' && claimed === 'docx') ||
    (content === 'text' && TEXT_KINDS.has(claimed));
  if (ok) return { kind: claimed, mime: MIME_BY_KIND[claimed] };
  if (content === 'non-utf8-text' && TEXT_KINDS.has(claimed)) {
    throw new AppError('TEXT_ENCODING', `"${filename}" is not valid UTF-8 text; save it as UTF-8 and upload it again`);
  }
  throw new AppError('FILE_TYPE_MISMATCH', `"${filename}" is named .${ext} but its content is ${DESCRIPTION[content]}`, {
    extension: ext,
    detected: content,
  });
}
