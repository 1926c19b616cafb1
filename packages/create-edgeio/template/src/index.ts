/** The Worker entry wrangler.toml names: the HTTP handler and the Durable Object classes it binds. */
import { createWorker } from "@edgeio/server";
import app from "./app";

const worker = createWorker(app);

export class ConnectionHost extends worker.ConnectionHost {}
export { RoomDO, UserDO, WebhookDO } from "@edgeio/server";
export default worker.handler;
