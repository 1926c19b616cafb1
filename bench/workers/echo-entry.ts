/**
 * The echo example app's Worker (examples/echo), for `--edgeio-app echo`, with the bench's counters: the same
 * classes and handler, counted (see counters.ts). bench/systems/engine.ts writes a
 * wrangler.toml next to it from examples/echo/wrangler.toml with only `main` changed.
 */
import * as echo from "../../examples/echo/index";
import { instrumentClasses, instrumentHandler } from "./counters";

instrumentClasses(Object.values(echo).filter((value) => typeof value === "function") as never);
export * from "../../examples/echo/index";
export default instrumentHandler(echo.default);
