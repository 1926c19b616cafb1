/**
 * The floor: the least a hibernatable-WebSocket Durable Object does for the room workload.
 * One object holds every connection; a socket's rooms live in its attachment; a broadcast is
 * one loop over the object's WebSockets. Pings: one alarm per interval for all sockets, pongs
 * answered by the runtime (the same heartbeat cost model as edgeio).
 */
import { DurableObject } from "cloudflare:workers";
import { handleFrame, openFrame, PING_INTERVAL_MS } from "./sio-lite";

export class FloorRoom extends DurableObject<Record<string, unknown>> {
  private alarmSet = false;

  constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("3", "6"));
  }

  async fetch(): Promise<Response> {
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment([]);
    server.send(openFrame());
    if (!this.alarmSet) {
      this.alarmSet = true;
      if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + PING_INTERVAL_MS);
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    if (typeof message !== "string") return;
    const reply = handleFrame(message);
    for (const frame of reply.send) ws.send(frame);
    const rooms = ws.deserializeAttachment() as string[];
    if (reply.join && !rooms.includes(reply.join)) ws.serializeAttachment([...rooms, reply.join]);
    if (reply.leave) ws.serializeAttachment(rooms.filter((r) => r !== reply.leave));
    if (reply.broadcast) {
      const { room, frame } = reply.broadcast;
      for (const peer of this.ctx.getWebSockets()) if ((peer.deserializeAttachment() as string[]).includes(room)) peer.send(frame);
    }
  }

  async alarm(): Promise<void> {
    const sockets = this.ctx.getWebSockets();
    for (const ws of sockets) ws.send("2");
    this.alarmSet = sockets.length > 0;
    if (this.alarmSet) await this.ctx.storage.setAlarm(Date.now() + PING_INTERVAL_MS);
  }

  webSocketClose(ws: WebSocket, code: number): void {
    ws.close(code === 1005 || code === 1006 ? 1000 : code);
  }
}
