/** The Worker entry wrangler.toml names: the HTTP handler and the Durable Object classes it binds. */
import { createWorker } from "@edgeio/server";
import app from "./app";

const worker = createWorker(app);

export class ConnectionHost extends worker.ConnectionHost {}
export class RoomDO extends worker.RoomDO {} // runs the app's lifecycle hooks (defineApp({ hooks }))
export class UserDO extends worker.UserDO {}
export { WebhookDO } from "@edgeio/server";
export default worker.handler;
