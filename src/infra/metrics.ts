import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Metrics, MetricsGauge } from '../shared/metrics';

/** Model calls last from a few hundred milliseconds to minutes. */
const MODEL_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 60, 120];
const TOOL_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
const TURN_BUCKETS = [0.5, 1, 2, 5, 10, 20, 40, 60, 120, 300];

export interface PromMetrics extends Metrics {
  registry: Registry;
  /** The text exposition format, and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

/**
 * Prometheus metrics with a registry of their own per app instance (several apps in one test
 * process do not clash), plus Node's default process metrics (event loop lag, heap, CPU, GC).
 */
export function createPromMetrics(): PromMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  const registers = [registry];

  const sockets = new Gauge({ name: 'pantheon_sockets', help: 'Socket.IO connections open on this node', registers });
  const frames = new Counter({ name: 'pantheon_frames_sent_total', help: 'Room event frames emitted to sockets by this node', registers });
  const turnsRunning = new Gauge({ name: 'pantheon_turns_running', help: 'Turns running on this node', registers });
  const turns = new Counter({ name: 'pantheon_turns_total', help: 'Turns that ran on this node, by final status', labelNames: ['status'], registers });
  const turnSeconds = new Histogram({ name: 'pantheon_turn_duration_seconds', help: 'Turn duration from start to commit', labelNames: ['status'], buckets: TURN_BUCKETS, registers });
  const model = new Histogram({
    name: 'pantheon_model_call_duration_seconds',
    help: 'Model call latency by alias, purpose and outcome',
    labelNames: ['alias', 'purpose', 'outcome'],
    buckets: MODEL_BUCKETS,
    registers,
  });
  const tool = new Histogram({ name: 'pantheon_tool_call_duration_seconds', help: 'Tool call latency by tool and status', labelNames: ['tool', 'status'], buckets: TOOL_BUCKETS, registers });
  const http = new Counter({ name: 'pantheon_http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'], registers });

  const sources = new Map<MetricsGauge, () => number | Promise<number>>();
  const fromSource = (name: MetricsGauge) =>
    async function (this: Gauge) {
      const read = sources.get(name);
      if (!read) return;
      // A source that fails (the database away) leaves the last value rather than failing the scrape.
      try {
        this.set(await read());
      } catch {
        /* keep the last value */
      }
    };
  new Gauge({ name: 'pantheon_rooms', help: 'Rooms with listeners (sockets or streams) on this node', registers, collect: fromSource('rooms') });
  new Gauge({ name: 'pantheon_turn_queue_depth', help: 'Turns queued and not yet running, in the whole deployment', registers, collect: fromSource('queueDepth') });

  return {
    registry,
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    sockets: (delta) => sockets.inc(delta),
    framesSent: (n) => {
      if (n > 0) frames.inc(n);
    },
    turnStarted: () => turnsRunning.inc(),
    turnEnded: (status, seconds) => {
      turnsRunning.dec();
      turns.inc({ status });
      turnSeconds.observe({ status }, seconds);
    },
    modelCall: (alias, purpose, outcome, seconds) => model.observe({ alias, purpose, outcome }, seconds),
    toolCall: (name, status, seconds) => tool.observe({ tool: name, status }, seconds),
    httpRequest: (method, route, status) => http.inc({ method, route, status: String(status) }),
    gauge: (name, read) => void sources.set(name, read),
  };
}
