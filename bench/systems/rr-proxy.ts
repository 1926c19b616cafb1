/**
 * A load balancer without sticky sessions: every HTTP request and every WebSocket upgrade
 * goes to the next upstream in turn, as nginx `upstream` does without `ip_hash`. It counts
 * the `400 Session ID unknown` answers it relays. Started as a child process; IPC "stats".
 */
import { createServer, request, type IncomingMessage } from "node:http";
import { connect } from "node:net";
import { z } from "zod";

const env = z
  .object({
    PORT: z.coerce.number().int().positive(),
    UPSTREAMS: z.string().transform((s) => s.split(",").map((port) => z.coerce.number().int().positive().parse(port))),
  })
  .parse(process.env);

let next = 0;
const pick = () => env.UPSTREAMS[next++ % env.UPSTREAMS.length];
const stats = { requests: 0, upgrades: 0, sessionUnknown: 0, upstreamErrors: 0 };

const server = createServer((req, res) => {
  stats.requests++;
  const upstream = request(
    { host: "127.0.0.1", port: pick(), method: req.method, path: req.url, headers: req.headers },
    (upstreamRes: IncomingMessage) => {
      if (upstreamRes.statusCode === 400) {
        // Buffer the (tiny) error body to recognise Engine.IO's "Session ID unknown".
        const chunks: Buffer[] = [];
        upstreamRes.on("data", (c: Buffer) => chunks.push(c));
        upstreamRes.on("end", () => {
          const body = Buffer.concat(chunks);
          if (body.toString().includes("Session ID unknown")) stats.sessionUnknown++;
          res.writeHead(400, upstreamRes.headers);
          res.end(body);
        });
        return;
      }
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      upstreamRes.pipe(res);
    },
  );
  upstream.on("error", () => {
    stats.upstreamErrors++;
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(upstream);
});

server.on("upgrade", (req, socket, head) => {
  stats.upgrades++;
  const upstream = connect(pick(), "127.0.0.1", () => {
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
    if (head.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  const close = () => {
    upstream.destroy();
    socket.destroy();
  };
  upstream.on("error", close);
  socket.on("error", close);
});

server.keepAliveTimeout = 60_000;
server.listen(env.PORT, "127.0.0.1", () => process.send?.("ready"));
process.on("message", (message) => {
  if (message === "stats") process.send?.({ stats });
});
process.on("disconnect", () => process.exit(0));
