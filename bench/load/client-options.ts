/**
 * Client options shared by every system and scenario. socket.io-client offers permessage-deflate
 * by default, which workerd accepts and the Socket.IO servers refuse, so the comparison would
 * not be like for like: compression is off for every client. (`ws` takes `false`; the client's
 * type only knows the object form.)
 */
import type { ManagerOptions, SocketOptions } from "socket.io-client";

export const CLIENT_OPTIONS = { perMessageDeflate: false } as unknown as Partial<ManagerOptions & SocketOptions>;
