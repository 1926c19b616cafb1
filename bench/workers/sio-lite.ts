/**
 * The few Engine.IO v4 / Socket.IO v5 frames the floor and PartyServer speak, so that the
 * benchmark's unchanged socket.io-client load generators can drive them over WebSocket:
 * the open packet, CONNECT, events (`join`, `leave`, `echo`, `io-to-room`) and acks.
 */
export const PING_INTERVAL_MS = 25_000;

export const openFrame = () =>
  `0${JSON.stringify({ sid: crypto.randomUUID(), upgrades: [], pingInterval: PING_INTERVAL_MS, pingTimeout: 20_000, maxPayload: 1_000_000 })}`;

export interface Reply {
  /** Frames for the sender. */
  send: string[];
  /** A broadcast: this frame to every socket in this room (sender included). */
  broadcast?: { room: string; frame: string };
  join?: string;
  leave?: string;
}

/** Handles one inbound text frame; unknown frames are ignored (the floor validates nothing). */
export function handleFrame(frame: string): Reply {
  if (frame.startsWith("40")) return { send: [`40${JSON.stringify({ sid: crypto.randomUUID() })}`] };
  const event = /^42(\d*)(\[.*)$/s.exec(frame);
  if (!event) return { send: [] };
  const ackId = event[1];
  const [name, ...args] = JSON.parse(event[2]) as [string, ...unknown[]];
  const ack = (...values: unknown[]) => (ackId ? [`43${ackId}${JSON.stringify(values)}`] : []);
  switch (name) {
    case "join":
      return { send: ack(), join: String(args[0]) };
    case "leave":
      return { send: ack(), leave: String(args[0]) };
    case "echo":
      return { send: ack(...args) };
    case "io-to-room": {
      const [room, eventName, ...rest] = args;
      return { send: [], broadcast: { room: String(room), frame: `42${JSON.stringify([eventName, ...rest])}` } };
    }
    default:
      return { send: [] };
  }
}
