/** What the orchestrator needs from a started system under test. */
import type { WorkCounters } from "../lib/work.ts";

export interface WakeStats {
  wakes: number;
  alarms: number;
  sessions: number;
  webSockets: number;
  constructions: number;
  /** Reported by the host's stats() once the lean host counts them (issue 11); undefined before. */
  rowsRead?: number;
  rowsWritten?: number;
  invocations?: number;
}

export interface RunningSystem {
  id: string;
  label: string;
  /** WebSocket clients spread round robin over these. */
  wsUrls: string[];
  /** Long-polling clients connect here (for the two-process system: a proxy without sticky sessions). */
  pollingUrls: string[];
  /** Column id for the polling scenario when it differs from `id` (Socket.IO + Redis without sticky sessions). */
  pollingId?: string;
  pollingLabel?: string;
  /** Processes whose resident memory holds the connections, by a descriptive name. */
  memoryProcesses(): Record<string, number>;
  /** Processes whose CPU counts as server CPU. */
  cpuPids(): number[];
  /** Extra processes reported (not counted per connection), e.g. redis-server. */
  auxiliary(): Record<string, number>;
  /** Durable Object counters summed over the host pool (edgeio only). */
  wakeStats?(): Promise<WakeStats>;
  /** The work billed in production, counted inside workerd (engine setup only, bench/workers/counters.ts). */
  counters?(): Promise<WorkCounters>;
  /** A full garbage collection in every isolate (engine setup: through the inspector, bench/lib/inspector-gc.ts). */
  collectGarbage?(): Promise<void>;
  /** True when a server process was replaced since start (its figures would be meaningless). */
  restarted?(): boolean;
  /** Anything system-specific worth recording (e.g. proxy counters). */
  extra?(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}
