/**
 * Connection-state recovery offsets on the wire, as Socket.IO 4.6+ sends them: the offset is
 * one more (string) argument at the end of an EVENT packet without an ack id; socket.io-client
 * keeps the last one it saw (`_lastOffset`) and sends it back with its `pid` on reconnect.
 * Appended to the encoded text frame (`42[/nsp,]["ev",…]`) so a broadcast is not re-encoded.
 */
import type { WireFrame } from "./engine-codec";

/**
 * The frames with `offset` appended, or the same frames when the packet takes none: binary
 * events, packets with an ack id and anything but an EVENT (as Socket.IO's adapter decides).
 */
export function withOffset(frames: WireFrame[], offset: string): WireFrame[] {
  const [text] = frames;
  if (frames.length !== 1 || typeof text !== "string" || !text.startsWith("42")) return frames;
  let start = 2;
  if (text[start] === "/") {
    const comma = text.indexOf(",", start);
    if (comma < 0) return frames;
    start = comma + 1;
  }
  // Digits before the array are an ack id: acknowledged packets carry no offset.
  if (text[start] !== "[" || !text.endsWith("]")) return frames;
  return [`${text.slice(0, -1)},${JSON.stringify(offset)}]`];
}

/** Whether frames carry one packet that `withOffset` can mark (what a recovery log keeps). */
export function takesOffset(frames: WireFrame[]): boolean {
  return withOffset(frames, "") !== frames;
}
