import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { StorageEngine } from 'multer';
import type { FileService } from '../../files/service/file-service';
import { AppError } from '../../shared/errors';

/** The file multer hands the route: staged on disk (`path`, `size`), with its hash. */
export type StagedUploadFile = Express.Multer.File & { sha256: string };

/** Per request: the signal that stops its staging write, and that write (to answer once its file is gone). */
const aborts = new WeakMap<Request, AbortSignal>();
const writes = new WeakMap<Request, Promise<unknown>>();

/**
 * A multer storage engine that streams each file to a staging file on disk, hashing it on the
 * way (FileService.stage), so an upload costs a few chunks of memory however large it is. A
 * failed or aborted write removes its own file; multer removes completed ones it refuses.
 */
export function stagingStorage(files: Pick<FileService, 'stage' | 'discard'>): StorageEngine {
  return {
    _handleFile(req, file, cb) {
      const write = files.stage(file.stream, aborts.get(req));
      writes.set(req, write);
      write.then(
        (staged) => cb(null, { path: staged.path, size: staged.sizeBytes, sha256: staged.sha256 } as Partial<Express.Multer.File>),
        (err: unknown) => cb(err),
      );
    },
    _removeFile(_req, file, cb) {
      files.discard({ path: file.path }).then(() => cb(null), cb);
    },
  };
}

/**
 * Runs an upload middleware (multer with `stagingStorage`) under two clocks: a body that sends no
 * byte for `idleTimeoutMs`, or is not complete `timeoutMs` after it started (a steady drip), is
 * cut. Its staging write is aborted (the file removed), then the request is answered 408
 * UPLOAD_TIMEOUT and the connection closed, since the rest of the body will not be read.
 */
export function withinTimeouts(run: RequestHandler, opts: { idleTimeoutMs: number; timeoutMs: number }) {
  return (req: Request, res: Response, done: NextFunction) => {
    const abort = new AbortController();
    aborts.set(req, abort.signal);
    let settled = false;
    let cutting = false;
    const settle = (err?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      clearTimeout(deadline);
      req.off('data', onData);
      done(err);
    };
    const cut = (message: string) => {
      if (settled || cutting) return;
      cutting = true;
      const err = new AppError('UPLOAD_TIMEOUT', message);
      abort.abort(err);
      res.setHeader('Connection', 'close');
      res.once('finish', () => req.socket.destroy());
      void (writes.get(req) ?? Promise.resolve())
        .catch(() => undefined)
        .then(() => settle(err));
    };
    const idle = setTimeout(() => cut(`The upload sent nothing for ${opts.idleTimeoutMs} ms`), opts.idleTimeoutMs);
    const deadline = setTimeout(() => cut(`The upload was not complete within ${opts.timeoutMs} ms`), opts.timeoutMs);
    const onData = () => idle.refresh();
    run(req, res, (err?: unknown) => {
      if (!cutting) settle(err);
    });
    // After `run`, which pipes the request into the parser: a listener added earlier would start the flow first.
    req.on('data', onData);
  };
}
