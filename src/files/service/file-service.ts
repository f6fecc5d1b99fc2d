import type { Orm } from '../../db/orm';
import { StoredFile } from '../../db/entities';
import type { RoomAccess } from '../../rooms/access';
import { AppError } from '../../shared/errors';
import type { FilePipeline } from '../file-pipeline';
import type { StagedFile } from '../upload/file-store';
import type { RegisteredFile, UploadInput } from '../upload/register-upload';
import { decodeCursor, olderThan, pageOf, type Page } from '../../shared/pagination';

export interface FileSummaryDto {
  id: string;
  filename: string;
  kind: string;
  sizeBytes: number;
  status: string;
  createdAt: string;
}

/** Uploading a file, and reading an uploaded file's status, metadata and, when ready, its parsed content. */
export class FileService {
  constructor(
    private readonly orm: Orm,
    private readonly access: RoomAccess,
    private readonly pipeline: Pick<FilePipeline, 'upload' | 'stage' | 'discard'>,
  ) {}

  /** Streams an upload's body to disk while hashing it (nothing stays in memory); `upload` takes it from there. */
  stage(source: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<StagedFile> {
    return this.pipeline.stage(source, signal);
  }

  /** Removes a staged upload that will not be registered (a refused or broken request). */
  discard(staged: Pick<StagedFile, 'path'>): Promise<void> {
    return this.pipeline.discard(staged);
  }

  /** Sniffs, stores and queues a file; the caller has checked membership before reading the body. */
  upload(input: UploadInput): Promise<RegisteredFile> {
    return this.pipeline.upload(input);
  }

  /** The room's files, newest first, without their content. */
  async list(userId: string, roomId: string, q: { before?: string; limit: number }): Promise<Page<FileSummaryDto>> {
    const em = this.orm.em.fork();
    await this.access.requireMember(roomId, userId);
    const rows = await em.find(
      StoredFile,
      { room: roomId, ...olderThan(decodeCursor(q.before)) },
      { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], limit: q.limit + 1, exclude: ['parsed'] },
    );
    return pageOf(rows, q.limit, (f) => ({
      id: f.id,
      filename: f.filename,
      kind: f.kind,
      sizeBytes: f.sizeBytes,
      status: f.status,
      createdAt: f.createdAt.toISOString(),
    }));
  }

  async get(userId: string, fileId: string) {
    const em = this.orm.em.fork();
    const f = await em.findOne(StoredFile, { id: fileId });
    // Someone else's file answers exactly like a missing one.
    if (!f || !(await this.access.isMember(f.room.id, userId))) {
      throw new AppError('FILE_NOT_FOUND', 'File not found');
    }
    return {
      id: f.id,
      roomId: f.room.id,
      filename: f.filename,
      kind: f.kind,
      mime: f.mime,
      sizeBytes: f.sizeBytes,
      sha256: f.sha256,
      status: f.status,
      error: f.status === 'failed' ? { code: f.errorCode ?? 'PARSE_FAILED', message: f.errorMessage ?? '' } : null,
      createdAt: f.createdAt.toISOString(),
      updatedAt: f.updatedAt.toISOString(),
      parsed: f.status === 'ready' ? (f.parsed ?? null) : null,
    };
  }
}
