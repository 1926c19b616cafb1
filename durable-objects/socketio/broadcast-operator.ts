/** `to(room).except(id).emit(…)` and friends, mirroring Socket.IO's BroadcastOperator. */
import { encodePacket, PacketType } from "../../protocol/socketio-codec";
import { assertEmittable } from "./emittable";
import type { HostRuntime, Target } from "./types";

export type RoomArg = string | readonly string[];

const toList = (rooms: RoomArg) => (typeof rooms === "string" ? [rooms] : [...rooms]);

export class BroadcastOperator {
  constructor(
    private readonly runtime: HostRuntime,
    private readonly nsp: string,
    private readonly rooms: ReadonlySet<string> = new Set(),
    private readonly exceptRooms: ReadonlySet<string> = new Set(),
    private readonly isVolatile = false,
  ) {}

  to(room: RoomArg): BroadcastOperator {
    return new BroadcastOperator(this.runtime, this.nsp, new Set([...this.rooms, ...toList(room)]), this.exceptRooms, this.isVolatile);
  }

  in(room: RoomArg): BroadcastOperator {
    return this.to(room);
  }

  except(room: RoomArg): BroadcastOperator {
    return new BroadcastOperator(this.runtime, this.nsp, this.rooms, new Set([...this.exceptRooms, ...toList(room)]), this.isVolatile);
  }

  /** Packets of a volatile emit are dropped for sessions whose transport is not writable. */
  get volatile(): BroadcastOperator {
    return new BroadcastOperator(this.runtime, this.nsp, this.rooms, this.exceptRooms, true);
  }

  get target(): Target {
    return { nsp: this.nsp, rooms: [...this.rooms], except: [...this.exceptRooms] };
  }

  /**
   * Sends to every matching socket on every host. Returns true like Socket.IO; delivery
   * happens in order after the call returns. Acknowledgements are not supported on broadcasts.
   */
  emit(event: string, ...args: unknown[]): true {
    if (typeof args[args.length - 1] === "function") {
      throw new Error("edgeio: acknowledgements are not supported when broadcasting");
    }
    // Throws before the fan-out: one bad emit must not reach (and break) every client of a room.
    assertEmittable(event, args, { ack: false });
    const frames = encodePacket({ type: PacketType.EVENT, nsp: this.nsp, data: [event, ...args] });
    void this.runtime.fanout({ kind: "emit", target: this.target, frames, volatile: this.isVolatile });
    return true;
  }

  socketsJoin(room: RoomArg): Promise<void> {
    return this.runtime.fanout({ kind: "join", target: this.target, rooms: toList(room) });
  }

  socketsLeave(room: RoomArg): Promise<void> {
    return this.runtime.fanout({ kind: "leave", target: this.target, rooms: toList(room) });
  }

  disconnectSockets(close = false): Promise<void> {
    return this.runtime.fanout({ kind: "disconnect", target: this.target, close });
  }

  /** Accepted for compatibility, without effect (see Socket#compress). */
  compress(_compress: boolean): BroadcastOperator {
    return this;
  }
}
