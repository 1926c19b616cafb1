import { describe, expect, it } from "vitest";
import { encodeConnectReply, encodePacket, PacketType } from "./socketio-codec";

describe("encodeConnectReply", () => {
  it("gives the bytes socket.io-parser gives for a CONNECT reply (namespaces, with and without pid)", () => {
    const cases: Array<[string, { sid: string; pid?: string }]> = [
      ["/", { sid: "Zm9vOjE.abcdefghijklABCDEFGH" }],
      ["/", { sid: "Zm9vOjE.abcdefghijklABCDEFGH", pid: "Zm9vOjE.abcdefghijklABCDEFGH.xyz" }],
      ["/chat", { sid: "id-1" }],
      ["/a,b", { sid: "id-2", pid: undefined }],
      ['/quote"', { sid: 'odd"id\\' }],
    ];
    for (const [nsp, data] of cases) {
      expect(encodeConnectReply(nsp, data)).toEqual(encodePacket({ type: PacketType.CONNECT, nsp, data }));
    }
    expect(encodeConnectReply("/", { sid: "x" })).toEqual(['40{"sid":"x"}']);
    expect(encodeConnectReply("/chat", { sid: "x" })).toEqual(['40/chat,{"sid":"x"}']);
  });
});
