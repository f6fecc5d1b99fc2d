import type { BenchConfig } from './config';
import type { ParseResults } from './parse';
import type { RealtimeResults } from './realtime';
import type { ScaledResults } from './scaled';
import { round } from './stats';

/**
 * A performance target: a bound on the ratio to the baseline, or on Pantheon's own figure. A
 * target stated for one database (`db`) is shown on the other, but not judged there.
 */
export interface Target {
  on: 'ratio' | 'pantheon';
  op: '<=' | '>=';
  value: number;
  db?: 'postgres';
}

export interface Figure {
  key: string;
  name: string;
  unit: string;
  pantheon: number;
  baseline: number;
  baselineName: string;
  /** pantheon / baseline */
  ratio: number;
  better: 'higher' | 'lower';
  /** Over several pairs: the lowest and highest ratio of one pair (the figures above are medians). */
  spread?: [number, number];
  pairs?: number;
  target?: Target;
  /** Whether the median meets the target; null when it is not judged (another database, or no number). */
  met?: boolean | null;
}

const fig = (key: string, name: string, unit: string, pantheon: number, baseline: number, baselineName: string, better: Figure['better'], target?: Target): Figure => ({
  key,
  name,
  unit,
  pantheon: round(pantheon),
  baseline: round(baseline),
  baselineName,
  ratio: round(pantheon / baseline),
  better,
  ...(target ? { target } : {}),
});

const ratioAtMost = (value: number): Target => ({ on: 'ratio', op: '<=', value });
const ratioAtLeast = (value: number): Target => ({ on: 'ratio', op: '>=', value });

/** The keys of the figures that carry a target (the test of `--quick` checks each is measured). */
export const TARGET_KEYS = [
  'heapPerConn',
  'rssPerConn',
  'joinCpuGrowth',
  'joinsPerSecSmall',
  'joinsPerSecLarge',
  'turnOverheadP50',
  'turnOverheadP99',
  'serverCpuPerFrameSmall',
  'serverCpuPerFrameLarge',
  'tokenLatencyP99Stream',
  'scaledServerCpuPerFrame',
  'parseMBps',
  'parseOnePageMs',
] as const;

// RSS per socket is in the table, though in a process that hosts an embedded database RSS moves
// with the database's working set too (see docs/benchmarks.md): BENCH_DB=postgres shows it alone.
export function figures(cfg: BenchConfig, rt: RealtimeResults | undefined, parse: ParseResults | undefined, scaled?: ScaledResults): Figure[] {
  const out: Figure[] = [];
  if (rt) {
    const ps = rt.pantheonStream;
    const pd = rt.pantheonDefault;
    const b = rt.bare;
    const KiB = 1024;
    const S = `${ps.joinSmall.rooms} rooms of ${ps.joinSmall.roomSize}`;
    const N = ps.memory.sockets;
    const growth = (r: typeof ps) => r.memory.join.serverCpuUsPerJoin / r.joinSmall.serverCpuUsPerJoin;
    const fan = (which: 'small' | 'large', target: number) => {
      const p = ps.fanout[which];
      const q = b.fanout[which];
      const key = which === 'small' ? 'Small' : 'Large';
      return [
        fig(`framesPerSec${key}`, `fan-out to ${p.clients} clients: delivered frames/s`, 'frames/s', p.framesPerSec, q.framesPerSec, `bare broadcast, best burst (${q.burst})`, 'higher'),
        fig(`serverCpuPerFrame${key}`, `fan-out to ${p.clients} clients: server CPU per delivered frame`, 'µs', p.serverCpuUsPerFrame, q.serverCpuUsPerFrame, `bare broadcast, burst ${q.burst}`, 'lower', ratioAtMost(target)),
      ];
    };
    out.push(
      fig('joinCpuSmall', `join: server CPU per join, ${S}`, 'µs', ps.joinSmall.serverCpuUsPerJoin, b.joinSmall.serverCpuUsPerJoin, 'bare socket.io + presence notice', 'lower'),
      fig('joinCpuLarge', `join: server CPU per join, filling a room of ${N}`, 'µs', ps.memory.join.serverCpuUsPerJoin, b.memory.join.serverCpuUsPerJoin, 'bare socket.io + presence notice', 'lower'),
      fig('joinCpuGrowth', `join: CPU per join, room of ${N} / rooms of ${ps.joinSmall.roomSize}`, 'x', growth(ps), growth(b), 'the same for bare socket.io', 'lower', { on: 'pantheon', op: '<=', value: 1.5 }),
      fig('joinsPerSecSmall', `join: joins/s into ${S} (${ps.joinSmall.concurrency} in flight)`, 'joins/s', ps.joinSmall.joinsPerSec, b.joinSmall.joinsPerSec, 'bare socket.io + presence notice', 'higher', ratioAtLeast(0.2)),
      fig('joinsPerSecLarge', `join: joins/s filling a room of ${N} (${ps.memory.join.concurrency} in flight)`, 'joins/s', ps.memory.join.joinsPerSec, b.memory.join.joinsPerSec, 'bare socket.io + presence notice', 'higher', ratioAtLeast(0.2)),
      fig('heapPerConn', `heap per joined socket, room of ${N} (db ${cfg.db})`, 'KiB', ps.memory.heapPerConnBytes / KiB, b.memory.heapPerConnBytes / KiB, 'bare socket.io', 'lower', ratioAtMost(1.3)),
      fig('totalPerConn', `heap+external per joined socket, room of ${N}`, 'KiB', ps.memory.totalPerConnBytes / KiB, b.memory.totalPerConnBytes / KiB, 'bare socket.io', 'lower'),
      fig('rssPerConn', `RSS per joined socket, room of ${N} (db ${cfg.db})`, 'KiB', ps.memory.rssPerConnBytes / KiB, b.memory.rssPerConnBytes / KiB, 'bare socket.io', 'lower', ratioAtMost(2)),
      ...fan('small', 1.15),
      ...fan('large', 1.05),
      fig('tokenLatencyP50Stream', `token latency p50, DELTA_FLUSH_MS=0, ${ps.latency.clients} clients`, 'ms', ps.latency.tokenLatencyMs.p50, b.latency.tokenLatencyMs.p50, 'bare relay', 'lower'),
      fig('tokenLatencyP99Stream', `token latency p99, DELTA_FLUSH_MS=0, ${ps.latency.clients} clients`, 'ms', ps.latency.tokenLatencyMs.p99, b.latency.tokenLatencyMs.p99, 'bare relay', 'lower', ratioAtMost(1.1)),
      fig('tokenLatencyP50', `token latency p50, DELTA_FLUSH_MS=${pd.flushMs} (default)`, 'ms', pd.latency.tokenLatencyMs.p50, b.latency.tokenLatencyMs.p50, 'bare relay', 'lower'),
      fig('tokenLatencyP99', `token latency p99, DELTA_FLUSH_MS=${pd.flushMs} (default)`, 'ms', pd.latency.tokenLatencyMs.p99, b.latency.tokenLatencyMs.p99, 'bare relay', 'lower'),
      fig('turnOverheadP50', `turn overhead p50 (ack -> turn:end - model time), ${pd.latency.turns} turns, db ${cfg.db}`, 'ms', pd.latency.turnOverheadMs.p50, b.latency.turnOverheadMs.p50, 'bare relay turn', 'lower', { on: 'pantheon', op: '<=', value: 8, db: 'postgres' }),
      fig('turnOverheadP99', `turn overhead p99 (ack -> turn:end - model time), ${pd.latency.turns} turns, db ${cfg.db}`, 'ms', pd.latency.turnOverheadMs.p99, b.latency.turnOverheadMs.p99, 'bare relay turn', 'lower', { on: 'pantheon', op: '<=', value: 20, db: 'postgres' }),
      fig('sendToEndOverheadP50', 'send -> turn:end - model time, p50', 'ms', pd.latency.sendToEndOverheadMs.p50, b.latency.sendToEndOverheadMs.p50, 'bare relay turn', 'lower'),
      fig('serverCpuPerTurn', `server CPU per turn (${cfg.tokens} tokens, ${cfg.clients} clients)`, 'ms', pd.latency.serverCpuMsPerTurn, b.latency.serverCpuMsPerTurn, 'bare relay turn', 'lower'),
    );
  }
  if (scaled) {
    const p = scaled.pantheon;
    const b = scaled.bare;
    const n = `${p.throughput.clients.a}+${p.throughput.clients.b} clients`;
    const relay = '2 bare + redis-adapter, relay';
    out.push(
      fig('scaledFramesPerSec', `scaled: delivered frames/s, 2 nodes, ${n}`, 'frames/s', p.throughput.framesPerSec, b.throughput.framesPerSec, `2 bare + redis-adapter, best burst (${b.throughput.burst})`, 'higher'),
      fig('scaledServerCpuPerFrame', 'scaled: server CPU per delivered frame (both nodes)', 'µs', p.throughput.serverCpuUsPerFrame, b.throughput.serverCpuUsPerFrame, `2 bare + redis-adapter, burst ${b.throughput.burst}`, 'lower', ratioAtMost(1.3)),
      fig('scaledRedisCpuPerFrame', 'scaled: Redis CPU per delivered frame', 'µs', p.throughput.redisCpuUsPerFrame, b.throughput.redisCpuUsPerFrame, `2 bare + redis-adapter, burst ${b.throughput.burst}`, 'lower'),
      fig('scaledTokenLatencyP50A', 'scaled: token latency p50, clients on node A (sender), flush 0', 'ms', p.latency.tokenLatencyMs.a.p50, b.latency.tokenLatencyMs.a.p50, relay, 'lower'),
      fig('scaledTokenLatencyP99A', 'scaled: token latency p99, clients on node A (sender), flush 0', 'ms', p.latency.tokenLatencyMs.a.p99, b.latency.tokenLatencyMs.a.p99, relay, 'lower'),
      fig('scaledTokenLatencyP50B', 'scaled: token latency p50, clients on node B, flush 0', 'ms', p.latency.tokenLatencyMs.b.p50, b.latency.tokenLatencyMs.b.p50, relay, 'lower'),
      fig('scaledTokenLatencyP99B', 'scaled: token latency p99, clients on node B, flush 0', 'ms', p.latency.tokenLatencyMs.b.p99, b.latency.tokenLatencyMs.b.p99, relay, 'lower'),
      fig('scaledTurnOverheadP50', 'scaled: turn overhead p50 (ack -> turn:end - model time)', 'ms', p.latency.turnOverheadMs.p50, b.latency.turnOverheadMs.p50, `${relay} turn`, 'lower'),
      fig('scaledTurnOverheadP99', 'scaled: turn overhead p99 (ack -> turn:end - model time)', 'ms', p.latency.turnOverheadMs.p99, b.latency.turnOverheadMs.p99, `${relay} turn`, 'lower'),
      fig('scaledSendToEndOverheadP50', 'scaled: send -> turn:end - model time, p50', 'ms', p.latency.sendToEndOverheadMs.p50, b.latency.sendToEndOverheadMs.p50, `${relay} turn`, 'lower'),
      fig('scaledServerCpuPerTurn', `scaled: server CPU per turn, both nodes (${cfg.tokens} tokens)`, 'ms', p.latency.serverCpuMsPerTurn.total, b.latency.serverCpuMsPerTurn.total, `${relay} turn`, 'lower'),
    );
  }
  if (parse) {
    out.push(
      fig('parseMBps', `PDF parse throughput (${parse.pagesPerDoc}-page PDFs)`, 'MB/s', parse.runParse.mbPerSec, parse.bare.mbPerSec, 'bare pdf-parse', 'higher', ratioAtLeast(0.95)),
      fig('parsePagesPerSec', `PDF parse pages/s (${parse.pagesPerDoc}-page PDFs)`, 'pages/s', parse.runParse.pagesPerSec, parse.bare.pagesPerSec, 'bare pdf-parse', 'higher'),
      fig('parseOnePageMs', 'PDF parse time of a 1-page PDF, p50', 'ms', parse.runParse.onePageMs.p50, parse.bare.onePageMs.p50, 'bare pdf-parse', 'lower', ratioAtMost(1.5)),
    );
  }
  return out;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * The figures of several pairs (Pantheon and its baseline, measured one right after the other),
 * as one: the median of each side, the median of the pairs' ratios, and the lowest and highest
 * ratio of a pair. A figure missing from a pair is left out of it.
 */
export function combinePairs(pairs: Figure[][]): Figure[] {
  if (pairs.length === 1) return pairs[0]!;
  return pairs[0]!.map((first) => {
    const all = pairs.map((p) => p.find((f) => f.key === first.key)).filter((f): f is Figure => f !== undefined);
    const ratios = all.map((f) => f.ratio).filter(Number.isFinite);
    return {
      ...first,
      pantheon: round(median(all.map((f) => f.pantheon))),
      baseline: round(median(all.map((f) => f.baseline))),
      ratio: ratios.length ? round(median(ratios)) : Number.NaN,
      ...(ratios.length ? { spread: [round(Math.min(...ratios)), round(Math.max(...ratios))] as [number, number] } : {}),
      pairs: all.length,
    };
  });
}

/** Sets `met` on each figure with a target: its median (ratio or Pantheon figure) against the bound. */
export function judge(figs: Figure[], db: BenchConfig['db']): Figure[] {
  return figs.map((f) => {
    if (!f.target) return f;
    const t = f.target;
    const v = t.on === 'ratio' ? f.ratio : f.pantheon;
    const met = (t.db && t.db !== db) || !Number.isFinite(v) ? null : t.op === '<=' ? v <= t.value : v >= t.value;
    return { ...f, met };
  });
}

const spreadOf = (f: Figure) => (f.spread ? `${f.spread[0]}-${f.spread[1]}x` : '');

const targetOf = (f: Figure) => {
  const t = f.target;
  if (!t) return '';
  const op = t.op === '<=' ? '≤' : '≥';
  return `${t.on === 'ratio' ? 'ratio ' : ''}${op} ${t.value}${t.on === 'ratio' || f.unit === 'x' ? 'x' : ` ${f.unit}`}${t.db ? ' on PostgreSQL' : ''}`;
};

const metOf = (f: Figure) => (!f.target ? '' : f.met === true ? 'yes' : f.met === false ? 'NO' : f.target.db ? 'not judged' : 'no number');

export function table(figs: Figure[]): string {
  const rows = [
    ['figure', 'unit', 'pantheon', 'baseline', 'ratio', 'pairs spread', 'target', 'met', 'baseline is'],
    ...figs.map((f) => [f.name, f.unit, String(f.pantheon), String(f.baseline), `${f.ratio}x`, spreadOf(f), targetOf(f), metOf(f), `${f.baselineName} (${f.better} is better)`]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c >= 2 && c <= 5 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function markdownTable(figs: Figure[]): string {
  return [
    '| figure | unit | Pantheon | baseline | ratio (median) | ratio spread | target | met | baseline |',
    '|---|---|---:|---:|---:|---:|---|---|---|',
    ...figs.map((f) => `| ${f.name} | ${f.unit} | ${f.pantheon} | ${f.baseline} | ${f.ratio}x | ${spreadOf(f)} | ${targetOf(f)} | ${metOf(f)} | ${f.baselineName} (${f.better} is better) |`),
  ].join('\n');
}
