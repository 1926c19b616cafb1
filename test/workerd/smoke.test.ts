import { SELF } from "cloudflare:test";
import { expect, it } from "vitest";

it("answers a polling handshake", async () => {
  const response = await SELF.fetch("http://edgeio.test/socket.io/?EIO=4&transport=polling");
  expect(response.status).toBe(200);
  const body = await response.text();
  expect(body.startsWith("0{")).toBe(true);
  expect(JSON.parse(body.slice(1)).pingInterval).toBe(300);
});
