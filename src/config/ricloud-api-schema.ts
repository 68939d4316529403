import { z } from "zod";
import { durationField, isLoopbackHost, nullableString, port } from "./fields.ts";

/** `ricloud_api:`: the ricloud-compatible REST API (src/ricloud-api), a listener of its own. */
export const RicloudApiSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe("Serve the ricloud-compatible REST API; keys come from `icloud2mqtt api-key create`."),
    host: z
      .string()
      .min(1)
      .default("127.0.0.1")
      .describe("Address to listen on. Anything but loopback requires tls_cert and tls_key, or allow_insecure."),
    port: port(8724, "Port to listen on (0 = any free port)."),
    tls_cert: nullableString("TLS certificate file (PEM); with tls_key the API is served over HTTPS."),
    tls_key: nullableString("TLS private key file (PEM) for tls_cert."),
    allow_insecure: z
      .boolean()
      .default(false)
      .describe("Allow plain HTTP on a non-loopback host (only behind a proxy that terminates TLS)."),
    result_retention: durationField(
      "7d",
      "How long result files are kept; then they expire and are deleted (acknowledged ones at once).",
    ),
    polls_per_minute: z
      .number()
      .int()
      .min(1)
      .max(600)
      .default(30)
      .describe("Polls (data, info and files) one API key may create per minute."),
    code_attempts_per_minute: z
      .number()
      .int()
      .min(1)
      .max(60)
      .default(5)
      .describe("Session attempts carrying a verification code, per account and minute."),
  })
  .superRefine((api, ctx) => {
    if ((api.tls_cert === null) !== (api.tls_key === null)) {
      ctx.addIssue({
        code: "custom",
        path: [api.tls_cert === null ? "tls_cert" : "tls_key"],
        message: "tls_cert and tls_key must be set together",
      });
    }
    if (api.enabled && !isLoopbackHost(api.host) && api.tls_cert === null && !api.allow_insecure) {
      ctx.addIssue({
        code: "custom",
        path: ["host"],
        message: `"${api.host}" is not a loopback address: set tls_cert and tls_key, or allow_insecure: true behind a TLS proxy`,
      });
    }
  })
  .describe("ricloud-compatible REST API.");

export type RicloudApiConfig = z.output<typeof RicloudApiSchema>;
