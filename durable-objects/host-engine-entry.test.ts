import { describe, expect, it } from "vitest";
import { HOST_HEADER } from "../protocol/internal-headers";
import { newHostName } from "./host-engine-entry";

const request = (headers: Record<string, string> = {}) =>
  new Request("https://edgeio.test/socket.io/?EIO=4&transport=websocket", { headers });

describe("newHostName", () => {
  it("takes the edge's header when it names another host than the stored one", () => {
    expect(newHostName(request({ [HOST_HEADER]: "dfw:2" }), null, "dfw:1")).toBe("dfw:2");
    expect(newHostName(request({ [HOST_HEADER]: "dfw:2" }), "dfw:1", "dfw:1")).toBe("dfw:2");
  });

  it("takes the object's own name for a request forwarded as it is, only while none is stored", () => {
    expect(newHostName(request(), null, "dfw:1")).toBe("dfw:1");
    expect(newHostName(request(), "dfw:3", "dfw:1")).toBeNull();
  });

  it("has nothing new when the name is the stored one, or when none is known", () => {
    expect(newHostName(request({ [HOST_HEADER]: "dfw:1" }), "dfw:1", "dfw:1")).toBeNull();
    expect(newHostName(request(), null, undefined)).toBeNull();
  });
});
