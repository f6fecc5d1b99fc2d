/**
 * Tasks for the parse breakdown (bench/parse.ts), run through the server's own worker-thread
 * pool (src/files/parsing/worker-pool.ts), each in a fresh thread (one task per thread):
 * `noop` costs the thread start, `loadPdfParse` that plus importing pdf-parse, `loadParsers`
 * that plus importing the server's parser modules, `barePdf` a bare pdf-parse getText() in the thread.
 */
export async function noop(): Promise<null> {
  return null;
}

export async function loadPdfParse(): Promise<boolean> {
  const mod = await import('pdf-parse');
  return typeof mod.PDFParse === 'function';
}

export async function loadParsers(): Promise<boolean> {
  const mod = await import('../src/files/parsing/parsers');
  return typeof mod.parseFile === 'function';
}

export async function barePdf(bytes: Uint8Array): Promise<number> {
  const { PDFParse } = await import('pdf-parse');
  const parser = new PDFParse({ data: new Uint8Array(bytes) });
  try {
    return (await parser.getText()).total;
  } finally {
    await parser.destroy();
  }
}
