import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  Registry,
  SIMULATOR_ADMIN,
  Tenant,
  generatePairs,
  tokenSerialFor,
  type TenantOptions,
} from '../../src/simulator/tenant.js';
import { tempDir } from '../helpers/temp-dir.js';

const USER = 'ece30fe9-414c-7536-5403-0656220b3046';
const OTHER_USER = 'bf42b589-d2dd-601d-7848-b1a07af6750b';
const SERIAL = '140100080';
const PAIR = { deviceSerialNumber: SERIAL, userId: USER };
const REGISTERED_AT = new Date('2025-01-01T00:00:00.000Z');

/** A tenant on a fake clock that starts at 2025-06-01T12:00:00Z and moves only when told. */
function tenantOn(options: TenantOptions = {}): { tenant: Tenant; clock: { ms: number } } {
  const clock = { ms: Date.parse('2025-06-01T12:00:00.000Z') };
  return { tenant: new Tenant(options, () => clock.ms), clock };
}

const withRegistered = (): TenantOptions => {
  const registry = new Registry();
  registry.register(PAIR, REGISTERED_AT);
  return { registry };
};

describe('Tenant', () => {
  it('enables a registered pair once, dated by its clock, and leaves an enabled one as it was', () => {
    const { tenant, clock } = tenantOn(withRegistered());
    const enabled = {
      userId: USER,
      tokenSerialNumber: tokenSerialFor(SERIAL),
      tokenStatus: 'Enabled',
      tokenStatusChangedAt: '2025-06-01T12:00:00.000Z',
      tokenStatusChangedBy: SIMULATOR_ADMIN,
      deviceSerialNumber: SERIAL,
    };
    expect(tenant.answer('enable', PAIR)).toEqual({ status: 200, records: [enabled] });
    clock.ms += 60_000;
    expect(tenant.answer('enable', PAIR)).toEqual({ status: 200, records: [enabled] });
    expect(tenant.registry.get(SERIAL)).toMatchObject({ tokenStatus: 'Enabled' });
  });

  it('disables an enabled pair and dates the change', () => {
    const { tenant, clock } = tenantOn(withRegistered());
    tenant.answer('enable', PAIR);
    clock.ms += 1000;
    expect(tenant.answer('disable', PAIR)).toMatchObject({
      status: 200,
      records: [{ tokenStatus: 'Disabled', tokenStatusChangedAt: '2025-06-01T12:00:01.000Z' }],
    });
  });

  it('answers a lookup with the record, the token state and the device type, whoever the user is', () => {
    const { tenant } = tenantOn(withRegistered());
    expect(tenant.answer('lookup', { deviceSerialNumber: SERIAL })).toEqual({
      status: 200,
      records: [
        {
          userId: USER,
          tokenSerialNumber: tokenSerialFor(SERIAL),
          tokenStatus: 'Disabled',
          tokenStatusChangedAt: REGISTERED_AT.toISOString(),
          tokenStatusChangedBy: 'registration',
          deviceSerialNumber: SERIAL,
          tokenState: 'Assigned',
          deviceType: 'SecurID DS100',
        },
      ],
    });
  });

  it('answers 404 for an unknown serial, on every call', () => {
    const { tenant } = tenantOn(withRegistered());
    const unknown = { status: 404, description: 'DS100 with serial number 140100081 not found' };
    expect(tenant.answer('enable', { deviceSerialNumber: '140100081', userId: USER })).toEqual(unknown);
    expect(tenant.answer('disable', { deviceSerialNumber: '140100081', userId: USER })).toEqual(unknown);
    expect(tenant.answer('lookup', { deviceSerialNumber: '140100081' })).toEqual(unknown);
  });

  it('answers 404 for a pair registered to another user, and does not touch the credential', () => {
    const { tenant } = tenantOn(withRegistered());
    expect(tenant.answer('enable', { deviceSerialNumber: SERIAL, userId: OTHER_USER })).toEqual({
      status: 404,
      description: `DS100 ${SERIAL} is not registered to user ${OTHER_USER}`,
    });
    expect(tenant.registry.get(SERIAL)).toMatchObject({ userId: USER, tokenStatus: 'Disabled' });
  });

  it('registers an unknown pair on enable or disable with autoRegister, but not on a lookup', () => {
    const { tenant } = tenantOn({ autoRegister: true });
    expect(tenant.answer('lookup', { deviceSerialNumber: SERIAL }).status).toBe(404);
    expect(tenant.answer('enable', PAIR)).toMatchObject({ status: 200, records: [{ tokenStatus: 'Enabled' }] });
    expect(tenant.registry.size).toBe(1);
    // Registered now, so it belongs to that user.
    expect(tenant.answer('disable', { deviceSerialNumber: SERIAL, userId: OTHER_USER }).status).toBe(404);
    expect(tenant.answer('lookup', { deviceSerialNumber: SERIAL }).status).toBe(200);
    expect(tenant.answer('disable', { deviceSerialNumber: '140100081', userId: USER })).toMatchObject({
      status: 200,
      records: [{ tokenStatus: 'Disabled', tokenStatusChangedBy: 'registration' }],
    });
  });

  it('answers as if registered but keeps nothing when stateless', () => {
    const { tenant } = tenantOn({ autoRegister: true, stateless: true });
    expect(tenant.answer('enable', PAIR)).toMatchObject({ status: 200, records: [{ tokenStatus: 'Enabled' }] });
    expect(tenant.answer('enable', { deviceSerialNumber: SERIAL, userId: OTHER_USER })).toMatchObject({
      status: 200,
      records: [{ userId: OTHER_USER }],
    });
    expect(tenant.registry.size).toBe(0);
    expect(tenant.answer('lookup', { deviceSerialNumber: SERIAL }).status).toBe(404);
  });

  it('is stateless only together with autoRegister', () => {
    const { tenant } = tenantOn({ stateless: true });
    expect(tenant.answer('enable', PAIR).status).toBe(404);
  });

  it('still answers from the registry it was given when stateless', () => {
    const { tenant } = tenantOn({ ...withRegistered(), autoRegister: true, stateless: true });
    tenant.answer('enable', PAIR);
    expect(tenant.registry.get(SERIAL)?.tokenStatus).toBe('Enabled');
  });
});

describe('tokenSerialFor', () => {
  it('is 0, the device serial and two digits from a hash: fixed per serial, varying between serials', () => {
    expect(tokenSerialFor(SERIAL)).toMatch(/^0140100080\d\d$/);
    expect(tokenSerialFor(SERIAL)).toBe(tokenSerialFor(SERIAL));
    const suffixes = new Set([...generatePairs(50)].map((pair) => tokenSerialFor(pair.deviceSerialNumber).slice(-2)));
    expect(suffixes.size).toBeGreaterThan(10);
  });
});

describe('Registry', () => {
  it('registers DS100s as Disabled, by serial', () => {
    const registry = new Registry();
    const credential = registry.register(PAIR, REGISTERED_AT);
    expect(credential).toEqual({
      ...PAIR,
      tokenSerialNumber: tokenSerialFor(SERIAL),
      tokenStatus: 'Disabled',
      tokenStatusChangedAt: REGISTERED_AT.toISOString(),
      tokenStatusChangedBy: 'registration',
    });
    expect(registry.get(SERIAL)).toBe(credential);
    expect(registry.size).toBe(1);
    expect(Registry.credentialFor(PAIR, REGISTERED_AT)).toEqual(credential);
  });

  it('reads the valid pairs of a CSV and skips the rest; a header alone is an empty tenant', async () => {
    const dir = tempDir();
    const file = join(dir, 'tenant.csv');
    await writeFile(
      file,
      `deviceSerialNumber,userId\n${SERIAL},${USER}\n140100081,not-a-user\n140100082,${OTHER_USER}\n`,
    );
    const registry = await Registry.fromCsv(file);
    expect(registry.size).toBe(2);
    expect(registry.get('140100082')?.userId).toBe(OTHER_USER);
    expect(registry.get('140100081')).toBeUndefined();

    await writeFile(file, 'deviceSerialNumber,userId\n');
    expect((await Registry.fromCsv(file)).size).toBe(0);
  });
});

describe('generatePairs', () => {
  it('makes distinct, well-formed pairs, the same ones for the same seed', () => {
    const pairs = [...generatePairs(100, 5)];
    expect(new Set(pairs.map((pair) => pair.deviceSerialNumber)).size).toBe(100);
    expect(pairs[0]?.deviceSerialNumber).toBe('140100000');
    expect(
      pairs.every((pair) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(pair.userId)),
    ).toBe(true);
    expect([...generatePairs(100, 5)]).toEqual(pairs);
    expect([...generatePairs(100, 6)]).not.toEqual(pairs);
  });
});
