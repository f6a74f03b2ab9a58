/**
 * What a scraping job is asked to do, per source type: checked by the job-control module (API and
 * CLI) when the job is created, and again by the activities when they read the stored job.
 */
import { z } from 'zod';

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

const common = {
  /** Scrape pages again even when another job already has (the global URL fingerprint). */
  refetch: z.boolean().default(false),
  /** Look up the RDAP record of every contact domain found (cached). */
  whois: z.boolean().default(false),
  /** At most this many pages for the whole job. */
  maxPages: z.number().int().min(1).max(100_000).default(500),
};

export const SearchJobConfigSchema = z
  .object({
    queries: z.array(z.string().trim().min(1).max(200)).min(1).max(100),
    /** Result pages read per query. */
    pagesPerQuery: z.number().int().min(1).max(20).default(2),
    /** From each result site: 0 = its page only, 1 = also its contact/about pages. */
    followDepth: z.number().int().min(0).max(2).default(1),
    ...common,
  })
  .strict();

export const MapsJobConfigSchema = z
  .object({
    queries: z.array(z.string().trim().min(1).max(200)).min(1).max(50),
    maxResults: z.number().int().min(1).max(500).default(40),
    /** Visit each listing's website for emails (its contact pages at followDepth 1). */
    visitWebsites: z.boolean().default(true),
    followDepth: z.number().int().min(0).max(2).default(1),
    ...common,
  })
  .strict();

export const CustomUrlsJobConfigSchema = z
  .object({
    urls: z.array(httpUrl).min(1).max(5000),
    /** Same-site links followed this deep (0 = the URLs only). */
    maxDepth: z.number().int().min(0).max(5).default(1),
    ...common,
  })
  .strict();

export const BlogJobConfigSchema = z
  .object({
    /** Blog index pages (or article URLs). */
    urls: z.array(httpUrl).min(1).max(200),
    maxArticles: z.number().int().min(1).max(10_000).default(100),
    maxIndexPages: z.number().int().min(1).max(500).default(20),
    ...common,
  })
  .strict();

export type SearchJobConfig = z.infer<typeof SearchJobConfigSchema>;
export type MapsJobConfig = z.infer<typeof MapsJobConfigSchema>;
export type CustomUrlsJobConfig = z.infer<typeof CustomUrlsJobConfigSchema>;
export type BlogJobConfig = z.infer<typeof BlogJobConfigSchema>;

export const LeadsJobSpecSchema = z.discriminatedUnion('sourceType', [
  z.object({ sourceType: z.literal('search'), config: SearchJobConfigSchema }),
  z.object({ sourceType: z.literal('maps'), config: MapsJobConfigSchema }),
  z.object({ sourceType: z.literal('custom_urls'), config: CustomUrlsJobConfigSchema }),
  z.object({ sourceType: z.literal('blog'), config: BlogJobConfigSchema }),
]);

export type LeadsJobSpec = z.infer<typeof LeadsJobSpecSchema>;

/** A listing as the maps source reads it from the rendered page. */
export const MapsListingItemSchema = z.object({
  name: z.string().min(1),
  address: z.string().nullable(),
  phone: z.string().nullable(),
  website: z.string().nullable(),
  category: z.string().nullable(),
  rating: z.number().nullable(),
});

export type MapsListing = z.infer<typeof MapsListingItemSchema>;
