/** Worker entry for the hooks example: RoomDO and UserDO come from createWorker, bound to the app's hooks. */
import { createWorker } from "../../worker/edgeio";
import app from "./app";

const worker = createWorker(app);

export class ConnectionHost extends worker.ConnectionHost {}
export class RoomDO extends worker.RoomDO {}
export class UserDO extends worker.UserDO {}
export { WebhookDO } from "../../worker/edgeio";
export default worker.handler;
