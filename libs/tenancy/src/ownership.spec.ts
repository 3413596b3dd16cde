import { ErrorCode, type TenantScope } from '#libs/contracts';
import {
  AccessDenied,
  assertMayChange,
  changeRefusal,
  mayChange,
  mayRead,
  ownerOfNewKey,
  ownerOfNewRow,
  PRIVATE_TO_PROJECT,
  readableProjects,
  SHARED_WITH_PROJECTS,
  type Owned,
} from './ownership.js';

const ORG_ADMIN: TenantScope = { organisationId: 'org1', projectId: null };
const PROJECT_A: TenantScope = { organisationId: 'org1', projectId: 'a' };
const OTHER_ORG: TenantScope = { organisationId: 'org2', projectId: null };

const orgWide: Owned = { organisationId: 'org1', projectId: null };
const inA: Owned = { organisationId: 'org1', projectId: 'a' };
const inB: Owned = { organisationId: 'org1', projectId: 'b' };
const otherOrgRow: Owned = { organisationId: 'org2', projectId: null };

describe('ownership rule: reading', () => {
  it.each([
    ['an organisation admin', ORG_ADMIN, [orgWide, inA, inB], [otherOrgRow]],
    ['a project admin, shared kinds', PROJECT_A, [orgWide, inA], [inB, otherOrgRow]],
  ])('lets %s read exactly its rows', (_who, scope, readable, hidden) => {
    for (const row of readable) expect(mayRead(scope, row, SHARED_WITH_PROJECTS)).toBe(true);
    for (const row of hidden) expect(mayRead(scope, row, SHARED_WITH_PROJECTS)).toBe(false);
  });

  it("keeps organisation-wide gateway keys out of a project admin's reach, but not its own project's", () => {
    expect(mayRead(PROJECT_A, orgWide, PRIVATE_TO_PROJECT)).toBe(false);
    expect(mayRead(PROJECT_A, inA, PRIVATE_TO_PROJECT)).toBe(true);
    expect(mayRead(ORG_ADMIN, inB, PRIVATE_TO_PROJECT)).toBe(true);
  });

  it('names the readable projects: any for an organisation admin, own (+ null when shared) for a project admin', () => {
    expect(readableProjects(ORG_ADMIN)).toBe('any');
    expect(readableProjects(PROJECT_A, SHARED_WITH_PROJECTS)).toEqual(['a', null]);
    expect(readableProjects(PROJECT_A, PRIVATE_TO_PROJECT)).toEqual(['a']);
  });

  it('lets nobody read another organisation, whatever the sharing', () => {
    expect(mayRead(OTHER_ORG, inA)).toBe(false);
    expect(mayRead(ORG_ADMIN, otherOrgRow, PRIVATE_TO_PROJECT)).toBe(false);
  });
});

describe('ownership rule: changing, deleting, revealing', () => {
  it('lets an organisation admin change any row of its organisation and none of another', () => {
    for (const row of [orgWide, inA, inB]) expect(mayChange(ORG_ADMIN, row)).toBe(true);
    expect(mayChange(ORG_ADMIN, otherOrgRow)).toBe(false);
  });

  it('lets a project admin change its own project rows only: not organisation-wide ones (no reveal of a shared connection), not another project', () => {
    expect(mayChange(PROJECT_A, inA)).toBe(true);
    expect(mayChange(PROJECT_A, orgWide)).toBe(false);
    expect(mayChange(PROJECT_A, inB)).toBe(false);
  });

  it('refuses with forbidden and a reason naming why', () => {
    expect(changeRefusal(PROJECT_A, inA, 'connection c1')).toBeNull();
    expect(changeRefusal(PROJECT_A, orgWide, 'connection c1')).toMatch(/organisation-wide/);
    expect(changeRefusal(PROJECT_A, inB, 'connection c1')).toMatch(/belongs to project b/);
    expect(changeRefusal(ORG_ADMIN, otherOrgRow, 'connection c1')).toMatch(/another organisation/);
    expect(() => assertMayChange(PROJECT_A, orgWide, 'connection c1')).toThrow(AccessDenied);
    expect(() => assertMayChange(PROJECT_A, inB, 'connection c1')).toThrow(expect.objectContaining({ code: ErrorCode.Forbidden }));
    expect(() => assertMayChange(PROJECT_A, inA, 'connection c1')).not.toThrow();
  });
});

describe('ownership rule: creating', () => {
  it('puts an organisation admin row where it asks, or organisation-wide', () => {
    expect(ownerOfNewRow(ORG_ADMIN, 'b')).toEqual(inB);
    expect(ownerOfNewRow(ORG_ADMIN, undefined)).toEqual(orgWide);
  });

  it("puts a project admin's row in its project, and refuses another project or organisation-wide", () => {
    expect(ownerOfNewRow(PROJECT_A, undefined)).toEqual(inA);
    expect(ownerOfNewRow(PROJECT_A, 'a')).toEqual(inA);
    expect(() => ownerOfNewRow(PROJECT_A, 'b')).toThrow(/cannot create rows in project b/);
    expect(() => ownerOfNewRow(PROJECT_A, null)).toThrow(/cannot create organisation-wide rows/);
  });

  it('mints keys by the same rule: a project admin gets its own project, never an organisation-wide key or another project', () => {
    expect(ownerOfNewKey(PROJECT_A, {})).toEqual(inA);
    expect(() => ownerOfNewKey(PROJECT_A, { projectId: 'b' })).toThrow(AccessDenied);
    expect(() => ownerOfNewKey(PROJECT_A, { projectId: null })).toThrow(AccessDenied);
    expect(ownerOfNewKey(ORG_ADMIN, {})).toEqual(orgWide);
  });
});
