/**
 * The layer rules of README "Code map", checked by `npm run lint` (part of `npm test`):
 * lower layers never import higher ones, and there are no import cycles.
 *   protocol/  →  durable-objects/ (engine → socketio → cluster → presence, rooms, users)  →  app/, worker/
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "import cycles hide the layering (type-only imports, erased at build, may close a loop: bindings name the DO classes)",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "protocol-is-the-floor",
      severity: "error",
      comment: "protocol/ (ids, error replies, framing, encoding) imports nothing of edgeio above it",
      from: { path: "^protocol/" },
      to: { path: "^(durable-objects|worker|app|examples|emitter|client-shim)/" },
    },
    {
      name: "durable-objects-below-worker-and-app",
      severity: "error",
      comment: "the Durable Objects are the core: they never import the Worker or the default app",
      from: { path: "^durable-objects/" },
      to: { path: "^(worker|app|examples)/" },
    },
    {
      name: "sdks-stand-alone",
      severity: "error",
      comment: "the emitter and client-shim packages ship on their own",
      from: { path: "^(emitter|client-shim)/" },
      to: { path: "^(durable-objects|worker|app|examples|protocol)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(node_modules|\\.wrangler|dist|bench/results)/" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
  },
};
