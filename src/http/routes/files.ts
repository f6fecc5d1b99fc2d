import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Router, type RequestHandler } from 'express';
import multer from 'multer';
import type { AppConfig } from '../../config/config';
import type { Services } from '../../services';
import { AppError } from '../../shared/errors';
import { currentUser } from '../middleware/auth';
import { stagingStorage, withinTimeouts, type StagedUploadFile } from '../middleware/upload-body';
import { UploadSlots, uploadSlot } from '../middleware/upload-slots';
import { query } from '../middleware/validate';
import { listQuery } from '../../rooms/schemas';
import { idParam } from './ids';

/**
 * Uploads: the uploader's role is checked (files.upload) and an upload slot taken before a byte of the body is read;
 * multer streams the file to a staging file on disk up to the cap (one file, a few small fields)
 * within the idle and total timeouts, then the pipeline sniffs, stores and queues it.
 */
export function fileRoutes(s: Services, limits: AppConfig['limits']): Router {
  const r = Router();
  const uploadBytes = limits.uploadBytes;
  const slots = new UploadSlots({ perUser: limits.uploadsPerUser, total: limits.uploadsTotal });
  const upload = withinTimeouts(
    multer({
      storage: stagingStorage(s.files),
      limits: { fileSize: uploadBytes, files: 1, fields: 5, fieldSize: 1024, parts: 8 },
      // Browsers send a file name in raw UTF-8 without saying so; busboy's default reads it as latin1.
      defParamCharset: 'utf8',
    }).single('file'),
    { idleTimeoutMs: limits.uploadIdleTimeoutMs, timeoutMs: limits.uploadTimeoutMs },
  );

  const receive: RequestHandler = (req, res, next) => {
    if (!req.is('multipart/form-data')) {
      next(new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the file as multipart/form-data in the field "file"'));
      return;
    }
    upload(req, res, (err: unknown) => {
      if (!err) return next();
      if (err instanceof AppError) return next(err);
      if (err instanceof multer.MulterError) {
        if (err.code === 'LIMIT_FILE_SIZE') return next(new AppError('FILE_TOO_LARGE', `Files are limited to ${uploadBytes} bytes`));
        return next(new AppError('VALIDATION_FAILED', `Upload refused: ${err.message}`));
      }
      next(new AppError('VALIDATION_FAILED', 'The multipart body could not be read'));
    });
  };

  r.post(
    '/rooms/:roomId/files',
    async (req, _res, next) => {
      const roomId = idParam(req.params.roomId, 'ROOM_NOT_FOUND');
      await s.access.requirePermission(roomId, currentUser(req).id, 'files.upload');
      next();
    },
    uploadSlot(slots),
    receive,
    async (req, res) => {
      const file = req.file as StagedUploadFile | undefined;
      if (!file) throw new AppError('VALIDATION_FAILED', 'The field "file" is missing');
      const registered = await s.files.upload({
        roomId: idParam(req.params.roomId, 'ROOM_NOT_FOUND'),
        userId: currentUser(req).id,
        filename: file.originalname,
        staged: { path: file.path, sha256: file.sha256, sizeBytes: file.size },
      });
      res.status(201).json(registered);
    },
  );

  r.get('/rooms/:roomId/files', async (req, res) => {
    res.json(await s.files.list(currentUser(req).id, idParam(req.params.roomId, 'ROOM_NOT_FOUND'), query(req, listQuery)));
  });

  r.get('/files/:fileId', async (req, res) => {
    res.json(await s.files.get(currentUser(req).id, idParam(req.params.fileId, 'FILE_NOT_FOUND')));
  });
  r.delete('/files/:fileId', async (req, res) => {
    await s.files.delete(currentUser(req).id, idParam(req.params.fileId, 'FILE_NOT_FOUND'));
    res.status(204).end();
  });
  r.get('/files/:fileId/content', async (req, res) => {
    const f = await s.files.content(currentUser(req).id, idParam(req.params.fileId, 'FILE_NOT_FOUND'));
    res.setHeader('Content-Type', contentType(f.mime));
    res.setHeader('Content-Length', String(f.sizeBytes));
    res.setHeader('Content-Disposition', attachment(f.filename));
    // Served as a download, never rendered as a page of this origin.
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    await pipeline(createReadStream(f.path), res);
  });
  return r;
}

/** The stored type; text is always UTF-8 here (uploads of other encodings are refused). */
function contentType(mime: string): string {
  return mime.startsWith('text/') && !/charset=/i.test(mime) ? `${mime}; charset=utf-8` : mime;
}

/**
 * `attachment` with the name twice: an ASCII fallback (quotes, backslashes, control and non-ASCII
 * characters replaced) and the exact name percent-encoded as RFC 6266 / 5987 `filename*`.
 */
export function attachment(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\%;]/g, '_') || 'file';
  const exact = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${exact}`;
}
