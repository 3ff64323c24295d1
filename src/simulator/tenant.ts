import { createHash } from 'node:crypto';
import type { InputFormat } from '../input/input-format.js';
import { openInput } from '../input/open-input.js';
import type { Ds100Pair } from '../types.js';
import { Users, type UserDirectory } from './users.js';

/**
 * The simulated tenant: its registered DS100s and what the DS100 calls answer for a pair, as the
 * vendor documents them. Requests arrive here already routed, authenticated and parsed; the answer
 * is a status and a body for the server to send.
 */

/** A DS100 OTP credential as the simulated tenant holds it. */
export interface Credential extends Ds100Pair {
  readonly tokenSerialNumber: string;
  tokenStatus: 'Enabled' | 'Disabled';
  tokenStatusChangedAt: string;
  tokenStatusChangedBy: string;
}

export type Ds100Action = 'enable' | 'disable' | 'lookup';

/** What the service answers: 200 with an array of records, or 404 with a description. */
export type TenantAnswer =
  | { readonly status: 200; readonly records: readonly object[] }
  | { readonly status: 404; readonly description: string };

/** An answer and whether giving it moved a credential between Disabled and Enabled. */
export interface TenantOutcome {
  readonly answer: TenantAnswer;
  readonly changed: boolean;
}

export interface TenantOptions {
  /** The registered DS100s; an empty registry by default. */
  readonly registry?: Registry;
  /** Treat every unknown, well-formed pair as registered to the user it names. Default false. */
  readonly autoRegister?: boolean;
  /**
   * With `autoRegister`: answer for an unknown pair as if registered, without keeping it, so that
   * memory stays flat through millions of requests (benchmarks). Default false.
   */
  readonly stateless?: boolean;
}

/** Who the simulator names as having changed a credential's status. */
export const SIMULATOR_ADMIN = 'simulator-admin@example.com';

// The real service's last two digits vary; the simulator makes them up from a hash so that clients
// cannot get away with deriving the token serial from the device serial.
export const tokenSerialFor = (serial: string): string => {
  const suffix = createHash('sha256').update(serial).digest().readUInt16BE(0) % 100;
  return `0${serial}${String(suffix).padStart(2, '0')}`;
};

/** The simulated tenant's registered DS100s, by device serial. */
export class Registry {
  readonly #bySerial = new Map<string, Credential>();

  register(pair: Ds100Pair, at: Date = new Date()): Credential {
    const credential = Registry.credentialFor(pair, at);
    this.#bySerial.set(pair.deviceSerialNumber, credential);
    return credential;
  }

  /** The credential a freshly registered DS100 has, without registering it. */
  static credentialFor(pair: Ds100Pair, at: Date = new Date()): Credential {
    return {
      deviceSerialNumber: pair.deviceSerialNumber,
      userId: pair.userId,
      tokenSerialNumber: tokenSerialFor(pair.deviceSerialNumber),
      tokenStatus: 'Disabled',
      tokenStatusChangedAt: at.toISOString(),
      tokenStatusChangedBy: 'registration',
    };
  }

  get(serial: string): Credential | undefined {
    return this.#bySerial.get(serial);
  }

  get size(): number {
    return this.#bySerial.size;
  }

  /** Every registered credential, in the order registered: to hold a run's outcome against at the end. */
  values(): IterableIterator<Credential> {
    return this.#bySerial.values();
  }

  [Symbol.iterator](): IterableIterator<Credential> {
    return this.#bySerial.values();
  }

  /**
   * Registers every valid pair of a CSV in the same format the tool reads (`format`: its separator and
   * encoding). A row that names its user by email is registered to the user ID the simulator's users
   * give the address (`users`, the same directory the simulator is started with), and left out when
   * no user has it.
   */
  static async fromCsv(file: string, format?: InputFormat, users?: UserDirectory): Promise<Registry> {
    const registry = new Registry();
    const directory = new Users(users);
    const { items } = await openInput(file, { requireRows: false, format });
    for await (const item of items) {
      if (item.kind !== 'row') continue;
      const { row } = item;
      const userId = row.email === undefined ? row.userId : directory.userIdOf(row.email);
      if (userId !== undefined) registry.register({ deviceSerialNumber: row.deviceSerialNumber, userId });
    }
    return registry;
  }
}

/** The fields of an enable or disable record, in the service's order. */
const publicRecord = (credential: Credential): object => ({
  userId: credential.userId,
  tokenSerialNumber: credential.tokenSerialNumber,
  tokenStatus: credential.tokenStatus,
  tokenStatusChangedAt: credential.tokenStatusChangedAt,
  tokenStatusChangedBy: credential.tokenStatusChangedBy,
  deviceSerialNumber: credential.deviceSerialNumber,
});

const notFound = (description: string): TenantAnswer => ({ status: 404, description });
const unchanged = (answer: TenantAnswer): TenantOutcome => ({ answer, changed: false });

/** The DS100 calls' semantics over a registry. `now` (epoch ms) dates status changes. */
export class Tenant {
  readonly registry: Registry;
  readonly #autoRegister: boolean;
  readonly #stateless: boolean;
  readonly #now: () => number;

  constructor(options: TenantOptions = {}, now: () => number = Date.now) {
    this.registry = options.registry ?? new Registry();
    this.#autoRegister = options.autoRegister ?? false;
    this.#stateless = options.stateless ?? false;
    this.#now = now;
  }

  /**
   * Answers a DS100 call. `userId` comes with enable and disable, never with lookup: a lookup names no
   * user, so it cannot register one, and it finds a DS100 whoever it is registered to.
   */
  answer(
    action: Ds100Action,
    request: { readonly deviceSerialNumber: string; readonly userId?: string },
  ): TenantAnswer {
    return this.perform(action, request).answer;
  }

  /**
   * `answer`, also saying whether the call changed the credential's status. A pair registered by this
   * very call (`autoRegister`) starts Disabled, so enabling it is a change and disabling it is not;
   * a `stateless` tenant keeps nothing and so changes nothing.
   */
  perform(
    action: Ds100Action,
    request: { readonly deviceSerialNumber: string; readonly userId?: string },
  ): TenantOutcome {
    const { deviceSerialNumber: serial, userId } = request;
    let credential = this.registry.get(serial);
    let kept = credential !== undefined;
    if (!credential && this.#autoRegister && userId !== undefined) {
      const pair = { deviceSerialNumber: serial, userId };
      const at = new Date(this.#now());
      credential = this.#stateless ? Registry.credentialFor(pair, at) : this.registry.register(pair, at);
      kept = !this.#stateless;
    }
    if (!credential) return unchanged(notFound(`DS100 with serial number ${serial} not found`));
    if (action === 'lookup') {
      return unchanged({
        status: 200,
        records: [{ ...publicRecord(credential), tokenState: 'Assigned', deviceType: 'SecurID DS100' }],
      });
    }
    if (credential.userId !== userId) return unchanged(notFound(`DS100 ${serial} is not registered to user ${userId}`));
    const status = action === 'enable' ? 'Enabled' : 'Disabled';
    const changed = credential.tokenStatus !== status;
    if (changed) {
      credential.tokenStatus = status;
      credential.tokenStatusChangedAt = new Date(this.#now()).toISOString();
      credential.tokenStatusChangedBy = SIMULATOR_ADMIN;
    }
    return { answer: { status: 200, records: [publicRecord(credential)] }, changed: changed && kept };
  }
}

/** A small deterministic PRNG (mulberry32) so generated data and random faults are repeatable. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` distinct, well-formed pairs: 9-digit serials from 140100000 and random hex user IDs. */
export function* generatePairs(count: number, seed = 1): Generator<Ds100Pair> {
  const random = seededRandom(seed);
  const hex = (length: number): string => Array.from({ length }, () => Math.floor(random() * 16).toString(16)).join('');
  for (let index = 0; index < count; index++) {
    yield {
      deviceSerialNumber: String(140_100_000 + index),
      userId: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
    };
  }
}
