/** Cluster metrics configuration: how often hosts report their load (STATS_REPORT_MS). */
import { z } from "zod";
import { ConfigError, issueList, perEnv } from "../../protocol/config-vars";

const StatsConfigSchema = z.object({
  /** A host with changes (sockets, rooms, users, messages) reports at most this long after the first one. */
  STATS_REPORT_MS: z.coerce.number().int().min(100).max(3_600_000).default(5_000),
});

export interface StatsConfig {
  reportMs: number;
}

export function parseStatsConfig(raw: Record<string, unknown>): StatsConfig {
  const result = StatsConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(issueList(result.error));
  return { reportMs: result.data.STATS_REPORT_MS };
}

/** Parses once per env object; throws ConfigError naming the bad field. */
export const statsConfigFrom = perEnv(parseStatsConfig);
