/**
 * Connection-state recovery on one host (docs/recovery.md): sockets dropped by their transport
 * are suspended (kept with their rooms; the packets they miss go to a bounded SQLite log), a
 * reconnect with the socket's `pid` resumes them here or takes them over from the host that
 * has them, and windows end by the host's alarm. A socket id names its home host; when a socket
 * resumes elsewhere, its home keeps a forward so `to(socketId)` still reaches it.
 */
import type { WireFrame } from "../../protocol/engine-codec";
import { hostOfSocketId, mintPid, verifyPid, verifySocketId } from "../../protocol/ids";
import { withOffset } from "../../protocol/socketio-offset";
import type { CountingSql } from "../billed-work";
import type { HostStore } from "../host-store";
import type { Target } from "../socketio/types";
import { HandOverBuffers, type LoggedPacket, mergeHandOver, TestHold } from "./hand-over";
import { RECOVERABLE_REASONS, type RecoveryConfig } from "./options";
import { RecoveryStore, type SuspendedSocket } from "./store";

/** A suspended socket as its host hands it to the host its client came back through (RPC). */
export interface HandedOver {
  socketId: string;
  nsp: string;
  /** `socket.data`, JSON. */
  data: string;
  rooms: string[];
  /** Its log: empty in the first phase (the host keeps logging), all of it in the second. */
  packets: LoggedPacket[];
}

/**
 * A hand-over's phases (docs/recovery.md, "Resuming"): `prepare` reads the socket's state and
 * leaves it suspended (logging) where it is; `finish` hands its log over and releases it.
 */
export type HandOverPhase = "prepare" | "finish";

/** A socket taken over from another host, between the phases: `home` is the host to finish with. */
export type TakenOver = { local: false; home: string } & HandedOver;

/** A socket about to resume: here (`local`: its rows are still this host's) or taken over. */
export type Resumed = { local: true; socketId: string; data: string; rooms: string[] } | TakenOver;

/** What recovery needs from its host (the ConnectionHost provides it). */
export interface RecoveryHost {
  readonly hostName: string;
  readonly sidSecret: string;
  readonly sockets: HostStore;
  /** Another host's `takeRecovery` (RPC). */
  takeFrom(host: string, socketId: string, nsp: string, taker: string, phase: HandOverPhase): Promise<HandedOver | null>;
  /** Tells a socket's home host that the socket is gone for good (RPC, best effort). */
  dropForwardAt(home: string, socketId: string): Promise<void>;
  /** A socket left its rooms and namespace for good (the directories are told). */
  leaveDirectories(nsp: string, socketId: string, rooms: string[], data: unknown, untracked?: boolean): Promise<void>;
  /** The host's one alarm must fire by the earliest window end. */
  scheduleAlarm(): void;
  /** A suspended socket's log would pass its bounds: its recovery ends now. */
  overflowed(socketId: string): void;
  /** Ends a session its client gave up as a transport close (its sockets are suspended before this returns). */
  endStaleSession(sid: string): void;
}

/** host_meta key set once a host has suspended a socket. */
const USED_KEY = "recovery_used";

export class SessionRecovery {
  private storeInstance: RecoveryStore | undefined;
  /** Offsets: unique per host instance and increasing (the client only echoes the last one). */
  private readonly epoch = Date.now().toString(36);
  private counter = 0;
  /** ENVIRONMENT=test: hand-overs may wait between their phases (set through TestRecovery only). */
  readonly testHold = new TestHold();
  /** Live packets of sockets being handed over to this host (between the phases). */
  private readonly handIns = new HandOverBuffers();

  constructor(
    private readonly config: () => RecoveryConfig | null,
    private readonly sql: CountingSql,
    private readonly host: RecoveryHost,
  ) {}

  /** Tables are created on first use, so a host without recovery never touches them. */
  private get store(): RecoveryStore {
    this.storeInstance ??= new RecoveryStore(this.sql);
    return this.storeInstance;
  }

  get enabled(): boolean {
    return this.config() !== null;
  }

  /** Whether a session ending for `reason` leaves its sockets recoverable. */
  recoverable(reason: string): boolean {
    return this.enabled && RECOVERABLE_REASONS.has(reason);
  }

  /** Suspended here, or being handed over to this host (not live yet either way). */
  isSuspended(socketId: string): boolean {
    return this.enabled && (this.handIns.has(socketId) || this.store.isSuspended(socketId));
  }

  pidOf(socketId: string): Promise<string | undefined> {
    return this.enabled ? mintPid(this.host.sidSecret, socketId) : Promise.resolve(undefined);
  }

  /** Frames as sent to live sockets: with an offset when recovery is on (not for volatile packets). */
  mark(frames: WireFrame[], volatile: boolean): WireFrame[] {
    if (!this.enabled || volatile) return frames;
    return withOffset(frames, `${this.epoch}-${(this.counter++).toString(36)}`);
  }

  /** Keeps the socket (rows, rooms) for the window; its client may come back as itself. */
  suspend(socketId: string, nsp: string): void {
    const config = this.config();
    if (!config) return;
    this.host.sockets.setMeta(USED_KEY, 1);
    this.store.suspend(socketId, nsp, Date.now(), config.maxDisconnectionDuration);
    this.host.scheduleAlarm();
  }

  /**
   * A packet for a suspended socket goes to its log (true: handled here, not sent). Volatile
   * packets are dropped, as for a slow client. On overflow the socket's recovery ends at once
   * (its client will get a fresh socket).
   */
  intercept(socketId: string, frames: WireFrame[], volatile: boolean, op?: string): boolean {
    const config = this.config();
    if (!config) return false;
    // Being handed over to this host: held until the other host's log comes, merged by `op`.
    if (this.handIns.has(socketId)) return volatile || this.handIns.hold(socketId, frames, op, config);
    if (!this.store.isSuspended(socketId)) return false;
    if (!volatile && !this.store.append(socketId, { frames, op }, config)) this.host.overflowed(socketId);
    return true;
  }

  /**
   * A packet for a socket: logged if it is suspended, else `send` on its session; logged too
   * when the send found the connection gone and suspended the socket (engine/sessions.ts).
   */
  deliver(socketId: string, frames: WireFrame[], volatile: boolean, op: string | undefined, send: () => boolean): void {
    if (!this.intercept(socketId, frames, volatile, op) && !send()) this.intercept(socketId, frames, volatile, op);
  }

  /**
   * Finds the state a CONNECT's `auth.pid` names: a socket suspended here (`local`, still in
   * place: taken with `takeLocal` once middlewares passed), or taken over from its home host
   * (which asks wherever the socket went). Null: a fresh socket.
   */
  async resume(nsp: string, auth: unknown, sid: string): Promise<Resumed | null> {
    if (!this.enabled || !auth || typeof auth !== "object") return null;
    const named = await verifyPid(this.host.sidSecret, (auth as { pid?: unknown }).pid);
    if (!named) return null;
    const { socketId, home } = named;
    this.releaseStale(socketId, nsp, sid);
    const suspended = this.store.get(socketId);
    if (suspended) {
      const row = this.host.sockets.socket(socketId);
      if (!row || suspended.nsp !== nsp || suspended.expires_at <= Date.now()) return null;
      return { local: true, socketId, data: row.data, rooms: this.host.sockets.roomsOf(socketId).filter((room) => room !== socketId) };
    }
    // First phase: the socket's state; it stays suspended (and logged) where it is.
    const taken = await this.takeAt(home, socketId, nsp, "prepare");
    return taken ? { local: false, home, ...taken } : null;
  }

  /** `takeRecovery` on `home` (this host's own when it is home); null when it fails: a fresh socket, never a hung CONNECT. */
  private takeAt(home: string, socketId: string, nsp: string, phase: HandOverPhase): Promise<HandedOver | null> {
    const self = this.host.hostName;
    const taking = home === self ? this.handOver(socketId, nsp, self, phase) : this.host.takeFrom(home, socketId, nsp, self, phase);
    return taking.catch((error: unknown) => {
      console.error(`edgeio: recovery of ${socketId} through ${home} failed (${phase})`, error);
      return null;
    });
  }

  /** A socket taken over is stored here now: what it is sent is held from now on. */
  beginHandIn(socketId: string): void {
    this.handIns.start(socketId);
  }

  /** Second phase, once the socket is in its rooms here: the other host's log (it lets the socket go); null: failed. */
  async finishHandIn(taken: TakenOver): Promise<LoggedPacket[] | null> {
    await this.testHold.pass();
    const finished = await this.takeAt(taken.home, taken.socketId, taken.nsp, "finish");
    if (finished && taken.home === this.host.hostName) this.store.dropForward(taken.socketId);
    return finished?.packets ?? null;
  }

  /**
   * Ends the holding (synchronously, right before the CONNECT reply is sent): the other host's
   * log then what was held here and not in it. Null: the hand-over failed, or what was held
   * passed the log's bounds.
   */
  endHandIn(socketId: string, logged: LoggedPacket[] | null): LoggedPacket[] | null {
    const held = this.handIns.stop(socketId);
    return logged && held && mergeHandOver(logged, held);
  }

  /** A hand-over that failed after the socket was stored here: it goes (the rooms only listed this host for it). */
  async abandonHandIn(socketId: string, nsp: string): Promise<void> {
    this.handIns.stop(socketId);
    this.store.forget(socketId);
    const row = this.host.sockets.socket(socketId);
    if (!row) return;
    const rooms = this.host.sockets.roomsOf(socketId);
    this.host.sockets.deleteSocket(socketId);
    await this.host.leaveDirectories(nsp, socketId, rooms, JSON.parse(row.data), true);
  }

  /** The client of a socket handed in left during the hand-over and the socket was suspended here: its log. */
  relog(socketId: string, packets: LoggedPacket[]): void {
    const config = this.config();
    if (!config) return;
    if (!packets.every((packet) => this.store.append(socketId, packet, config))) this.host.overflowed(socketId);
  }

  /**
   * Packets after the one carrying `offset` (the client's last), or all of them: a log may begin
   * with packets that were queued for the client when its transport dropped, and it may have
   * received some of those (Socket.IO's offset semantics).
   */
  since(packets: LoggedPacket[], offset: unknown): LoggedPacket[] {
    if (typeof offset !== "string") return packets;
    const needle = `,${JSON.stringify(offset)}]`;
    const index = packets.findIndex(({ frames: [frame] }) => typeof frame === "string" && frame.endsWith(needle));
    return index < 0 ? packets : packets.slice(index + 1);
  }

  /** The missed packets of a socket resuming here, after the client's `offset`; null if its window ended meanwhile. */
  takeLocal(socketId: string, offset: unknown): WireFrame[][] | null {
    const packets = this.store.take(socketId)?.packets;
    return packets ? this.since(packets, offset).map((packet) => packet.frames) : null;
  }

  /**
   * `takeRecovery` (RPC, and the home host's own resume): hands a suspended socket over to
   * `taker` in two phases. `prepare` only reads it: it stays suspended here, in its rooms, and
   * its log grows, so a taker that never finishes loses nothing. `finish` hands the log over
   * and forgets it here. The home host relays both to wherever the socket went, and on
   * `finish` keeps a forward to the taker.
   */
  async handOver(socketId: string, nsp: string, taker: string, phase: HandOverPhase = "finish"): Promise<HandedOver | null> {
    if (!this.enabled) return null;
    if (phase === "prepare") this.releaseStale(socketId, nsp);
    const isHome = taker !== this.host.hostName && this.isHomeOf(socketId);
    const suspended = this.store.get(socketId);
    const row = suspended && this.host.sockets.socket(socketId);
    if (suspended && row && suspended.nsp === nsp && suspended.expires_at > Date.now()) {
      const rooms = this.host.sockets.roomsOf(socketId).filter((room) => room !== socketId);
      if (phase === "prepare") return { socketId, nsp, data: row.data, rooms, packets: [] };
      const packets = this.store.take(socketId)?.packets ?? [];
      this.host.sockets.deleteSocket(socketId);
      if (isHome) this.store.setForward(socketId, taker);
      // Left before the taker adds its presence member (keyed by socket id); the taker is in the rooms already.
      await this.host.leaveDirectories(nsp, socketId, rooms, JSON.parse(row.data));
      return { socketId, nsp, data: row.data, rooms, packets };
    }
    const away = this.isHomeOf(socketId) ? this.store.forwardOf(socketId) : undefined;
    if (!away || away === taker || away === this.host.hostName) return null;
    const taken = await this.host.takeFrom(away, socketId, nsp, taker, phase);
    if (taken && isHome && phase === "finish") this.store.setForward(socketId, taker);
    return taken;
  }

  /**
   * A socket still live here on another session, named by a valid pid: its client gave that
   * session up (socket.io-client sends its pid only on a new connection), though this host has
   * not noticed — a half-open connection not yet timed out, or a restart of the process, which
   * never reports the close. The old session ends as a transport close, so the socket is
   * suspended (synchronously) and resumes now.
   */
  private releaseStale(socketId: string, nsp: string, sid?: string): void {
    const row = this.host.sockets.socket(socketId);
    if (!row || row.nsp !== nsp || row.sid === sid || this.store.isSuspended(socketId)) return;
    this.host.endStaleSession(row.sid);
  }

  /** Ends the windows that are over (forgotten here at once, so each ends exactly once). */
  expire(now: number): SuspendedSocket[] {
    if (!this.enabled && !this.leftovers()) return [];
    // Recovery switched off since (a new deployment): the windows it left end now.
    const ended = this.store.expired(this.enabled ? now : Number.POSITIVE_INFINITY);
    for (const row of ended) this.store.forget(row.socket_id);
    return ended;
  }

  /** Ends one socket's window now (overflow, a refused resume, a server-side disconnect). */
  end(socketId: string): SuspendedSocket | null {
    const row = this.enabled ? this.store.get(socketId) : undefined;
    if (!row) return null;
    this.store.forget(socketId);
    return row;
  }

  nextExpiry(): number | null {
    if (this.enabled) return this.store.nextExpiry();
    return this.leftovers() && this.store.nextExpiry() !== null ? Date.now() : null;
  }

  /** Whether this host ever suspended a socket (host_meta, read anyway: no cost when recovery never ran). */
  private leftovers(): boolean {
    return this.host.sockets.getMeta<number>(USED_KEY) !== null;
  }

  /** A socket whose id names this host is gone for good elsewhere: its forward goes. */
  dropForward(socketId: string): void {
    if (this.enabled) this.store.dropForward(socketId);
  }

  /** A socket gone for good here: its home (if another host) forgets the forward. */
  async forgetAtHome(socketId: string): Promise<void> {
    if (!this.enabled || this.isHomeOf(socketId)) return;
    const host = await verifySocketId(this.host.sidSecret, socketId);
    if (host) await this.host.dropForwardAt(host, socketId).catch(() => undefined);
  }

  /**
   * For an operation reaching this host: the sockets it names by id that live on another host
   * now (their forwards), each with a target that reaches only that socket, and only if no other
   * room of the target reached it already there; not those its sender reached itself (`reached`).
   */
  forwardTargets(target: Target, reached: string[] = []): Array<{ host: string; target: Target }> {
    if (!this.enabled || target.rooms.length === 0 || !this.store.hasForwards()) return [];
    const found: Array<{ host: string; target: Target }> = [];
    for (const room of target.rooms) {
      const host = this.store.forwardOf(room);
      if (!host || this.host.sockets.socket(room) || reached.includes(room)) continue;
      const others = target.rooms.filter((other) => other !== room);
      found.push({ host, target: { nsp: target.nsp, rooms: [room], except: [...target.except, ...others] } });
    }
    return found;
  }

  /** Whether a socket whose id names this host lives on another host now (it counts as alive here). */
  hasForward(socketId: string): boolean {
    return this.enabled && this.store.forwardOf(socketId) !== undefined;
  }

  private isHomeOf(socketId: string): boolean {
    return this.host.hostName === hostOfSocketId(socketId);
  }
}
