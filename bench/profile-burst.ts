/**
 * Where a room broadcast's CPU goes (issue 11): starts a system of the engine setup (as
 * bench/profile-connect.ts does), connects `--members` socket.io-client WebSockets, joins them
 * to one room, then profiles a burst of `--messages` `io-to-room` emits from the first member
 * (the bench's burst) through the runtime's inspector, and prints the JavaScript self and
 * inclusive time per function. Not part of `npm run bench` or `npm test`.
 *
 *   node bench/profile-burst.ts [--system edgeio-engine|floor|partyserver] [--members 100] [--messages 300] [--top 40] [--save f.cpuprofile]
 *
 * Shares are counted samples (interval asked: 100 µs), not weighted by time deltas (see
 * profile-connect.ts for why). The sender stays under the per-session packet rate limit by
 * sending in slices of 50 with a pause.
 */
import { parseArgs } from "node:util";
import { connectWebSocket, printProfile, profileWhile } from "./lib/cpu-profile.ts";
import { startEngineSystem, type EngineSystemId } from "./systems/engine.ts";

const { values } = parseArgs({
  options: {
    system: { type: "string", default: "edgeio-engine" },
    members: { type: "string", default: "100" },
    messages: { type: "string", default: "300" },
    top: { type: "string", default: "40" },
    save: { type: "string" },
  },
});

const system = await startEngineSystem(values.system as EngineSystemId, "worktree");
try {
  const [url] = system.wsUrls;
  const members = Number(values.members);
  const messages = Number(values.messages);
  const sockets = await Promise.all(Array.from({ length: members }, () => connectWebSocket(url)));
  await Promise.all(sockets.map((socket) => socket.timeout(30_000).emitWithAck("join", "burst")));
  let received = 0;
  const expected = members * messages;
  let allReceived: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allReceived = resolve));
  for (const socket of sockets)
    socket.on("bench", () => {
      if (++received === expected) allReceived();
    });
  const { wallMs: wall, profile } = await profileWhile(async () => {
    for (let sent = 0; sent < messages; sent++) {
      sockets[0].emit("io-to-room", "burst", "bench", { seq: sent });
      if (sent % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 600));
    }
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 60_000))]);
  });
  for (const socket of sockets) socket.disconnect();
  console.log(`${received}/${expected} deliveries in ${wall.toFixed(0)} ms (pauses included)`);
  printProfile(profile, { save: values.save, top: Number(values.top), per: { count: received, unit: "delivery" } });
} finally {
  await system.stop();
}
