/**
 * Validation and the MailWizz sync on the real PostgreSQL, the DNS replica and the MailWizz replica;
 * the workflows on the real Temporal dev server, single batches through Temporal's mock activity
 * context where a test needs to interleave them.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DateTime } from 'luxon';
import { MailwizzClient, syncMailwizzBatch, warmupQuota, type SyncBatchResult, type SyncDeps } from '../../activities/leads/mailwizz';
import { validateLeadsBatch, type ValidateBatchResult } from '../../activities/leads/validate';
import type { LeadsConfig } from '../../schema/config';
import { leadsSyncMailwizz, leadsValidate, type LeadsSyncResult } from '../../workflows/leads';
import { DEFAULT_MAILWIZZ_KEYS } from '../replicas/mailwizz/index';
import { recordHistories } from '../support/histories';
import { seriesValue, testTelemetry } from '../support/metrics';
import { createLeadsWorld, type LeadsWorld } from './harness';

let world: LeadsWorld;
const histories = new URL('./histories/', import.meta.url);

before(async () => {
  world = await createLeadsWorld();
});

after(async () => {
  await world?.close();
});

async function addJob(id: string): Promise<void> {
  await world.db.sql`insert into leads.jobs (id, name, source_type, config, workflow_id) values (${id}, ${id}, 'custom_urls', '{"urls":["http://x.example/"]}'::jsonb, ${`leads-job-${id}`}) on conflict do nothing`;
}

async function addContacts(jobId: string, contacts: { email: string | null; hints?: string; company?: string }[]): Promise<void> {
  await addJob(jobId);
  for (const c of contacts) {
    await world.db.sql`
      insert into leads.scraped_contacts (job_id, dedup_key, email, company, domain, source_url, hints, status)
      values (${jobId}, ${c.email ?? `phone:${Math.random()}`}, ${c.email}, ${c.company ?? null}, ${c.email?.split('@')[1] ?? null}, 'http://x.example/contact', ${c.hints ?? ''}, ${c.email ? 'new' : 'no_email'})`;
  }
}

let activities = 0;

/** Each call is its own scheduled activity (a MailWizz claim belongs to its activity id). */
function mock<T>(fn: () => Promise<T>): Promise<T> {
  return new MockActivityEnvironment({ activityId: `mock-${++activities}` }).run(fn);
}

function validateBatch(config: LeadsConfig, limit: number): Promise<ValidateBatchResult> {
  return mock(() => validateLeadsBatch({ sql: world.db.sql, config }, { limit }));
}

function syncBatch(config: LeadsConfig, extra: Partial<SyncDeps> = {}): Promise<SyncBatchResult> {
  return mock(() => syncMailwizzBatch({ sql: world.db.sql, config, ...extra }, {}));
}

describe('leadsValidate', () => {
  test('syntax, role, disposable, blacklist and MX checks; categories and routing; duplicates across jobs', async () => {
    const b = world.replica.businesses;
    await world.db.sql`insert into leads.domain_blacklist (domain, sent, bounced) values ('orange.fr', 100, 20), ('gmail.com', 100, 2)`;
    await addContacts('v1', [
      { email: b[0]!.contactEmails[0]!.email, hints: 'Boulangerie Martin — Paris · boulangerie, pain' },
      { email: b[0]!.contactEmails[1]!.email, hints: 'Boulangerie Martin — Paris · boulangerie, pain' },
      { email: b[2]!.contactEmails[2]!.email },
      { email: b[3]!.contactEmails[2]!.email },
      { email: b[4]!.contactEmails[0]!.email },
      { email: b[5]!.contactEmails[2]!.email },
      { email: 'jean.dupont@orange.fr' },
      { email: 'marie.curie@gmail.com', hints: 'logiciel saas' },
      { email: 'contact@sans-mx.fr' },
      { email: null },
    ]);
    await addContacts('v2', [{ email: b[0]!.contactEmails[0]!.email }]);
    const dnsBefore = world.replica.dnsQueries();
    const totals = await world.withWorker(() =>
      world.temporal.client.workflow.execute(leadsValidate, { taskQueue: world.taskQueue, workflowId: 'validate-1', args: [{}] }),
    );
    await recordHistories(world.temporal.client, histories, 'contacts', 'validate-1');
    assert.deepEqual(
      { claimed: totals.claimed, valid: totals.valid, invalid: totals.invalid, duplicate: totals.duplicate, deferred: totals.deferred },
      { claimed: 10, valid: 3, invalid: 6, duplicate: 1, deferred: 0 },
      JSON.stringify(totals),
    );
    assert.deepEqual(totals.reasons, { disposable: 1, role: 1, no_mx: 2, syntax: 1, blacklisted: 1 });
    const rows = await world.db.sql<{ email: string; status: string; reason: string | null }[]>`select email, status, reason from leads.scraped_contacts where email is not null order by id`;
    const statusOf = (email: string) => rows.find((r) => r.email === email)!;
    assert.equal(statusOf(b[2]!.contactEmails[2]!.email).reason?.startsWith('disposable'), true);
    assert.match(statusOf(b[3]!.contactEmails[2]!.email).reason!, /^role: 'noreply@'/);
    assert.match(statusOf(b[4]!.contactEmails[0]!.email).reason!, /^no_mx: ancien-robert-4\.fr has no MX/);
    assert.match(statusOf(b[5]!.contactEmails[2]!.email).reason!, /^syntax: /);
    assert.match(statusOf('jean.dupont@orange.fr').reason!, /^blacklisted: orange\.fr bounce rate 20\.0% over 10%/);
    const noEmail = await world.db.sql<{ status: string }[]>`select status from leads.scraped_contacts where email is null`;
    assert.deepEqual(noEmail.map((r) => r.status), ['no_email']);

    const valid = await world.db.sql<{ email: string; category: string; list_uid: string; template: string; tags: string[]; first_name: string | null; mx_hosts: string[] }[]>`
      select email, category, list_uid, template, tags, first_name, mx_hosts from leads.validated_contacts order by email`;
    assert.deepEqual(valid.map((v) => [v.email, v.category, v.list_uid]), [
      [b[0]!.contactEmails[1]!.email, 'restaurant', 'restaurants-list'],
      [b[0]!.contactEmails[0]!.email, 'restaurant', 'restaurants-list'],
      ['marie.curie@gmail.com', 'tech', 'general-list'],
    ].sort((x, y) => x[0]!.localeCompare(y[0]!)));
    const claire = valid.find((v) => v.email === b[0]!.contactEmails[1]!.email)!;
    assert.equal(claire.first_name, 'Claire');
    assert.equal(claire.template, 'food-intro');
    assert.deepEqual(claire.tags, ['lead', 'food']);
    assert.deepEqual(claire.mx_hosts, [`mx1.${b[0]!.domain}`, `mx2.${b[0]!.domain}`]);
    const dup = await world.db.sql<{ status: string }[]>`select status from leads.scraped_contacts where email = ${b[0]!.contactEmails[0]!.email} order by status`;
    assert.deepEqual(dup.map((d) => d.status), ['duplicate', 'valid'], 'the same email from two jobs: validated once');

    // The MX cache: 7 days, and a warm cache asks the DNS nothing.
    const cache = await world.db.sql<{ domain: string; days: number }[]>`select domain, round(extract(epoch from expires_at - checked_at) / 86400)::int as days from leads.mx_cache`;
    assert.ok(cache.length >= 4 && cache.every((c) => c.days === 7), JSON.stringify(cache));
    const asked = world.replica.dnsQueries() - dnsBefore;
    assert.ok(asked >= cache.length);
    await addContacts('v3', [{ email: `equipe@${b[0]!.domain}` }, { email: `hello@${b[4]!.domain}` }]);
    const again = await validateBatch(world.config(), 50);
    assert.equal(again.valid + again.invalid, 2);
    assert.equal(world.replica.dnsQueries() - dnsBefore, asked, 'cached domains are not asked again');
  });

  test('two workers claiming at once never take the same contact', async () => {
    const domain = world.replica.businesses[1]!.domain;
    await addContacts('claims', Array.from({ length: 240 }, (_, i) => ({ email: `client${i}@${domain}` })));
    const config = world.config();
    const claimedBy: number[] = [];
    async function lane(): Promise<void> {
      for (;;) {
        const r = await validateBatch(config, 25);
        if (r.claimed === 0) return;
        claimedBy.push(r.claimed);
      }
    }
    await Promise.all([lane(), lane(), lane()]);
    assert.equal(claimedBy.reduce((a, b) => a + b, 0), 240, 'every contact claimed exactly once');
    const [{ valid, left }] = (await world.db.sql`
      select count(*) filter (where status = 'valid')::int as valid, count(*) filter (where status in ('new', 'validating'))::int as left
        from leads.scraped_contacts where job_id = 'claims'`) as unknown as [{ valid: number; left: number }];
    assert.equal(valid, 240);
    assert.equal(left, 0);
  });

  test('a DNS that cannot answer defers the contact instead of rejecting it', async () => {
    await addContacts('dns-down', [{ email: 'someone@example-unreachable.fr' }]);
    const r = await validateBatch(world.config({ LEADS_DNS_SERVERS: '127.0.0.1:9' }), 10);
    assert.equal(r.deferred, 1);
    const [row] = await world.db.sql<{ status: string }[]>`select status from leads.scraped_contacts where job_id = 'dns-down'`;
    assert.equal(row!.status, 'new');
    await world.db.sql`delete from leads.scraped_contacts where job_id = 'dns-down'`;
  });
});

describe('leadsSyncMailwizz', () => {
  beforeEach(() => {
    world.mailwizz.clearFaults();
    world.mailwizz.setVersion(2);
  });

  async function validated(emails: string[], listUid = 'general-list'): Promise<void> {
    await addJob('sync');
    for (const email of emails) {
      const [c] = await world.db.sql<{ id: number }[]>`
        insert into leads.scraped_contacts (job_id, dedup_key, email, domain, source_url, status)
        values ('sync', ${email}, ${email}, ${email.split('@')[1]!}, 'http://x.example/', 'valid') returning id`;
      await world.db.sql`
        insert into leads.validated_contacts (email, scraped_contact_id, job_id, domain, category, platform, list_uid, template, tags, first_name, last_name)
        values (${email}, ${c!.id}, 'sync', ${email.split('@')[1]!}, 'general', 'general', ${listUid}, 'welcome', '["lead"]'::jsonb, 'Ana', 'Lima')`;
    }
  }

  async function log(email: string) {
    return world.db.sql<{ attempt: number; outcome: string; error: string | null }[]>`select attempt, outcome, error from leads.sync_log where email = ${email} order by id`;
  }

  test('validated contacts go to their MailWizz list (2.x), once; the workflow stops when none is due', async () => {
    const before = world.mailwizz.subscribers('restaurants-list').length;
    const r: LeadsSyncResult = await world.withWorker(() =>
      world.temporal.client.workflow.execute(leadsSyncMailwizz, { taskQueue: world.taskQueue, workflowId: 'sync-1', args: [{}] }),
    );
    await recordHistories(world.temporal.client, histories, 'validated', 'sync-1');
    const synced = await world.db.sql<{ email: string; subscriber_uid: string; list_uid: string }[]>`select email, subscriber_uid, list_uid from leads.validated_contacts where sync_status = 'synced'`;
    assert.ok(r.created >= 3, JSON.stringify(r));
    assert.equal(r.created + r.existing, synced.length);
    const subs = world.mailwizz.subscribers('restaurants-list');
    assert.equal(subs.length - before, synced.filter((s) => s.list_uid === 'restaurants-list').length);
    const claire = subs.find((s) => s.email === world.replica.businesses[0]!.contactEmails[1]!.email)!;
    assert.deepEqual([claire.fields.FNAME, claire.fields.LNAME, claire.fields.TAGS, claire.fields.TEMPLATE, claire.status], ['Claire', 'Martin', 'lead,food', 'food-intro', 'confirmed']);
    assert.equal(synced.find((s) => s.email === claire.email)!.subscriber_uid, claire.subscriber_uid);
    const again = await world.withWorker(() =>
      world.temporal.client.workflow.execute(leadsSyncMailwizz, { taskQueue: world.taskQueue, workflowId: 'sync-2', args: [{}] }),
    );
    assert.equal(again.created + again.existing + again.failed, 0, 'nothing left to push');
  });

  test('MailWizz failing, then recovering: each try logged, at most 3 tries', async () => {
    await validated(['recover@plomberie-richard.fr', 'never@plomberie-richard.fr']);
    const config = world.config();
    world.mailwizz.setFault({ kind: 'status', status: 503 });
    const first = await syncBatch(config);
    assert.deepEqual([first.claimed, first.failed], [2, 2]);
    const second = await syncBatch(config);
    assert.deepEqual([second.claimed, second.failed], [2, 2]);
    // Only `never@` keeps failing: the fault stays on for it.
    world.mailwizz.clearFaults();
    await world.db.sql`update leads.validated_contacts set next_sync_at = now() + interval '1 hour' where email = 'never@plomberie-richard.fr'`;
    const third = await syncBatch(config);
    assert.deepEqual([third.claimed, third.created], [1, 1]);
    assert.deepEqual((await log('recover@plomberie-richard.fr')).map((l) => [l.attempt, l.outcome]), [[1, 'failed'], [2, 'failed'], [3, 'created']]);
    assert.match((await log('recover@plomberie-richard.fr'))[0]!.error!, /503: Service temporarily unavailable/);

    world.mailwizz.setFault({ kind: 'status', status: 500 });
    await world.db.sql`update leads.validated_contacts set next_sync_at = null where email = 'never@plomberie-richard.fr'`;
    const last = await syncBatch(config);
    assert.deepEqual([last.claimed, last.failed], [1, 1]);
    const none = await syncBatch(config);
    assert.equal(none.claimed, 0, 'three tries and no more');
    const [never] = await world.db.sql<{ sync_status: string; sync_attempts: number }[]>`select sync_status, sync_attempts from leads.validated_contacts where email = 'never@plomberie-richard.fr'`;
    assert.deepEqual([never!.sync_status, never!.sync_attempts], ['failed', 3]);
    assert.equal((await log('never@plomberie-richard.fr')).length, 3);
  });

  test('never a duplicate subscriber: a lost answer, a worker dead mid-call, a concurrent push', async () => {
    const config = world.config();
    // The create went through but its answer was lost with the connection.
    await validated(['lost@hotel-dubois.fr']);
    world.mailwizz.setFault({ kind: 'drop-after-create', on: 'create', times: 1 });
    const lost = await syncBatch(config);
    assert.equal(lost.failed, 1);
    const retry = await syncBatch(config);
    assert.deepEqual([retry.created, retry.existing], [0, 1]);
    assert.equal(world.mailwizz.subscribers('general-list').filter((s) => s.email === 'lost@hotel-dubois.fr').length, 1);
    assert.deepEqual((await log('lost@hotel-dubois.fr')).map((l) => l.outcome), ['failed', 'existing']);

    // A worker died after creating: its claim is stale, the next run finds the subscriber.
    await validated(['dead@hotel-dubois.fr']);
    const died = await syncBatch(config, {
      beforeCreate: () => {
        throw new Error('worker killed');
      },
    }).catch((e: unknown) => e);
    assert.ok(died instanceof Error);
    const client = new MailwizzClient(config.mailwizz);
    await client.createSubscriber('general-list', [['EMAIL', 'dead@hotel-dubois.fr']]);
    await world.db.sql`update leads.validated_contacts set sync_status = 'syncing', sync_claimed_at = now() - interval '1 hour' where email = 'dead@hotel-dubois.fr'`;
    const after = await syncBatch(config);
    assert.equal(after.existing, 1);
    assert.equal(world.mailwizz.subscribers('general-list').filter((s) => s.email === 'dead@hotel-dubois.fr').length, 1);

    // Someone else pushed between our search and our create: 409, read back.
    await validated(['race@hotel-dubois.fr']);
    const raced = await syncBatch(config, { beforeCreate: (email) => client.createSubscriber('general-list', [['EMAIL', email]]).then(() => undefined) });
    assert.equal(raced.existing, 1);
    assert.deepEqual((await log('race@hotel-dubois.fr')).map((l) => l.outcome), ['duplicate']);
    assert.equal(world.mailwizz.subscribers('general-list').filter((s) => s.email === 'race@hotel-dubois.fr').length, 1);
  });

  test('MailWizz 1.x signed requests; wrong keys stop the sync and give the tries back', async () => {
    world.mailwizz.setVersion(1);
    await validated(['signed@legal.fr', 'signed2@legal.fr']);
    const v1 = { MAILWIZZ_API_VERSION: '1', MAILWIZZ_PUBLIC_KEY: DEFAULT_MAILWIZZ_KEYS.publicKey, MAILWIZZ_PRIVATE_KEY: 'wrong' };
    await assert.rejects(syncBatch(world.config(v1)), (err: unknown) => {
      assert.match(String((err as Error).message), /signature/);
      return true;
    });
    const pending = await world.db.sql<{ sync_status: string; sync_attempts: number }[]>`select sync_status, sync_attempts from leads.validated_contacts where email like 'signed%' order by email`;
    assert.deepEqual(pending.map((p) => [p.sync_status, p.sync_attempts]), [['pending', 0], ['pending', 0]]);
    assert.equal((await log('signed2@legal.fr')).length + (await log('signed@legal.fr')).length, 1, 'the refused try is logged');
    const ok = await syncBatch(world.config({ ...v1, MAILWIZZ_PRIVATE_KEY: DEFAULT_MAILWIZZ_KEYS.privateKey }));
    assert.equal(ok.created, 2);
  });

  test('a subscriber MailWizz refuses (error object keyed by tag) is not tried again', async () => {
    await validated(['bad..dots@legal.fr']);
    const r = await syncBatch(world.config());
    assert.equal(r.rejected, 1);
    const [l] = await log('bad..dots@legal.fr');
    assert.equal(l!.outcome, 'rejected');
    assert.match(l!.error!, /EMAIL: The email address is not valid/);
    assert.equal((await syncBatch(world.config())).claimed, 0);
  });

  test('the daily warm-up quota', async () => {
    await validated(['q1@quota.fr', 'q2@quota.fr', 'q3@quota.fr']);
    const [{ today }] = (await world.db.sql`select count(*)::int as today from leads.sync_log where outcome = 'created' and created_at >= date_trunc('day', now())`) as unknown as [{ today: number }];
    const r = await syncBatch(world.config({ MAILWIZZ_DAILY_QUOTA: String(today + 2) }));
    assert.deepEqual([r.created, r.quotaLeft], [2, 0]);
    const telemetry = testTelemetry();
    const exhausted = async () => seriesValue(await telemetry.scrape(), 'moisson_mailwizz_quota_exhausted_total');
    const before = await exhausted();
    assert.equal((await syncBatch(world.config({ MAILWIZZ_DAILY_QUOTA: String(today + 2) }))).claimed, 0, 'quota used up for today');
    assert.equal(await exhausted(), before + 1, 'a contact waits behind the used-up quota: operators see it');
    const mw = world.config({ MAILWIZZ_DAILY_QUOTA: '50', MAILWIZZ_WARMUP_STEP: '25', MAILWIZZ_MAX_DAILY_QUOTA: '120', MAILWIZZ_WARMUP_START: '2026-01-01' }).mailwizz;
    assert.equal(warmupQuota(mw, DateTime.fromISO('2026-01-01T12:00:00Z')), 50);
    assert.equal(warmupQuota(mw, DateTime.fromISO('2026-01-03T12:00:00Z')), 100);
    assert.equal(warmupQuota(mw, DateTime.fromISO('2026-02-01T12:00:00Z')), 120);
  });
});

