/** The server-side socket handed to handlers, in the shape of Socket.IO's `Socket`. */
import { BroadcastOperator, type RoomArg } from "./broadcast-operator";
import { encodePacket, PacketType } from "../../protocol/socketio-codec";
import { RoomJoinError } from "./room-join-error";
import { assertEmittable } from "./emittable";
import { privateRoomRefusal, userIdOf } from "./private-rooms";
import type { DisconnectReason, Handshake, HostRuntime } from "./types";

// biome-ignore lint/suspicious/noExplicitAny: handlers declare their own argument types, as with Socket.IO's `socket.on`
export type Listener = (...args: any[]) => unknown;
type AckCallback = (...args: unknown[]) => void;

export interface SocketInit {
  id: string;
  sid: string;
  nsp: string;
  handshake: Handshake;
  data: unknown;
  rooms: string[];
  restored: boolean;
}

export class Socket {
  readonly id: string;
  readonly handshake: Handshake;
  readonly rooms: Set<string>;
  /** Arbitrary per-socket state; persisted after every handler so it survives eviction. */
  // biome-ignore lint/suspicious/noExplicitAny: Socket.IO types socket.data as any
  data: any;
  connected = true;
  /** True when this object was rebuilt after the host was evicted or hibernated. */
  readonly restored: boolean;
  /** Engine.IO session id this socket belongs to. */
  readonly sid: string;
  readonly nsp: string;

  private readonly listeners = new Map<string, Listener[]>();
  private readonly pendingAcks = new Map<number, AckCallback>();
  /** Set by `socket.volatile` for the next emit only, as Socket.IO's flags. */
  private volatileNext = false;
  /** Random start: acks still in flight from before an eviction must not hit a new callback. */
  private nextAckId = Math.floor(Math.random() * 1_000_000);
  /** While the connection handler is replayed after eviction, side effects are already persisted. */
  private replaying: boolean;

  constructor(
    private readonly runtime: HostRuntime,
    init: SocketInit,
  ) {
    this.id = init.id;
    this.sid = init.sid;
    this.nsp = init.nsp;
    this.handshake = init.handshake;
    this.data = init.data;
    this.rooms = new Set([init.id, ...init.rooms]);
    this.restored = init.restored;
    this.replaying = init.restored;
  }

  // ── listeners ──────────────────────────────────────────────
  on(event: string, listener: Listener): this {
    const list = this.listeners.get(event) ?? [];
    list.push(listener);
    this.listeners.set(event, list);
    return this;
  }

  once(event: string, listener: Listener): this {
    const wrapper: Listener = (...args) => {
      this.off(event, wrapper);
      return listener(...args);
    };
    return this.on(event, wrapper);
  }

  off(event?: string, listener?: Listener): this {
    if (event === undefined) this.listeners.clear();
    else if (listener === undefined) this.listeners.delete(event);
    else
      this.listeners.set(
        event,
        (this.listeners.get(event) ?? []).filter((l) => l !== listener),
      );
    return this;
  }

  removeAllListeners(event?: string): this {
    return this.off(event);
  }

  listenerCount(event: string): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  // ── emitting to this client ────────────────────────────────
  emit(event: string, ...args: unknown[]): boolean {
    // The volatile flag applies to this emit only, whether it sends, returns early or throws.
    const volatile = this.volatileNext;
    this.volatileNext = false;
    // Throws before anything is queued: a name or argument clients cannot decode never leaves.
    assertEmittable(event, args, { ack: true });
    if (this.replaying || !this.connected) return false;
    const packet: { type: PacketType; nsp: string; data: unknown[]; id?: number } = {
      type: PacketType.EVENT,
      nsp: this.nsp,
      data: [event, ...args],
    };
    const last = args[args.length - 1];
    if (typeof last === "function") {
      packet.data = [event, ...args.slice(0, -1)];
      if (this.pendingAcks.size >= this.runtime.maxPendingAcks) {
        throw new Error(`edgeio: socket ${this.id} already awaits ${this.pendingAcks.size} acknowledgements (MAX_PENDING_ACKS)`);
      }
      packet.id = this.nextAckId++;
      this.pendingAcks.set(packet.id, last as AckCallback);
    }
    this.runtime.sendFrames(this.sid, encodePacket(packet), volatile);
    return true;
  }

  /** `socket.timeout(ms).emit(ev, ..., (err, ...res) => …)` and `.emitWithAck(ev, ...)`. */
  timeout(ms: number) {
    const operator = () => this.operator();
    return {
      emit: (event: string, ...args: unknown[]): boolean => {
        const callback = args.pop();
        if (typeof callback !== "function") throw new Error("timeout().emit() needs an acknowledgement callback");
        let settled = false;
        const cancel = this.runtime.scheduleDeadline(Date.now() + ms, () => {
          if (settled) return;
          settled = true;
          callback(new Error("operation has timed out"));
        });
        return this.emit(event, ...args, (...response: unknown[]) => {
          if (settled) return;
          settled = true;
          cancel();
          callback(null, ...response);
        });
      },
      emitWithAck: (event: string, ...args: unknown[]): Promise<unknown> =>
        new Promise((resolve, reject) => {
          this.timeout(ms).emit(event, ...args, (error: Error | null, response: unknown) => (error ? reject(error) : resolve(response)));
        }),
      // socket.timeout(ms).broadcast / .to(room): a broadcast collecting every client's ack (across hosts).
      get broadcast(): BroadcastOperator {
        return operator().timeout(ms);
      },
      to: (room: RoomArg): BroadcastOperator => operator().timeout(ms).to(room),
      in: (room: RoomArg): BroadcastOperator => operator().timeout(ms).to(room),
      except: (room: RoomArg): BroadcastOperator => operator().timeout(ms).except(room),
    };
  }

  emitWithAck(event: string, ...args: unknown[]): Promise<unknown> {
    return new Promise((resolve) => this.emit(event, ...args, (response: unknown) => resolve(response)));
  }

  /** `socket.volatile.emit(…)`: dropped rather than queued when the client cannot take it now. */
  get volatile(): this {
    this.volatileNext = true;
    return this;
  }

  /** Same as emit("message", …). */
  send(...args: unknown[]): this {
    this.emit("message", ...args);
    return this;
  }

  // ── rooms ──────────────────────────────────────────────────
  /** Rejects with a RoomJoinError ("forbidden") for a private room: another socket's id, another user's room. */
  join(rooms: RoomArg): Promise<void> {
    const list = (typeof rooms === "string" ? [rooms] : [...rooms]).filter((room) => !this.rooms.has(room));
    for (const room of list) {
      const refusal = privateRoomRefusal({ id: this.id, userId: userIdOf(this.data) }, room);
      if (refusal) return Promise.reject(new RoomJoinError("forbidden", `${refusal}: ${room}`));
    }
    for (const room of list) this.rooms.add(room);
    if (this.replaying || list.length === 0) return Promise.resolve();
    return this.runtime.join(this.id, list);
  }

  leave(room: string): Promise<void> {
    if (!this.rooms.delete(room) || this.replaying || room === this.id) return Promise.resolve();
    return this.runtime.leave(this.id, [room]);
  }

  // ── broadcasting from this socket (the sender is excluded) ─
  to(room: RoomArg): BroadcastOperator {
    return this.operator().to(room);
  }

  in(room: RoomArg): BroadcastOperator {
    return this.to(room);
  }

  except(room: RoomArg): BroadcastOperator {
    return this.operator().except(room);
  }

  get broadcast(): BroadcastOperator {
    return this.operator();
  }

  private operator(): BroadcastOperator {
    const operator = new BroadcastOperator(this.runtime, this.nsp).except(this.id);
    if (!this.volatileNext) return operator;
    this.volatileNext = false; // socket.volatile.to(room).emit(…)
    return operator.volatile;
  }

  // ── lifecycle ──────────────────────────────────────────────
  /** Disconnects from this namespace; with `close`, closes the whole Engine.IO session. */
  disconnect(close = false): this {
    if (!this.connected || this.replaying) return this;
    if (close) this.runtime.closeSession(this.sid, "server namespace disconnect");
    else this.runtime.disconnectSocket(this.id, "server namespace disconnect", true);
    return this;
  }

  /** The underlying Engine.IO connection, as in Socket.IO (`socket.conn`). */
  get conn() {
    const runtime = this.runtime;
    const sid = this.sid;
    return {
      id: sid,
      get transport() {
        return { name: runtime.transportOf(sid) };
      },
      close: () => runtime.closeSession(sid, "forced close"),
    };
  }

  // ── used by the ConnectionHost ─────────────────────────────
  /** Ends the replay of the connection handler after an eviction. */
  endReplay(): void {
    this.replaying = false;
  }

  /** Runs listeners for an incoming event; errors are logged and never reach other sockets. */
  dispatch(event: string, args: unknown[]): Promise<void> {
    return this.invoke(event, args);
  }

  /** Runs "disconnecting"/"disconnect" listeners and marks the socket gone. */
  async close(reason: DisconnectReason): Promise<void> {
    if (!this.connected) return;
    await this.invoke("disconnecting", [reason]);
    this.connected = false;
    this.pendingAcks.clear();
    await this.invoke("disconnect", [reason]);
  }

  resolveAck(id: number, args: unknown[]): void {
    const callback = this.pendingAcks.get(id);
    if (!callback) return;
    this.pendingAcks.delete(id);
    try {
      callback(...args);
    } catch (error) {
      console.error(`edgeio: ack callback for socket ${this.id} threw`, error);
    }
  }

  private async invoke(event: string, args: unknown[]): Promise<void> {
    const before = JSON.stringify(this.data ?? null);
    const results = [...(this.listeners.get(event) ?? [])].map(async (listener) => {
      try {
        await listener(...args);
      } catch (error) {
        console.error(`edgeio: "${event}" handler of socket ${this.id} threw`, error);
      }
    });
    await Promise.all(results);
    const after = JSON.stringify(this.data ?? null);
    if (after !== before) this.runtime.persistSocketData(this.id, this.data);
  }
}
