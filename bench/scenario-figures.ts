/**
 * What each scenario of bench/scenarios.ts reports: the figures the rounds keep
 * (bench/results.ts) and the reports read. Types only.
 */
import type { Failures } from "./load/protocol.ts";
import type { MemoryReading } from "./lib/settled-memory.ts";
import type { Settle } from "./lib/quiet.ts";
import type { Summary } from "./lib/stats.ts";
import type { Work } from "./lib/work.ts";

export interface CpuFigures {
  wallS: number;
  serverCpuS: number;
  /** Load-generator CPU seconds per worker process. */
  loadCpuS: number[];
  /** The busiest load generator's CPU as a percentage of one core over the scenario. */
  loadCpuMaxPct: number;
  /** The work billed in production over the scenario (engine setup only). */
  work?: Work;
}

export interface ConnectFigures extends CpuFigures {
  transport: "websocket";
  attempted: number;
  ok: number;
  failed: number;
  failures: Failures;
  timeToAllS: number;
  connectionsPerS: number;
  connectMs: Summary;
}

export interface IdleFigures extends CpuFigures {
  connections: number;
  seconds: number;
  /** How long after the connects the window started, and whether the runtime was quiet then (lib/quiet.ts). */
  settle: Settle;
  baselineRssBytes: number;
  rssAfterConnectBytes: number;
  rssAfterIdleBytes: number;
  bytesPerConnection: number;
  rssByProcess: Record<string, { baseline: number; afterConnect: number; afterIdle: number }>;
  auxiliaryRssBytes: Record<string, number>;
  /**
   * Memory once the connect burst's garbage is collected (engine setup only): each process's
   * resident (VmRSS) and private anonymous (RssAnon) bytes after a forced full GC in every
   * isolate, before the first client and after the idle period. Null where the system cannot
   * be asked to collect garbage.
   */
  settled: Record<string, { baseline: MemoryReading; afterIdle: MemoryReading }> | null;
  /**
   * The idle cost in steady state (systems with a heartbeat: edgeio): the work over a window of
   * whole ping intervals that holds one lease period (STEADY_IDLE_MS), right after the window
   * above. The cost tables' "idle WebSocket, one connection-hour" row is this, where present.
   */
  steady?: { seconds: number; serverCpuS: number; work?: Work };
  wakes?: {
    wakes: number;
    alarms: number;
    wakesPerConnectionMinute: number;
    alarmsPerConnectionMinute: number;
    webSockets: number;
    /** The hosts' own counters from stats(), where the host reports them (null: not reported). */
    hostReported: { rowsRead: number | null; rowsWritten: number | null; invocations: number | null };
  };
}

export interface BroadcastFigures extends CpuFigures {
  size: number;
  mode: "paced" | "burst";
  members: number;
  messages: number;
  /** Offered send rate; null for a burst. */
  ratePerS: number | null;
  expected: number;
  delivered: number;
  unique: number;
  lost: number;
  duplicates: number;
  stray: number;
  latencyMs: Summary;
  deliveriesPerS: number;
}

export interface DisconnectFigures extends CpuFigures {
  /** Clients told to disconnect: the round's connected ones, in the rooms its broadcasts joined. */
  closed: number;
  /** Seconds from the clients' disconnects until the server's CPU stood still (DISCONNECT_STILL_MS). */
  settleS: number;
}

export interface PollingFigures extends CpuFigures {
  attempted: number;
  connected: number;
  completed: number;
  rounds: number;
  sessionUnknown: number;
  otherFailures: Record<string, number>;
  ackTimeouts: number;
  disconnects: number;
  rttMs: Summary;
  /** The clients' connects, measured apart from the round trips (the figures above). */
  connectPhase: { wallS: number; serverCpuS: number; work?: Work };
}
