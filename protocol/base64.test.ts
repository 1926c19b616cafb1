import { describe, expect, it } from "vitest";
import { base64ToBytes, base64url, bytesToBase64, fromBase64url, isBase64 } from "./base64";

const all = Uint8Array.from({ length: 256 }, (_, i) => i);

describe("bytesToBase64 / base64ToBytes", () => {
  it("matches Node's Buffer on every byte value", () => {
    expect(bytesToBase64(all)).toBe(Buffer.from(all).toString("base64"));
    expect([...base64ToBytes(Buffer.from(all).toString("base64"))]).toEqual([...all]);
  });

  it("handles inputs longer than one String.fromCharCode chunk", () => {
    const big = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 31) % 256);
    const text = bytesToBase64(big);
    expect(text).toBe(Buffer.from(big).toString("base64"));
    expect(base64ToBytes(text)).toEqual(big);
  });

  it("encodes nothing as the empty string", () => {
    expect(bytesToBase64(new Uint8Array())).toBe("");
    expect(base64ToBytes("")).toEqual(new Uint8Array());
  });

  it("throws on text that is not base64", () => {
    expect(() => base64ToBytes("%%%")).toThrow();
  });
});

describe("isBase64", () => {
  it("accepts standard base64 with or without padding", () => {
    for (const text of ["", "AQID", "AQI=", "AQI", "AQ==", "AQ", "+/+/"]) expect(isBase64(text)).toBe(true);
  });

  it("refuses other alphabets, stray padding and undecodable lengths", () => {
    for (const text of ["A", "AQIDB", "AQ-_", "AQ===", "A=QI", "AQ I", "AQI=\n"]) expect(isBase64(text)).toBe(false);
  });
});

describe("base64url / fromBase64url", () => {
  it("uses the URL alphabet without padding and round-trips every length", () => {
    expect(base64url(Uint8Array.of(0xfb, 0xff, 0xbf))).toBe("-_-_");
    expect(base64url(all)).toBe(Buffer.from(all).toString("base64url"));
    for (let length = 0; length < 8; length++) {
      const bytes = all.slice(250 - length, 250);
      const text = base64url(bytes);
      expect(text).not.toMatch(/[+/=]/);
      expect(fromBase64url(text)).toEqual(bytes);
    }
  });
});
