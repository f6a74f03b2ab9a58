/**
 * Scraping jobs end to end on the real Temporal dev server and PostgreSQL, driven through the job
 * control module (what the CLI and the REST API call), against the leads replica.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cancelJob, createJob, getJob, listJobs, LeadsJobInputError, LeadsJobStateError, pauseJob, resumeJob, workflowIdFor } from '../../control/leads-jobs';
import type { LeadsJobResult } from '../../workflows/leads';
import { mapsMatches, siteEmails, sitePageCount } from '../replicas/leads/index';
import { seriesValue, testTelemetry } from '../support/metrics';
import { createLeadsWorld, eventually, type LeadsWorld } from './harness';

let world: LeadsWorld;

before(async () => {
  testTelemetry();
  world = await createLeadsWorld();
});

after(async () => {
  await world?.close();
});

async function result(jobId: string): Promise<LeadsJobResult> {
  return world.temporal.client.workflow.getHandle(workflowIdFor(jobId)).result() as Promise<LeadsJobResult>;
}

/** Leads runs ended with this outcome, as the worker's /metrics counts them (workflows/run-metrics.ts). */
const leadsRuns = async (outcome: string) => seriesValue(await testTelemetry().scrape(), 'moisson_run_duration_seconds_count', { pipeline: 'leads', outcome });

async function emailsOf(jobId: string): Promise<string[]> {
  const rows = await world.db.sql<{ email: string }[]>`select email from leads.scraped_contacts where job_id = ${jobId} and email is not null order by email`;
  return rows.map((r) => r.email);
}

describe('leadsJob', () => {
  test('a custom-URL job crawls each site to its depth and keeps every email once', async () => {
    const sites = world.replica.businesses.slice(0, 3);
    const succeededBefore = await leadsRuns('success');
    const job = await world.withWorker(async () => {
      const created = await createJob(world.jobControl(), { id: 'custom-depth-2', sourceType: 'custom_urls', config: { urls: sites.map((b) => world.replica.siteUrl(b)), maxDepth: 2 } });
      assert.equal(created.status, 'queued');
      const r = await result(created.id);
      assert.equal(r.status, 'completed');
      return r;
    });
    assert.equal(job.counts.pagesDone, sites.length * sitePageCount(2));
    assert.equal(job.counts.pagesQueued, 0);
    assert.equal(job.counts.errors, 0);
    assert.equal((await leadsRuns('success')) - succeededBefore, 1, 'the job run counted once in moisson_run_duration_seconds');
    const expected = sites.flatMap((b) => siteEmails(b, 2)).sort();
    assert.deepEqual(await emailsOf('custom-depth-2'), expected, 'every email of the sites, obfuscated ones included, once');
    const [contact] = await world.db.sql<{ phones: string[]; socials: Record<string, string> }[]>`
      select phones, socials from leads.scraped_contacts where job_id = 'custom-depth-2' and email = ${sites[0]!.contactEmails[1]!.email}`;
    assert.deepEqual(contact!.phones, [sites[0]!.phoneE164]);
    assert.equal(contact!.socials.linkedin, `https://www.linkedin.com/company/${sites[0]!.slug}`);
    const [row] = await world.db.sql<{ status: string; pages_done: number; contacts_found: number }[]>`select status, pages_done, contacts_found from leads.jobs where id = 'custom-depth-2'`;
    assert.equal(row!.status, 'completed');
    assert.equal(row!.pages_done, job.counts.pagesDone);
  });

  test('depth 0 reads only the given pages; pages another job scraped are skipped (global URL fingerprint)', async () => {
    const site = world.replica.businesses[0]!;
    const r = await world.withWorker(async () => {
      await createJob(world.jobControl(), { id: 'custom-depth-0', sourceType: 'custom_urls', config: { urls: [world.replica.siteUrl(site), `${world.replica.siteUrl(site)}contact`], maxDepth: 0 } });
      return result('custom-depth-0');
    });
    assert.equal(r.status, 'completed');
    const states = await world.db.sql<{ state: string; error: string | null }[]>`select state, error from leads.frontier where job_id = 'custom-depth-0'`;
    assert.equal(states.length, 2);
    assert.ok(states.every((s) => s.state === 'skipped' && /already scraped by job custom-depth-2/.test(s.error ?? '')), JSON.stringify(states));
    const again = await world.withWorker(async () => {
      await createJob(world.jobControl(), { id: 'custom-refetch', sourceType: 'custom_urls', config: { urls: [`${world.replica.siteUrl(site)}contact`], maxDepth: 0, refetch: true } });
      return result('custom-refetch');
    });
    assert.equal(again.counts.pagesDone, 1);
    assert.deepEqual(await emailsOf('custom-refetch'), site.contactEmails.map((e) => e.email).sort());
  });

  test('pause, resume and cancel a running job through the job control', async () => {
    const control = world.jobControl();
    const cancelledBefore = await leadsRuns('cancelled');
    world.replica.setLatency(150);
    try {
      await world.withWorker(
        async () => {
          const sites = world.replica.businesses.slice(6, 18);
          await createJob(control, { id: 'controlled', sourceType: 'custom_urls', config: { urls: sites.map((b) => world.replica.siteUrl(b)), maxDepth: 2, refetch: true } });
          await eventually(async () => (await getJob(control, 'controlled')).pagesDone >= 3);
          await pauseJob(control, 'controlled');
          const paused = await eventually(async () => {
            const j = await getJob(control, 'controlled');
            return j.status === 'paused' && j;
          });
          const [{ status }] = (await world.db.sql`select status from leads.jobs where id = 'controlled'`) as unknown as [{ status: string }];
          assert.equal(status, 'paused');
          // While paused, nothing moves.
          const before = await world.db.sql<{ n: number }[]>`select count(*)::int as n from leads.frontier where job_id = 'controlled' and state <> 'queued'`;
          await new Promise((r) => setTimeout(r, 1500));
          const during = await world.db.sql<{ n: number }[]>`select count(*)::int as n from leads.frontier where job_id = 'controlled' and state <> 'queued'`;
          assert.equal(during[0]!.n, before[0]!.n, 'no page visited while paused');
          assert.ok(paused.pagesQueued > 0);
          await assert.rejects(pauseJob(control, 'controlled'), LeadsJobStateError);

          await resumeJob(control, 'controlled');
          await eventually(async () => {
            const j = await getJob(control, 'controlled');
            return j.status === 'running' && j.pagesDone > paused.pagesDone && j;
          });
          await cancelJob(control, 'controlled');
          const r = await result('controlled');
          assert.equal(r.status, 'cancelled');
          assert.ok(r.counts.pagesQueued > 0, 'cancelled before the end: pages left in the frontier');
          const view = await getJob(control, 'controlled');
          assert.equal(view.status, 'cancelled');
          assert.ok(view.finishedAt);
          await assert.rejects(resumeJob(control, 'controlled'), LeadsJobStateError);
        },
        { env: { LEADS_BATCH_PAGES: '2', LEADS_CRAWL_CONCURRENCY: '2' } },
      );
      // Read once the worker has stopped: its sinks have run by then.
      assert.equal((await leadsRuns('cancelled')) - cancelledBefore, 1, 'a job stopped by its cancel signal ends as cancelled, not success');
    } finally {
      world.replica.setLatency(0);
    }
  });

  test('custom URLs aimed at private, loopback or link-local targets are refused, redirects included', async () => {
    const mailwizzPort = new URL(world.mailwizz.url).port;
    const urls = [
      'http://169.254.169.254/latest/meta-data/',
      `http://127.0.0.1:${mailwizzPort}/api/index.php/lists`,
      `http://localhost:${new URL(world.replica.url).port}/sites/x/`,
      'http://10.1.2.3/',
      'http://[::1]/',
      `${world.replica.url}/redirect?to=${encodeURIComponent('http://169.254.169.254/latest/meta-data/')}`,
    ];
    const callsBefore = world.mailwizz.calls();
    const r = await world.withWorker(async () => {
      await createJob(world.jobControl(), { id: 'ssrf', sourceType: 'custom_urls', config: { urls, maxDepth: 0 } });
      return result('ssrf');
    });
    assert.equal(r.status, 'completed');
    const rows = await world.db.sql<{ url: string; state: string; error: string }[]>`select url, state, error from leads.frontier where job_id = 'ssrf' order by seq`;
    assert.equal(rows.length, urls.length);
    for (const row of rows) {
      assert.equal(row.state, 'refused', `${row.url}: ${row.error}`);
      assert.match(row.error, /refusing .*(loopback|linkLocal|private|a .* address)/);
    }
    assert.equal(world.mailwizz.calls(), callsBefore, 'the refused loopback service got no request');
    const rejected = await world.db.sql<{ n: number }[]>`select count(*)::int as n from etl.rejected_records where pipeline = 'leads' and kind = 'url' and natural_key like 'ssrf:%'`;
    assert.equal(rejected[0]!.n, urls.length, 'each refusal is a rejected record with its reason');
    assert.equal(r.counts.errors, urls.length);
  });

  test('a search job reads the result pages and the result sites with their contact pages', async () => {
    const r = await world.withWorker(async () => {
      await createJob(world.jobControl(), { id: 'search', sourceType: 'search', config: { queries: ['boulangerie'], pagesPerQuery: 2, followDepth: 1, refetch: true, whois: true } });
      return result('search');
    });
    assert.equal(r.status, 'completed');
    const bakeries = world.replica.businesses.filter((b) => b.keywords.includes('boulangerie'));
    const expected = [...new Set(bakeries.flatMap((b) => b.contactEmails.map((e) => e.email)))].sort();
    assert.deepEqual(await emailsOf('search'), expected);
    const hints = await world.db.sql<{ hints: string }[]>`select hints from leads.scraped_contacts where job_id = 'search' limit 1`;
    assert.match(hints[0]!.hints, /boulangerie/);
    const whois = await world.db.sql<{ domain: string; found: boolean; registrar: string | null }[]>`select domain, found, registrar from leads.whois_cache order by domain`;
    assert.deepEqual(whois.map((w) => w.domain), [...new Set(bakeries.map((b) => b.domain))].sort());
    assert.ok(whois.every((w) => w.found && w.registrar === 'OVH SAS'));
  });

  test('a blog job stores articles with title, author, date, language and text', async () => {
    const r = await world.withWorker(async () => {
      await createJob(world.jobControl(), { id: 'blog', sourceType: 'blog', config: { urls: [`${world.replica.url}/blog/`], maxArticles: 100 } });
      return result('blog');
    });
    assert.equal(r.status, 'completed');
    const articles = await world.db.sql<{ url: string; title: string; author: string; published_at: Date; language: string; text: string; word_count: number }[]>`
      select url, title, author, published_at, language, text, word_count from leads.articles where job_id = 'blog' order by url`;
    assert.equal(articles.length, world.replica.posts.length);
    for (const post of world.replica.posts) {
      const a = articles.find((x) => x.url.endsWith(`/blog/${post.slug}`));
      assert.ok(a, post.slug);
      assert.equal(a.title, post.title);
      assert.equal(a.author, post.author);
      assert.equal(new Date(a.published_at).toISOString(), post.publishedAt);
      assert.equal(a.language, post.lang);
      assert.ok(a.text.includes(post.paragraphs[2]!.slice(0, 60)));
      assert.ok(!a.text.includes('Articles plus anciens'), 'navigation is not article text');
    }
    const authorEmails = world.replica.posts.filter((p) => p.authorEmail).map((p) => p.authorEmail!).sort();
    assert.deepEqual(await emailsOf('blog'), [...new Set(authorEmails)].sort());
  });

  test('a maps job renders the listing app in Chromium and visits the listed websites', async () => {
    const r = await world.withWorker(
      async () => {
        await createJob(world.jobControl(), { id: 'maps', sourceType: 'maps', config: { queries: ['restaurant'], maxResults: 40, refetch: true } });
        return result('maps');
      },
      { browser: true },
    );
    assert.equal(r.status, 'completed');
    const restaurants = world.replica.businesses.filter((b) => mapsMatches(b, 'restaurant'));
    const listings = await world.db.sql<{ company: string; phones: string[]; address: string; website: string }[]>`
      select company, phones, address, website from leads.scraped_contacts where job_id = 'maps' and dedup_key like 'listing:%' order by company`;
    const errors = await world.db.sql`select url, message from leads.error_log where job_id = 'maps'`;
    assert.equal(listings.length, restaurants.length, JSON.stringify(errors));
    for (const b of restaurants) {
      const l = listings.find((x) => x.company === b.name);
      assert.ok(l, b.name);
      assert.deepEqual(l.phones, [b.phoneE164]);
      assert.equal(l.address, b.address);
      assert.equal(l.website, world.replica.siteUrl(b));
    }
    const emails = await emailsOf('maps');
    assert.deepEqual(emails, [...new Set(restaurants.flatMap((b) => b.contactEmails.map((e) => e.email)))].sort());
  });

  test('bad jobs are refused with what is wrong; jobs are listed', async () => {
    await assert.rejects(createJob(world.jobControl(), { sourceType: 'custom_urls', config: { urls: ['ftp://x'] } }), (err: unknown) => {
      assert.ok(err instanceof LeadsJobInputError);
      assert.match(err.message, /config\.urls\.0/);
      return true;
    });
    await assert.rejects(createJob(world.jobControl(), { sourceType: 'telepathy', config: {} }), LeadsJobInputError);
    const { jobs, total } = await listJobs(world.jobControl(), { status: 'completed' });
    assert.ok(total >= 5);
    assert.ok(jobs.every((j) => j.status === 'completed'));
    const cancelled = await listJobs(world.jobControl(), { status: 'cancelled' });
    assert.deepEqual(cancelled.jobs.map((j) => j.id), ['controlled']);
  });
});

test('a job stops discovering pages at its page budget', async () => {
  const sites = world.replica.businesses.slice(0, 3);
  const r = await world.withWorker(async () => {
    await createJob(world.jobControl(), { id: 'budget', sourceType: 'custom_urls', config: { urls: sites.map((b) => world.replica.siteUrl(b)), maxDepth: 2, maxPages: 10, refetch: true } });
    return result('budget');
  });
  assert.equal(r.status, 'completed');
  assert.equal(r.counts.pagesDone, 10);
});
