/**
 * The receiving side of the cluster seam: how a ConnectionHost applies one HostOp to its own
 * matching sockets (the switch that was in connection-host.ts's `apply`), and the answers it
 * keeps for broadcasts with acknowledgements until their caller collects them.
 */
import type { WireFrame } from "../../protocol/engine-codec";
import type { Namespace } from "../socketio/server";
import type { Listener, Socket } from "../socketio/socket";
import type { AckCollection, DisconnectReason, EmitOp, HostOp, HostReply, RemoteSocketDetails, Target } from "../socketio/types";

/** What applying an operation needs from the host (the ConnectionHost provides it). */
export interface HostOpContext {
  select(nsp: string, rooms: string[], except: string[]): Array<{ id: string; sid: string }>;
  /** The socket ids among `target`'s rooms whose sockets recovered here from another home (recovery). */
  recoveredHere(target: Target): string[];
  /** Sends frames to one socket (a suspended one's go to its recovery log); `op`: the emit's id, if any. */
  deliver(socket: { id: string; sid: string }, frames: WireFrame[], volatile: boolean, op?: string): void;
  /** The frames of one emit as this host sends them (with a recovery offset when recovery is on). */
  mark(frames: WireFrame[], volatile: boolean): WireFrame[];
  /** The same operation on the hosts of sockets named by id that recovered elsewhere (recovery forwards). */
  forward(op: HostOp): Promise<HostReply[]>;
  join(socketId: string, rooms: string[]): Promise<void>;
  leave(socketId: string, rooms: string[]): Promise<void>;
  closeSession(sid: string, reason: DisconnectReason): void;
  disconnectSocket(socketId: string, reason: DisconnectReason, notifyClient: boolean): void;
  /** What fetchSockets reports of a socket (from SQLite; the live object's data if there is one). */
  describe(socketId: string): RemoteSocketDetails | null;
  /** The live Socket, rebuilt after an eviction and its "connection" replay over. */
  ready(socketId: string): Promise<Socket | undefined>;
  namespace(nsp: string): Namespace | undefined;
  /** Calls `fire` once `at` has passed (the host's alarm; no setTimeout in Durable Objects). */
  scheduleDeadline(at: number, fire: () => void): () => void;
  /** Conflated emits (host-conflation.ts): `offer` sends or holds each, `commit` persists what was held. */
  conflation: { offer(op: EmitOp): void; commit(): void };
}

/** How long a host keeps gathered answers nobody collected (the caller gave up or is gone). */
const UNCOLLECTED_GRACE_MS = 30_000;

export class HostOps {
  /** Broadcasts with acknowledgements under way here, by ack id. */
  private readonly acks = new Map<string, { collection: AckCollection; done: Promise<void>; forget: () => void }>();

  constructor(private readonly host: HostOpContext) {}

  /**
   * Right before this host applies an op it sends (no await in between: cluster.ts), notes on it
   * the sockets it names by id that recovered here from another home (`reached`). This host
   * reaches them itself (a live one is sent the packet, one being handed in holds it, a suspended
   * one logs it), while the op also goes to the host each id names, whose forward points here:
   * without the note that home would forward it here too, and the socket would get it twice.
   */
  claim(op: HostOp): void {
    if (op.kind === "batch") for (const emit of op.ops) this.claim(emit);
    if (op.kind === "batch") return;
    const reached = this.host.recoveredHere(op.target);
    if (reached.length > 0) op.reached = reached;
    else delete op.reached;
  }

  /** `remote`: the op came by RPC (not started by this host). */
  async apply(op: HostOp, remote = false): Promise<HostReply> {
    if (op.kind === "serverEmit") return this.serverEmit(op);
    if (op.kind === "batch") return this.batch(op.ops, remote);
    // Acknowledged broadcasts are not forwarded by a socket's home: this host reaches its sockets itself.
    const selected = this.select(op, remote && op.kind !== "emitWithAck");
    switch (op.kind) {
      case "emit":
        this.emit(this.ownOp(op, remote), selected);
        this.host.conflation.commit();
        break;
      case "join":
        await Promise.all(selected.map((socket) => this.host.join(socket.id, op.rooms)));
        break;
      case "leave":
        await Promise.all(selected.map((socket) => this.host.leave(socket.id, op.rooms)));
        break;
      case "disconnect":
        for (const socket of selected) {
          if (op.close) this.host.closeSession(socket.sid, "server namespace disconnect");
          else this.host.disconnectSocket(socket.id, "server namespace disconnect", true);
        }
        break;
      case "fetch": {
        const sockets = selected.map((socket) => this.host.describe(socket.id)).filter((s) => s !== null);
        const forwarded = await this.host.forward(op);
        for (const reply of forwarded) sockets.push(...(reply.sockets ?? []));
        return { matched: sockets.length, sockets };
      }
      case "emitWithAck":
        await this.startAcks(op, selected);
        return { matched: selected.length };
    }
    const forwarded = await this.host.forward(op);
    return { matched: forwarded.reduce((sum, reply) => sum + reply.matched, selected.length) };
  }

  /** A batch of emits, in order; held conflated values are persisted once, at the end. */
  private async batch(ops: EmitOp[], remote: boolean): Promise<HostReply> {
    const matchedEach = ops.map((op) => {
      const selected = this.select(op, remote);
      this.emit(this.ownOp(op, remote), selected);
      return selected.length;
    });
    this.host.conflation.commit();
    const forwarded = await Promise.all(ops.map((op) => this.host.forward(op)));
    forwarded.forEach((replies, i) => {
      for (const reply of replies) matchedEach[i] += reply.matched;
    });
    return { matched: matchedEach.reduce((sum, n) => sum + n, 0), matchedEach };
  }

  /**
   * This host's sockets an op selects. One that came by RPC sent to the homes of the socket ids it
   * names (`viaHomes`) leaves out the sockets named by id that recovered here from another home:
   * that home was called too and delivers to them or forwards here (a forwarded op has no
   * `viaHomes`), so selecting them here as well would reach them twice. Only by their id: a
   * socket reached through another room of the target is selected (its home's forward excepts it).
   */
  private select(op: Exclude<HostOp, { kind: "batch" | "serverEmit" }>, remote: boolean): Array<{ id: string; sid: string }> {
    const { nsp, rooms, except } = op.target;
    const left = remote && op.viaHomes ? this.host.recoveredHere(op.target) : [];
    if (left.length === 0) return this.host.select(nsp, rooms, except);
    const own = rooms.filter((room) => !left.includes(room));
    return own.length === 0 ? [] : this.host.select(nsp, own, except);
  }

  /** A conflated emit selects again when it sends: it gets the rooms `select` kept (null: none). */
  private ownOp(op: EmitOp, remote: boolean): EmitOp | null {
    if (!op.conflate || !remote || !op.viaHomes) return op;
    const left = this.host.recoveredHere(op.target);
    const rooms = op.target.rooms.filter((room) => !left.includes(room));
    if (rooms.length === 0) return null;
    return left.length === 0 ? op : { ...op, target: { ...op.target, rooms } };
  }

  private emit(op: EmitOp | null, selected: Array<{ id: string; sid: string }>): void {
    if (!op) return;
    // A conflated emit is sent or held by the conflation, which selects again when it sends.
    if (op.conflate) {
      this.host.conflation.offer(op);
      return;
    }
    const frames = selected.length > 0 ? this.host.mark(op.frames, op.volatile === true) : op.frames;
    for (const socket of selected) this.host.deliver(socket, frames, op.volatile === true, op.id);
  }

  /** The answers gathered for `ackId`, once every socket answered or timed out; then forgotten. */
  async collectAcks(ackId: string): Promise<AckCollection> {
    const entry = this.acks.get(ackId);
    if (!entry) return { responses: [], expected: -1 };
    await entry.done;
    this.acks.delete(ackId);
    entry.forget();
    return entry.collection;
  }

  private async startAcks(op: Extract<HostOp, { kind: "emitWithAck" }>, selected: Array<{ id: string }>): Promise<void> {
    // Nothing matched: the caller does not collect (it saw matched = 0), so nothing is kept.
    if (selected.length === 0) return;
    const collection: AckCollection = { responses: [], expected: selected.length };
    let answered = 0;
    let finish: () => void = () => {};
    const done = new Promise<void>((resolve) => (finish = resolve));
    const count = () => {
      answered++;
      if (answered === collection.expected) finish();
    };
    const forget = this.host.scheduleDeadline(Date.now() + op.timeoutMs + UNCOLLECTED_GRACE_MS, () => this.acks.delete(op.ackId));
    this.acks.set(op.ackId, { collection, done, forget });
    const sockets = await Promise.all(selected.map((socket) => this.host.ready(socket.id)));
    for (const socket of sockets) {
      if (!socket) {
        count(); // gone meanwhile: it cannot answer, as a client that does not ack in time
        continue;
      }
      try {
        // Socket.IO keeps each client's first acknowledgement argument.
        socket.timeout(op.timeoutMs).emit(op.event, ...op.args, (error: Error | null, response: unknown) => {
          if (!error) collection.responses.push(response);
          count();
        });
      } catch (error) {
        console.error(`edgeio: broadcast with ack to ${socket.id} failed`, error);
        count();
      }
    }
  }

  /** Runs the namespace's listeners for a server-side event once; with an ack, waits for the first answer. */
  private async serverEmit(op: Extract<HostOp, { kind: "serverEmit" }>): Promise<HostReply> {
    const listeners = this.host.namespace(op.target.nsp)?.serverSideListeners(op.event) ?? [];
    if (op.ackTimeoutMs === undefined) {
      for (const listener of listeners) run(listener, op.args);
      return { matched: listeners.length };
    }
    // One answer per server, as Socket.IO: the first call of the callback counts; none by the deadline means none.
    const answer = await new Promise<unknown[]>((resolve) => {
      const cancel = this.host.scheduleDeadline(Date.now() + op.ackTimeoutMs!, () => resolve([]));
      const callback = (response: unknown) => {
        cancel();
        resolve([response]);
      };
      for (const listener of listeners) run(listener, [...op.args, callback]);
    });
    return { matched: listeners.length, responses: answer };
  }
}

function run(listener: Listener, args: unknown[]): void {
  try {
    const result = listener(...args);
    if (result instanceof Promise) result.catch((error: unknown) => console.error("edgeio: server-side event listener threw", error));
  } catch (error) {
    console.error("edgeio: server-side event listener threw", error);
  }
}
