/** Worker entry for the echo app: the same three exports as worker/index.ts. */
import { createWorker } from "../../worker/edgeio";
import app from "./app";

const worker = createWorker(app);

export class ConnectionHost extends worker.ConnectionHost {}
export { RoomDO } from "../../worker/edgeio";
export { UserDO } from "../../worker/edgeio";
export { WebhookDO } from "../../worker/edgeio";
export default worker.handler;
