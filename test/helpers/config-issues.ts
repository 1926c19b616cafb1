/** For configuration tests: the issues a parse reports, failing the test when it reports none. */
import { configIssues } from "../../protocol/config-vars";

export function issuesOf(parse: () => unknown): string[] {
  const issues = configIssues(parse);
  if (issues.length === 0) throw new Error("expected a ConfigError");
  return issues;
}
