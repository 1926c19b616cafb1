/** Worker entry for the echo app: the same three exports as worker/index.ts. */
import { createWorker } from "../../worker/edgeio";
import app from "./app";

const worker = createWorker(app);

export class ConnectionHost extends worker.ConnectionHost {}
export class RoomDO extends worker.RoomDO {}
export class UserDO extends worker.UserDO {}
export { WebhookDO } from "../../worker/edgeio";
export default worker.handler;
