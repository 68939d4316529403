/** A file a service serves over HTTP (e.g. the newest photo's thumbnail), or null when it has none. */
export interface ServiceFile {
  contentType: string;
  body: Buffer;
}

/**
 * How one service appears in the HTTP API (`GET /api/services?account=`) and on the web page. Lives in
 * the service's folder (`http.ts`), loaded only by the HTTP server. Views carry no secrets and no
 * download URLs.
 */
export interface HttpServiceView<Snapshot> {
  /** JSON for the service's part of `GET /api/services`. */
  view(snapshot: Snapshot): unknown;
  /** Files at `GET /api/services/<service>/<name>?account=`. */
  readonly files: Readonly<Record<string, (snapshot: Snapshot) => ServiceFile | null>>;
}
