import type { Orm } from '../../db/orm';
import { StoredFile } from '../../db/entities';
import type { RoomAccess } from '../../rooms/access';
import { can } from '../../domain/permissions';
import type { DomainEvents } from '../../shared/domain-events';
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
    private readonly pipeline: Pick<FilePipeline, 'upload' | 'stage' | 'discard' | 'store'>,
    private readonly events?: DomainEvents,
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

  /** A file of a room the caller belongs to (any role); FILE_NOT_FOUND otherwise, as for a missing one. */
  private async visible(userId: string, fileId: string) {
    const file = await this.orm.em.fork().findOne(StoredFile, { id: fileId }, { exclude: ['parsed'] });
    if (!file) throw new AppError('FILE_NOT_FOUND', 'File not found');
    const role = await this.access.roleOf(file.room.id, userId).catch(() => null);
    if (!role) throw new AppError('FILE_NOT_FOUND', 'File not found');
    return { file, role };
  }

  /** What a download serves: the stored bytes (checked against their hash), their type and name. */
  async content(userId: string, fileId: string): Promise<{ path: string; mime: string; filename: string; sizeBytes: number }> {
    const { file } = await this.visible(userId, fileId);
    let path: string;
    try {
      path = await this.pipeline.store.verifiedPath(file.sha256);
    } catch {
      throw new AppError('FILE_NOT_FOUND', 'The stored file is missing');
    }
    return { path, mime: file.mime, filename: file.filename, sizeBytes: file.sizeBytes };
  }

  /** Deletes a file: its uploader (while they may upload) or an owner or admin. The bytes go when no file row names them. */
  async delete(userId: string, fileId: string): Promise<void> {
    const { file, role } = await this.visible(userId, fileId);
    const own = file.uploadedBy?.id === userId && can(role, 'files.upload');
    if (!own && !can(role, 'files.delete')) {
      throw new AppError('FORBIDDEN', `A ${role} may not delete ${file.uploadedBy?.id === userId ? 'files' : "other members' files"} in this room`, {
        role,
        action: 'files.delete',
      });
    }
    await this.orm.em.fork().nativeDelete(StoredFile, { id: fileId });
    await this.removeUnreferenced([file.sha256]);
    this.events?.emit('file:deleted', { roomId: file.room.id, fileId });
  }

  /**
   * Removes stored bytes no file row names any more (the store is content-addressed: rooms may
   * share bytes). An upload of the same bytes racing this may find them gone; its parse then fails
   * with FILE_MISSING and can be uploaded again.
   */
  async removeUnreferenced(sha256s: string[]): Promise<void> {
    const em = this.orm.em.fork();
    for (const sha256 of new Set(sha256s)) {
      if ((await em.count(StoredFile, { sha256 })) === 0) await this.pipeline.store.remove(sha256);
    }
  }
}
