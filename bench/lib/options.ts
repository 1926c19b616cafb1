/**
 * Benchmark options from CLI flags (`npm run bench -- --clients 500`) or BENCH_* env vars,
 * validated with zod. `--quick` shrinks every size for a development smoke run.
 */
import { parseArgs } from "node:util";
import { z } from "zod";

/** In run order: the engine setup first (edgeio, the floor, PartyServer), then wrangler dev and Socket.IO. */
export const SYSTEM_IDS = ["edgeio-engine", "floor", "partyserver", "edgeio", "socketio-single", "socketio-redis"] as const;
export type StartableSystem = (typeof SYSTEM_IDS)[number];

const intList = z
  .string()
  .transform((s) => s.split(",").map((part) => Number(part.trim())))
  .pipe(z.array(z.number().int().positive()).min(1));

const OptionsSchema = z.object({
  quick: z.boolean(),
  selfCheck: z.boolean(),
  /** Only the reconnect-storm scenario (bench/reconnect-storm.ts), against edgeio under wrangler dev. */
  storm: z.boolean(),
  stormSockets: z.coerce.number().int().positive().max(10_000),
  clients: z.coerce.number().int().positive(),
  connectConcurrency: z.coerce.number().int().positive(),
  rooms: intList,
  messages: z.coerce.number().int().positive().max(60_000),
  /** A burst sends enough messages for about this many deliveries (see burstMessages). */
  burstDeliveries: z.coerce.number().int().positive().max(1_000_000),
  /** Engine setup: interleaved rounds of the ratio scenarios (the report takes the median). */
  rounds: z.coerce.number().int().positive().max(20),
  rate: z.coerce.number().positive(),
  stallMs: z.coerce.number().int().positive(),
  pollingClients: z.coerce.number().int().positive(),
  pollingRounds: z.coerce.number().int().positive(),
  idleSeconds: z.coerce.number().nonnegative(),
  loadWorkers: z.coerce.number().int().positive().max(16),
  systems: z
    .string()
    .transform((s) => s.split(",").map((part) => part.trim()))
    .pipe(z.array(z.enum(SYSTEM_IDS)).min(1)),
  out: z.string().min(1),
  /** Which edgeio sources wrangler dev runs: the working tree as is, or the last commit. */
  edgeioSource: z.enum(["worktree", "head"]),
  /** Engine setup: run each Worker's deploy bundle (wrangler deploy --dry-run), or wrangler dev's own (dev middleware). */
  engineBuild: z.enum(["deploy", "dev"]),
  /**
   * The app edgeio runs: `room` (bench/workers/room-app.ts: the workload's four events, as the
   * floor and PartyServer implement them) or `echo` (the echo example, whose handlers do more).
   */
  edgeioApp: z.enum(["room", "echo"]),
  dated: z.boolean(),
});
export type BenchOptions = z.infer<typeof OptionsSchema>;

const DEFAULTS = {
  clients: "1000",
  connectConcurrency: "100",
  rooms: "10,100,1000",
  messages: "50",
  burstDeliveries: "20000",
  // Five, not three: a connect's CPU moves ±15% between rounds on 2 shared cores, and a median
  // of three put the same code at 1.14× or 1.32× the floor's (docs/benchmarks.md, eleventh round).
  rounds: "5",
  rate: "10",
  stallMs: "5000",
  pollingClients: "50",
  pollingRounds: "20",
  idleSeconds: "60",
  loadWorkers: "2",
  stormSockets: "1000",
  systems: SYSTEM_IDS.join(","),
  out: "bench/results",
  edgeioSource: "worktree",
  engineBuild: "deploy",
  edgeioApp: "room",
};

const QUICK = {
  clients: "100",
  rooms: "10,100",
  messages: "10",
  burstDeliveries: "10000",
  rounds: "3",
  pollingClients: "10",
  pollingRounds: "30",
  idleSeconds: "5",
  stormSockets: "200",
};

type StringKey = keyof typeof DEFAULTS;
const envName = (key: string) => `BENCH_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
const flagName = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  const stringKeys = Object.keys(DEFAULTS) as StringKey[];
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: "boolean" },
      "no-dated": { type: "boolean" },
      "self-check": { type: "boolean" },
      storm: { type: "boolean" },
      ...Object.fromEntries(stringKeys.map((key) => [flagName(key), { type: "string" as const }])),
    },
  });
  const flags = values as Record<string, string | boolean | undefined>;
  const quick = flags.quick === true || env.BENCH_QUICK === "1";
  const raw: Record<string, unknown> = {
    quick,
    selfCheck: flags["self-check"] === true,
    storm: flags.storm === true,
    dated: !(quick || flags["no-dated"] === true || env.BENCH_NO_DATED === "1"),
  };
  for (const key of stringKeys) {
    raw[key] = flags[flagName(key)] ?? env[envName(key)] ?? (quick ? (QUICK as Record<string, string>)[key] : undefined) ?? DEFAULTS[key];
  }
  const parsed = OptionsSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`bad benchmark options:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/**
 * Messages in a burst to a room of `size`: enough for about `burstDeliveries` deliveries, so
 * that the burst lasts long enough to time (50 messages to 100 members took ~0.3 s), never fewer
 * than `messages`, and at most BURST_MESSAGES_MAX: the sender is one socket, and edgeio's
 * per-session packet limiter (PACKET_RATE_BURST 1,200, refilled at 100/s) would close it.
 */
export const BURST_MESSAGES_MAX = 600;
export const burstMessages = (options: BenchOptions, size: number): number =>
  Math.max(options.messages, Math.min(BURST_MESSAGES_MAX, Math.ceil(options.burstDeliveries / size)));

/** The room size the acceptance ratios use: 100 where it is run, else the largest. */
export const ratioRoomOf = (rooms: number[]): number => (rooms.includes(100) ? 100 : rooms[rooms.length - 1]);
