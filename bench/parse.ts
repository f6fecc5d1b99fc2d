import os from 'node:os';
import { PDFParse } from 'pdf-parse';
import { runParse } from '../src/files/parsing/parse-runner';
import { WorkerPool } from '../src/files/parsing/worker-pool';
import { buildPdf } from '../tests/helpers/file-fixtures';
import type { BenchConfig } from './config';
import { Samples, summarize, type Summary } from './stats';

/**
 * Parse throughput: the server's `runParse('pdf', ...)` (a pooled worker thread with heap and
 * time limits, text read page by page) against a bare `new PDFParse({ data }).getText()` on
 * the main thread, on the same generated multi-page PDFs, in this process, alternating per file.
 * Both sides parse `pdfWarm` files first, untimed: pdf.js in a fresh thread runs about 10% slower
 * than on this process's main thread (whose JIT the rest of the bench has warmed) until it has
 * parsed a few dozen files, and a server's parse threads live for hundreds.
 */

export interface ParseSide {
  files: number;
  bytes: number;
  pages: number;
  totalMs: number;
  mbPerSec: number;
  pagesPerSec: number;
  /** Time of one call on a one-page PDF (fixed cost per file). */
  onePageMs: Summary;
}

export interface ParseResults {
  docs: number;
  pagesPerDoc: number;
  linesPerPage: number;
  reps: number;
  bytesPerDoc: number;
  runParse: ParseSide;
  bare: ParseSide;
  textMatches: boolean;
  /**
   * Where runParse's fixed cost per file goes: p50 of 5 fresh threads each, cumulative steps
   * (start; + import pdf-parse; + import the server's parsers; a bare getText() of the 1-page PDF in a thread).
   */
  breakdown: { threadStartMs: number; importPdfParseMs: number; importParsersMs: number; barePdfInThreadMs: number };
  /** Cores busy with other work while the parse runs were timed (noise, ideally ~0). */
  otherCores: number;
}

const log = (msg: string) => console.log(`[bench] ${(performance.now() / 1000).toFixed(1).padStart(5)} s  ${msg}`);

function makeDoc(d: number, pages: number, lines: number): Buffer {
  return buildPdf(
    Array.from({ length: pages }, (_, p) =>
      Array.from({ length: lines }, (_, l) => `Doc ${d} page ${p + 1} line ${l + 1}: the quick brown fox jumps over the lazy dog, ${d * 100_000 + p * 100 + l}.`),
    ),
  );
}

const RUN_OPTS = { timeoutMs: 120_000, memoryMb: 256, limits: { pdfMaxPages: 100_000 } };

async function viaRunParse(bytes: Uint8Array): Promise<{ pages: number; chars: number }> {
  const parsed = await runParse('pdf', bytes, RUN_OPTS);
  const pages = parsed.pages ?? [];
  return { pages: pages.length, chars: pages.reduce((n, p) => n + p.text.replace(/\s/g, '').length, 0) };
}

async function viaBare(bytes: Uint8Array): Promise<{ pages: number; chars: number }> {
  const parser = new PDFParse({ data: new Uint8Array(bytes) });
  try {
    const r = await parser.getText();
    return { pages: r.total, chars: r.pages.reduce((n, p) => n + p.text.replace(/\s/g, '').length, 0) };
  } finally {
    await parser.destroy();
  }
}

const TASKS_URL = new URL('./noop-task.ts', import.meta.url).href;

function machineBusyMs(): number {
  let busy = 0;
  for (const c of os.cpus()) busy += c.times.user + c.times.nice + c.times.sys + c.times.irq;
  return busy;
}

export async function runParseBench(cfg: BenchConfig): Promise<ParseResults> {
  const docs = Array.from({ length: cfg.pdfDocs }, (_, d) => makeDoc(d, cfg.pdfPages, cfg.pdfLines));
  const onePage = makeDoc(999, 1, cfg.pdfLines);
  log(`parse: ${cfg.pdfDocs} PDFs x ${cfg.pdfPages} pages (${Math.round(docs[0]!.length / 1024)} KiB each), ${cfg.pdfReps} reps`);

  // Warm-up: module loading and the JIT of both sides, untimed.
  await viaRunParse(onePage);
  await viaBare(onePage);
  for (let i = 0; i < cfg.pdfWarm; i++) {
    const doc = docs[i % docs.length]!;
    await viaRunParse(doc);
    await viaBare(doc);
  }

  const one = { run: new Samples(), bare: new Samples() };
  for (let i = 0; i < cfg.pdfOnePage; i++) {
    let t = performance.now();
    await viaRunParse(onePage);
    one.run.push(performance.now() - t);
    t = performance.now();
    await viaBare(onePage);
    one.bare.push(performance.now() - t);
  }

  const steps: [string, unknown][] = [['noop', null], ['loadPdfParse', null], ['loadParsers', null], ['barePdf', onePage]];
  const stepMs = steps.map(() => new Samples());
  // One task per thread: every step pays for a fresh thread, as each parse did before threads were pooled.
  const freshThreads = new WorkerPool({ size: 1, memoryMb: 256, maxTasksPerWorker: 1 });
  try {
    for (let i = 0; i < 5; i++) {
      for (const [k, [name, input]] of steps.entries()) {
        const t = performance.now();
        await freshThreads.run({ moduleUrl: TASKS_URL, exportName: name, input }, 60_000);
        stepMs[k]!.push(performance.now() - t);
      }
    }
  } finally {
    await freshThreads.close();
  }
  const p50 = (k: number) => summarize(stepMs[k]!.values()).p50;

  const side = () => ({ files: 0, bytes: 0, pages: 0, totalMs: 0 });
  const run = side();
  const bare = side();
  let textMatches = true;
  const m0 = machineBusyMs();
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  for (let rep = 0; rep < cfg.pdfReps; rep++) {
    for (const doc of docs) {
      let t = performance.now();
      const a = await viaRunParse(doc);
      run.totalMs += performance.now() - t;
      t = performance.now();
      const b = await viaBare(doc);
      bare.totalMs += performance.now() - t;
      for (const [s, r] of [[run, a], [bare, b]] as const) {
        s.files++;
        s.bytes += doc.length;
        s.pages += r.pages;
      }
      if (a.pages !== b.pages || a.chars !== b.chars) textMatches = false;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const otherCores = Math.max(0, machineBusyMs() - m0 - (cpu.user + cpu.system) / 1000) / (performance.now() - w0);
  const finish = (s: ReturnType<typeof side>, oneMs: Samples): ParseSide => ({
    ...s,
    mbPerSec: s.bytes / (1024 * 1024) / (s.totalMs / 1000),
    pagesPerSec: s.pages / (s.totalMs / 1000),
    onePageMs: summarize(oneMs.values()),
  });
  return {
    docs: cfg.pdfDocs,
    pagesPerDoc: cfg.pdfPages,
    linesPerPage: cfg.pdfLines,
    reps: cfg.pdfReps,
    bytesPerDoc: docs[0]!.length,
    runParse: finish(run, one.run),
    bare: finish(bare, one.bare),
    textMatches,
    breakdown: { threadStartMs: p50(0), importPdfParseMs: p50(1), importParsersMs: p50(2), barePdfInThreadMs: p50(3) },
    otherCores,
  };
}
