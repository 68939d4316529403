import { hashString, mix, Prng } from "../prng.ts";
import type { CallsScenario, ScenarioCall, SimCallType } from "./scenario.ts";

/** One call as the invented service stores it (the fields of a `CallRecord`). */
export interface SimCall {
  uniqueId: string;
  address: string;
  name: string | null;
  /** Unix ms. */
  date: number;
  /** Seconds. */
  duration: number;
  originated: boolean;
  answered: boolean;
  callType: SimCallType;
  serviceProvider: string;
  isoCountryCode: string | null;
}

/** A call in the zone's change log: `seq` orders changes; a sync token names the last seq a client saw. */
export interface CallEntry {
  call: SimCall;
  seq: number;
  /** Server time the record was written (the record's created/modified timestamp). */
  writtenAt: number;
}

const PROVIDERS: Record<SimCallType, string> = {
  phone: "com.apple.Telephony",
  facetimeAudio: "com.apple.FaceTime",
  facetimeVideo: "com.apple.FaceTime",
  thirdParty: "com.example.voip",
};
const NAMES = ["Anna Schmidt", "Ben Carter", "Chloé Martin", "Dev Patel", "Emma Jones", "Farid Haddad", null, null];

/**
 * The `CallHistory` zone of one account: calls plus a monotonic change log. Deterministic: generated
 * calls depend only on the seed, the account and the simulator's start time.
 */
export class CallLog {
  readonly dsid: string;
  readonly initialised: boolean;
  readonly #entries: CallEntry[] = [];
  readonly #seed: number;
  readonly #every: number | undefined;
  readonly #epoch: number;
  #scheduled = 0;
  /** Bumped by `resetZone`: tokens of an older generation answer BAD_REQUEST. */
  #generation = 1;

  constructor(dsid: string, scenario: CallsScenario, epoch: number) {
    this.dsid = dsid;
    this.initialised = scenario.initialised;
    this.#epoch = epoch;
    this.#seed = mix(scenario.generate?.seed ?? 1, hashString(dsid));
    this.#every = scenario.new_call_every;
    const initial: SimCall[] = scenario.history.map((call, index) => fromScenario(call, `${dsid}-h${index}`));
    const generate = scenario.generate;
    if (generate !== undefined) {
      for (let i = 0; i < generate.count; i++) {
        const rng = new Prng(mix(this.#seed, 1, i));
        initial.push(this.#invent(rng, epoch - rng.next() * generate.span, `g${i}`));
      }
    }
    initial.sort((a, b) => a.date - b.date);
    for (const call of initial) this.#append(call, epoch);
  }

  get generation(): number {
    return this.#generation;
  }

  get lastSeq(): number {
    return this.#entries.at(-1)?.seq ?? 0;
  }

  /** Writes the calls that `new_call_every` scheduled up to `now`. */
  catchUp(now: number): void {
    if (this.#every === undefined) return;
    while (this.#epoch + (this.#scheduled + 1) * this.#every <= now) {
      this.#scheduled += 1;
      const at = this.#epoch + this.#scheduled * this.#every;
      this.#append(this.#invent(new Prng(mix(this.#seed, 2, this.#scheduled)), at, `n${this.#scheduled}`), at);
    }
  }

  add(call: ScenarioCall, now: number): CallEntry {
    return this.#append(fromScenario(call, `${this.dsid}-a${this.lastSeq + 1}`), now);
  }

  /** Changes after `afterSeq`, at most `limit`, in change order. */
  changesAfter(afterSeq: number, limit: number): { entries: CallEntry[]; moreComing: boolean } {
    const pending = this.#entries.filter((entry) => entry.seq > afterSeq);
    return { entries: pending.slice(0, limit), moreComing: pending.length > limit };
  }

  /** The `CallRecordByDate` index: calls by date (ties by seq), `startRank` = calls to skip. */
  byDate(descending: boolean, startRank: number, limit: number): CallEntry[] {
    const sorted = [...this.#entries].sort((a, b) => a.call.date - b.call.date || a.seq - b.seq);
    if (descending) sorted.reverse();
    return sorted.slice(startRank, startRank + limit);
  }

  /** Makes every sync token issued so far invalid (as when a zone is reset); the calls stay. */
  resetZone(): void {
    this.#generation += 1;
  }

  #append(call: SimCall, now: number): CallEntry {
    if (this.#entries.some((entry) => entry.call.uniqueId === call.uniqueId)) {
      throw new Error(`call ${call.uniqueId} already exists for ${this.dsid}`);
    }
    const entry: CallEntry = { call, seq: this.lastSeq + 1, writtenAt: now };
    this.#entries.push(entry);
    return entry;
  }

  #invent(rng: Prng, date: number, key: string): SimCall {
    const roll = rng.next();
    const callType: SimCallType =
      roll < 0.7 ? "phone" : roll < 0.85 ? "facetimeAudio" : roll < 0.95 ? "facetimeVideo" : "thirdParty";
    const originated = rng.next() < 0.45;
    const answered = rng.next() < 0.75;
    // 555-0100..0199 is the range reserved for fictional use in North America.
    const address =
      callType === "phone"
        ? `+1212555${String(rng.int(100, 199)).padStart(4, "0")}`
        : `user${rng.int(1, 40)}@example.com`;
    return {
      uniqueId: uuidFrom(mix(this.#seed, hashString(key))),
      address,
      name: NAMES[rng.int(0, NAMES.length - 1)] ?? null,
      date: Math.round(date),
      duration: answered ? rng.int(5, 1800) : 0,
      originated,
      answered,
      callType,
      serviceProvider: PROVIDERS[callType],
      isoCountryCode: "us",
    };
  }
}

function fromScenario(call: ScenarioCall, fallbackId: string): SimCall {
  return {
    uniqueId: call.id ?? uuidFrom(hashString(fallbackId)),
    address: call.address,
    name: call.name,
    date: call.date,
    duration: call.duration,
    originated: call.direction === "outgoing",
    answered: call.answered,
    callType: call.call_type,
    serviceProvider: call.service_provider ?? PROVIDERS[call.call_type],
    isoCountryCode: call.iso_country_code,
  };
}

/** An uppercase UUID-shaped id (as ZUNIQUE_ID looks), derived from a 32-bit key. */
function uuidFrom(key: number): string {
  const rng = new Prng(key);
  const hex = Array.from({ length: 4 }, () => rng.nextU32().toString(16).padStart(8, "0"))
    .join("")
    .toUpperCase();
  const variant = "89AB"[Number.parseInt(hex.charAt(16), 16) & 3];
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
