/** Bindings of the echo example as seen by tests through `env` from "cloudflare:test". */
import type { EdgeioBindings } from "../../durable-objects/bindings";

declare global {
  namespace Cloudflare {
    interface Env extends EdgeioBindings {}
  }
}
