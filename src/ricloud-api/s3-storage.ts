import { createHash, createHmac } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { z } from "zod";
import { EngineError } from "../errors.ts";
import { invalidParameter } from "./errors.ts";
import type { StorageBackend, StoredObject } from "./storage.ts";

/**
 * `s3://bucket/prefix` storage on Amazon S3 or an S3-compatible service (MinIO, Garage, Ceph, …):
 * path-style requests signed with AWS Signature Version 4, at `credentials.endpoint` (default
 * `https://s3.<region>.amazonaws.com`). Credentials are the keys of an AWS user's CSV as ricloud-py
 * reads it (`access_key_id`, `secret_access_key`) plus optional `region` and `endpoint`.
 */

export const S3CredentialsSchema = z.looseObject({
  access_key_id: z.string().min(1).max(128),
  secret_access_key: z.string().min(1).max(256),
  region: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/)
    .default("us-east-1"),
  endpoint: z
    .url({ protocol: /^https?$/ })
    .max(500)
    .optional(),
});
export type S3Credentials = z.output<typeof S3CredentialsSchema>;

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX = /^[A-Za-z0-9._/-]{0,400}$/;
const TIMEOUT_MS = 60_000;

/** `s3://bucket/prefix` → bucket and prefix (no leading or trailing slash). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const rest = url.slice("s3://".length);
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = (slash < 0 ? "" : rest.slice(slash + 1)).replace(/^\/+|\/+$/g, "");
  if (!BUCKET.test(bucket)) throw invalidParameter("url", "not a valid S3 bucket name");
  if (!PREFIX.test(prefix) || prefix.split("/").includes(".."))
    throw invalidParameter("url", "the prefix may hold letters, digits, . _ - and /");
  return { bucket, prefix };
}

function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

/** RFC 3986 encoding of each path segment, as SigV4 wants it for S3 (slashes kept). */
function encodePath(path: string): string {
  return path
    .split("/")
    .map((segment) =>
      encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join("/");
}

/** The headers that sign one request (`host`, `x-amz-content-sha256`, `x-amz-date`, `authorization`). */
export function signS3Request(
  credentials: S3Credentials,
  request: { method: string; url: URL; payloadHash: string; now?: Date },
): Record<string, string> {
  const now = request.now ?? new Date();
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${credentials.region}/s3/aws4_request`;
  const headers: Record<string, string> = {
    host: request.url.host,
    "x-amz-content-sha256": request.payloadHash,
    "x-amz-date": amzDate,
  };
  const names = Object.keys(headers).sort();
  const canonical = [
    request.method,
    encodePath(decodeURIComponent(request.url.pathname)),
    "",
    ...names.map((name) => `${name}:${headers[name]}`),
    "",
    names.join(";"),
    request.payloadHash,
  ].join("\n");
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  const key = ["aws4_request"].reduce(
    (k, part) => hmac(k, part),
    hmac(hmac(hmac(`AWS4${credentials.secret_access_key}`, day), credentials.region), "s3"),
  );
  const signature = createHmac("sha256", key).update(toSign, "utf8").digest("hex");
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.access_key_id}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`,
  };
}

export class S3Storage implements StorageBackend {
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #credentials: S3Credentials;
  readonly #endpoint: string;

  constructor(url: string, credentials: S3Credentials) {
    const { bucket, prefix } = parseS3Url(url);
    this.#bucket = bucket;
    this.#prefix = prefix;
    this.#credentials = credentials;
    this.#endpoint = (credentials.endpoint ?? `https://s3.${credentials.region}.amazonaws.com`).replace(/\/+$/, "");
  }

  #key(object: string): string {
    return this.#prefix === "" ? object : `${this.#prefix}/${object}`;
  }

  #url(object: string): URL {
    return new URL(`${this.#endpoint}/${this.#bucket}/${encodePath(this.#key(object))}`);
  }

  async #send(method: string, object: string, body?: Buffer | Readable, payloadHash = sha256("")) {
    const url = this.#url(object);
    const headers = signS3Request(this.#credentials, { method, url, payloadHash });
    const { host: _host, ...sent } = headers;
    const response = await fetch(url, {
      method,
      headers: sent,
      ...(body === undefined ? {} : { body: body as unknown as RequestInit["body"], duplex: "half" }),
      redirect: "manual",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    } as RequestInit);
    if (response.status >= 300) {
      await response.body?.cancel().catch(() => undefined);
      throw new EngineError("STORE_FAILED", `S3 ${method} answered HTTP ${response.status}`, {
        info: { status: response.status },
      });
    }
    return response;
  }

  #stored(object: string, size: number, checksum: string): StoredObject {
    return { url: `s3://${this.#bucket}/${this.#key(object)}`, size, checksum };
  }

  async put(object: string, data: Buffer): Promise<StoredObject> {
    const response = await this.#send("PUT", object, data, sha256(data));
    await response.body?.cancel().catch(() => undefined);
    return this.#stored(object, data.length, createHash("md5").update(data).digest("hex"));
  }

  async putFile(object: string, path: string): Promise<StoredObject> {
    const sha = createHash("sha256");
    const md5 = createHash("md5");
    for await (const chunk of createReadStream(path)) {
      sha.update(chunk as Buffer);
      md5.update(chunk as Buffer);
    }
    const { size } = await stat(path);
    const response = await this.#send("PUT", object, createReadStream(path), sha.digest("hex"));
    await response.body?.cancel().catch(() => undefined);
    return this.#stored(object, size, md5.digest("hex"));
  }

  async read(object: string): Promise<Readable> {
    const response = await this.#send("GET", object);
    if (response.body === null) throw new EngineError("STORE_FAILED", "S3 GET answered without a body");
    return Readable.fromWeb(response.body as unknown as WebReadableStream);
  }

  async remove(object: string): Promise<void> {
    const response = await this.#send("DELETE", object);
    await response.body?.cancel().catch(() => undefined);
  }

  async test(): Promise<void> {
    const probe = `probe/${process.pid}-${Date.now()}.txt`;
    await this.put(probe, Buffer.from("icloud2mqtt storage test\n"));
    await this.remove(probe);
  }
}
