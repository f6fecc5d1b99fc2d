/**
 * `npm run bench`: drives the real server with many socket clients and a streaming fake model,
 * and parses generated PDFs, each figure beside a baseline measured in the same run.
 * Prints a table and writes bench/results/latest.json. See docs/benchmarks.md.
 * Sizes come from BENCH_* variables (bench/config.ts); everything listens on 127.0.0.1 only.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadBenchConfig } from './config';
import { runParseBench, type ParseResults } from './parse';
import { runRealtime, type RealtimeResults } from './realtime';
import { ClientProcs } from './remote-pool';
import { combinePairs, figures, judge, markdownTable, table } from './report';
import { runScaled, scaledServicesProblem, type ScaledResults } from './scaled';

async function main() {
  const cfg = loadBenchConfig();
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const loadBefore = os.loadavg();
  console.log(`[bench] node ${process.version}, ${os.cpus().length} cpus, db ${cfg.db}, parts ${[...cfg.only].join(',')}`);
  let scaledSkipped: string | undefined;
  if (cfg.only.has('scaled')) {
    // Scaled mode needs PostgreSQL and Redis; a default run goes on without it when they are not there.
    const problem = await scaledServicesProblem();
    if (problem && !cfg.defaultParts) throw new Error(`scaled mode needs PostgreSQL and Redis: ${problem}`);
    if (problem) {
      scaledSkipped = problem;
      cfg.only.delete('scaled');
      console.log(`[bench] skipping the scaled part (${problem}); BENCH_ONLY=scaled makes it required`);
    }
  }
  const idleBusyCores = await busyCores(1000);
  if (idleBusyCores > 0.25) {
    console.log(`[bench] warning: before starting, other work keeps ${idleBusyCores.toFixed(2)} cores busy; figures will be skewed.`);
  }

  // Pairs: each part's Pantheon run and its baseline run one right after the other, the pairs one
  // after another, so a machine that drifts (load, thermal state) moves both sides of a pair alike;
  // Pantheon goes first in odd pairs and the baseline in even ones, so what comes first cancels out.
  // The clients live in client processes (two by default), started once for the whole run.
  const pairs: { realtime?: RealtimeResults; scaled?: ScaledResults }[] = [];
  let parse: ParseResults | undefined;
  let clientProcs: ReturnType<ClientProcs['info']> = [];
  if (cfg.only.has('realtime') || cfg.only.has('scaled')) {
    const procs = await ClientProcs.start(cfg.clientProcs);
    clientProcs = procs.info();
    console.log(`[bench] ${cfg.clientProcs} client processes, clock offsets ${clientProcs.map((c) => `${c.clockOffsetMs.toFixed(3)} ms (±${(c.calibrationRttMs / 2).toFixed(3)})`).join(', ')}`);
    try {
      for (let i = 0; i < cfg.pairs; i++) {
        console.log(`[bench] pair ${i + 1} of ${cfg.pairs} (${i % 2 === 0 ? 'pantheon' : 'baseline'} first)`);
        const pair: (typeof pairs)[number] = {};
        if (cfg.only.has('realtime')) pair.realtime = await runRealtime(cfg, procs, i + 1);
        if (cfg.only.has('scaled')) pair.scaled = await runScaled(cfg, procs, i + 1);
        pairs.push(pair);
      }
    } finally {
      await procs.stop();
    }
  }
  // Parsing alternates bare and runParse within one run already.
  if (cfg.only.has('parse')) parse = await runParseBench(cfg);
  const realtime = pairs.at(-1)?.realtime;
  const scaled = pairs.at(-1)?.scaled;

  const figs = judge([...(pairs.length ? combinePairs(pairs.map((p) => figures(cfg, p.realtime, undefined, p.scaled))) : []), ...figures(cfg, undefined, parse)], cfg.db);
  const durationS = Math.round((performance.now() - started) / 100) / 10;
  console.log('');
  console.log(`database: ${cfg.db === 'postgres' ? 'PostgreSQL' : 'PGlite (embedded)'}${cfg.only.has('scaled') ? ' (scaled mode: always PostgreSQL + Redis)' : ''}`);
  console.log(table(figs));
  console.log('');
  console.log(
    `ratio = pantheon / baseline, both measured in this run (${durationS} s)${cfg.pairs > 1 ? `; median of ${cfg.pairs} pairs, spread = lowest and highest ratio of a pair` : ''}.`,
  );
  if (cfg.quick) console.log('[bench] --quick: small sizes that only show the bench works; the figures mean little.');
  pairs.forEach((p, i) => {
    for (const problem of checks(p.realtime, undefined, p.scaled)) console.log(`[bench] warning: pair ${i + 1}: ${problem}`);
  });
  for (const problem of checks(undefined, parse, undefined)) console.log(`[bench] warning: ${problem}`);
  const noise: Record<string, number> = {};
  pairs.forEach((p, i) => {
    for (const [k, v] of Object.entries({ ...noiseOf(p.realtime), ...scaledNoise(p.scaled) })) noise[pairs.length > 1 ? `pair ${i + 1} ${k}` : k] = v;
  });
  if (parse) noise['parse'] = parse.otherCores;
  const noisy = Object.entries(noise).filter(([, cores]) => cores > 0.25);
  if (noisy.length) {
    const who = cfg.db === 'postgres' || scaled ? 'other work (PostgreSQL included)' : 'other work';
    console.log(`[bench] warning: ${who} used CPU during ${noisy.map(([k, c]) => `${k} (${c.toFixed(2)} cores)`).join(', ')}; figures may be skewed.`);
  }

  const cpus = os.cpus();
  const result = {
    startedAt,
    durationS,
    machine: {
      node: process.version,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      cpus: cpus.length,
      cpuModel: cpus[0]?.model,
      totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      loadAvgBefore: loadBefore,
      /** Cores busy while the bench itself was idle, measured for 1 s before it started. */
      busyCoresBeforeStart: idleBusyCores,
      loadAvgAfter: os.loadavg(),
      /** Cores busy with other work during each measured run (machine busy time minus server and bench). */
      otherCores: noise,
    },
    config: { ...cfg, only: [...cfg.only], ...(scaledSkipped ? { scaledSkipped } : {}) },
    figures: figs,
    markdown: `Database: ${cfg.db === 'postgres' ? 'PostgreSQL' : 'PGlite (embedded)'}.\n\n${markdownTable(figs)}`,
    details: { realtime, parse, scaled, pairs, clientProcs },
  };
  mkdirSync(path.dirname(cfg.out), { recursive: true });
  writeFileSync(cfg.out, JSON.stringify(result, null, 2) + '\n');
  console.log(`[bench] wrote ${cfg.out}`);
}

/** What must hold for the figures to mean anything: every frame and token arrived, both parsers agree. */
function checks(rt: RealtimeResults | undefined, parse: ParseResults | undefined, scaled: ScaledResults | undefined): string[] {
  const out: string[] = [];
  if (rt) {
    for (const [name, l] of [['pantheon (flush 0)', rt.pantheonStream.latency], ['pantheon (default)', rt.pantheonDefault.latency], ['bare', rt.bare.latency]] as const) {
      if (l.receivedTokens !== l.expectedTokens) out.push(`${name}: clients received ${l.receivedTokens} of ${l.expectedTokens} tokens`);
    }
    for (const which of ['small', 'large'] as const) {
      const p = rt.pantheonStream.fanout[which];
      const b = rt.bare.fanout[which];
      if (!p.complete) out.push(`pantheon fan-out to ${p.clients}: not every client received every frame`);
      if (!b.complete) out.push(`bare fan-out to ${b.clients}: not every client received every frame`);
      if (Math.abs(p.framesPerClient - p.expectedFramesPerClient) > 0.02 * p.expectedFramesPerClient) {
        out.push(`pantheon fan-out to ${p.clients}: ${p.framesPerClient.toFixed(1)} frames per client where ${p.expectedFramesPerClient} were expected (the bare broadcast sent that many)`);
      }
    }
  }
  if (parse && !parse.textMatches) out.push('parse: runParse and bare pdf-parse extracted different pages or text');
  if (scaled) {
    for (const [name, l] of [['scaled pantheon', scaled.pantheon.latency], ['scaled bare', scaled.bare.latency]] as const) {
      for (const node of ['a', 'b'] as const) {
        if (l.receivedTokens[node] !== l.expectedTokens[node]) out.push(`${name}: clients on node ${node.toUpperCase()} received ${l.receivedTokens[node]} of ${l.expectedTokens[node]} tokens`);
      }
    }
    if (!scaled.pantheon.throughput.complete) out.push('scaled pantheon throughput: not every client on both nodes received every frame');
    for (const b of scaled.bare.throughput.bursts ?? []) if (!b.complete) out.push(`scaled bare throughput, burst ${b.burst}: not every client on both nodes received every frame`);
    if (scaled.pantheon.turnsByRunner.length > 1) out.push(`scaled pantheon: turns ran on ${scaled.pantheon.turnsByRunner.length} nodes (${scaled.pantheon.turnsByRunner.join(' + ')}), not all on node A`);
  }
  return out;
}

function scaledNoise(s: ScaledResults | undefined): Record<string, number> {
  if (!s) return {};
  const out: Record<string, number> = {
    'scaled pantheon throughput': s.pantheon.throughput.cpu.otherCores,
    'scaled pantheon latency': s.pantheon.latency.otherCores,
    'scaled bare latency': s.bare.latency.otherCores,
  };
  for (const b of s.bare.throughput.bursts ?? []) out[`scaled bare throughput burst ${b.burst}`] = b.otherCores;
  return out;
}

async function busyCores(ms: number): Promise<number> {
  const busy = () => os.cpus().reduce((n, c) => n + c.times.user + c.times.nice + c.times.sys + c.times.irq, 0);
  const b0 = busy();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  return (busy() - b0) / (performance.now() - t0);
}

function noiseOf(rt: RealtimeResults | undefined): Record<string, number> {
  if (!rt) return {};
  const out: Record<string, number> = {
    'pantheon joins (small rooms)': rt.pantheonStream.joinSmall.otherCores,
    'pantheon joins (large room)': rt.pantheonStream.memory.join.otherCores,
    'bare joins (small rooms)': rt.bare.joinSmall.otherCores,
    'bare joins (large room)': rt.bare.memory.join.otherCores,
    'pantheon latency (flush 0)': rt.pantheonStream.latency.otherCores,
    'pantheon latency (default)': rt.pantheonDefault.latency.otherCores,
    'bare latency': rt.bare.latency.otherCores,
  };
  for (const which of ['small', 'large'] as const) {
    const p = rt.pantheonStream.fanout[which];
    out[`pantheon fan-out ${p.clients}`] = p.otherCores;
    for (const b of rt.bare.fanout[which].bursts ?? []) out[`bare fan-out ${rt.bare.fanout[which].clients} burst ${b.burst}`] = b.otherCores;
  }
  return out;
}

main().then(
  // Parse worker threads and pdf.js may leave handles behind: the bench ends when it is done.
  () => process.exit(0),
  (err: unknown) => {
    console.error('[bench] failed:', err);
    process.exit(1);
  },
);
