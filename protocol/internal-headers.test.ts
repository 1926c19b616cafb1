import { describe, expect, it } from "vitest";
import { ADDRESS_HEADER, HOST_HEADER, POLL_CHANNEL_HEADER, stripInternalHeaders } from "./internal-headers";

describe("stripInternalHeaders", () => {
  it("drops every header a client sends under the internal prefix, in any case, and keeps the others", () => {
    const sent = new Headers([
      ["X-Edgeio-Host", "forged:0"],
      [ADDRESS_HEADER, "6.6.6.6"],
      [POLL_CHANNEL_HEADER, "1"],
      ["x-edgeio-anything", "x"],
      ["Cookie", "a=1"],
      ["Upgrade", "websocket"],
      ["x-edgeiox", "kept: not the prefix"],
    ]);
    sent.append("accept", "text/plain");
    sent.append("accept", "application/json");
    const clean = stripInternalHeaders(sent);
    expect([...clean.keys()].filter((key) => key.startsWith("x-edgeio-"))).toEqual([]);
    expect(clean.get(HOST_HEADER)).toBeNull();
    expect(Object.fromEntries(clean)).toEqual({
      accept: "text/plain, application/json",
      cookie: "a=1",
      upgrade: "websocket",
      "x-edgeiox": "kept: not the prefix",
    });
    expect(sent.get(HOST_HEADER)).toBe("forged:0"); // a copy: the request's own headers are untouched
  });
});
