/**
 * The server-side socket handed to handlers, in the shape of Socket.IO's `Socket`: listeners,
 * catch-all listeners (`onAny`, `onAnyOutgoing`), per-event middlewares (`use`), emits with
 * acks, rooms and broadcasts. Everything registered here lives in memory and is registered
 * again by the replay of the "connection" handler after an eviction.
 */
import { BroadcastOperator, type RoomArg } from "./broadcast-operator";
import { encodePacket, PacketType } from "../../protocol/socketio-codec";
import { RoomJoinError } from "./room-join-error";
import { assertEmittable } from "./emittable";
import { type EventMiddleware, runEventMiddlewares } from "./event-middleware";
import { type AnyListener, CatchAllListeners } from "./catch-all";
import { EventListeners, type Listener } from "./event-listeners";
import { type TimeoutBroadcasts, type TimeoutEmitter, timeoutEmitter, withTimeoutBroadcasts } from "./timeout-emitter";
import type * as T from "./typed-events";
import { privateRoomRefusal, userIdOf } from "./private-rooms";
import type { DisconnectReason, Handshake, HostRuntime } from "./types";

export type { Listener } from "./event-listeners";
type AckCallback = (...args: unknown[]) => void;

export interface SocketInit {
  id: string;
  sid: string;
  nsp: string;
  handshake: Handshake;
  data: unknown;
  rooms: string[];
  restored: boolean;
  /** Connection-state recovery brought it back: same id, rooms, data; missed packets sent. */
  recovered?: boolean;
}

export class Socket<
  ListenEvents extends T.EventsMap = T.DefaultEventsMap,
  EmitEvents extends T.EventsMap = ListenEvents,
  _ServerSideEvents extends T.EventsMap = T.DefaultEventsMap,
  // biome-ignore lint/suspicious/noExplicitAny: Socket.IO types socket.data as any by default
  SocketData = any,
> {
  readonly id: string;
  readonly handshake: Handshake;
  readonly rooms: Set<string>;
  /** Arbitrary per-socket state; persisted after every handler so it survives eviction. */
  data: SocketData;
  connected = true;
  /** True when this object was rebuilt after the host was evicted or hibernated. */
  readonly restored: boolean;
  /** Socket.IO's `socket.recovered`: this connection resumed a dropped one (docs/recovery.md). */
  readonly recovered: boolean;
  /** Engine.IO session id this socket belongs to. */
  readonly sid: string;
  readonly nsp: string;

  private readonly listeners = new EventListeners();
  private readonly pendingAcks = new Map<number, AckCallback>();
  private readonly eventMiddlewares: EventMiddleware[] = [];
  private readonly anyListeners = new CatchAllListeners();
  private readonly anyOutgoingListeners = new CatchAllListeners();
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
    this.data = init.data as SocketData;
    this.rooms = new Set([init.id, ...init.rooms]);
    this.restored = init.restored;
    this.recovered = init.recovered === true;
    this.replaying = init.restored;
  }

  // ── listeners ──────────────────────────────────────────────
  on<Ev extends T.SocketListenNames<ListenEvents>>(
    event: Ev,
    listener: T.ReservedOrUserListener<T.SocketReservedEvents, ListenEvents, Ev>,
  ): this {
    this.listeners.add(event, listener as Listener);
    return this;
  }

  once<Ev extends T.SocketListenNames<ListenEvents>>(
    event: Ev,
    listener: T.ReservedOrUserListener<T.SocketReservedEvents, ListenEvents, Ev>,
  ): this {
    const wrapper: Listener = (...args) => {
      this.off(event, wrapper);
      return (listener as Listener)(...args);
    };
    return this.on(event, wrapper as never);
  }

  off(event?: string, listener?: Listener): this {
    this.listeners.remove(event, listener);
    return this;
  }

  removeAllListeners(event?: string): this {
    return this.off(event);
  }

  listenerCount(event: string): number {
    return this.listeners.of(event).length;
  }

  /** Per-event middleware: `next(err)` refuses the event and emits "error" on this socket. */
  use(middleware: EventMiddleware): this {
    this.eventMiddlewares.push(middleware);
    return this;
  }

  /** Catch-all listeners for incoming events, called before `use` middlewares, as Socket.IO. */
  onAny(listener: AnyListener): this {
    this.anyListeners.append(listener);
    return this;
  }
  prependAny(listener: AnyListener): this {
    this.anyListeners.prepend(listener);
    return this;
  }
  offAny(listener?: AnyListener): this {
    this.anyListeners.remove(listener);
    return this;
  }
  listenersAny(): AnyListener[] {
    return this.anyListeners.all();
  }

  /** Catch-all listeners for what this socket emits to its client (`socket.emit`, not broadcasts). */
  onAnyOutgoing(listener: AnyListener): this {
    this.anyOutgoingListeners.append(listener);
    return this;
  }
  prependAnyOutgoing(listener: AnyListener): this {
    this.anyOutgoingListeners.prepend(listener);
    return this;
  }
  offAnyOutgoing(listener?: AnyListener): this {
    this.anyOutgoingListeners.remove(listener);
    return this;
  }
  listenersAnyOutgoing(): AnyListener[] {
    return this.anyOutgoingListeners.all();
  }

  // ── emitting to this client ────────────────────────────────
  emit<Ev extends T.EventNames<EmitEvents>>(event: Ev, ...eventArgs: T.EventParams<EmitEvents, Ev>): boolean {
    const args: unknown[] = eventArgs;
    // The volatile flag applies to this emit only, whether it sends, returns early or throws.
    const volatile = this.volatileNext;
    this.volatileNext = false;
    // Throws before anything is queued: a name or argument clients cannot decode never leaves.
    assertEmittable(event, args, { ack: true });
    if (this.replaying || !this.connected) return false;
    const last = args[args.length - 1];
    const ack = typeof last === "function" ? (last as AckCallback) : undefined;
    const packet: { type: PacketType; nsp: string; data: unknown[]; id?: number } = {
      type: PacketType.EVENT,
      nsp: this.nsp,
      data: [event, ...(ack ? args.slice(0, -1) : args)],
    };
    if (ack) {
      if (this.pendingAcks.size >= this.runtime.maxPendingAcks) {
        throw new Error(`edgeio: socket ${this.id} already awaits ${this.pendingAcks.size} acknowledgements (MAX_PENDING_ACKS)`);
      }
      packet.id = this.nextAckId++;
      this.pendingAcks.set(packet.id, ack);
    }
    this.anyOutgoingListeners.notify(event, packet.data.slice(1), this.id);
    this.runtime.sendFrames(this.sid, encodePacket(packet), volatile);
    return true;
  }

  /** `socket.timeout(ms).emit(ev, ..., (err, ...res) => …)` and `.emitWithAck(ev, ...)`. */
  timeout(ms: number): TimeoutEmitter<EmitEvents> & TimeoutBroadcasts {
    const emitter = timeoutEmitter<EmitEvents>(
      (event, ...args) => this.emitUntyped(event, ...args),
      this.runtime.scheduleDeadline.bind(this.runtime),
      ms,
    );
    return withTimeoutBroadcasts(emitter, () => this.operator().timeout(ms));
  }

  emitWithAck<Ev extends T.EventNamesWithAck<EmitEvents>>(
    event: Ev,
    ...args: T.AllButLast<T.EventParams<EmitEvents, Ev>>
  ): Promise<T.FirstNonErrorArg<T.Last<T.EventParams<EmitEvents, Ev>>>> {
    return new Promise((resolve) =>
      this.emitUntyped(event, ...args, (response: T.FirstNonErrorArg<T.Last<T.EventParams<EmitEvents, Ev>>>) => resolve(response)),
    );
  }

  private emitUntyped(event: string, ...args: unknown[]): boolean {
    return (this.emit as (event: string, ...args: unknown[]) => boolean)(event, ...args);
  }

  /** `socket.volatile.emit(…)`: dropped rather than queued when the client cannot take it now. */
  get volatile(): this {
    this.volatileNext = true;
    return this;
  }

  /** Accepted, without effect: the runtime compresses per connection, Cloudflare's edge polling responses. */
  compress(_compress: boolean): this {
    return this;
  }

  /** Same as emit("message", …). */
  send(...args: unknown[]): this {
    this.emitUntyped("message", ...args);
    return this;
  }

  // ── rooms ──────────────────────────────────────────────────
  /** Rejects with a RoomJoinError ("forbidden") for a private room: another socket's id, another user's room. */
  join(rooms: RoomArg): Promise<void> {
    // As Socket.IO: a disconnected socket joins nothing.
    if (!this.connected) return Promise.resolve();
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
  to(room: RoomArg): T.TypedBroadcastOperator<EmitEvents, SocketData> {
    return this.operator().to(room);
  }
  in(room: RoomArg): T.TypedBroadcastOperator<EmitEvents, SocketData> {
    return this.to(room);
  }
  except(room: RoomArg): T.TypedBroadcastOperator<EmitEvents, SocketData> {
    return this.operator().except(room);
  }
  get broadcast(): T.TypedBroadcastOperator<EmitEvents, SocketData> {
    return this.operator();
  }

  private operator(): T.TypedBroadcastOperator<EmitEvents, SocketData> {
    const operator = new BroadcastOperator(this.runtime, this.nsp).except(this.id);
    const volatile = this.volatileNext;
    this.volatileNext = false; // socket.volatile.to(room).emit(…)
    return (volatile ? operator.volatile : operator) as unknown as T.TypedBroadcastOperator<EmitEvents, SocketData>;
  }

  // ── lifecycle ──────────────────────────────────────────────
  get disconnected(): boolean {
    return !this.connected;
  }

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

  /**
   * An incoming event, as Socket.IO's `onevent` + `dispatch`: catch-all listeners first, then
   * the `use` middlewares, then the event's listeners (or "error" listeners if a middleware
   * refused it). Handler errors are logged and never reach other sockets.
   */
  async dispatch(event: string, args: unknown[]): Promise<void> {
    const before = JSON.stringify(this.data ?? null);
    this.anyListeners.notify(event, args, this.id);
    const packet: [string, ...unknown[]] = [event, ...args];
    const refusal = await runEventMiddlewares(this.eventMiddlewares, packet);
    if (refusal) {
      // Socket.IO emits "error" on the server-side socket (Node throws without a listener).
      if (this.listenerCount("error") === 0)
        console.warn(`edgeio: socket ${this.id}: "${event}" refused by a socket.use middleware: ${refusal.message}`);
      return this.invoke("error", [refusal], before);
    }
    if (!this.connected) return;
    const [name, ...rest] = packet;
    return this.invoke(name, rest, before);
  }

  /** Runs "disconnecting" (rooms still filled), leaves every room, then "disconnect", as Socket.IO's `_onclose`. */
  async close(reason: DisconnectReason): Promise<void> {
    if (!this.connected) return;
    await this.invoke("disconnecting", [reason]);
    this.connected = false;
    this.pendingAcks.clear();
    this.rooms.clear();
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

  private async invoke(event: string, args: unknown[], before = JSON.stringify(this.data ?? null)): Promise<void> {
    const results = [...this.listeners.of(event)].map(async (listener) => {
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
