import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ParseError } from '../parse-error';

/** An upload written aside (hashed on the way), not yet in the store. */
export interface StagedFile {
  path: string;
  sha256: string;
  sizeBytes: number;
}

/** Stored file bytes, addressed by their SHA-256: identical uploads share one copy. */
export interface FileStore {
  /**
   * Streams bytes into a staging file while hashing them; never holds them all in memory. On
   * failure or abort the staging file is removed and the promise rejects.
   */
  stage(source: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<StagedFile>;
  /** Moves a staged file into the store (once per content) and returns its address. */
  adopt(staged: StagedFile): Promise<{ sha256: string; sizeBytes: number }>;
  /** Removes a staged file; a no-op once it was adopted. */
  discard(staged: Pick<StagedFile, 'path'>): Promise<void>;
  /** Stages and adopts bytes already in memory. */
  put(bytes: Uint8Array): Promise<{ sha256: string; sizeBytes: number }>;
  /**
   * The path of the file stored under `sha256`, after checking its bytes against the hash (read
   * in chunks). Throws ParseError FILE_MISSING when absent or damaged.
   */
  verifiedPath(sha256: string): Promise<string>;
  has(sha256: string): Promise<boolean>;
  /** Removes a stored file (no row may name it any more); a missing one is no error. */
  remove(sha256: string): Promise<void>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const STAGED_SUFFIX = '.upload';

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Files under `${root}/<sha[0..2]>/<sha>` (root is `${dataDir}/files`), staged under
 * `${dataDir}/tmp`: the same file system, so adopting is a rename. The two-character fan-out keeps
 * directories small. In scaled mode the server and the workers must share this directory.
 */
export class DiskFileStore implements FileStore {
  constructor(
    readonly root: string,
    readonly stagingDir: string,
  ) {}

  static forDataDir(dataDir: string): DiskFileStore {
    return new DiskFileStore(path.join(dataDir, 'files'), path.join(dataDir, 'tmp'));
  }

  pathOf(sha256: string): string {
    // The address becomes a path: accept only a hash, so nothing can point outside the root.
    if (!SHA256_HEX.test(sha256)) throw new ParseError('FILE_MISSING', 'not a SHA-256 address');
    return path.join(this.root, sha256.slice(0, 2), sha256);
  }

  async stage(source: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<StagedFile> {
    await mkdir(this.stagingDir, { recursive: true });
    const file = path.join(this.stagingDir, `${randomBytes(12).toString('hex')}${STAGED_SUFFIX}`);
    const hash = createHash('sha256');
    let sizeBytes = 0;
    try {
      await pipeline(
        source,
        async function* (chunks: AsyncIterable<Uint8Array>) {
          for await (const chunk of chunks) {
            hash.update(chunk);
            sizeBytes += chunk.length;
            yield chunk;
          }
        },
        // flush: fsync before close, so a reader of the store sees either no file or the whole
        // file, even across a crash.
        createWriteStream(file, { flags: 'wx', flush: true }),
        signal ? { signal } : {},
      );
    } catch (err) {
      await rm(file, { force: true });
      throw err;
    }
    return { path: file, sha256: hash.digest('hex'), sizeBytes };
  }

  async adopt(staged: StagedFile): Promise<{ sha256: string; sizeBytes: number }> {
    const target = this.pathOf(staged.sha256);
    if (await this.has(staged.sha256)) {
      await this.discard(staged);
    } else {
      await mkdir(path.dirname(target), { recursive: true });
      // Concurrent uploads of the same content both rename the same bytes into place.
      await rename(staged.path, target);
    }
    return { sha256: staged.sha256, sizeBytes: staged.sizeBytes };
  }

  async discard(staged: Pick<StagedFile, 'path'>): Promise<void> {
    await rm(staged.path, { force: true });
  }

  async put(bytes: Uint8Array): Promise<{ sha256: string; sizeBytes: number }> {
    return this.adopt(await this.stage(Readable.from([bytes])));
  }

  async verifiedPath(sha256: string): Promise<string> {
    const file = this.pathOf(sha256);
    const hash = createHash('sha256');
    try {
      for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) hash.update(chunk as Buffer);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ParseError('FILE_MISSING', 'the stored file is missing (is DATA_DIR shared with the workers?)');
      }
      throw err; // other I/O errors may pass: the queue retries them
    }
    // A flipped bit on disk would otherwise be parsed and served as if it were the upload.
    if (hash.digest('hex') !== sha256) throw new ParseError('FILE_MISSING', 'the stored file does not match its hash');
    return file;
  }

  async remove(sha256: string): Promise<void> {
    await rm(this.pathOf(sha256), { force: true });
  }

  async has(sha256: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(sha256))).isFile();
    } catch {
      return false;
    }
  }

  /**
   * Removes staging files last written more than `olderThanMs` ago: uploads a process was
   * receiving when it died. Another node sharing DATA_DIR may be receiving the younger ones.
   */
  async sweepStaging(olderThanMs: number, now = Date.now()): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.stagingDir);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      if (!name.endsWith(STAGED_SUFFIX)) continue;
      const file = path.join(this.stagingDir, name);
      const info = await stat(file).catch(() => undefined);
      if (info && now - info.mtimeMs >= olderThanMs) {
        await rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }
}
