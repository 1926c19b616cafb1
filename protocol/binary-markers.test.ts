import { describe, expect, it } from "vitest";
import { BinaryMarkerError, decodeBinaryMarkers, encodeBinaryMarkers } from "./binary-markers";

describe("decodeBinaryMarkers", () => {
  it("replaces markers at any depth with their bytes", () => {
    const decoded = decodeBinaryMarkers({ a: { _binary: "AQID" }, list: [1, { _binary: "/w" }], text: "x" }) as {
      a: Uint8Array;
      list: [number, Uint8Array];
      text: string;
    };
    expect(decoded.a).toBeInstanceOf(Uint8Array);
    expect([...decoded.a]).toEqual([1, 2, 3]);
    expect([...decoded.list[1]]).toEqual([255]);
    expect(decoded.list[0]).toBe(1);
    expect(decoded.text).toBe("x");
  });

  it("leaves objects with more keys than _binary alone", () => {
    const value = { _binary: "AQID", other: 1 };
    expect(decodeBinaryMarkers(value)).toEqual(value);
  });

  it("leaves values without markers as they are", () => {
    expect(decodeBinaryMarkers(null)).toBeNull();
    expect(decodeBinaryMarkers(["a", 2, true, { b: [null] }])).toEqual(["a", 2, true, { b: [null] }]);
  });

  it("throws BinaryMarkerError with the path of a bad marker", () => {
    const attempt = (value: unknown) => {
      try {
        decodeBinaryMarkers(value);
      } catch (error) {
        return error;
      }
      return null;
    };
    const bad = attempt({ files: [{ ok: { _binary: "AQ" } }, { _binary: "not base64!" }] });
    expect(bad).toBeInstanceOf(BinaryMarkerError);
    expect((bad as BinaryMarkerError).path).toEqual(["files", 1, "_binary"]);
    expect((attempt({ _binary: 42 }) as BinaryMarkerError).path).toEqual(["_binary"]);
    expect((attempt([{ _binary: "A" }]) as BinaryMarkerError).path).toEqual([0, "_binary"]);
  });
});

describe("encodeBinaryMarkers", () => {
  it("turns ArrayBuffers and views into markers, respecting a view's offset", () => {
    const backing = Uint8Array.of(9, 1, 2, 3, 9);
    expect(encodeBinaryMarkers(Uint8Array.of(1, 2, 3).buffer)).toEqual({ _binary: "AQID" });
    expect(encodeBinaryMarkers({ part: backing.subarray(1, 4) })).toEqual({ part: { _binary: "AQID" } });
    expect(encodeBinaryMarkers([new DataView(backing.buffer, 4, 1)])).toEqual([{ _binary: "CQ==" }]);
  });

  it("round-trips through decodeBinaryMarkers", () => {
    const value = { a: [Uint8Array.of(0, 255), "text"], n: 1 };
    expect(decodeBinaryMarkers(JSON.parse(JSON.stringify(encodeBinaryMarkers(value))))).toEqual(value);
  });
});
