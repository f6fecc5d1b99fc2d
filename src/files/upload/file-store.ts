import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ParseError } from '../parse-error';

/** Stored file bytes, addressed by their SHA-256: identical uploads share one copy. */
export interface FileStore {
  /** Stores the bytes (once per content) and returns their address. */
  put(bytes: Uint8Array): Promise<{ sha256: string; sizeBytes: number }>;
  /** The bytes stored under `sha256`; throws ParseError FILE_MISSING when absent or damaged. */
  get(sha256: string): Promise<Buffer>;
  has(sha256: string): Promise<boolean>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Files under `${root}/<sha[0..2]>/<sha>` (root is `${dataDir}/files`). The two-character fan-out
 * keeps directories small. In scaled mode the server and the workers must share this directory.
 */
export class DiskFileStore implements FileStore {
  constructor(readonly root: string) {}

  static forDataDir(dataDir: string): DiskFileStore {
    return new DiskFileStore(path.join(dataDir, 'files'));
  }

  pathOf(sha256: string): string {
    // The address becomes a path: accept only a hash, so nothing can point outside the root.
    if (!SHA256_HEX.test(sha256)) throw new ParseError('FILE_MISSING', 'not a SHA-256 address');
    return path.join(this.root, sha256.slice(0, 2), sha256);
  }

  async put(bytes: Uint8Array): Promise<{ sha256: string; sizeBytes: number }> {
    const sha256 = sha256Hex(bytes);
    const target = this.pathOf(sha256);
    if (await this.has(sha256)) return { sha256, sizeBytes: bytes.length };
    await mkdir(path.dirname(target), { recursive: true });
    // Write aside, fsync, then rename: a reader sees either no file or the whole file, never a
    // torn one, even across a crash. Concurrent writers of the same content both rename the same bytes.
    const tmp = `${target}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      const handle = await open(tmp, 'wx');
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return { sha256, sizeBytes: bytes.length };
  }

  async get(sha256: string): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathOf(sha256));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ParseError('FILE_MISSING', 'the stored file is missing (is DATA_DIR shared with the workers?)');
      }
      throw err; // other I/O errors may pass: the queue retries them
    }
    // A flipped bit on disk would otherwise be parsed and served as if it were the upload.
    if (sha256Hex(bytes) !== sha256) throw new ParseError('FILE_MISSING', 'the stored file does not match its hash');
    return bytes;
  }

  async has(sha256: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(sha256))).isFile();
    } catch {
      return false;
    }
  }
}
