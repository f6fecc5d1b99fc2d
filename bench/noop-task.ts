/**
 * Tasks for the parse breakdown (bench/parse.ts), run through the server's own worker-thread
 * runner: `noop` measures starting a limited thread, `loadPdfParse` that plus importing pdf-parse.
 */
export async function noop(): Promise<null> {
  return null;
}

export async function loadPdfParse(): Promise<boolean> {
  const mod = await import('pdf-parse');
  return typeof mod.PDFParse === 'function';
}
