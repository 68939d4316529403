import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { UiFile } from "./static-ui.ts";

/**
 * Leaflet's files the dashboard uses: served name under `vendor/` → file in `leaflet/dist` and type. The
 * page imports the ES module build; the CSS finds its images under `vendor/images/`.
 */
const LEAFLET_FILES: Record<string, [string, string]> = {
  "leaflet.esm.js": ["leaflet-src.esm.js", "text/javascript; charset=utf-8"],
  "leaflet.css": ["leaflet.css", "text/css; charset=utf-8"],
  "images/layers.png": ["images/layers.png", "image/png"],
  "images/layers-2x.png": ["images/layers-2x.png", "image/png"],
  "images/marker-icon.png": ["images/marker-icon.png", "image/png"],
  "images/marker-icon-2x.png": ["images/marker-icon-2x.png", "image/png"],
  "images/marker-shadow.png": ["images/marker-shadow.png", "image/png"],
};

/**
 * Third-party browser files served by the web UI from the installed npm packages (no CDN, no build
 * step): Leaflet for the dashboard's map. Missing packages (an install without them) leave the map out;
 * the page then lists locations with links.
 */
export class VendorFiles {
  readonly #files = new Map<string, UiFile>();

  static async load(): Promise<VendorFiles> {
    const vendor = new VendorFiles();
    let dist: string;
    try {
      dist = dirname(fileURLToPath(import.meta.resolve("leaflet/dist/leaflet.js")));
    } catch {
      return vendor;
    }
    for (const [name, [file, type]] of Object.entries(LEAFLET_FILES)) {
      try {
        vendor.#files.set(name, { body: await readFile(join(dist, file)), type });
      } catch {
        // An incomplete package: serve what there is; the page falls back to the list.
      }
    }
    return vendor;
  }

  /** Paths below `vendor/`. */
  names(): string[] {
    return [...this.#files.keys()];
  }

  get(name: string): UiFile | undefined {
    return this.#files.get(name);
  }

  get hasMap(): boolean {
    return this.#files.has("leaflet.esm.js") && this.#files.has("leaflet.css");
  }
}
