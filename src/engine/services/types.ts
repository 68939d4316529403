import type { z } from "zod";
import type { SERVICES } from "./registry.ts";

/** Types derived from the registry, so that adding a service needs no edit here. */

export type AnyServiceModule = (typeof SERVICES)[number];
/** `findmy` | `photos` | `calls` | … */
export type ServiceKey = AnyServiceModule["key"];
export type ServiceModuleOf<K extends ServiceKey> = Extract<AnyServiceModule, { key: K }>;
/** ricloud data type names: `fmip.devices` | `icpl.photos` | `callkit.calls` | … */
export type DataType = AnyServiceModule["dataType"];
export type ServiceConfigs = { [K in ServiceKey]: z.output<ServiceModuleOf<K>["config"]> };
export type ServiceSnapshots = { [K in ServiceKey]: ReturnType<ServiceModuleOf<K>["emptySnapshot"]> };

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** Every service's events, merged. */
export type ServicesEvents = UnionToIntersection<NonNullable<AnyServiceModule["events"]>>;
/** Every service's commands, merged: name → { schema, run }. */
export type ServiceCommandDefs = UnionToIntersection<AnyServiceModule["commands"]>;
