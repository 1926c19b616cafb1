import { describe, expect, it } from "vitest";
import { recoveryConfigOf, recoveryOptionFromEnv } from "./options";

describe("connectionStateRecovery option", () => {
  it("is off when absent, and fills Socket.IO's defaults and edgeio's bounds", () => {
    expect(recoveryConfigOf(undefined)).toBeNull();
    expect(recoveryConfigOf({})).toEqual({
      maxDisconnectionDuration: 120_000,
      skipMiddlewares: true,
      maxPackets: 1000,
      maxBytes: 1024 * 1024,
    });
    expect(recoveryConfigOf({ maxDisconnectionDuration: 5000, skipMiddlewares: false })).toMatchObject({
      maxDisconnectionDuration: 5000,
      skipMiddlewares: false,
    });
  });

  it("refuses bad values, naming the field", () => {
    expect(() => recoveryConfigOf({ maxDisconnectionDuration: 0 })).toThrow(/maxDisconnectionDuration/);
    expect(() => recoveryConfigOf({ maxDisconnectionDuration: 86_400_001 })).toThrow(/maxDisconnectionDuration/);
    expect(() => recoveryConfigOf({ maxPackets: 1.5 })).toThrow(/maxPackets/);
  });
});

describe("RECOVERY_MAX_DISCONNECTION_MS", () => {
  it("0 or unset is off; a window turns it on; bad values are refused", () => {
    expect(recoveryOptionFromEnv({})).toBeUndefined();
    expect(recoveryOptionFromEnv({ RECOVERY_MAX_DISCONNECTION_MS: "0" })).toBeUndefined();
    expect(recoveryOptionFromEnv({ RECOVERY_MAX_DISCONNECTION_MS: "3000" })).toEqual({
      maxDisconnectionDuration: 3000,
      skipMiddlewares: true,
    });
    expect(recoveryOptionFromEnv({ RECOVERY_MAX_DISCONNECTION_MS: 3000, RECOVERY_SKIP_MIDDLEWARES: "false" })).toEqual({
      maxDisconnectionDuration: 3000,
      skipMiddlewares: false,
    });
    expect(() => recoveryOptionFromEnv({ RECOVERY_MAX_DISCONNECTION_MS: "soon" })).toThrow(/RECOVERY_MAX_DISCONNECTION_MS/);
    expect(() => recoveryOptionFromEnv({ RECOVERY_MAX_DISCONNECTION_MS: -1 })).toThrow(/RECOVERY_MAX_DISCONNECTION_MS/);
  });
});
