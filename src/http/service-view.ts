/** A file a service serves over HTTP (e.g. the newest photo's thumbnail), or null when it has none. */
export interface ServiceFile {
  contentType: string;
  body: Buffer;
}

/**
 * One labelled value on a dashboard card. `format` tells the page how to show `value`: `time` (ISO 8601,
 * shown in local time), `percent` (0..100), `distance` (metres), `yes-no` (boolean), `number`, `text`.
 * `null` is shown as "—".
 */
export interface CardFact {
  label: string;
  value: string | number | boolean | null;
  format?: "text" | "time" | "percent" | "distance" | "number" | "yes-no";
}

/** A short coloured label (`ok` green, `warn` orange, `info` blue, `muted` grey). */
export interface CardBadge {
  text: string;
  tone: "ok" | "warn" | "info" | "muted";
}

/**
 * A button that runs one of the service's own commands: the page sends `input` as the JSON body of
 * `POST /api/services/<service>/<command>?account=` (the account is added by the server).
 */
export interface CardButton {
  label: string;
  command: string;
  input: Record<string, string | number | boolean>;
  /** Asked before the command runs (for actions a person notices, e.g. a sound on a device). */
  confirm?: string;
}

/** Where an item is; the page draws it on a map (when online) and always links to a map. */
export interface CardLocation {
  latitude: number;
  longitude: number;
  /** Radius of the fix in metres, when known. */
  accuracy: number | null;
}

/** One entry of a card's list: a device, a call, an event, a note, … */
export interface CardItem {
  /** Stable within the card (the page keeps its state, e.g. map markers, by it). */
  id: string;
  title: string;
  subtitle?: string;
  facts?: CardFact[];
  badges?: CardBadge[];
  location?: CardLocation;
  buttons?: CardButton[];
}

/**
 * A service's card on the dashboard, described as data: the page (src/http/ui/) renders every service
 * the same way, so a new data type appears there by implementing `card` in its `http.ts` alone.
 * Everything is optional; a card with nothing in it shows `empty`.
 */
export interface ServiceCard {
  /** Facts about the whole service (counts, dates). */
  facts?: CardFact[];
  /** An image among the service's `files` (e.g. `latest-thumbnail.jpg`); `version` changes when the file does. */
  image?: { file: string; alt: string; version: string };
  /** Heading of the list. */
  itemsTitle?: string;
  items?: CardItem[];
  /** Shown when the card has no items and no image. */
  empty?: string;
}

/**
 * How one service appears in the HTTP API (`GET /api/services?account=`) and on the web page. Lives in
 * the service's folder (`http.ts`), loaded only by the HTTP server. Views carry no secrets and no
 * download URLs.
 */
export interface HttpServiceView<Snapshot> {
  /** JSON for the service's part of `GET /api/services`. */
  view(snapshot: Snapshot): unknown;
  /** The service's dashboard card (also in `GET /api/services`, as `card`). */
  card(snapshot: Snapshot): ServiceCard;
  /** Files at `GET /api/services/<service>/<name>?account=`. */
  readonly files: Readonly<Record<string, (snapshot: Snapshot) => ServiceFile | null>>;
}
