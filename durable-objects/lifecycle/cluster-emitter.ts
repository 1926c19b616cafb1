/**
 * The emitter a lifecycle hook gets (`context.emitter`): `@edgeio/emitter`'s chain, but calling
 * the cluster seam directly from the Durable Object that runs the hook (no HTTP, no API key),
 * through the same fan-out as `POST /v1/emit`. Immutable: each call returns a new emitter.
 */
import type { EdgeioBindings } from "../bindings";
import { eventOp } from "../cluster/cluster";
import { applyInNamespaces, MAX_TARGET_NAMESPACES } from "../cluster/namespaces";
import { assertEmittable } from "../socketio/emittable";
import { userRoom } from "../socketio/private-rooms";
import type { HostOp, Target } from "../socketio/types";
import type { HookEmitter, HookOperationResult } from "./types";

interface Selection {
  namespaces: string[];
  rooms: string[];
  except: string[];
}

const list = <T>(value: T | readonly T[]): T[] => (Array.isArray(value) ? [...(value as readonly T[])] : [value as T]);

function names(value: string | readonly string[], what: string): string[] {
  const items = list(value);
  for (const item of items) {
    if (typeof item !== "string" || item.length === 0 || item.length > 256)
      throw new TypeError(`${what} must be strings of 1–256 characters`);
  }
  return items;
}

function namespaceList(value: string | readonly string[]): string[] {
  const items = names(value, "namespaces").map((nsp) => (nsp.startsWith("/") ? nsp : `/${nsp}`));
  const unique = [...new Set(items)];
  if (unique.length === 0 || unique.length > MAX_TARGET_NAMESPACES) {
    throw new RangeError(`of() takes 1 to ${MAX_TARGET_NAMESPACES} namespaces, got ${unique.length}`);
  }
  return unique;
}

class ClusterEmitter implements HookEmitter {
  constructor(
    private readonly env: EdgeioBindings,
    private readonly selection: Selection,
  ) {}

  private with(change: Partial<Selection>): ClusterEmitter {
    return new ClusterEmitter(this.env, { ...this.selection, ...change });
  }

  of(namespace: string | readonly string[]): HookEmitter {
    return this.with({ namespaces: namespaceList(namespace) });
  }
  to(room: string | readonly string[]): HookEmitter {
    return this.with({ rooms: [...new Set([...this.selection.rooms, ...names(room, "rooms")])] });
  }
  in(room: string | readonly string[]): HookEmitter {
    return this.to(room);
  }
  except(room: string | readonly string[]): HookEmitter {
    return this.with({ except: [...new Set([...this.selection.except, ...names(room, "except")])] });
  }
  user(id: string | number | ReadonlyArray<string | number>): HookEmitter {
    return this.to(list<string | number>(id).map((one) => userRoom(String(one))));
  }

  emit(event: string, ...args: unknown[]): Promise<HookOperationResult> {
    assertEmittable(event, args, { ack: false }); // throws before anything is sent
    return this.run((target) => eventOp(target, event, ...args));
  }
  socketsJoin(room: string | readonly string[]): Promise<HookOperationResult> {
    const rooms = names(room, "rooms");
    return this.run((target) => ({ kind: "join", target, rooms }));
  }
  socketsLeave(room: string | readonly string[]): Promise<HookOperationResult> {
    const rooms = names(room, "rooms");
    return this.run((target) => ({ kind: "leave", target, rooms }));
  }
  disconnectSockets(close = false): Promise<HookOperationResult> {
    return this.run((target) => ({ kind: "disconnect", target, close }));
  }

  private run(opFor: (target: Target) => HostOp): Promise<HookOperationResult> {
    const { namespaces, rooms, except } = this.selection;
    return applyInNamespaces(this.env, namespaces, { rooms, except }, opFor);
  }
}

/** An emitter on namespace `/` (every socket of it until narrowed with `to`, `user`, …). */
export function clusterEmitter(env: EdgeioBindings): HookEmitter {
  return new ClusterEmitter(env, { namespaces: ["/"], rooms: [], except: [] });
}
