// GET /metrics: Prometheus text format through prom-client, on a registry of this server's own (two
// servers in one process do not mix their counters). Slots and queue are read from the scheduler
// when scraped; counters are fed by the scheduler and the routes. The process metrics (RSS, heap,
// event-loop lag) are prom-client's defaults.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SchedulerObserver, SchedulerStats } from './scheduler.js';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'status' | 'outcome'>;
  readonly rejected: Counter<'reason'>;
  readonly requestSeconds: Histogram<'route'>;
  readonly promptTokens: Counter;
  private readonly completionTokens: Counter;
  private readonly finished: Counter<'reason'>;
  private readonly dropped: Counter<'reason'>;
  private readonly ttft: Histogram;

  constructor(stats: () => SchedulerStats) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'eia_http_requests_total',
      help: 'HTTP requests, each counted once when its response closes: route, status code (499: the client left before any response), outcome (complete, or client_closed: the client left before the response was complete)',
      labelNames: ['route', 'status', 'outcome'], registers,
    });
    this.rejected = new Counter({ name: 'eia_requests_rejected_total', help: 'Requests refused before running: queue_full (429), shutting_down (503), unauthorized (401), timeout (408: the request did not arrive in time), bad_request (400, 415, 431)', labelNames: ['reason'], registers });
    this.requestSeconds = new Histogram({ name: 'eia_http_request_duration_seconds', help: 'Time from request to the end of the response', labelNames: ['route'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120], registers });
    this.promptTokens = new Counter({ name: 'eia_prompt_tokens_total', help: 'Prompt tokens of the sequences that ran', registers });
    this.completionTokens = new Counter({ name: 'eia_completion_tokens_total', help: 'Generated tokens', registers });
    this.finished = new Counter({ name: 'eia_sequences_finished_total', help: 'Sequences ended, by the engine\'s finish reason (eog, length, stop, cancel, abort)', labelNames: ['reason'], registers });
    this.dropped = new Counter({ name: 'eia_sequences_dropped_total', help: 'Queued sequences that left without running: client_closed (the client went away while they waited), request_failed (another sequence of the request failed), shutting_down', labelNames: ['reason'], registers });
    this.ttft = new Histogram({ name: 'eia_time_to_first_token_seconds', help: 'Time from request to its first generated token (queueing included)', buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers });
    const gauge = (name: string, help: string, read: (s: SchedulerStats) => number) => new Gauge({
      name, help, registers,
      collect() { this.set(read(stats())); },
    });
    gauge('eia_slots_total', 'Sequence slots of the open generation', (s) => s.slots);
    gauge('eia_slots_busy', 'Slots running a sequence now', (s) => s.busy);
    gauge('eia_queue_length', 'Sequences waiting for a slot', (s) => s.queued);
    gauge('eia_queue_requests', 'Requests waiting for their first slot (a request of several prompts is one)', (s) => s.queuedRequests);
    gauge('eia_queue_capacity', 'Requests that may wait for a slot before new ones get 429', (s) => s.queueCapacity);
  }

  /** What the scheduler reports as it runs. */
  observer(): SchedulerObserver {
    return {
      tokens: (n) => this.completionTokens.inc(n),
      finished: (_job, reason) => this.finished.inc({ reason }),
      dropped: (_job, reason) => this.dropped.inc({ reason }),
      firstToken: (_job, seconds) => this.ttft.observe(seconds),
    };
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
