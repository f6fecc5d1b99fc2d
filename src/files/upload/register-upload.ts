import { Readable } from 'node:stream';
import { Room, User } from '../../db/entities';
import { StoredFile, type FileKind, type FileStatus } from '../../db/entities/file';
import type { Orm } from '../../db/orm';
import type { Broadcaster } from '../../events/broadcaster';
import { AppError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import { sanitizeFilename } from './filename';
import type { FileStore, StagedFile } from './file-store';
import type { JobQueue } from '../queue/job-queue';
import { sniffFile, withFileSource } from './sniff';

export interface RegisterUploadDeps {
  orm: Orm;
  store: FileStore;
  queue: JobQueue;
  broadcaster: Broadcaster;
  limits: { uploadBytes: number };
  logger?: Logger;
}

export type UploadInput = {
  roomId: string;
  /** The uploader; the caller has checked that they are a member of the room. */
  userId: string | null;
  filename: string;
} & (
  | { /** The upload as the transport staged it on disk (see FileStore.stage). */ staged: StagedFile }
  | { bytes: Uint8Array }
);

export interface RegisteredFile {
  id: string;
  roomId: string;
  filename: string;
  kind: FileKind;
  mime: string;
  sizeBytes: number;
  sha256: string;
  status: FileStatus;
}

/**
 * Accepts an upload: checks its size and its bytes (AppError FILE_TOO_LARGE, EMPTY_FILE,
 * UNSUPPORTED_FILE_TYPE, FILE_TYPE_MISMATCH, TEXT_ENCODING), moves the staged file into the store,
 * commits a 'queued' file row and enqueues its parse. The staged file is gone afterwards, whatever
 * happened. If the job cannot be enqueued the row is removed again and the error propagates: a
 * file is either queued or not there at all.
 */
export async function registerUpload(deps: RegisterUploadDeps, input: UploadInput): Promise<RegisteredFile> {
  const staged = 'staged' in input ? input.staged : await deps.store.stage(Readable.from([input.bytes]));
  try {
    return await register(deps, input, staged);
  } finally {
    await deps.store.discard(staged);
  }
}

async function register(deps: RegisterUploadDeps, input: UploadInput, staged: StagedFile): Promise<RegisteredFile> {
  const filename = sanitizeFilename(input.filename);
  if (staged.sizeBytes > deps.limits.uploadBytes) {
    throw new AppError('FILE_TOO_LARGE', `"${filename}" is larger than ${deps.limits.uploadBytes} bytes`, { limitBytes: deps.limits.uploadBytes });
  }
  const { kind, mime } = await withFileSource(staged.path, (source) => sniffFile(filename, source));
  const { sha256, sizeBytes } = await deps.store.adopt(staged);

  const em = deps.orm.em.fork();
  const file = em.create(StoredFile, {
    room: em.getReference(Room, input.roomId),
    uploadedBy: input.userId ? em.getReference(User, input.userId) : null,
    filename,
    kind,
    mime,
    sizeBytes,
    sha256,
    status: 'queued',
  });
  await em.flush();

  try {
    await deps.queue.enqueue({ fileId: file.id, roomId: input.roomId });
  } catch (err) {
    await em.nativeDelete(StoredFile, { id: file.id }).catch(() => undefined);
    throw err;
  }
  try {
    await deps.broadcaster.publish(input.roomId, 'file:progress', { fileId: file.id, stage: 'queued', percent: 0 });
  } catch (err) {
    deps.logger?.warn('file queued event not published', { fileId: file.id, err });
  }
  return { id: file.id, roomId: input.roomId, filename, kind, mime, sizeBytes, sha256, status: 'queued' };
}
