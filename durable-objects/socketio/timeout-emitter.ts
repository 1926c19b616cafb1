/**
 * `socket.timeout(ms).emit(ev, ..., (err, ...res) => …)` and `.emitWithAck(ev, ...)`: the ack
 * callback gets Socket.IO's `Error("operation has timed out")` when the client does not answer
 * in time. The deadline is driven by the host's alarm (no setTimeout in a Durable Object).
 */
import type { BroadcastOperator, RoomArg } from "./broadcast-operator";
import type {
  AllButLast,
  DecorateAcknowledgements,
  EventNames,
  EventNamesWithAck,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
} from "./typed-events";

export interface TimeoutEmitter<EmitEvents extends EventsMap> {
  emit<Ev extends EventNames<EmitEvents>>(
    event: Ev,
    ...args: EventParams<DecorateAcknowledgements<EmitEvents>, Ev & EventNames<DecorateAcknowledgements<EmitEvents>>>
  ): boolean;
  emitWithAck<Ev extends EventNamesWithAck<EmitEvents>>(
    event: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>>;
}

type UntypedEmit = (event: string, ...args: unknown[]) => boolean;
type ScheduleDeadline = (deadline: number, onTimeout: () => void) => () => void;

export function timeoutEmitter<EmitEvents extends EventsMap>(
  send: UntypedEmit,
  schedule: ScheduleDeadline,
  ms: number,
): TimeoutEmitter<EmitEvents> {
  const emit = (event: string, ...args: unknown[]): boolean => {
    const callback = args.pop();
    if (typeof callback !== "function") throw new Error("timeout().emit() needs an acknowledgement callback");
    let settled = false;
    const cancel = schedule(Date.now() + ms, () => {
      if (settled) return;
      settled = true;
      callback(new Error("operation has timed out"));
    });
    return send(event, ...args, (...response: unknown[]) => {
      if (settled) return;
      settled = true;
      cancel();
      callback(null, ...response);
    });
  };
  const emitWithAck = (event: string, ...args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      emit(event, ...args, (error: Error | null, response: unknown) => (error ? reject(error) : resolve(response)));
    });
  return { emit, emitWithAck } as TimeoutEmitter<EmitEvents>;
}

/** `socket.timeout(ms).broadcast` / `.to(room)`: broadcasts that collect every client's ack (across hosts). */
export interface TimeoutBroadcasts {
  readonly broadcast: BroadcastOperator;
  to(room: RoomArg): BroadcastOperator;
  in(room: RoomArg): BroadcastOperator;
  except(room: RoomArg): BroadcastOperator;
}

/** Adds the broadcast forms to a socket's timeout emitter; `timed()` is the socket's broadcast operator with the timeout. */
export function withTimeoutBroadcasts<E extends object>(emitter: E, timed: () => BroadcastOperator): E & TimeoutBroadcasts {
  return Object.assign(emitter, {
    get broadcast() {
      return timed();
    },
    to: (room: RoomArg) => timed().to(room),
    in: (room: RoomArg) => timed().to(room),
    except: (room: RoomArg) => timed().except(room),
  });
}
