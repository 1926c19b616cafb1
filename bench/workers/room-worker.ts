/** Worker entry for the bench's room app (room-app.ts): the same exports as examples/echo/index.ts. */
import { createWorker } from "../../worker/edgeio";
import app from "./room-app";

const worker = createWorker(app);

export class ConnectionHost extends worker.ConnectionHost {}
export class RoomDO extends worker.RoomDO {}
export class UserDO extends worker.UserDO {}
export { WebhookDO } from "../../worker/edgeio";
export default worker.handler;
