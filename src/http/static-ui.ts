import { readdir, readFile } from "node:fs/promises";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".webmanifest": "application/manifest+json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

export interface UiFile {
  body: Buffer;
  type: string;
}

const BASE_TAG = '<base href="/">';

/**
 * The web UI's files (`src/http/ui/`), read once at start and served as they are. HTML pages
 * carry `<base href="/">`, which is rewritten to the base path the browser sees, so every
 * relative URL in pages, scripts and the manifest works under a prefix or HA ingress.
 */
export class StaticUi {
  readonly #files = new Map<string, UiFile>();

  static async load(dir: URL = new URL("./ui/", import.meta.url)): Promise<StaticUi> {
    const ui = new StaticUi();
    const path = fileURLToPath(dir);
    for (const name of await readdir(path)) {
      const type = TYPES[extname(name)];
      if (type !== undefined) ui.#files.set(name, { body: await readFile(`${path}/${name}`), type });
    }
    return ui;
  }

  /** A non-HTML asset by file name (no directories, so no traversal). */
  asset(name: string): UiFile | undefined {
    return name.endsWith(".html") ? undefined : this.#files.get(name);
  }

  assetNames(): string[] {
    return [...this.#files.keys()].filter((n) => !n.endsWith(".html"));
  }

  /** An HTML page with its base href set; `transform` may edit the markup further. */
  page(name: string, baseHref: string, transform: (html: string) => string = (h) => h): string {
    const file = this.#files.get(name);
    if (!file) throw new Error(`UI page ${name} is missing`);
    const html = file.body.toString("utf8").replace(BASE_TAG, `<base href="${escapeAttribute(baseHref)}">`);
    return transform(html);
  }
}

export function escapeAttribute(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
