/**
 * @edgeio/client-shim: a thin layer over socket.io-client for edgeio's default app.
 * `connect()` returns the ordinary Socket.IO socket with a few helpers attached: rooms with a
 * live presence list, presence state, token refresh on `unauthorized`, graceful reconnects on
 * `server:shutdown`, and a persistent device id. Everything else is plain socket.io-client.
 */
import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";

export { io };
export type { Socket };

export interface User {
  id: string;
  name: string;
}
/** One connection of a user in a room. `memberId` is opaque: never a socket id, not a target. */
export interface PresenceMeta<State = unknown> {
  memberId: string;
  deviceId: string;
  joinedAt: number;
  state: State;
}
export interface PresenceEntry<State = unknown> {
  user: User;
  metas: PresenceMeta<State>[];
}
export interface PresenceCounts {
  connections: number;
  users: number;
}
export type Ack<T = object> = ({ ok: true } & T) | { ok: false; error: string; message?: string };
export type JoinReply<State = unknown> = Ack<{ room: string; presence: PresenceEntry<State>[]; counts: PresenceCounts }>;

/** Maps an event name to its payload (an object; `room` is added by the shim). */
export type PayloadMap = Record<string, object>;
/** What a room member receives: the sender's payload plus the room and the sender. */
export type Relayed<P> = P & { room: string; user: User };

// biome-ignore lint/suspicious/noExplicitAny: listeners take whatever the server sends, as socket.io-client's do
type Listener = (...args: any[]) => void;

interface PresenceEvents<State> {
  /** The whole list changed (after a join, leave, update or a fresh join ack). */
  presence: (presence: PresenceEntry<State>[], counts: PresenceCounts) => void;
  "presence:join": (event: { room: string; user: User; metas: PresenceMeta<State>[] }) => void;
  "presence:leave": (event: { room: string; user: User }) => void;
  "presence:update": (event: { room: string; user: User; metas: PresenceMeta<State>[] }) => void;
}

export interface Room<Events extends PayloadMap = PayloadMap, State = unknown> {
  readonly name: string;
  /** True between a successful join() and leave(); the shim re-joins after every reconnect. */
  readonly joined: boolean;
  /** The room's members, one entry per user with one meta per connection (tab or device). */
  readonly presence: PresenceEntry<State>[];
  readonly counts: PresenceCounts;
  join(): Promise<JoinReply<State>>;
  leave(): Promise<Ack<{ room: string }>>;
  /** Sends `{ ...payload, room }`; the server relays it to the room's other members. */
  emit<E extends keyof Events & string>(event: E, payload?: Events[E]): void;
  setPresence(state: State): Promise<Ack>;
  on<E extends keyof PresenceEvents<State>>(event: E, listener: PresenceEvents<State>[E]): () => void;
  on<E extends keyof Events & string>(event: E, listener: (payload: Relayed<Events[E]>) => void): () => void;
  off(event: string, listener: Listener): void;
}

export interface EdgeHelpers<State = unknown> {
  /** This device's id (persisted in localStorage when available), sent as `auth.deviceId`. */
  readonly deviceId: string;
  /** The room helper for `name` (one instance per name). */
  room<Events extends PayloadMap = PayloadMap, S = State>(name: string): Room<Events, S>;
  /** Sets this connection's presence state in every joined room (kept across reconnects). */
  setPresence(state: State): Promise<Ack>;
}

// biome-ignore lint/suspicious/noExplicitAny: the same default as socket.io-client's EventsMap
type EventsMap = Record<string, any>;
export type EdgeSocket<Listen extends EventsMap = EventsMap, Emit extends EventsMap = EventsMap, State = unknown> = Socket<Listen, Emit> &
  EdgeHelpers<State>;

export type TokenReason = "initial" | "refresh";

export interface ConnectOptions extends Partial<ManagerOptions & SocketOptions> {
  /** A fixed JWT. Use `getToken` instead when tokens expire. */
  token?: string;
  /** Called for the first token and again after an `unauthorized` connect error. */
  getToken?: (reason: TokenReason) => string | null | undefined | Promise<string | null | undefined>;
  /** Defaults to a random id persisted in localStorage ("edgeio:deviceId"). */
  deviceId?: string;
  /** Socket.IO namespace; default "/". */
  namespace?: string;
  /** Token refreshes in a row before giving up (the socket then stays disconnected). Default 3. */
  maxTokenRefreshes?: number;
  /** Extra random wait after `server:shutdown`, as a fraction of reconnect_delay_ms. Default 1. */
  shutdownJitter?: number;
  /** Called with the chosen wait when the server announces a shutdown. */
  onServerShutdown?: (delayMs: number) => void;
}

const STORAGE_KEY = "edgeio:deviceId";
let memoryDeviceId: string | undefined;

function randomId(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  return Date.now().toString(36) + Math.random().toString(36).slice(2);
}

/** A stable id for this browser profile; falls back to one id per page when storage is blocked. */
export function persistentDeviceId(): string {
  try {
    const storage = globalThis.localStorage;
    let id = storage.getItem(STORAGE_KEY);
    if (!id) {
      id = randomId();
      storage.setItem(STORAGE_KEY, id);
    }
    return id;
  } catch {
    memoryDeviceId ??= randomId();
    return memoryDeviceId;
  }
}

/** A Manager's own reconnection setting while a shutdown wait has it paused (shared by the sockets it multiplexes). */
const pausedReconnection = new WeakMap<object, boolean>();

const countsOf = (presence: PresenceEntry[]): PresenceCounts => ({
  users: presence.length,
  connections: presence.reduce((sum, entry) => sum + entry.metas.length, 0),
});

export function connect<Listen extends EventsMap = EventsMap, Emit extends EventsMap = EventsMap, State = unknown>(
  url: string,
  options: ConnectOptions = {},
): EdgeSocket<Listen, Emit, State> {
  const {
    token: fixedToken,
    getToken,
    deviceId: givenDeviceId,
    namespace = "/",
    maxTokenRefreshes = 3,
    shutdownJitter = 1,
    onServerShutdown,
    ...ioOptions
  } = options;
  const deviceId = givenDeviceId ?? persistentDeviceId();
  let token: string | null | undefined = fixedToken;
  let fetched = false;
  let refreshes = 0;

  const socket = io(url.replace(/\/$/, "") + namespace, {
    ...ioOptions,
    // A function so every (re)connect attempt sends the current token.
    auth: (send) => {
      const ready = !fetched && getToken && token === undefined ? Promise.resolve(getToken("initial")) : Promise.resolve(token);
      ready.then(
        (value) => {
          fetched = true;
          token = value;
          send(value ? { token: value, deviceId } : { deviceId });
        },
        () => send({ deviceId }),
      );
    },
  }) as unknown as EdgeSocket<Listen, Emit, State>;
  // Untyped view for the shim's own protocol events.
  const raw = socket as unknown as Socket;
  const rooms = new Map<string, RoomImpl>();
  let presenceState: State | undefined;
  const ackErrors = ioOptions.ackTimeout !== undefined;

  raw.on("connect", () => {
    refreshes = 0;
    // A new connection starts with no rooms on the server. The state goes first: the server
    // applies a connection's default state to the rooms it joins afterwards.
    if (presenceState !== undefined) raw.emit("presence:set", { state: presenceState });
    for (const room of rooms.values()) if (room.joined) void room.join();
  });

  // Until the re-join ack refills them, rooms show nobody rather than who was there before.
  raw.on("disconnect", () => {
    for (const room of rooms.values()) room.clearPresence();
  });

  raw.on("connect_error", (error: Error & { data?: { code?: string } }) => {
    // The server rejected the CONNECT packet (the Manager does not retry that by itself).
    if (error.message !== "unauthorized" || !getToken || refreshes >= maxTokenRefreshes) return;
    refreshes++;
    Promise.resolve(getToken("refresh")).then(
      (value) => {
        token = value;
        raw.connect();
      },
      () => undefined,
    );
  });

  // A disconnect() by the app during a shutdown wait cancels the scheduled reconnect.
  let shutdownTimer: ReturnType<typeof setTimeout> | undefined;
  const manager = raw.io;
  const endShutdownWait = () => {
    clearTimeout(shutdownTimer);
    const reconnection = pausedReconnection.get(manager);
    pausedReconnection.delete(manager);
    if (reconnection !== undefined) manager.reconnection(reconnection);
  };
  const disconnect = raw.disconnect.bind(raw);
  raw.disconnect = raw.close = () => {
    endShutdownWait();
    return disconnect();
  };

  raw.on("server:shutdown", (info?: { reconnect_delay_ms?: number }) => {
    const base = Math.max(0, Number(info?.reconnect_delay_ms) || 0);
    // Jitter spreads the reconnects of every client the closing server had.
    const delay = Math.round(base * (1 + Math.random() * shutdownJitter));
    onServerShutdown?.(delay);
    endShutdownWait();
    // The transport is closed, not the namespace left: to the server the connection dropped
    // ("transport close"), which connection-state recovery restores on the reconnect, while a
    // namespace disconnect would end the session for good. The Manager's own reconnection
    // waits meanwhile, so the reconnect comes after `delay`, not after its backoff.
    pausedReconnection.set(manager, manager.reconnection());
    manager.reconnection(false);
    manager.engine?.close();
    shutdownTimer = setTimeout(() => {
      endShutdownWait();
      raw.connect();
    }, delay);
  });

  // Room-scoped events carry their room; route them to that room's listeners.
  raw.onAny((event: string, payload?: { room?: unknown; user?: User; metas?: PresenceMeta<State>[] }) => {
    if (typeof payload?.room === "string") rooms.get(payload.room)?.dispatch(event, payload);
  });

  class RoomImpl implements Room<PayloadMap, State> {
    joined = false;
    presence: PresenceEntry<State>[] = [];
    private listeners = new Map<string, Set<Listener>>();
    constructor(readonly name: string) {}

    get counts() {
      return countsOf(this.presence);
    }

    join(): Promise<JoinReply<State>> {
      // The snapshot is applied in the ack callback, not after an `await`: the packets of one
      // long-polling payload are all dispatched before an await's continuation runs, so a
      // presence:join right behind the ack would be applied first and then overwritten.
      return new Promise((resolve, reject) => {
        const apply = (reply: JoinReply<State>) => {
          if (reply.ok) {
            this.joined = true;
            this.presence = reply.presence;
            this.fire("presence", this.presence, this.counts);
          }
          resolve(reply);
        };
        // With ackTimeout set, socket.io-client passes an error first (as emitWithAck rejects).
        const onAck = ackErrors ? (error: Error | null, reply: JoinReply<State>) => (error ? reject(error) : apply(reply)) : apply;
        raw.emit("room:join", this.name, onAck);
      });
    }

    /** Offline, the list is stale: the server drops the connection from its rooms. */
    clearPresence() {
      if (this.presence.length === 0) return;
      this.presence = [];
      this.fire("presence", this.presence, this.counts);
    }

    async leave(): Promise<Ack<{ room: string }>> {
      this.joined = false;
      this.presence = [];
      return raw.connected ? raw.emitWithAck("room:leave", this.name) : { ok: true, room: this.name };
    }

    emit(event: string, payload: object = {}) {
      raw.emit(event, { ...payload, room: this.name });
    }

    setPresence(state: State): Promise<Ack> {
      return raw.emitWithAck("presence:set", { room: this.name, state });
    }

    on(event: string, listener: Listener) {
      if (!this.listeners.has(event)) this.listeners.set(event, new Set());
      this.listeners.get(event)!.add(listener);
      return () => this.off(event, listener);
    }

    off(event: string, listener: Listener) {
      this.listeners.get(event)?.delete(listener);
    }

    private fire(event: string, ...args: unknown[]) {
      for (const listener of this.listeners.get(event) ?? []) listener(...args);
    }

    dispatch(event: string, payload: { user?: User; metas?: PresenceMeta<State>[] }) {
      if (event.startsWith("presence:") && payload.user) {
        const id = payload.user.id;
        const entry = { user: payload.user, metas: payload.metas ?? [] };
        const known = this.presence.some((e) => e.user.id === id);
        // Keep the list's order stable: replace in place, append newcomers, drop leavers.
        this.presence =
          event === "presence:leave"
            ? this.presence.filter((e) => e.user.id !== id)
            : known
              ? this.presence.map((e) => (e.user.id === id ? entry : e))
              : [...this.presence, entry];
        this.fire(event, payload);
        this.fire("presence", this.presence, this.counts);
        return;
      }
      this.fire(event, payload);
    }
  }

  return Object.assign(socket, {
    deviceId,
    room: (name: string) => {
      let room = rooms.get(name);
      if (!room) {
        room = new RoomImpl(name);
        rooms.set(name, room);
      }
      return room;
    },
    setPresence: (state: State) => {
      presenceState = state;
      return raw.emitWithAck("presence:set", { state });
    },
  }) as EdgeSocket<Listen, Emit, State>;
}
