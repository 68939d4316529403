import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, expectTypeOf, it } from "vitest";
import type {
  AccountSnapshot,
  AccountState,
  CallkitCall,
  CommandInput,
  CommandName,
  CommandResult,
  EngineEvents,
  FmipDevice,
  IcplAsset,
  Logger,
  MmeCalendarEvent,
  MmeContact,
  MmeNote,
  SessionOutcome,
} from "../src/engine/index.ts";
import * as engineEntry from "../src/engine/index.ts";
import * as rootEntry from "../src/index.ts";
import * as testingEntry from "../src/testing/index.ts";

/** Pins what `icloud2mqtt`, `icloud2mqtt/engine` and `icloud2mqtt/testing` export: changing it is a decision. */

describe("public API", () => {
  it("icloud2mqtt/engine exports the engine, its API, commands, events, data types and errors", () => {
    expect(Object.keys(engineEntry).sort()).toEqual([
      "AccountSchema",
      "AccountStateSchema",
      "COMMAND_NAMES",
      "COMMAND_SCHEMAS",
      "DATA_TYPES",
      "ERROR_CODES",
      "Engine",
      "EngineError",
      "EventBus",
      "SERVICES",
      "SessionViewSchema",
      "isCommandName",
      "isEngineError",
      "silentLogger",
      "toEngineError",
    ]);
  });

  it("icloud2mqtt/testing exports the simulator, the fake engine and sample data", () => {
    expect(Object.keys(testingEntry).sort()).toEqual([
      "FAKE_ASSET",
      "FAKE_CALL",
      "FAKE_JPEG",
      "FAKE_PHONES",
      "FakeEngine",
      "SIMULATOR_SERVICES",
      "fakeAccountState",
      "fakeDevice",
      "parseScenario",
      "startSimulator",
    ]);
  });

  it("icloud2mqtt adds the program's configuration and startBridge to the engine's exports", () => {
    const extra = Object.keys(rootEntry).filter((name) => !(name in engineEntry));
    expect(extra.sort()).toEqual(["ConfigSchema", "loadConfig", "startBridge"]);
  });

  it("types: results, snapshots and events carry the ricloud data types", () => {
    expectTypeOf<CommandResult<"locate">>().toEqualTypeOf<{ devices: FmipDevice[] }>();
    expectTypeOf<CommandResult<"play_sound">>().toEqualTypeOf<{ device: string }>();
    expectTypeOf<CommandResult<"mfa">>().toEqualTypeOf<SessionOutcome>();
    expectTypeOf<CommandResult<"sync">>().toEqualTypeOf<{ state: AccountState["state"] }>();
    expectTypeOf<CommandInput<"mfa">>().toEqualTypeOf<{ account?: string | undefined; code: string }>();
    expectTypeOf<CommandName>().toEqualTypeOf<
      | "mfa"
      | "resend_mfa"
      | "choice"
      | "sync"
      | "reauthenticate"
      | "locate"
      | "play_sound"
      | "send_message"
      | "lost_mode"
      | "list_devices"
      | "list_photos"
      | "photo_file"
      | "list_calls"
      | "list_contacts"
      | "contact_image"
      | "list_events"
      | "list_notes"
      | "note_attachment"
    >();
    expectTypeOf<AccountSnapshot["findmy"]>().toEqualTypeOf<{ devices: FmipDevice[] }>();
    expectTypeOf<AccountSnapshot["photos"]>().toEqualTypeOf<{
      latest: { asset: IcplAsset; thumbnail: Buffer | null } | null;
      count: number | null;
      backfill: {
        state: "running" | "done" | "stopped";
        items_done: number;
        items_total: number;
        files: number;
        bytes: number;
        failed: number;
        eta_seconds: number | null;
        percent: number;
      } | null;
    }>();
    expectTypeOf<AccountSnapshot["calls"]>().toEqualTypeOf<{ last: CallkitCall | null; recent: CallkitCall[] }>();
    expectTypeOf<AccountSnapshot["calendar"]["next"]>().toEqualTypeOf<MmeCalendarEvent | null>();
    expectTypeOf<AccountSnapshot["notes"]["recent"]>().toEqualTypeOf<MmeNote[]>();
    expectTypeOf<CommandResult<"list_contacts">>().toEqualTypeOf<{ contacts: MmeContact[] }>();
    expectTypeOf<EngineEvents["note.changed"]>().toEqualTypeOf<
      [{ account: string; change: "created" | "updated" | "deleted"; note: MmeNote }]
    >();
    expectTypeOf<EngineEvents["call.new"]>().toEqualTypeOf<[{ account: string; call: CallkitCall }]>();
    expectTypeOf<EngineEvents["device.removed"]>().toEqualTypeOf<
      [{ account: string; deviceId: string; slug: string | null }]
    >();
    expectTypeOf<keyof EngineEvents>().toEqualTypeOf<
      | "account.state"
      | "mfa.required"
      | "sync.failed"
      | "log"
      | "device.updated"
      | "device.removed"
      | "photo.new"
      | "photo.latest"
      | "photo.count"
      | "photo.backfill"
      | "call.new"
      | "call.last"
      | "contacts.birthdays"
      | "contacts.count"
      | "calendar.next"
      | "calendar.today"
      | "note.changed"
      | "notes.count"
    >();
    expectTypeOf<Logger["child"]>().returns.toEqualTypeOf<Logger>();
  });

  it("embedding the engine loads no MQTT client or broker, HTTP server, web push, simulator or pino", () => {
    const entry = new URL("../src/engine/index.ts", import.meta.url).href;
    const script = `
      import { registerHooks } from "node:module";
      const loaded = [];
      registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); loaded.push(r.url); return r; } });
      const { Engine } = await import(${JSON.stringify(entry)});
      const engine = new Engine({ accounts: [{ id: "a", username: "a@example.com" }], stateDir: "/nonexistent" });
      await engine.stop();
      process.stdout.write(JSON.stringify(loaded));`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      encoding: "utf8",
    });
    const loaded = JSON.parse(out) as string[];
    expect(loaded.some((url) => url.endsWith("/src/engine/engine.ts"))).toBe(true);
    const unwanted = loaded.filter((url) =>
      /\/node_modules\/(mqtt|aedes|pino|pino-pretty|web-push|selfsigned|commander)\/|\/src\/(mqtt|http|simulator|cli)\/|\/src\/pino-logger\.ts$/.test(
        url,
      ),
    );
    expect(unwanted).toEqual([]);
  });
});
