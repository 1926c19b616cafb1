/**
 * A strict little parser of the Prometheus text exposition format (0.0.4), for tests: every
 * line must be a HELP, a TYPE or a sample of a family declared above it; metric and label names,
 * label escapes and values are checked. Throws on anything else.
 */
export interface PromSample {
  labels: Record<string, string>;
  value: number;
}
export interface PromFamily {
  type: string;
  help: string;
  samples: PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    const name = text.slice(i, eq);
    if (eq < 0 || !LABEL.test(name) || text[eq + 1] !== '"') throw new Error(`bad label in: ${line}`);
    let value = "";
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] !== "\\") {
        value += text[j];
        continue;
      }
      const next = text[++j];
      if (next === "n") value += "\n";
      else if (next === "\\" || next === '"') value += next;
      else throw new Error(`bad escape in: ${line}`);
    }
    if (j >= text.length) throw new Error(`unterminated label value in: ${line}`);
    if (name in labels) throw new Error(`duplicate label ${name} in: ${line}`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ",") i++;
    else if (i !== text.length) throw new Error(`bad label separator in: ${line}`);
  }
  return labels;
}

export function parsePrometheus(text: string): Map<string, PromFamily> {
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a newline");
  const families = new Map<string, PromFamily>();
  for (const line of text.slice(0, -1).split("\n")) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      if (!NAME.test(name)) throw new Error(`bad metric name: ${line}`);
      const family = families.get(name) ?? { type: "", help: "", samples: [] };
      if (family.samples.length > 0) throw new Error(`${kind} after samples: ${line}`);
      if (kind === "TYPE") {
        if (!TYPES.has(rest) || family.type) throw new Error(`bad or repeated TYPE: ${line}`);
        family.type = rest;
      } else family.help = rest;
      families.set(name, family);
      continue;
    }
    if (line.startsWith("#")) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line);
    if (!sample) throw new Error(`bad sample line: ${line}`);
    const [, name, labelText, valueText] = sample;
    const family = families.get(name);
    if (!family?.type) throw new Error(`sample without a TYPE above it: ${line}`);
    const value = valueText === "+Inf" ? Infinity : valueText === "-Inf" ? -Infinity : Number(valueText);
    if (Number.isNaN(value) && valueText !== "NaN") throw new Error(`bad value: ${line}`);
    if (family.type === "counter" && !name.endsWith("_total")) throw new Error(`counter without _total: ${line}`);
    family.samples.push({ labels: labelText ? parseLabels(labelText, line) : {}, value });
  }
  return families;
}

/** The value of the one sample of `name` whose labels are exactly `labels`. */
export function promValue(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  return families.get(name)?.samples.find((s) => JSON.stringify(Object.entries(s.labels).sort()) === wanted)?.value;
}
