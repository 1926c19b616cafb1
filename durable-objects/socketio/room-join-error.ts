/** Why `socket.join` (or a join through socketsJoin) was refused; `code` is stable for apps to answer with. */
export class RoomJoinError extends Error {
  constructor(
    readonly code: "room_full" | "state_too_large" | "forbidden" | "room_limit",
    message: string,
  ) {
    super(message);
    this.name = "RoomJoinError";
  }
}
