import { describe, expect, it } from "vitest";
import { constantTimeEqual, hmacBytes, hmacHex } from "./hmac";

// Known answers: RFC 4231 test cases 1 and 2, and values computed with Node's crypto.createHmac.
const RFC4231_1 = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
const RFC4231_2 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

describe("hmacBytes / hmacHex", () => {
  it("matches RFC 4231 HMAC-SHA256 test vectors", async () => {
    expect(await hmacHex("\x0b".repeat(20), "Hi There")).toBe(RFC4231_1);
    expect(await hmacHex("Jefe", "what do ya want for nothing?")).toBe(RFC4231_2);
  });

  it("returns the same MAC as bytes and as hex", async () => {
    const bytes = await hmacBytes("Jefe", "what do ya want for nothing?");
    expect(bytes).toHaveLength(32);
    expect([...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")).toBe(RFC4231_2);
  });

  it("encodes the message as UTF-8", async () => {
    expect(await hmacHex("secret-one", "héllo ✓")).toBe("cabda5023dddb6b068dc27bb1e0c37160c51f4297caef9c37ead45f7f26ebb0d");
  });

  it("uses the right key when several secrets are cached", async () => {
    expect(await hmacHex("secret-one", "m")).toBe("a039bc7dd76839b85e03cbe89bc7d86d06d447cdd2e9105a526e226aaac314a1");
    expect(await hmacHex("secret-two", "m")).toBe("56cac147b492fa216d88d4216f1daf2ea8f1bf58e9479e9b66ff3f5018350e65");
    expect(await hmacHex("secret-one", "m")).toBe("a039bc7dd76839b85e03cbe89bc7d86d06d447cdd2e9105a526e226aaac314a1");
  });
});

describe("constantTimeEqual", () => {
  it("is true only for equal strings", () => {
    expect(constantTimeEqual("", "")).toBe(true);
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("abc", "abd")).toBe(false);
    expect(constantTimeEqual("abc", "xbc")).toBe(false);
    expect(constantTimeEqual("abc", "ab")).toBe(false);
    expect(constantTimeEqual("ab", "abc")).toBe(false);
  });
});
