import { describe, expect, it } from "vitest";
import { encodePacket, PacketType } from "./socketio-codec";
import { authFromHandshakeQuery, connectErrorDataV4, connectPacketV4, parseConnectNamespace } from "./socketio-v4";

describe("parseConnectNamespace", () => {
  it("splits the query a 2.x client appends to its CONNECT namespace", () => {
    expect(parseConnectNamespace("/chat?token=abc&x=%C3%A9")).toEqual({ nsp: "/chat", query: { token: "abc", x: "é" } });
    expect(parseConnectNamespace("/chat")).toEqual({ nsp: "/chat", query: {} });
    expect(parseConnectNamespace("/")).toEqual({ nsp: "/", query: {} });
  });

  it("keeps at most 64 parameters", () => {
    const many = Array.from({ length: 100 }, (_, i) => `k${i}=v`).join("&");
    expect(Object.keys(parseConnectNamespace(`/a?${many}`).query)).toHaveLength(64);
  });
});

describe("authFromHandshakeQuery", () => {
  it("drops Engine.IO's own parameters", () => {
    expect(authFromHandshakeQuery({ EIO: "3", transport: "polling", t: "N1", b64: "1", token: "jwt", room: "r" })).toEqual({
      token: "jwt",
      room: "r",
    });
  });
});

describe("server packets", () => {
  it("CONNECT carries no sid, for the default namespace and others", () => {
    expect(encodePacket(connectPacketV4("/"))).toEqual(["40"]);
    expect(encodePacket(connectPacketV4("/chat"))).toEqual(["40/chat,"]);
  });

  it("a connect error is err.data when set, else the message (Socket.IO 4 with allowEIO3)", () => {
    const send = (data: unknown) => encodePacket({ type: PacketType.CONNECT_ERROR, nsp: "/chat", data });
    expect(send(connectErrorDataV4({ message: "nope" }))).toEqual(['44/chat,"nope"']);
    expect(send(connectErrorDataV4({ message: "nope", data: { code: 7 } }))).toEqual(['44/chat,{"code":7}']);
  });
});
