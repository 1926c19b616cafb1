import { describe, expect, it } from "vitest";
import type { HandshakeRecord } from "../engine/types";
import { OpenRecords } from "./open-records";

const record = { query: { EIO: "4" } } as unknown as HandshakeRecord;

describe("OpenRecords", () => {
  it("hands the handshake's own record back, and parses the stored row for a session it did not open", () => {
    const open = new OpenRecords();
    open.set("s1", record, "id-1");
    expect(open.recordOf("s1", "{}")).toBe(record);
    expect(open.recordOf("s2", '{"query":{"EIO":"3"}}')).toEqual({ query: { EIO: "3" } });
  });

  it("gives the socket id minted with the sid once: a second namespace mints its own", () => {
    const open = new OpenRecords();
    open.set("s1", record, "id-1");
    expect(open.takeSocketId("s1")).toBe("id-1");
    expect(open.takeSocketId("s1")).toBeUndefined();
    expect(open.recordOf("s1", "{}")).toBe(record);
  });

  it("forgets a session once deleted (after an eviction: nothing to take)", () => {
    const open = new OpenRecords();
    open.set("s1", record, "id-1");
    open.delete("s1");
    expect(open.takeSocketId("s1")).toBeUndefined();
    expect(open.recordOf("s1", '{"query":{}}')).toEqual({ query: {} });
  });
});
