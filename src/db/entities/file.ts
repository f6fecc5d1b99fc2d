import { defineEntity, p } from '@mikro-orm/core';
import { FILE_STATUSES } from '../../contract/enums';
import { newId, now } from './common';
import { Room } from './room';
import { User } from './user';

export { FILE_STATUSES, type FileStatus } from '../../contract/enums';
export const FILE_KINDS = ['pdf', 'docx', 'csv', 'txt', 'md'] as const;
export type FileKind = (typeof FILE_KINDS)[number];

export interface ParsedContent {
  /** PDF pages, or one chunk for text formats. */
  pages?: { page: number; text: string }[];
  /** CSV rows in ranges, with the detected header. */
  header?: string[] | null;
  rows?: { from: number; to: number; text: string }[];
  text?: string;
  truncated?: boolean;
}

/** An uploaded file, stored content-addressed under DATA_DIR and parsed by a queued job. */
export const StoredFileSchema = defineEntity({
  name: 'StoredFile',
  tableName: 'files',
  indexes: [
    // Full-text search over the parsed text (the SQL function is made by a migration).
    { name: 'files_parsed_search', expression: `create index "files_parsed_search" on "files" using gin (to_tsvector('english', "file_search_text"("parsed")))` },
    // A turn lists the room's ready files, newest first.
    { properties: ['room', 'status', 'createdAt'] },
  ],
  properties: {
    id: p.uuid().primary().onCreate(newId),
    room: () => p.manyToOne(Room).deleteRule('cascade'),
    uploadedBy: () => p.manyToOne(User).deleteRule('set null').nullable(),
    filename: p.string().length(255),
    kind: p.enum(FILE_KINDS),
    mime: p.string().length(100),
    sizeBytes: p.bigint('number'),
    sha256: p.string().length(64).index(),
    status: p.enum(FILE_STATUSES).default('queued'),
    errorCode: p.string().length(64).nullable(),
    errorMessage: p.text().nullable(),
    parsed: p.json<ParsedContent>().nullable(),
    meta: p.json<Record<string, unknown>>().nullable(),
    createdAt: p.datetime().onCreate(now).defaultRaw('now()'),
    updatedAt: p.datetime().onCreate(now).onUpdate(now).defaultRaw('now()'),
  },
});
export class StoredFile extends StoredFileSchema.class {}
StoredFileSchema.setClass(StoredFile);
