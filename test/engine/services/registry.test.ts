import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { COMMAND_NAMES, DATA_TYPES } from "../../../src/engine/commands.ts";
import { GENERIC_SERVICES } from "../../../src/engine/services/generic.ts";
import { SERVICES } from "../../../src/engine/services/registry.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const SRC = join(ROOT, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** Every relative import (static and dynamic) of a file, resolved to a path under the repository. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1] ?? "");
  return specifiers.map((spec) => resolve(dirname(file), spec));
}

describe("the service registry", () => {
  it("lists each data type once, with a config and a state that have complete defaults", () => {
    const keys = SERVICES.map((s) => s.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(DATA_TYPES).size).toBe(DATA_TYPES.length);
    expect(DATA_TYPES).toEqual([
      "fmip.devices",
      "icpl.photos",
      "callkit.calls",
      "mme_contacts.contacts",
      "mme_calendar.events",
      "mme_notes.notes",
      "cloudkit_safari.history",
    ]);
    for (const service of GENERIC_SERVICES) {
      expect(() => service.config.parse({}), service.key).not.toThrow();
      expect(() => service.state.parse({}), service.key).not.toThrow();
      expect(service.emptySnapshot(), service.key).toBeTypeOf("object");
    }
  });

  it("merges the services' commands with the engine's own, each name once", () => {
    expect(COMMAND_NAMES).toEqual([
      "mfa",
      "resend_mfa",
      "choice",
      "sync",
      "reauthenticate",
      "locate",
      "play_sound",
      "send_message",
      "lost_mode",
      "list_devices",
      "list_photos",
      "photo_file",
      "list_calls",
      "list_contacts",
      "contact_image",
      "list_events",
      "list_notes",
      "note_attachment",
    ]);
  });

  it("gives every service an MQTT view (with its way back for remote engines), an HTTP view and a ricloud view, loaded on demand", async () => {
    for (const service of GENERIC_SERVICES) {
      const mqtt = (await service.views.mqtt()) as Record<string, unknown>;
      // `accountState` is optional.
      expect(
        Object.keys(mqtt)
          .filter((key) => key !== "accountState")
          .sort(),
        service.key,
      ).toEqual(["accountComponents", "events", "ownedStateFilters", "remote", "snapshot"]);
      const remote = mqtt["remote"] as Record<string, unknown>;
      expect(Object.keys(remote).sort(), service.key).toEqual(["filters", "initial", "receive", "results", "snapshot"]);
      expect(Object.keys(remote["results"] as object).sort(), service.key).toEqual(
        Object.keys(service.commands).sort(),
      );
      const http = (await service.views.http()) as Record<string, unknown>;
      expect(Object.keys(http).sort(), service.key).toEqual(["card", "files", "view"]);
      const ricloud = (await service.views.ricloud()) as Record<string, unknown>;
      expect(typeof ricloud["items"], service.key).toBe("function");
    }
  });

  /**
   * Adding a data type is its folders (engine/services/<key>, icloud/<key>, simulator/<key>) plus one
   * line in each registry: nothing else in src/ may import a service's folders. The public entry points
   * re-export the ricloud data types by name, so they may import the client's type files.
   */
  it.each(SERVICES.map((s) => s.key))("confines %s to its folders and its registration lines", (key) => {
    const own = [`engine/services/${key}`, `icloud/${key}`, `simulator/${key}`].map((p) => join(SRC, p));
    const inside = (path: string) => own.some((dir) => path === dir || path.startsWith(`${dir}/`));
    const registrations = new Set(
      ["engine/services/registry.ts", "simulator/service-modules.ts"].map((p) => join(SRC, p)),
    );
    const publicSurface = new Set(["engine/index.ts", "testing/fixtures.ts"].map((p) => join(SRC, p)));
    const offenders: string[] = [];
    for (const file of sourceFiles(SRC)) {
      if (inside(file) || registrations.has(file)) continue;
      for (const target of importsOf(file)) {
        if (!inside(target)) continue;
        const typesOnly = publicSurface.has(file) && target.endsWith("/types.ts");
        if (!typesOnly) offenders.push(`${relative(ROOT, file)} → ${relative(ROOT, target)}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
