import type { Logger } from "../logger.ts";
import type { ServiceRoutesFactory } from "./context.ts";

/**
 * Service modules of the simulator (written separately) and the factory each exports. Loaded by
 * name at run time so the core does not break while a module is being reworked.
 */
const KNOWN_MODULES: readonly { path: string; exports: readonly string[] }[] = [
  { path: "./fmip/index.ts", exports: ["createFindMyRoutes"] },
  { path: "./photos/index.ts", exports: ["createPhotosRoutes"] },
  { path: "./photos/routes.ts", exports: ["createPhotosRoutes"] },
  { path: "./calls/routes.ts", exports: ["createCallHistoryRoutes"] },
];

/** Every service route factory that can be loaded; missing modules are skipped with a debug line. */
export async function loadServiceModules(log: Logger): Promise<ServiceRoutesFactory[]> {
  const factories: ServiceRoutesFactory[] = [];
  const seen = new Set<unknown>();
  for (const { path, exports } of KNOWN_MODULES) {
    let module: Record<string, unknown>;
    try {
      module = (await import(new URL(path, import.meta.url).href)) as Record<string, unknown>;
    } catch (error) {
      log.debug(`simulator service module ${path} not loaded`, {
        error: error instanceof Error ? error.message : String(error),
      });
      continue;
    }
    for (const name of exports) {
      const factory = module[name];
      if (typeof factory === "function" && !seen.has(factory)) {
        seen.add(factory);
        factories.push(factory as ServiceRoutesFactory);
      }
    }
  }
  return factories;
}
