/**
 * The receiving side of the cluster seam: how a ConnectionHost applies one HostOp to its own
 * matching sockets (the switch that was in connection-host.ts's `apply`), and the answers it
 * keeps for broadcasts with acknowledgements until their caller collects them.
 */
import type { WireFrame } from "../../protocol/engine-codec";
import type { Namespace } from "../socketio/server";
import type { Listener, Socket } from "../socketio/socket";
import type { AckCollection, DisconnectReason, EmitOp, HostOp, HostReply, RemoteSocketDetails } from "../socketio/types";

/** What applying an operation needs from the host (the ConnectionHost provides it). */
export interface HostOpContext {
  select(nsp: string, rooms: string[], except: string[]): Array<{ id: string; sid: string }>;
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

  async apply(op: HostOp): Promise<HostReply> {
    if (op.kind === "serverEmit") return this.serverEmit(op);
    if (op.kind === "batch") return this.batch(op.ops);
    const { nsp, rooms, except } = op.target;
    const selected = this.host.select(nsp, rooms, except);
    switch (op.kind) {
      case "emit":
        this.emit(op, selected);
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
  private async batch(ops: EmitOp[]): Promise<HostReply> {
    const matchedEach = ops.map((op) => {
      const selected = this.host.select(op.target.nsp, op.target.rooms, op.target.except);
      this.emit(op, selected);
      return selected.length;
    });
    this.host.conflation.commit();
    const forwarded = await Promise.all(ops.map((op) => this.host.forward(op)));
    forwarded.forEach((replies, i) => {
      for (const reply of replies) matchedEach[i] += reply.matched;
    });
    return { matched: matchedEach.reduce((sum, n) => sum + n, 0), matchedEach };
  }

  private emit(op: EmitOp, selected: Array<{ id: string; sid: string }>): void {
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
