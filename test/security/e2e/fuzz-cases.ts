/**
 * Seeded generator of hostile Engine.IO / Socket.IO inputs for fuzz.test.ts: valid packets,
 * mutated and truncated ones, random bytes, and targeted shapes (deep nesting, huge numbers,
 * lying attachment counts, invalid namespaces, record-separator splits, floods, oversize).
 * The same seed gives the same cases, so a failure can be replayed with FUZZ_SEED.
 */

/** mulberry32: a tiny seeded PRNG (uniform in [0, 1)). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.int(256));
  }
}

/** How a case reaches the host: a polling session, a WebSocket session, or a polling session upgrading to WebSocket. */
export type FuzzTransport = "polling" | "websocket" | "upgrade";

/** One thing a case sends: a POST body (polling) or a frame (WebSocket); bytes are a binary frame / raw body. */
export type FuzzMessage = string | Uint8Array;

export interface FuzzCase {
  id: number;
  transport: FuzzTransport;
  /** Connect namespace "/" first (most cases), so Socket.IO packets reach a socket. */
  connectFirst: boolean;
  messages: FuzzMessage[];
  /** What the generator did, for the failure message. */
  label: string;
}

/** Valid packets of every Engine.IO and Socket.IO type (text part; "4" = Engine.IO message). */
const VALID = [
  "40",
  "40{}",
  '40/admin,{"token":"let-me-in"}',
  '40/admin,{"token":"wrong"}',
  '42["echo",1]',
  '421["echo",{"a":[1,"x",null]}]',
  '422["count"]',
  '42/admin,7["whoami"]',
  '451-["echo",{"_placeholder":true,"num":0}]',
  '4514-["echo",{"_placeholder":true,"num":0}]',
  '461-[{"_placeholder":true,"num":0}]',
  "43",
  "431[]",
  '431["x"]',
  "41",
  "41/admin,",
  "44",
  "2",
  "3",
  "5",
  "6",
  "1",
  "0",
  "2probe",
  "3probe",
  "4",
] as const;

/** Characters that matter to the grammar, plus ones that break encodings. */
const NASTY = [
  '"',
  "[",
  "]",
  "{",
  "}",
  ",",
  "-",
  "/",
  ":",
  "\\",
  "\x1e",
  "\x00",
  "\ud800",
  "\udfff",
  "😀",
  "\u2028",
  "b",
  "0",
  "9",
  " ",
  "\n",
];

function randomChar(rng: Rng): string {
  return rng.chance(0.6) ? rng.pick(NASTY) : String.fromCharCode(32 + rng.int(95));
}

/** One random edit of a packet string. */
function mutate(rng: Rng, text: string): { text: string; how: string } {
  const at = rng.int(text.length + 1);
  switch (rng.int(9)) {
    case 0:
      return { text: text.slice(0, at) + randomChar(rng) + text.slice(at + 1), how: "flip" };
    case 1:
      return { text: text.slice(0, at) + randomChar(rng) + text.slice(at), how: "insert" };
    case 2:
      return { text: text.slice(0, at) + text.slice(at + 1 + rng.int(4)), how: "delete" };
    case 3:
      return { text: text.slice(0, at), how: "truncate" };
    case 4:
      return { text: text.slice(0, at) + text.slice(Math.max(0, at - 3)), how: "duplicate" };
    case 5:
      return { text: String(rng.int(10)) + text.slice(1), how: "engine type" };
    case 6:
      return { text: text.slice(0, 1) + String(rng.int(10)) + text.slice(2), how: "socket.io type" };
    case 7:
      return { text: `${text.slice(0, at)}\x1e${text.slice(at)}`, how: "split" };
    default:
      return { text: `b${text}`, how: "b prefix" };
  }
}

function nested(rng: Rng, depth: number): string {
  const [open, close] = rng.chance(0.5) ? ["[", "]"] : ['{"a":', "}"];
  const balanced = rng.chance(0.7);
  return `42["echo",${open.repeat(depth)}1${balanced ? close.repeat(depth) : ""}]`;
}

/** A targeted hostile packet (or POST body / frame sequence). */
function special(rng: Rng, transport: FuzzTransport): { messages: FuzzMessage[]; how: string } {
  const polling = transport === "polling";
  const attachment = (n: number): FuzzMessage => (polling ? `b${Buffer.from(rng.bytes(n)).toString("base64")}` : rng.bytes(n));
  switch (rng.int(12)) {
    case 0:
      return { messages: [`42${"9".repeat(1 + rng.int(40))}["echo",1]`], how: "huge ack id" };
    case 1:
      return {
        messages: [`42["echo",${rng.pick(["1e309", "-1e309", "9".repeat(400), "0.".padEnd(500, "1"), "-0", "NaN"])}]`],
        how: "huge number",
      };
    case 2:
      return { messages: [nested(rng, rng.pick([31, 32, 33, 100, 5000, 50_000]))], how: "deep nesting" };
    case 3: {
      const count = rng.pick([0, 1, 2, 3, 11, 99999, -1]);
      const num = rng.pick([0, 1, 5, -1, '"0"', "null", "1e9"]);
      const header = `45${count}-["echo",{"_placeholder":true,"num":${num}}]`;
      const parts = Array.from({ length: rng.int(4) }, () => attachment(1 + rng.int(32)));
      return { messages: polling ? [[header, ...parts].join("\x1e")] : [header, ...parts], how: `attachments ${count} num ${num}` };
    }
    case 4:
      return {
        messages: [
          rng.pick([
            "40/nope",
            "40admin",
            "40/admin",
            `40/${"x".repeat(300)},`,
            '40/admin,{"token":1}',
            '42/nope,["echo",1]',
            "40/\u0000,",
            "40/,",
            "40//,",
            '40/admin,"tok"',
            "40[1]",
          ]),
        ],
        how: "namespace",
      };
    case 5:
      return {
        messages: [
          rng.pick([
            '42["connect"]',
            '42["disconnect"]',
            '42{"a":1}',
            '42"str"',
            "42[]",
            "42null",
            '42[{"x":1}]',
            '42["__proto__",{}]',
            '42["echo"',
            '43["x"',
          ]),
        ],
        how: "bad payload",
      };
    case 6: {
      const parts = Array.from({ length: 2 + rng.int(6) }, () => rng.pick(VALID));
      return { messages: polling ? [parts.join("\x1e")] : parts.map((part) => `${part}\x1e`), how: "record separators" };
    }
    case 7: {
      // Floods past PACKET_RATE_BURST (fuzz.test.ts lowers it to 300). On WebSocket, large frames
      // (4 tokens each) trip it within ~75 frames: every frame in flight costs the host an event
      // even once the session is closed, and this suite is not a load test.
      if (polling) {
        const count = rng.pick([50, 400, 2100]);
        return { messages: [Array.from({ length: count }, (_, i) => `42["echo",${i}]`).join("\x1e")], how: `flood ${count}` };
      }
      if (rng.chance(0.5)) return { messages: Array.from({ length: 50 }, (_, i) => `42["echo",${i}]`), how: "flood 50" };
      const big = `42["flood","${"y".repeat(50_000)}"]`;
      return { messages: Array.from({ length: 120 }, () => big), how: "flood 120 x 50 KB" };
    }
    case 8:
      return { messages: [`42["echo","${"x".repeat(rng.pick([60_000, 70_000]))}"]`], how: "oversize" };
    case 9:
      return {
        messages: polling ? [Buffer.from(rng.bytes(1 + rng.int(64))).toString("latin1")] : [attachment(1 + rng.int(64))],
        how: "random bytes",
      };
    case 10:
      return {
        messages: [polling ? rng.bytes(1 + rng.int(64)) : Buffer.from(rng.bytes(1 + rng.int(64))).toString("latin1")],
        how: "random text",
      };
    default:
      return { messages: [rng.pick(["", "\x1e", "b", "b!!!", "b====", "4\x1e", "\x1e40"])], how: "empty / separators" };
  }
}

/** The messages of one upgrade case: the probe sequence, fuzzed, then whatever follows. */
function upgradePrefix(rng: Rng): string[] {
  const steps = ["2probe", "5"];
  if (rng.chance(0.3)) return steps.map((step) => (rng.chance(0.5) ? mutate(rng, step).text : step));
  return rng.chance(0.8) ? steps : steps.slice(0, 1);
}

export function generateCases(seed: number, perTransport: { polling: number; websocket: number; upgrade: number }): FuzzCase[] {
  const rng = new Rng(seed);
  const cases: FuzzCase[] = [];
  for (const transport of ["polling", "websocket", "upgrade"] as const) {
    for (let i = 0; i < perTransport[transport]; i++) {
      const messages: FuzzMessage[] = transport === "upgrade" ? upgradePrefix(rng) : [];
      const hows: string[] = [];
      const steps = 1 + rng.int(3);
      for (let step = 0; step < steps; step++) {
        const roll = rng.float();
        if (roll < 0.25) {
          const base = rng.pick(VALID);
          let text: string = base;
          const edits = 1 + rng.int(3);
          for (let e = 0; e < edits; e++) text = mutate(rng, text).text;
          messages.push(text);
          hows.push(`mutated ${JSON.stringify(base)}`);
        } else if (roll < 0.55) {
          const valid = rng.pick(VALID);
          messages.push(valid);
          hows.push(`valid ${JSON.stringify(valid)}`);
        } else {
          const { messages: extra, how } = special(rng, transport);
          messages.push(...extra);
          hows.push(how);
        }
      }
      cases.push({ id: cases.length, transport, connectFirst: rng.chance(0.8), messages, label: hows.join(", ") });
    }
  }
  return cases;
}
