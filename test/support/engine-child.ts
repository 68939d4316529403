/**
 * A host process embedding the engine, for the stop tests (run with `node test/support/engine-child.ts`).
 * ENGINE_ACCOUNT: the account's settings (JSON); ENGINE_STATE_DIR: the state folder. Prints one JSON
 * line per account state (`{"event":"state",...}`) and, after `stop` on stdin, `{"event":"stopped"}`
 * with the handles still open. `sync <data type>` on stdin starts a sync without waiting for it.
 * It never calls `process.exit`: once the engine stopped, it must end by itself.
 */
import { Engine } from "../../src/engine/engine.ts";

const account = JSON.parse(process.env["ENGINE_ACCOUNT"] ?? "{}") as { id: string; username: string };
const engine = new Engine({ accounts: [account], stateDir: process.env["ENGINE_STATE_DIR"] ?? "" });

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

engine.bus.on(emit, "account.state", (state) =>
  emit({
    event: "state",
    state: state.state,
    session: state.session.state,
    synced: Object.fromEntries(Object.entries(state.services).map(([key, s]) => [key, s.last_sync])),
  }),
);

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => {
  input += chunk;
  const lines = input.split("\n");
  input = lines.pop() ?? "";
  for (const line of lines) {
    const [command, argument] = line.trim().split(" ");
    if (command === "sync")
      engine.execute("sync", { data_types: [argument as "icpl.photos"] }).catch((error: unknown) => {
        emit({ event: "sync-refused", error: error instanceof Error ? error.message : String(error) });
      });
    if (command === "stop") {
      process.stdin.destroy();
      const started = Date.now();
      void engine.stop().then(async () => {
        engine.bus.removeListeners(emit);
        // After the file operation that resolved the stop has left the active list.
        await new Promise((resolve) => setImmediate(resolve));
        // What could still keep the process alive (stdio pipes aside).
        const handles = process.getActiveResourcesInfo().filter((r) => r !== "PipeWrap" && r !== "TTYWrap");
        emit({ event: "stopped", ms: Date.now() - started, handles });
      });
    }
  }
});

await engine.start();
emit({ event: "started" });
