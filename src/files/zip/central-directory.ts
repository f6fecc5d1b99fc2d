/**
 * Reads a zip's central directory without inflating anything, so a file's declared sizes can be
 * checked before any decompression (zip bombs) and its entry names listed cheaply (sniffing).
 * Spec: PKWARE APPNOTE 6.3.x, sections 4.3.12 (central header), 4.3.14-16 (zip64 / end records).
 */

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate; anything else is unsupported here. */
  method: number;
  flags: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

export class ZipFormatError extends Error {
  constructor(
    message: string,
    /** 'too-many-entries' is a resource limit, not damage: callers report it differently. */
    readonly reason: 'malformed' | 'too-many-entries' = 'malformed',
  ) {
    super(message);
    this.name = 'ZipFormatError';
  }
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const EOCD_MIN = 22;
const MAX_COMMENT = 0xffff;
const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;

export const isZip = (bytes: Uint8Array) =>
  bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function findEocd(bytes: Uint8Array, dv: DataView): number {
  // The end record sits at the very end, followed only by a comment of at most 64 KiB.
  const stop = Math.max(0, bytes.length - EOCD_MIN - MAX_COMMENT);
  for (let i = bytes.length - EOCD_MIN; i >= stop; i--) {
    if (dv.getUint32(i, true) === SIG_EOCD) return i;
  }
  throw new ZipFormatError('no end of central directory record');
}

function u64(dv: DataView, at: number): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError('zip64 value out of range');
  return Number(v);
}

/**
 * Where the directory starts (an offset in the file) and how many entries it has, following zip64
 * records when present. `bytes` is the file from offset `base` to its end.
 */
function directoryBounds(bytes: Uint8Array, dv: DataView, base: number): { offset: number; count: number } {
  const eocd = findEocd(bytes, dv);
  let count = dv.getUint16(eocd + 10, true);
  let offset = dv.getUint32(eocd + 16, true);
  if (count === U16_MAX || offset === U32_MAX) {
    const locator = eocd - 20;
    if (locator < 0 || dv.getUint32(locator, true) !== SIG_ZIP64_LOCATOR) throw new ZipFormatError('zip64 locator missing');
    const record = u64(dv, locator + 8) - base;
    if (record < 0 || record + 56 > bytes.length || dv.getUint32(record, true) !== SIG_ZIP64_EOCD) {
      throw new ZipFormatError('zip64 end record missing');
    }
    count = u64(dv, record + 32);
    offset = u64(dv, record + 48);
  }
  if (offset > base + bytes.length) throw new ZipFormatError('central directory offset out of range');
  return { offset, count };
}

/**
 * Bytes at the end of a zip that always hold its end record (and a zip64 locator and record
 * without extensible data): reading this tail is enough to find where the directory starts.
 */
export const ZIP_TAIL_BYTES = EOCD_MIN + MAX_COMMENT + 20 + 56;

/**
 * The file offset where the central directory starts, from the file's last bytes (`tail` is the
 * file from offset `base` to its end). Lets a caller read only the directory of a file on disk.
 */
export function centralDirectoryOffset(tail: Uint8Array, base: number): number {
  if (tail.length < EOCD_MIN) throw new ZipFormatError('too short to be a zip');
  return directoryBounds(tail, view(tail), base).offset;
}

/** Replaces 0xFFFFFFFF sizes/offsets with their values from the zip64 extra field (id 0x0001). */
function applyZip64Extra(dv: DataView, extraStart: number, extraLen: number, entry: ZipEntry) {
  let p = extraStart;
  const end = extraStart + extraLen;
  while (p + 4 <= end) {
    const id = dv.getUint16(p, true);
    const size = dv.getUint16(p + 2, true);
    if (id === 0x0001) {
      let q = p + 4;
      if (entry.uncompressedSize === U32_MAX) (entry.uncompressedSize = u64(dv, q)), (q += 8);
      if (entry.compressedSize === U32_MAX) (entry.compressedSize = u64(dv, q)), (q += 8);
      if (entry.localHeaderOffset === U32_MAX) entry.localHeaderOffset = u64(dv, q);
      return;
    }
    p += 4 + size;
  }
  throw new ZipFormatError('zip64 sizes without a zip64 extra field');
}

/**
 * Lists the entries of a zip from its central directory. Throws ZipFormatError when malformed.
 * `bytes` is the whole file, or its end from offset `base` when that holds the whole directory.
 */
export function readCentralDirectory(bytes: Uint8Array, opts: { maxEntries?: number; base?: number } = {}): ZipEntry[] {
  if (bytes.length < EOCD_MIN) throw new ZipFormatError('too short to be a zip');
  const dv = view(bytes);
  const base = opts.base ?? 0;
  const bounds = directoryBounds(bytes, dv, base);
  const count = bounds.count;
  if (bounds.offset < base) throw new ZipFormatError('central directory starts before the bytes given');
  if (opts.maxEntries !== undefined && count > opts.maxEntries) {
    throw new ZipFormatError(`too many entries (${count})`, 'too-many-entries');
  }
  const decoder = new TextDecoder('utf-8');
  const entries: ZipEntry[] = [];
  let p = bounds.offset - base;
  for (let i = 0; i < count; i++) {
    if (p + 46 > bytes.length || dv.getUint32(p, true) !== SIG_CENTRAL) {
      throw new ZipFormatError(`central directory entry ${i} is malformed`);
    }
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    if (p + 46 + nameLen + extraLen + commentLen > bytes.length) throw new ZipFormatError('central directory truncated');
    const entry: ZipEntry = {
      name: decoder.decode(bytes.subarray(p + 46, p + 46 + nameLen)),
      flags: dv.getUint16(p + 8, true),
      method: dv.getUint16(p + 10, true),
      compressedSize: dv.getUint32(p + 20, true),
      uncompressedSize: dv.getUint32(p + 24, true),
      localHeaderOffset: dv.getUint32(p + 42, true),
    };
    if (entry.compressedSize === U32_MAX || entry.uncompressedSize === U32_MAX || entry.localHeaderOffset === U32_MAX) {
      applyZip64Extra(dv, p + 46 + nameLen, extraLen, entry);
    }
    entries.push(entry);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** The compressed bytes of one entry, located through its local header. */
export function entryData(bytes: Uint8Array, entry: ZipEntry): Uint8Array {
  const dv = view(bytes);
  const at = entry.localHeaderOffset;
  if (at + 30 > bytes.length || dv.getUint32(at, true) !== SIG_LOCAL) {
    throw new ZipFormatError(`local header of "${entry.name}" is malformed`);
  }
  const start = at + 30 + dv.getUint16(at + 26, true) + dv.getUint16(at + 28, true);
  const end = start + entry.compressedSize;
  if (end > bytes.length) throw new ZipFormatError(`data of "${entry.name}" is truncated`);
  return bytes.subarray(start, end);
}
