/**
 * The same room workload on PartyServer (npm `partyserver`), hibernation on: one party holds
 * every connection, a connection's rooms are its state, a broadcast loops over its connections.
 * Heartbeat as in the floor: one alarm per interval, pongs answered by the runtime.
 */
import { type Connection, Server } from "partyserver";
import { handleFrame, openFrame, PING_INTERVAL_MS } from "./sio-lite";

export class PartyRoom extends Server {
  static options = { hibernate: true };
  private alarmSet = false;

  onStart(): void {
    this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("3", "6"));
  }

  async onConnect(connection: Connection<string[]>): Promise<void> {
    connection.setState([]);
    connection.send(openFrame());
    if (!this.alarmSet) {
      this.alarmSet = true;
      if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + PING_INTERVAL_MS);
    }
  }

  onMessage(connection: Connection<string[]>, message: string | ArrayBuffer | ArrayBufferView): void {
    if (typeof message !== "string") return;
    const reply = handleFrame(message);
    for (const frame of reply.send) connection.send(frame);
    const rooms = connection.state ?? [];
    if (reply.join && !rooms.includes(reply.join)) connection.setState([...rooms, reply.join]);
    if (reply.leave) connection.setState(rooms.filter((r) => r !== reply.leave));
    if (reply.broadcast) {
      const { room, frame } = reply.broadcast;
      for (const peer of this.getConnections<string[]>()) if (peer.state?.includes(room)) peer.send(frame);
    }
  }

  async onAlarm(): Promise<void> {
    const connections = [...this.getConnections()];
    for (const connection of connections) connection.send("2");
    this.alarmSet = connections.length > 0;
    if (this.alarmSet) await this.ctx.storage.setAlarm(Date.now() + PING_INTERVAL_MS);
  }
}
