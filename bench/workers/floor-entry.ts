/**
 * Worker entry for the floor and PartyServer (`SYSTEM` chooses which one this run serves):
 * a WebSocket on the Engine.IO path goes to the one room object; everything else is 404.
 */
import { FloorRoom } from "./floor";
import { instrumentClasses, instrumentHandler } from "./counters";
import { PartyRoom } from "./party";

interface Env {
  SYSTEM: "floor" | "partyserver";
  FLOOR: DurableObjectNamespace<FloorRoom>;
  PARTY: DurableObjectNamespace<PartyRoom>;
}

instrumentClasses([FloorRoom, PartyRoom] as never);
export { FloorRoom, PartyRoom };

export default instrumentHandler({
  fetch(request: Request, env: Env): Promise<Response> | Response {
    if (!new URL(request.url).pathname.startsWith("/socket.io")) return new Response("not found", { status: 404 });
    // 200 (not an Engine.IO handshake) so that the start-up probe of test/helpers/service.ts stops waiting.
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("WebSocket only");
    const ns = env.SYSTEM === "partyserver" ? env.PARTY : env.FLOOR;
    return ns.getByName("room").fetch(request);
  },
});
