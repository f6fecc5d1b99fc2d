/**
 * What the server counts for operators, as a port every layer may call: the composition root
 * hands in the Prometheus implementation (src/infra/metrics.ts), tests and tools a no-op.
 */
export interface Metrics {
  /** A socket connected (+1) or disconnected (-1) on this node. */
  sockets(delta: 1 | -1): void;
  /** Room event frames this node emitted to sockets (one per socket that receives one). */
  framesSent(n: number): void;
  /** A turn began running on this node. */
  turnStarted(): void;
  /** A turn that ran on this node ended with `status`. */
  turnEnded(status: string, seconds: number): void;
  /** One model call: its alias, purpose (agent, manager, summary), outcome and latency. */
  modelCall(alias: string, purpose: string, outcome: 'ok' | 'error', seconds: number): void;
  /** One tool call: the tool, its status (succeeded, failed) and latency. */
  toolCall(tool: string, status: string, seconds: number): void;
  /** An HTTP request answered, by route pattern (not the concrete path) and status. */
  httpRequest(method: string, route: string, status: number): void;
  /** Read at scrape time: values that already live elsewhere (rooms followed here, queued turns). */
  gauge(name: MetricsGauge, read: () => number | Promise<number>): void;
}

export type MetricsGauge = 'rooms' | 'queueDepth';

export const noMetrics: Metrics = {
  sockets: () => {},
  framesSent: () => {},
  turnStarted: () => {},
  turnEnded: () => {},
  modelCall: () => {},
  toolCall: () => {},
  httpRequest: () => {},
  gauge: () => {},
};
