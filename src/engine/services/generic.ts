import type { z } from "zod";
import { SERVICES } from "./registry.ts";
import type { ServiceCommand, ServiceEvents, ServiceModule, ServiceRuntime } from "./service-module.ts";

/** A service module seen from code that handles every service alike (the engine, the front-ends). */
export type GenericService = ServiceModule<
  string,
  string,
  z.ZodType,
  z.ZodType,
  unknown,
  ServiceEvents,
  ServiceRuntime<unknown>,
  Record<string, ServiceCommand<z.ZodType, ServiceRuntime<unknown>, unknown>>,
  unknown,
  unknown
>;

/** The registry, typed for generic code. */
export const GENERIC_SERVICES: readonly GenericService[] = SERVICES;
