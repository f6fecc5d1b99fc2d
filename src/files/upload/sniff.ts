import { open } from 'node:fs/promises';
import type { FileKind } from '../../db/entities/file';
import { AppError } from '../../shared/errors';
import { extensionOf } from './filename';
import { centralDirectoryOffset, isZip, readCentralDirectory, ZIP_TAIL_BYTES } from '../zip/central-directory';

/**
 * Decides what a file is from its bytes, then checks that its name agrees. The name only chooses
 * between formats the bytes cannot tell apart (csv, txt and md are all plain UTF-8 text).
 * The bytes are read in pieces (the head, a zip's directory, text chunk by chunk), so a file on
 * disk is sniffed without being loaded whole.
 */

/** Random access to a file's bytes: a staged upload on disk, or bytes in memory. */
export interface ByteSource {
  size: number;
  /** Up to `length` bytes from `offset` (fewer at the end of the file). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export const bytesSource = (bytes: Uint8Array): ByteSource => ({
  size: bytes.length,
  read: async (offset, length) => bytes.subarray(offset, offset + length),
});

/** Runs `fn` on the file at `path` opened for reading, and closes it. */
export async function withFileSource<T>(path: string, fn: (source: ByteSource) => Promise<T>): Promise<T> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    return await fn({
      size,
      async read(offset, length) {
        const buffer = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
        return buffer.subarray(0, bytesRead);
      },
    });
  } finally {
    await handle.close();
  }
}

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
const CHUNK = 64 * 1024;
/** A directory larger than this is not read to tell a Word document from another zip (Word's are a few KiB). */
const MAX_SNIFF_DIRECTORY_BYTES = 4 * 1024 * 1024;

const startsWith = (bytes: Uint8Array, magic: number[]) => magic.every((b, i) => bytes[i] === b);

/** A zip's entry names, reading only its end: first the end record, then the directory it points to. */
async function zipEntryNames(src: ByteSource): Promise<string[] | 'too-large'> {
  let base = Math.max(0, src.size - ZIP_TAIL_BYTES);
  let window = await src.read(base, src.size - base);
  const start = centralDirectoryOffset(window, base);
  if (start < base) {
    if (src.size - start > MAX_SNIFF_DIRECTORY_BYTES) return 'too-large';
    base = start;
    window = await src.read(base, src.size - base);
  }
  return readCentralDirectory(window, { maxEntries: 100_000, base }).map((e) => e.name);
}

async function zipContent(src: ByteSource): Promise<Content> {
  try {
    const names = await zipEntryNames(src);
    if (names === 'too-large') return 'zip';
    return names.includes('word/document.xml') ? 'docx' : 'zip';
  } catch {
    return 'binary'; // starts like a zip but its directory is unreadable
  }
}

/** Text or not, chunk by chunk: NUL anywhere means binary; otherwise it must all be UTF-8. */
async function textContent(src: ByteSource): Promise<Content> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let utf8 = true;
  for (let offset = 0; offset < src.size; offset += CHUNK) {
    const chunk = await src.read(offset, CHUNK);
    // NUL never occurs in UTF-8 text; it does in nearly every binary format (and in UTF-16).
    if (chunk.indexOf(0) !== -1) return 'binary';
    if (utf8) {
      try {
        decoder.decode(chunk, { stream: offset + CHUNK < src.size });
      } catch {
        utf8 = false; // keep looking for NUL: binary data outranks bad text
      }
    }
  }
  return utf8 ? 'text' : 'non-utf8-text';
}

export async function sniffContent(src: ByteSource): Promise<Content> {
  const head = await src.read(0, 8);
  if (startsWith(head, PDF_MAGIC)) return 'pdf';
  if (isZip(head)) return zipContent(src);
  // UTF-16 text (BOM FF FE / FE FF) is text, just not in the one encoding we read.
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) return 'non-utf8-text';
  return textContent(src);
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
export async function sniffFile(filename: string, file: ByteSource | Uint8Array): Promise<SniffResult> {
  const src = file instanceof Uint8Array ? bytesSource(file) : file;
  if (src.size === 0) throw new AppError('EMPTY_FILE', `"${filename}" is empty`);
  const ext = extensionOf(filename);
  const claimed = KIND_BY_EXTENSION[ext];
  if (!claimed) {
    throw new AppError('UNSUPPORTED_FILE_TYPE', `".${ext}" files are not supported; use one of: ${SUPPORTED_EXTENSIONS.join(', ')}`, {
      extension: ext,
      supported: SUPPORTED_EXTENSIONS,
    });
  }
  const content = await sniffContent(src);
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
