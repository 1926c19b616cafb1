/**
 * An application module written against the handler API. It exercises every feature the
 * end-to-end tests check (acks both ways, binary, rooms, namespaces with auth, disconnects),
 * so it doubles as the test fixture. Run it with `npm run dev:echo`.
 */
import { clusterStats, defineApp, installClientEventWebhooks, recoveryOptionFromEnv } from "../../worker/edgeio";
import { installServerApiFixtures } from "./server-api";
import { installRecoveryFixtures } from "./recovery";

export default defineApp(
  (io, env) => {
    installClientEventWebhooks(io, env);
    installServerApiFixtures(io);
    installRecoveryFixtures(io);
    io.on("connection", (socket) => {
      socket.data.events = socket.data.events ?? 0;
      socket.emit("welcome", { id: socket.id, restored: socket.restored });

      socket.on("echo", (...args: unknown[]) => {
        socket.data.events += 1;
        const ack = args[args.length - 1];
        if (typeof ack === "function") ack(...args.slice(0, -1));
        else socket.emit("echo", ...args);
      });

      // Hostile clients (test/security/e2e/fuzz.test.ts) send these without an ack or with data
      // in its place: a careful handler checks before it calls.
      socket.on("count", (ack: unknown) => {
        if (typeof ack === "function") ack(socket.data.events);
      });

      socket.on("ask", async (question: string, ack: (answer: unknown) => void) => {
        try {
          ack({ answer: await socket.timeout(2000).emitWithAck("question", question) });
        } catch (error) {
          ack({ error: (error as Error).message });
        }
      });

      socket.on("join", async (room: string, ack?: () => void) => {
        await socket.join(room);
        ack?.();
      });
      socket.on("leave", async (room: string, ack?: () => void) => {
        await socket.leave(room);
        ack?.();
      });
      socket.on("rooms", (ack: (rooms: string[]) => void) => ack([...socket.rooms]));
      socket.on("to-room", (room: string, event: string, ...args: unknown[]) => socket.to(room).emit(event, ...args));
      socket.on("to-room-except", (room: string, except: string, event: string, ...args: unknown[]) =>
        socket
          .to(room)
          .except(except)
          .emit(event, ...args),
      );
      socket.on("io-to-room", (room: string, event: string, ...args: unknown[]) => io.to(room).emit(event, ...args));
      socket.on("broadcast", (event: string, ...args: unknown[]) => socket.broadcast.emit(event, ...args));
      // Emits with a client-chosen event name (and optionally an argument JSON cannot carry) and
      // acks the outcome: what a careless relay does. Emits refuse what clients could not decode.
      socket.on(
        "emit-as",
        (spec: { via: "socket" | "to" | "io"; room: string; event: string; bad?: string }, ack: (r: unknown) => void) => {
          const args = spec.bad ? [unencodable(spec.bad), "after"] : ["payload"];
          try {
            if (spec.via === "socket") socket.emit(spec.event, ...args);
            else if (spec.via === "to") socket.to(spec.room).emit(spec.event, ...args);
            else io.to(spec.room).emit(spec.event, ...args);
            ack({ ok: true });
          } catch (error) {
            ack({ ok: false, name: (error as Error).name, message: (error as Error).message });
          }
        },
      );
      socket.on("sockets-join", async (from: string, to: string, ack: () => void) => {
        await io.in(from).socketsJoin(to);
        ack();
      });
      socket.on("set-data", (key: string, value: unknown, ack: () => void) => {
        socket.data[key] = value;
        ack();
      });
      socket.on("get-data", (ack: (data: unknown) => void) => ack(socket.data));
      socket.on("disconnect-me", (close: boolean) => socket.disconnect(close));
      socket.on("close-transport", () => socket.conn.close());
      socket.on("transport", (ack: (name: string) => void) => ack(socket.conn.transport.name));
      // Conflated feeds (test/e2e/feeds.test.ts): `count` updates of one key, conflated per host.
      socket.on("conflate-burst", (room: string, key: string, ms: number, count: number, ack?: () => void) => {
        for (let i = 0; i < count; i++) io.to(room).conflate(key, ms).emit("tick", { key, seq: i });
        ack?.();
      });
      socket.on("volatile-burst", (count: number, ack?: () => void) => {
        for (let i = 0; i < count; i++) socket.volatile.emit("tick", i);
        ack?.();
      });
      // Across hosts (cluster/gather.ts): fetchSockets, acting on remote sockets, broadcast acks, serverSideEmit.
      socket.on("fetch-sockets", async (spec: { room?: string; timeout?: number; local?: boolean }, ack: (r: unknown) => void) => {
        let operator = io.in(spec.room ?? []); // no room: the whole namespace
        if (spec.timeout !== undefined) operator = operator.timeout(spec.timeout);
        if (spec.local) operator = operator.local;
        const sockets = await operator.fetchSockets();
        ack({
          sockets: sockets.map((s) => ({ id: s.id, rooms: [...s.rooms], data: s.data, query: s.handshake.query })),
          failures: sockets.failures,
        });
      });
      socket.on("remote", async (spec: { id: string; action: string; arg?: string }, ack: (r: unknown) => void) => {
        const [target] = await io.in(spec.id).fetchSockets();
        if (!target) return ack({ error: "not found" });
        if (spec.action === "emit") target.emit("from-remote", spec.arg);
        else if (spec.action === "join") await target.join(spec.arg ?? "");
        else if (spec.action === "leave") await target.leave(spec.arg ?? "");
        else if (spec.action === "disconnect") target.disconnect();
        else if (spec.action === "ask") {
          try {
            return ack({ answer: await target.timeout(2000).emitWithAck("question", spec.arg) });
          } catch (error) {
            return ack({ error: (error as Error).message });
          }
        }
        ack({ ok: true });
      });
      socket.on("ack-broadcast", (spec: { room: string; timeout: number; via?: "io" | "socket" }, ack: (r: unknown) => void) => {
        const operator = spec.via === "socket" ? socket.timeout(spec.timeout).to(spec.room) : io.to(spec.room).timeout(spec.timeout);
        operator.emit("ack-me", spec.room, (error: Error | null, responses: unknown) => ack({ error: error?.message ?? null, responses }));
      });
      socket.on("ack-broadcast-promise", async (room: string, timeout: number, ack: (r: unknown) => void) => {
        try {
          ack({ responses: await io.to(room).timeout(timeout).emitWithAck("ack-me", room) });
        } catch (error) {
          ack({ error: (error as Error).message, responses: (error as { responses?: unknown }).responses });
        }
      });
      socket.on("local-emit", (event: string) => io.local.emit(event, socket.id));
      socket.on("server-side-emit", async (payload: unknown, ack: (r: unknown) => void) => {
        try {
          ack({ responses: await io.serverSideEmitWithAck("host:ping", payload) });
        } catch (error) {
          ack({ error: (error as Error).message, responses: (error as { responses?: unknown }).responses });
        }
      });
      socket.on("throw", () => {
        throw new Error("handler failure on purpose");
      });
    });

    // serverSideEmit from another host: answer with this host's live sockets of "/" (the tests map them to hosts).
    io.on("host:ping", (payload: unknown, answer: (r: unknown) => void) => answer({ payload, sockets: [...io.sockets.sockets.keys()] }));

    function unencodable(kind: string): unknown {
      if (kind === "function") return () => "not data";
      if (kind === "bigint") return BigInt(1);
      if (kind === "symbol") return Symbol(kind);
      const cycle: Record<string, unknown> = { name: "cycle" };
      cycle.self = cycle;
      return cycle;
    }

    const admin = io.of("/admin");
    admin.use((socket, next) => {
      const token = socket.handshake.auth.token;
      if (token === "let-me-in") {
        socket.data.role = "admin";
        return next();
      }
      const error = new Error("not authorized") as Error & { data?: unknown };
      error.data = { reason: token ? "bad_token" : "missing_token" };
      next(error);
    });
    admin.on("connection", (socket) => {
      socket.on("whoami", (ack: unknown) => {
        if (typeof ack === "function") ack({ id: socket.id, role: socket.data.role, auth: socket.handshake.auth });
      });
    });
  },
  {
    // RECOVERY_MAX_DISCONNECTION_MS > 0 turns connection-state recovery on (off by default).
    server: (env) => ({ connectionStateRecovery: recoveryOptionFromEnv(env) }),
    // The app's own HTTP route: the cluster's numbers for a monitor (issue 15). It answers
    // without a key: a real app would protect it.
    routes: (http) => {
      http.get("/health/websocket", async (c) => c.json(await clusterStats(c.env)));
    },
  },
);
