/** The edgeio Worker with the ready-to-run default app (`npm run dev`, `wrangler deploy`). */
import defaultApp from "../app/default-app";
import { createWorker } from "./edgeio";

const worker = createWorker(defaultApp);

export class ConnectionHost extends worker.ConnectionHost {}
export class RoomDO extends worker.RoomDO {}
export class UserDO extends worker.UserDO {}
export { WebhookDO } from "./edgeio";
export default worker.handler;
