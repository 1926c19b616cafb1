/** The shape of a benchmark run's results (latest.json), shared by the orchestrator and the report. */
import type { BenchOptions } from "./lib/options.ts";
import type { BroadcastFigures, ConnectFigures, DisconnectFigures, IdleFigures, PollingFigures } from "./scenario-figures.ts";

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memoryTotalBytes: number;
  node: string;
  os: string;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  /** Processes outside this benchmark that were using CPU when it started (pid, %cpu, command). */
  otherBusyProcesses: string[];
}

/** One interleaved round of the ratio scenarios (engine setup): connect, the ratio room paced and burst, polling. */
export interface RoundFigures {
  round: number;
  connect?: ConnectFigures;
  broadcast: BroadcastFigures[];
  disconnect?: DisconnectFigures;
  polling?: PollingFigures;
}

export interface SystemResult {
  id: string;
  label: string;
  /** Round 1's figures (every scenario and room size); the other rounds are in `rounds`. */
  connect?: ConnectFigures;
  /** Round 1's disconnects (every client, after the broadcasts). */
  disconnect?: DisconnectFigures;
  idle?: IdleFigures;
  broadcast: BroadcastFigures[];
  polling?: PollingFigures;
  /** Engine setup: every round's ratio figures, round 1 included (the report takes medians over them). */
  rounds?: RoundFigures[];
  extra?: Record<string, unknown>;
  errors: string[];
}

export interface BenchResults {
  command: string;
  startedAt: string;
  finishedAt: string;
  durationS: number;
  machine: MachineInfo;
  options: BenchOptions;
  selfCheck: { passed: boolean; checks: string[] };
  systems: SystemResult[];
}
