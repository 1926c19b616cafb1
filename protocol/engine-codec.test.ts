import { describe, expect, it } from "vitest";
import { decodePayload, decodeTextPacket, encodePayload, encodeText, pollingFrameToWebSocket, toPollingFrame } from "./engine-codec";

const bytes = (...values: number[]) => new Uint8Array(values).buffer as ArrayBuffer;

describe("encodeText", () => {
  it("prefixes the packet type digit", () => {
    expect(encodeText("open", '{"sid":"x"}')).toBe('0{"sid":"x"}');
    expect(encodeText("close")).toBe("1");
    expect(encodeText("ping", "probe")).toBe("2probe");
    expect(encodeText("pong")).toBe("3");
    expect(encodeText("message", "hello")).toBe("4hello");
    expect(encodeText("upgrade")).toBe("5");
    expect(encodeText("noop")).toBe("6");
  });
});

describe("decodeTextPacket", () => {
  it("reads every packet type and keeps the data", () => {
    expect(decodeTextPacket("2probe")).toEqual({ type: "ping", data: "probe" });
    expect(decodeTextPacket("4")).toEqual({ type: "message", data: "" });
    expect(decodeTextPacket("6")).toEqual({ type: "noop", data: "" });
    expect(decodeTextPacket('40{"token":"t"}')).toEqual({ type: "message", data: '0{"token":"t"}' });
  });

  it("returns null for an empty packet or an unknown type", () => {
    expect(decodeTextPacket("")).toBeNull();
    expect(decodeTextPacket("7")).toBeNull();
    expect(decodeTextPacket("/hello")).toBeNull(); // "/" is the char code just below "0"
    expect(decodeTextPacket("x")).toBeNull();
  });

  it("round-trips with encodeText", () => {
    expect(decodeTextPacket(encodeText("message", '2["ev"]'))).toEqual({ type: "message", data: '2["ev"]' });
  });
});

describe("encodePayload / decodePayload", () => {
  it("joins and splits packets on the record separator", () => {
    const body = encodePayload(["4hello", "2", "4world"]);
    expect(body).toBe("4hello\x1e2\x1e4world");
    expect(decodePayload(body)).toEqual([
      { type: "message", data: "hello" },
      { type: "ping", data: "" },
      { type: "message", data: "world" },
    ]);
  });

  it("decodes a binary 'b' frame into a message with its bytes", () => {
    const packets = decodePayload("4text\x1ebAQID/w==") ?? [];
    expect(packets).toHaveLength(2);
    expect(packets[1].type).toBe("message");
    expect(packets[1].data).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(packets[1].data as ArrayBuffer)]).toEqual([1, 2, 3, 255]);
  });

  it("accepts an empty binary frame", () => {
    const packets = decodePayload("b") ?? [];
    expect(packets).toHaveLength(1);
    expect((packets[0].data as ArrayBuffer).byteLength).toBe(0);
  });

  it("returns null for malformed input", () => {
    expect(decodePayload("")).toBeNull();
    expect(decodePayload("4ok\x1e")).toBeNull(); // empty trailing packet
    expect(decodePayload("4ok\x1e9bad")).toBeNull(); // one bad packet spoils the payload
    expect(decodePayload("b!!!!")).toBeNull(); // not base64
    expect(decodePayload("bA")).toBeNull(); // a length base64 cannot decode
    expect(decodePayload("bAQ=x")).toBeNull(); // text after the padding
    expect(decodePayload("bAQ ID")).toBeNull(); // whitespace, which atob alone would skip
    expect(decodePayload("bAQID\n")).toBeNull();
  });
});

describe("binary frames across transports", () => {
  it("a polling frame carries binary as 'b' + base64 and text unchanged", () => {
    expect(toPollingFrame(bytes(1, 2, 3, 255))).toBe("bAQID/w==");
    expect(toPollingFrame("4hello")).toBe("4hello");
  });

  it("a stored polling frame goes back to the bytes a WebSocket sends", () => {
    const frame = pollingFrameToWebSocket(toPollingFrame(bytes(0, 128, 255)));
    expect(frame).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(frame as ArrayBuffer)]).toEqual([0, 128, 255]);
    expect(pollingFrameToWebSocket("4hello")).toBe("4hello");
  });
});
