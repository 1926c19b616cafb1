/**
 * The base of a ConnectionHost's store chain (hooks → sockets → socket queries → outbox →
 * sessions and meta): the socket row's shape, and what the socket tables (host-sockets.ts) ask
 * of the session layer above them about kept-back sessions, whose rows wait in their
 * WebSockets' attachments (host-store.ts overrides each). Here they keep nothing back.
 */
import type { CountingSql } from "./billed-work";

export type SocketRow = {
  id: string;
  sid: string;
  nsp: string;
  auth: string;
  data: string;
  connected_at: number;
};

export abstract class KeptBackHooks {
  constructor(protected readonly sql: CountingSql) {}

  /**
   * Called before a write whose rows need the session's and its sockets' rows in SQLite (a
   * membership, a recovered socket moved to it): a kept-back session is written then, and only
   * then (host-store.ts).
   */
  protected persistSession(_sid: string): void {}

  /**
   * Whether the session's socket rows are kept back (its row is not written yet: host-store.ts).
   * Then a change to them is put in the session's WebSocket attachment, not written.
   */
  protected keptBack(_sid: string): boolean {
    return false;
  }

  /** Puts a kept-back session's sockets in its attachment; false: it did not fit (write them then). */
  protected attachKeptBack(_sid: string): boolean {
    return false;
  }

  /** Once per instance, before anything that must see every socket: kept-back sockets back from their attachments. */
  protected restoreKeptBack(): void {}

  /** Sockets kept back in memory (not in SQLite), which counts read from SQLite must add. */
  protected keptBackSockets(): SocketRow[] {
    return [];
  }
}
