/**
 * The host registry: every ConnectionHost that has sockets, in any namespace. Operations on
 * every connected socket (POST /v1/shutdown) use it, since namespaces cannot be listed (child
 * namespaces are created on demand, and a host may hold only `/chat` sockets). It is a RoomDO
 * host table under a key no namespace can have (namespaces start with "/"): a host registers
 * on its first socket (host-level, never per socket) and renews from the lease renewal its
 * alarm already runs; a host that stops renewing expires there like in any room.
 */
import { roomStub, type EdgeioBindings } from "./bindings";

/** Not a namespace name (those start with "/"), so no namespace directory shares the RoomDO. */
export const HOST_REGISTRY_KEY = "*hosts";

function registry(env: EdgeioBindings) {
  return roomStub(env, HOST_REGISTRY_KEY, null);
}

/** The hosts that had sockets as of their last registration or renewal. */
export function registeredHosts(env: EdgeioBindings): Promise<string[]> {
  return registry(env).hosts();
}

/** One host's registration (the ConnectionHost owns one). Failures are logged: the next renewal heals them. */
export class HostRegistration {
  constructor(
    private readonly env: EdgeioBindings,
    private readonly host: { readonly hostName: string },
    private readonly sockets: { socketCount(): number },
  ) {}

  /**
   * With a socket's namespace registration (the socket is stored already): the host's first
   * socket registers the host too, in parallel. Resolves when both are done. Not async: every
   * other connect gets the namespace's promise itself (no wrapping promise per connect).
   */
  alongside(namespaceRegistration: Promise<void>): Promise<void> {
    if (this.sockets.socketCount() !== 1) return namespaceRegistration;
    const registered = registry(this.env)
      .addHost(this.host.hostName)
      .catch((error: unknown) => console.error("edgeio: host registration failed", error));
    return Promise.all([namespaceRegistration, registered]).then(() => undefined);
  }

  /** The lease renewal (from the host's alarm), while the host has sockets. */
  async renew(asOf: number): Promise<void> {
    const sockets = this.sockets.socketCount();
    if (sockets === 0) return;
    await registry(this.env)
      .renew(this.host.hostName, { sockets, presence: [], asOf })
      .catch((error: unknown) => console.error("edgeio: host registry renewal failed", error));
  }
}
