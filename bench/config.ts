/**
 * Sizes of the benchmark, from the environment. The defaults are what the performance targets
 * are stated for (docs/benchmarks.md); a default run takes about 15 minutes on two cores.
 */
const int = (name: string, def: number, min = 0, max = 1_000_000): number => {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
};

export interface BenchConfig {
  /** Socket clients joined to the room in the latency runs and in scaled mode. */
  clients: number;
  /** The large room: sockets connected and joined into one room for the memory and join figures. */
  bigRoom: number;
  /** The small rooms: this many rooms of `smallRoom` sockets each, for the join figures. */
  smallRoom: number;
  smallRooms: number;
  /** The two fan-out sizes (clients of the throughput runs), small then large. */
  fanout: [number, number];
  /** Sockets the single-node pool opens: the largest of bigRoom, fanout and clients. */
  memSockets: number;
  /** Client processes the sockets are spread over. */
  clientProcs: number;
  /** Turns per latency run (sequential, one session). */
  turns: number;
  /** Tokens per model reply in the latency runs, and the fake model's delay before each. */
  tokens: number;
  tokenDelayMs: number;
  /**
   * Throughput run: sessions streaming at once, tokens per reply (no delay), and about how many
   * frames are delivered in all (turns per session = deliveries / (clients x sessions x tokens), at least 1).
   */
  tpSessions: number;
  tpTokens: number;
  tpDeliveries: number;
  /** Bare throughput: frames broadcast per turn of the event loop, each tried; the best rate is the baseline. */
  blastBursts: number[];
  /** DELTA_FLUSH_MS of the production-config run (the server's default is 40). */
  flushMs: number;
  /** PDFs for the parse figure: documents, pages each, lines per page, repetitions. */
  pdfDocs: number;
  pdfPages: number;
  pdfLines: number;
  pdfReps: number;
  /** Files each side parses before anything is timed (a fresh thread's pdf.js warms up over dozens of files). */
  pdfWarm: number;
  /** Calls each side on a one-page PDF for its fixed cost per file. */
  pdfOnePage: number;
  /** 'pglite' (embedded, default) or 'postgres' (a fresh database at TEST_ADMIN_DATABASE_URL/DATABASE_URL). */
  db: 'pglite' | 'postgres';
  /** Which parts to run (comma list of realtime, parse, scaled); see DEFAULT_PARTS. */
  only: Set<string>;
  /** BENCH_ONLY was not set: a part whose services are missing (scaled) is skipped, not failed. */
  defaultParts: boolean;
  /** Where the JSON goes. */
  out: string;
  /**
   * Pairs: the real-time and scaled parts run this many times, each time Pantheon and its baseline
   * one right after the other; the table gives the median of the pairs and the spread of their ratios.
   */
  pairs: number;
  /** `--quick`: every part, small and fast (CI runs it so the bench keeps working); its figures mean little. */
  quick: boolean;
}

const PARTS = ['realtime', 'parse', 'scaled'];
/** What a run without BENCH_ONLY does. */
const DEFAULT_PARTS = 'realtime,parse,scaled';

/** Sizes of `--quick`: each part runs end to end in seconds. BENCH_* variables still win. */
const QUICK: Record<string, string> = {
  BENCH_CLIENTS: '10',
  BENCH_MEM_SOCKETS: '20',
  BENCH_JOIN_SMALL: '5',
  BENCH_JOIN_SMALL_ROOMS: '2',
  BENCH_FANOUT: '10,20',
  BENCH_TURNS: '3',
  BENCH_TOKENS: '5',
  BENCH_TOKEN_DELAY_MS: '2',
  BENCH_TP_SESSIONS: '1',
  BENCH_TP_TOKENS: '20',
  BENCH_TP_DELIVERIES: '200',
  BENCH_BLAST_BURSTS: '16',
  BENCH_PDF_DOCS: '1',
  BENCH_PDF_PAGES: '2',
  BENCH_PDF_LINES: '5',
  BENCH_PDF_REPS: '1',
  BENCH_PDF_WARM: '1',
  BENCH_PDF_ONE_PAGE: '2',
  BENCH_PAIRS: '1',
  BENCH_OUT: 'bench/results/quick.json',
};

export function loadBenchConfig(argv: readonly string[] = process.argv.slice(2)): BenchConfig {
  const quick = argv.includes('--quick');
  const unknown = argv.filter((a) => a !== '--quick');
  if (unknown.length) throw new Error(`unknown argument(s): ${unknown.join(' ')} (the only one is --quick)`);
  if (quick) for (const [k, v] of Object.entries(QUICK)) if (process.env[k] === undefined) process.env[k] = v;
  const db = process.env.BENCH_DB ?? 'pglite';
  if (db !== 'pglite' && db !== 'postgres') throw new Error(`BENCH_DB must be pglite or postgres, got "${db}"`);
  const only = new Set((process.env.BENCH_ONLY?.trim() || DEFAULT_PARTS).split(',').map((s) => s.trim()).filter(Boolean));
  for (const part of only) if (!PARTS.includes(part)) throw new Error(`BENCH_ONLY: unknown part "${part}" (parts: ${PARTS.join(', ')})`);
  if (process.env.BENCH_TP_TURNS !== undefined) throw new Error('BENCH_TP_TURNS is gone: the turns of a throughput run follow from BENCH_TP_DELIVERIES');
  const clients = int('BENCH_CLIENTS', 200, 2, 5000);
  const bigRoom = int('BENCH_MEM_SOCKETS', 1000, 1, 10_000);
  const fanout = (process.env.BENCH_FANOUT ?? '100,1000').split(',').map((v) => {
    const n = Number(v.trim());
    if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new Error(`BENCH_FANOUT: "${v}" is not an integer from 1 to 10000`);
    return n;
  });
  if (fanout.length !== 2 || fanout[0]! >= fanout[1]!) throw new Error('BENCH_FANOUT must be two sizes, the smaller first (e.g. 100,1000)');
  return {
    clients,
    bigRoom,
    // One user has a socket in each small room at once; the server allows 20 sockets per user.
    smallRoom: int('BENCH_JOIN_SMALL', 20, 2, 10_000),
    smallRooms: int('BENCH_JOIN_SMALL_ROOMS', 10, 1, 19),
    fanout: [fanout[0]!, fanout[1]!],
    memSockets: Math.max(bigRoom, fanout[1]!, clients),
    clientProcs: int('BENCH_CLIENT_PROCS', 2, 1, 16),
    turns: int('BENCH_TURNS', 100, 1, 10_000),
    tokens: int('BENCH_TOKENS', 20, 1, 100_000),
    tokenDelayMs: int('BENCH_TOKEN_DELAY_MS', 10, 0, 10_000),
    tpSessions: int('BENCH_TP_SESSIONS', 2, 1, 100),
    tpTokens: int('BENCH_TP_TOKENS', 300, 1, 100_000),
    tpDeliveries: int('BENCH_TP_DELIVERIES', 480_000, 1, 100_000_000),
    blastBursts: (process.env.BENCH_BLAST_BURSTS ?? '1,16,256').split(',').map((v) => {
      const n = Number(v.trim());
      if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_BLAST_BURSTS: "${v}" is not a positive integer`);
      return n;
    }),
    flushMs: int('BENCH_FLUSH_MS', 40, 0, 10_000),
    pdfDocs: int('BENCH_PDF_DOCS', 3, 1, 100),
    pdfPages: int('BENCH_PDF_PAGES', 40, 1, 2000),
    pdfLines: int('BENCH_PDF_LINES', 30, 1, 200),
    pdfReps: int('BENCH_PDF_REPS', 10, 1, 100),
    pdfWarm: int('BENCH_PDF_WARM', 60, 0, 10_000),
    pdfOnePage: int('BENCH_PDF_ONE_PAGE', 20, 1, 1000),
    db,
    only,
    defaultParts: process.env.BENCH_ONLY === undefined || process.env.BENCH_ONLY.trim() === '',
    out: process.env.BENCH_OUT ?? 'bench/results/latest.json',
    pairs: int('BENCH_PAIRS', 3, 1, 50),
    quick,
  };
}

/** Turns per session of a throughput run with `clients` clients. */
export const tpTurnsFor = (cfg: BenchConfig, clients: number): number => Math.max(1, Math.round(cfg.tpDeliveries / (clients * cfg.tpSessions * cfg.tpTokens)));
