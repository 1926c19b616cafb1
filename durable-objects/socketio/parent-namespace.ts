/**
 * Dynamic namespaces' parents (`io.of(/regex/)`, `io.of(fn)`), as Socket.IO's ParentNamespace.
 */
import type { RoomArg } from "./broadcast-operator";
import type { ParentSpec } from "./dynamic-namespaces";
import { Namespace } from "./namespace";
import type { DefaultEventsMap, EventNames, EventParams, EventsMap } from "./typed-events";
import type { HostRuntime } from "./types";
/**
 * What `io.of(/regex/)` or `io.of(fn)` returns (Socket.IO's ParentNamespace): its middlewares
 * and "connection" listeners are copied to each child when the child is created, and `emit`
 * reaches every child this host knows, as a parent does on one Socket.IO node.
 */
export class ParentNamespace<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  // biome-ignore lint/suspicious/noExplicitAny: Socket.IO types socket.data as any by default
  SocketData = any,
> extends Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
  readonly children = new Set<Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>();

  constructor(
    runtime: HostRuntime,
    /** Declaration order among the app's parents: persisted with a child's sockets (see the bridge). */
    readonly index: number,
    readonly spec: ParentSpec,
  ) {
    super(`/_${index}`, runtime);
  }

  createChild(name: string): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    const child = new Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(name, this.runtime);
    child.middlewares.push(...this.middlewares);
    child.connectionListeners.push(...this.connectionListeners);
    child.parent = this as unknown as ParentNamespace;
    this.children.add(child);
    return child;
  }

  override emit<Ev extends EventNames<EmitEvents>>(event: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    for (const child of this.children) child.emit(event, ...args);
    return true;
  }

  // A parent has no sockets of its own: targeting it would silently reach nobody.
  override to(_room?: RoomArg): never {
    throw parentOnly("to");
  }
  override in(_room?: RoomArg): never {
    throw parentOnly("in");
  }
  override except(_room?: RoomArg): never {
    throw parentOnly("except");
  }
  override socketsJoin(_room?: RoomArg): never {
    throw parentOnly("socketsJoin");
  }
  override socketsLeave(_room?: RoomArg): never {
    throw parentOnly("socketsLeave");
  }
  override disconnectSockets(_close?: boolean): never {
    throw parentOnly("disconnectSockets");
  }
}

const parentOnly = (method: string) =>
  new Error(`edgeio: ${method}() is not supported on a parent namespace (regex / function); use the child: io.of("/child").${method}(…)`);
