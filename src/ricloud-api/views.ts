import { GENERIC_SERVICES } from "../engine/services/generic.ts";
import type { ServiceKey } from "../engine/services/types.ts";
import type { RicloudFileSource, RicloudServiceView } from "./service-view.ts";

export interface OfferedType {
  /** The service's key (`findmy`, …), as in `AccountSummary.services`. */
  key: ServiceKey;
  view: RicloudServiceView;
}

/**
 * The data types this API offers: every registered service with its ricloud view, loaded once at
 * start. Nothing here names a data type; the registry does.
 */
export class OfferedTypes {
  readonly #types: Map<string, OfferedType>;

  private constructor(types: Map<string, OfferedType>) {
    this.#types = types;
  }

  static async load(): Promise<OfferedTypes> {
    const types = new Map<string, OfferedType>();
    for (const service of GENERIC_SERVICES) {
      const view = (await service.views.ricloud()) as RicloudServiceView;
      types.set(service.dataType, { key: service.key as ServiceKey, view });
    }
    return new OfferedTypes(types);
  }

  has(dataType: string): boolean {
    return this.#types.has(dataType);
  }

  get(dataType: string): OfferedType | undefined {
    return this.#types.get(dataType);
  }

  keys(): string[] {
    return [...this.#types.keys()];
  }

  entries(): Array<[string, OfferedType]> {
    return [...this.#types.entries()];
  }

  /** The file source whose scheme the id uses (`icpl://…`). */
  sourceOfFile(id: string): RicloudFileSource | undefined {
    const scheme = /^([a-z][a-z0-9_]{0,30}):\/\/[\x21-\x7e]{1,300}$/.exec(id)?.[1];
    if (scheme === undefined) return undefined;
    for (const { view } of this.#types.values()) if (view.files?.scheme === scheme) return view.files;
    return undefined;
  }
}
