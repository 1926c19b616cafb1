/**
 * A non-JavaScript client: python-socketio (Debian's python3-socketio with python3-requests and
 * python3-websocket; an Engine.IO v4 / Socket.IO v5 client) drives the service in every
 * transport mode through test/e2e/python/client.py: connect, emits with acks (JSON and binary),
 * a server → client ack, a room broadcast from a socket.io-client 4.x, disconnect.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../helpers/clients";
import { startService, type RunningService } from "../helpers/service";

// Debian's interpreter: the packages are installed for it (a pyenv or venv python3 lacks them).
const PYTHON = process.env.PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
const SCRIPT = resolve(import.meta.dirname, "python/client.py");

let service: RunningService;

beforeAll(async () => {
  service = await startService();
});
afterAll(async () => {
  await service?.stop();
});

type Step = { step: string } & Record<string, unknown>;

/** Runs the python client; calls `onStep` for each line it prints; resolves with every step and its exit code. */
function runPython(
  mode: string,
  room: string,
  onStep: (step: Step) => void,
): Promise<{ steps: Step[]; code: number | null; stderr: string }> {
  const child = spawn(PYTHON, [SCRIPT, service.url, mode, room], { stdio: ["ignore", "pipe", "pipe"] });
  const steps: Step[] = [];
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    const step = JSON.parse(line) as Step;
    steps.push(step);
    onStep(step);
  });
  const timer = setTimeout(() => child.kill(), 25_000);
  return new Promise((resolveRun) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      resolveRun({ steps, code, stderr });
    }),
  );
}

describe.each(["polling", "websocket", "polling+upgrade"])("python-socketio, %s", (mode) => {
  it("connects, emits with acks both ways, gets a room broadcast from a 4.x client, disconnects", async () => {
    const room = `python-${mode}`;
    const modern = await connect(service.url);
    let sent: Promise<unknown> | null = null;
    const run = await runPython(mode, room, (step) => {
      if (step.step === "joined") sent = Promise.resolve(modern.emit("to-room", room, "news", "from 4.x", Buffer.from([4, 2])));
    });
    await sent;
    modern.close();
    const byName = Object.fromEntries(run.steps.map((step) => [step.step, step]));
    expect(run.code, `python exited ${run.code}:\n${run.stderr}\n${JSON.stringify(run.steps)}`).toBe(0);
    const used = { polling: ["polling"], websocket: ["websocket"], "polling+upgrade": ["polling", "websocket"] }[mode];
    expect(byName.connected).toMatchObject({ transport: mode === "polling" ? "polling" : "websocket", used });
    expect(byName.echo).toEqual({ step: "echo", json: { text: "héllo" }, binary: { bytes: [1, 2, 255] } });
    expect(byName.ask).toEqual({ step: "ask", reply: { answer: { heard: "why?" } } });
    expect(byName.news).toEqual({ step: "news", args: ["from 4.x", { bytes: [4, 2] }] });
    expect(byName.transport).toEqual({ step: "transport", transport: mode === "polling" ? "polling" : "websocket" });
    expect(byName.disconnected).toEqual({ step: "disconnected", event: true });
  });
});
