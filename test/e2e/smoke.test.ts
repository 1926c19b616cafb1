import { afterAll, beforeAll, expect, it } from "vitest";
import { startService, type RunningService } from "../helpers/service";
import { connect } from "../helpers/clients";

let service: RunningService;
beforeAll(async () => {
  service = await startService();
});
afterAll(() => service?.stop());

it("connects a real socket.io-client over websocket", async () => {
  const socket = await connect(service.url, { transports: ["websocket"] });
  expect(await socket.timeout(3000).emitWithAck("echo", "hi")).toBe("hi");
  socket.close();
});
