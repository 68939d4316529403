import { z } from "zod";

/** Fields every command schema shares; `account` may be left out when the engine has one account. */
export const accountField = z.string().min(1).max(64).optional().describe("Account id from the configuration");
export const deviceField = z.string().min(1).max(200).describe("Device id or name");
