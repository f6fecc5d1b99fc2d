import { createInflate, createInflateRaw } from 'node:zlib';

/** The entry inflated to more bytes than allowed; the inflation was stopped there. */
export class InflateLimitError extends Error {
  constructor(readonly limit: number) {
    super(`inflates to more than ${limit} bytes`);
    this.name = 'InflateLimitError';
  }
}

/**
 * Counts how many bytes a deflate stream really inflates to, discarding the output as it goes
 * and stopping as soon as `limit` is passed. Declared sizes in a zip can lie; this cannot. The
 * output is never kept, so even a 1000:1 bomb costs a bounded amount of memory (Buffers live off
 * the V8 heap, where a worker's resourceLimits would not see them). `format`: raw deflate (zip
 * entries) or with a zlib header (PDF FlateDecode).
 */
export function measureInflatedSize(compressed: Uint8Array, limit: number, format: 'raw' | 'zlib' = 'raw'): Promise<number> {
  return new Promise((resolve, reject) => {
    const inflate = (format === 'raw' ? createInflateRaw : createInflate)({ chunkSize: 64 * 1024 });
    let total = 0;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    inflate.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        settle(() => reject(new InflateLimitError(limit)));
        inflate.destroy();
      }
    });
    inflate.on('error', (err) => settle(() => reject(err)));
    inflate.on('end', () => settle(() => resolve(total)));
    inflate.end(compressed);
  });
}
