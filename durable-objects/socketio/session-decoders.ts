/**
 * Socket.IO decoders for a host's Engine.IO sessions. A decoder keeps state only while it
 * reassembles a binary packet (its placeholders, then its attachments): a session gets its own
 * at its first binary packet, and every other packet (a CONNECT, plain events and acks) goes
 * through one shared decoder, which decodes and emits at once and so never holds state (issue
 * 11: no decoder built, or kept in memory, per connect).
 */
import { createDecoder, type Packet, PacketType } from "../../protocol/socketio-codec";

type Decoder = ReturnType<typeof createDecoder>;

export class SessionDecoders {
  private readonly own = new Map<string, Decoder>();
  private readonly shared: Decoder;
  /** The session whose packet the shared decoder is decoding now. */
  private sharedSid = "";

  constructor(private readonly onPacket: (sid: string, packet: Packet) => void) {
    this.shared = createDecoder((packet) => onPacket(this.sharedSid, packet));
  }

  /** Decodes one Engine.IO message of a session; throws on a malformed packet (as socket.io-parser does). */
  add(sid: string, data: string | ArrayBuffer): void {
    let decoder = this.own.get(sid);
    // "0": a CONNECT to "/" without auth, every socket.io-client's first packet, decoded as
    // socket.io-parser decodes it ({ type, nsp }) without its parse (nor the decoder's event).
    if (data === "0" && !decoder) {
      this.onPacket(sid, { type: PacketType.CONNECT, nsp: "/" });
      return;
    }
    // "5" / "6": BINARY_EVENT / BINARY_ACK, whose attachments follow in the next messages.
    if (!decoder && typeof data === "string" && data[0] !== "5" && data[0] !== "6") {
      const outer = this.sharedSid;
      this.sharedSid = sid;
      try {
        this.shared.add(data);
      } finally {
        this.sharedSid = outer;
      }
      return;
    }
    if (!decoder) {
      decoder = createDecoder((packet) => this.onPacket(sid, packet));
      this.own.set(sid, decoder);
    }
    decoder.add(data);
  }

  forget(sid: string): void {
    this.own.delete(sid);
  }
}
