/**
 * The data behind the Pennylane replica: six resources whose records are computed from (resource, id,
 * version) on demand, so millions of rows cost no memory; only what changed since the seed (updates,
 * deletions, new records, changelog events) is stored. Field names, nesting (`{id, url}` references,
 * `{url}` links) and types (amounts as decimal strings) follow Pennylane's v2 reference; see README.md.
 */

export const RESOURCES = ['customer_invoices', 'supplier_invoices', 'customers', 'suppliers', 'products', 'transactions'] as const;
export type Resource = (typeof RESOURCES)[number];

export type ApiRecord = Record<string, unknown> & { id: number };

export interface ChangelogEvent {
  seq: number;
  id: number;
  operation: 'insert' | 'update' | 'delete';
  processed_at: string;
  created_at: string;
  updated_at: string;
}

/** Ids are large and per-resource, like the real ones (never 1, 2, 3 shared by all resources). */
const ID_BASE: Record<Resource, number> = {
  customer_invoices: 400_000_000,
  supplier_invoices: 500_000_000,
  customers: 100_000_000,
  suppliers: 200_000_000,
  products: 300_000_000,
  transactions: 600_000_000,
};

const DAY = 86_400_000;

/** A small, fast, deterministic hash → [0, 1) stream (mulberry32 over an FNV-1a seed). */
function rng(...parts: (string | number)[]): () => number {
  let h = 2166136261;
  for (const p of parts) {
    const s = String(p);
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 16777619);
    }
    h ^= 0x7c;
    h = Math.imul(h, 16777619);
  }
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cents to Pennylane's amount string: always two decimals, `-` for credit notes and outflows. */
export function amount(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** `2025-01-09T08:24:38.812458Z`: what Pennylane's timestamps look like (microseconds, Z). */
export function timestamp(ms: number, micros = 0): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, (_, m: string) => `.${m}${String(micros % 1000).padStart(3, '0')}Z`);
}

const COMPANIES = ['Boulangerie Martin', 'Atelier Dupont', 'Transports Leroy', 'Cabinet Moreau', 'Garage Petit', 'Studio Lambert', 'Ferme des Près', 'Imprimerie Roux', 'SARL Fontaine', 'Hôtel du Port'];
const CITIES = [['75011', 'Paris'], ['69003', 'Lyon'], ['13006', 'Marseille'], ['33000', 'Bordeaux'], ['59800', 'Lille'], ['44000', 'Nantes']] as const;
const LABELS = ['Prestation de conseil', 'Maintenance annuelle', 'Fournitures de bureau', 'Location matériel', 'Abonnement logiciel', 'Formation équipe'];
const VAT = [['FR_200', 2000], ['FR_100', 1000], ['FR_55', 550], ['exempt', 0]] as const;

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)]!;
}

/**
 * Text as people type it into an accounting tool: sometimes with stray spaces around it, now and then a
 * tab, a line break or a backslash inside (a loader must escape them, and trim the ends).
 */
function typed(r: () => number, text: string): string {
  const x = r();
  if (x < 0.08) return `  ${text} `;
  if (x < 0.1) return `${text}\tréf.\\${Math.floor(r() * 100)}`;
  if (x < 0.12) return `${text}\nligne 2`;
  return text;
}

export interface RecordContext {
  baseUrl: string;
  /** When the seeded history ends: seeded records were created and last updated before it. */
  seedEpochMs: number;
}

function ref(ctx: RecordContext, path: string, id: number): { id: number; url: string } {
  return { id, url: `${ctx.baseUrl}/${path}/${id}` };
}

function link(ctx: RecordContext, path: string): { url: string } {
  return { url: `${ctx.baseUrl}/${path}` };
}

interface Times {
  createdMs: number;
  updatedMs: number;
}

function invoiceAmounts(r: () => number, credit: boolean) {
  const [vatCode, vatBp] = pick(r, VAT);
  const before = Math.floor(r() * 2_000_000) + 500;
  const tax = Math.round((before * vatBp) / 10_000);
  const sign = credit ? -1 : 1;
  return { vatCode, before: sign * before, tax: sign * tax, total: sign * (before + tax) };
}

function customerInvoice(ctx: RecordContext, id: number, version: number, t: Times, sizes: Record<Resource, number>): ApiRecord {
  const r = rng('ci', id, version);
  const credit = r() < 0.05;
  const draft = !credit && r() < 0.07;
  const a = invoiceAmounts(r, credit);
  const paid = !draft && r() < 0.6;
  const date = new Date(t.createdMs).toISOString().slice(0, 10);
  const customerId = ID_BASE.customers + 1 + Math.floor(r() * Math.max(1, sizes.customers));
  return {
    id,
    label: typed(r, `Facture ${pick(r, COMPANIES)} - ${pick(r, LABELS)}`),
    invoice_number: draft ? '' : `F-${date.slice(0, 4)}-${String(id % 1_000_000).padStart(6, '0')}`,
    currency: 'EUR',
    amount: amount(a.total),
    currency_amount: amount(a.total),
    currency_amount_before_tax: amount(a.before),
    exchange_rate: '1.0',
    date,
    deadline: new Date(t.createdMs + 30 * DAY).toISOString().slice(0, 10),
    currency_tax: amount(a.tax),
    tax: amount(a.tax),
    language: 'fr_FR',
    paid,
    status: credit ? 'credit_note' : draft ? 'draft' : paid ? 'paid' : pick(r, ['upcoming', 'late', 'partially_paid']),
    discount: { type: 'relative', value: '0.0' },
    ledger_entry: draft ? null : ref(ctx, 'ledger_entries', 700_000_000 + (id % 100_000_000)),
    public_file_url: draft ? null : `https://app.pennylane.com/public/invoice/pdf?encrypted_id=${(id * 2654435761) >>> 0}`,
    filename: draft ? null : `Facture_${id}.pdf`,
    remaining_amount_with_tax: paid ? '0.00' : amount(a.total),
    remaining_amount_without_tax: paid ? '0.00' : amount(a.before),
    draft,
    special_mention: r() < 0.1 ? 'Pénalités de retard : 3 fois le taux légal' : null,
    customer: ref(ctx, 'customers', customerId),
    invoice_line_sections: link(ctx, `customer_invoices/${id}/invoice_line_sections`),
    invoice_lines: link(ctx, `customer_invoices/${id}/invoice_lines`),
    custom_header_fields: link(ctx, `customer_invoices/${id}/custom_header_fields`),
    categories: link(ctx, `customer_invoices/${id}/categories`),
    pdf_invoice_free_text: '',
    pdf_invoice_subject: '',
    pdf_description: null,
    billing_subscription: null,
    credited_invoice: credit ? ref(ctx, 'customer_invoices', Math.max(ID_BASE.customer_invoices + 1, id - 1)) : null,
    customer_invoice_template: null,
    transaction_reference: null,
    payments: link(ctx, `customer_invoices/${id}/payments`),
    matched_transactions: link(ctx, `customer_invoices/${id}/matched_transactions`),
    appendices: link(ctx, `customer_invoices/${id}/appendices`),
    quote: null,
    external_reference: `ext-ci-${id}`,
    e_invoicing: null,
    factur_x: r() < 0.3,
    archived_at: null,
    created_at: timestamp(t.createdMs, id),
    updated_at: timestamp(t.updatedMs, id + version),
  };
}

function supplierInvoice(ctx: RecordContext, id: number, version: number, t: Times, sizes: Record<Resource, number>): ApiRecord {
  const r = rng('si', id, version);
  const a = invoiceAmounts(r, r() < 0.03);
  const paid = r() < 0.55;
  const date = new Date(t.createdMs).toISOString().slice(0, 10);
  return {
    id,
    label: typed(r, `Achat ${pick(r, LABELS)}`),
    invoice_number: `FA${String(id % 10_000_000).padStart(7, '0')}`,
    currency: 'EUR',
    amount: amount(a.total),
    currency_amount: amount(a.total),
    currency_amount_before_tax: amount(a.before),
    exchange_rate: '1.0',
    date,
    deadline: new Date(t.createdMs + 45 * DAY).toISOString().slice(0, 10),
    currency_tax: amount(a.tax),
    tax: amount(a.tax),
    reconciled: paid,
    accounting_status: pick(r, ['draft', 'archived', 'entry', 'validation_needed', 'complete']),
    filename: `facture_${id}.pdf`,
    public_file_url: `https://app.pennylane.com/public/supplier_invoice/pdf?encrypted_id=${(id * 40503) >>> 0}`,
    remaining_amount_with_tax: paid ? '0.00' : amount(a.total),
    remaining_amount_without_tax: paid ? '0.00' : amount(a.before),
    ledger_entry: ref(ctx, 'ledger_entries', 800_000_000 + (id % 100_000_000)),
    supplier: ref(ctx, 'suppliers', ID_BASE.suppliers + 1 + Math.floor(r() * Math.max(1, sizes.suppliers))),
    invoice_lines: link(ctx, `supplier_invoices/${id}/invoice_lines`),
    categories: link(ctx, `supplier_invoices/${id}/categories`),
    transaction_reference: null,
    payment_status: paid ? 'fully_paid' : 'to_be_paid',
    paid,
    payments: link(ctx, `supplier_invoices/${id}/payments`),
    matched_transactions: link(ctx, `supplier_invoices/${id}/matched_transactions`),
    external_reference: `ext-si-${id}`,
    import_source: null,
    e_invoicing: null,
    archived_at: null,
    created_at: timestamp(t.createdMs, id),
    updated_at: timestamp(t.updatedMs, id + version),
  };
}

function address(r: () => number) {
  const [postal, city] = pick(r, CITIES);
  return { address: `${1 + Math.floor(r() * 120)} rue de la République`, postal_code: postal, city, country_alpha2: 'FR' };
}

function customer(ctx: RecordContext, id: number, version: number, t: Times): ApiRecord {
  const r = rng('cu', id, version);
  const company = r() < 0.8;
  const name = company ? `${pick(r, COMPANIES)} ${id % 1000}` : `Claire Bernard ${id % 1000}`;
  return {
    id,
    customer_type: company ? 'company' : 'individual',
    name: typed(r, name),
    ...(company ? { reg_no: String(300_000_000 + (id % 600_000_000)), vat_number: `FR${String(id % 100).padStart(2, '0')}${300_000_000 + (id % 600_000_000)}` } : { first_name: 'Claire', last_name: `Bernard ${id % 1000}` }),
    billing_iban: r() < 0.3 ? `FR76${String(id).padStart(23, '0')}` : null,
    payment_conditions: pick(r, ['upon_receipt', '15_days', '30_days', '45_days', '60_days']),
    recipient: '',
    phone: `+33 1 ${String(id % 100).padStart(2, '0')} 45 67 89`,
    reference: null,
    notes: r() < 0.1 ? typed(r, 'Client historique') : null,
    ledger_account: ref(ctx, 'ledger_accounts', 900_000_000 + (id % 100_000_000)),
    emails: [`compta+${id}@example.fr`],
    billing_address: address(r),
    delivery_address: address(r),
    external_reference: `ext-cu-${id}`,
    billing_language: 'fr_FR',
    mandates: link(ctx, `customers/${id}/mandates`),
    pro_account_mandates: link(ctx, `customers/${id}/pro_account_mandates`),
    contacts: link(ctx, `customers/${id}/contacts`),
    created_at: timestamp(t.createdMs, id),
    updated_at: timestamp(t.updatedMs, id + version),
  };
}

function supplier(ctx: RecordContext, id: number, version: number, t: Times): ApiRecord {
  const r = rng('su', id, version);
  return {
    id,
    name: typed(r, `${pick(r, COMPANIES)} Fournitures ${id % 1000}`),
    establishment_no: null,
    reg_no: String(400_000_000 + (id % 500_000_000)),
    vat_number: `FR${String(id % 97).padStart(2, '0')}${400_000_000 + (id % 500_000_000)}`,
    ledger_account: ref(ctx, 'ledger_accounts', 950_000_000 + (id % 50_000_000)),
    emails: [`factures+${id}@fournisseur.example.fr`],
    iban: `FR76${String(id).padStart(23, '1')}`,
    postal_address: address(r),
    supplier_payment_method: pick(r, ['transfer', 'direct_debit', null]),
    supplier_due_date_delay: pick(r, [0, 30, 45, 60]),
    supplier_due_date_rule: pick(r, ['days', 'days_end_of_month']),
    external_reference: `ext-su-${id}`,
    created_at: timestamp(t.createdMs, id),
    updated_at: timestamp(t.updatedMs, id + version),
  };
}

function product(ctx: RecordContext, id: number, version: number, t: Times): ApiRecord {
  const r = rng('pr', id, version);
  const [vatCode, vatBp] = pick(r, VAT);
  const before = Math.floor(r() * 500_000) + 100;
  return {
    id,
    label: typed(r, `${pick(r, LABELS)} n°${id % 10_000}`),
    description: '',
    external_reference: `ext-pr-${id}`,
    price_before_tax: amount(before),
    vat_rate: vatCode,
    price: amount(before + Math.round((before * vatBp) / 10_000)),
    unit: pick(r, ['piece', 'hour', 'day', 'month']),
    currency: 'EUR',
    reference: `REF-${id % 100_000}`,
    ledger_account: ref(ctx, 'ledger_accounts', 970_000_000 + (id % 10_000_000)),
    archived_at: null,
    created_at: timestamp(t.createdMs, id),
    updated_at: timestamp(t.updatedMs, id + version),
  };
}

function transaction(ctx: RecordContext, id: number, version: number, t: Times, sizes: Record<Resource, number>): ApiRecord {
  const r = rng('tx', id, version);
  const outflow = r() < 0.6;
  const cents = (outflow ? -1 : 1) * (Math.floor(r() * 1_500_000) + 100);
  const reconciled = r() < 0.7;
  return {
    id,
    label: typed(r, outflow ? `PRLV SEPA ${pick(r, COMPANIES).toUpperCase()}` : `VIR ${pick(r, COMPANIES).toUpperCase()}`),
    attachment_required: outflow,
    date: new Date(t.createdMs).toISOString().slice(0, 10),
    outstanding_balance: reconciled ? null : amount(cents),
    currency: 'EUR',
    currency_amount: amount(cents),
    amount: amount(cents),
    currency_fee: '0.0',
    fee: '0.0',
    journal: ref(ctx, 'journals', 10_000 + (id % 3)),
    bank_account: ref(ctx, 'bank_accounts', 20_000 + (id % 2)),
    pro_account_expense: null,
    customer: outflow ? null : ref(ctx, 'customers', ID_BASE.customers + 1 + Math.floor(r() * Math.max(1, sizes.customers))),
    supplier: outflow ? ref(ctx, 'suppliers', ID_BASE.suppliers + 1 + Math.floor(r() * Math.max(1, sizes.suppliers))) : null,
    categories: [],
    matched_invoices: link(ctx, `transactions/${id}/matched_invoices`),
    interbank_code: null,
    archived_at: null,
    created_at: timestamp(t.createdMs, id),
    updated_at: timestamp(t.updatedMs, id + version),
  };
}

const MAKERS: Record<Resource, (ctx: RecordContext, id: number, version: number, t: Times, sizes: Record<Resource, number>) => ApiRecord> = {
  customer_invoices: customerInvoice,
  supplier_invoices: supplierInvoice,
  customers: (c, i, v, t) => customer(c, i, v, t),
  suppliers: (c, i, v, t) => supplier(c, i, v, t),
  products: (c, i, v, t) => product(c, i, v, t),
  transactions: transaction,
};

interface Change {
  version: number;
  deleted: boolean;
  createdMs?: number;
  updatedMs: number;
}

/** A field the API "grows" (a new attribute shipped by Pennylane), visible once its request count is reached. */
export interface GrownField {
  name: string;
  /** List requests to this resource served before the field appears (0: at once). */
  afterRequests: number;
}

/** One resource's state: the seeded range, the changes since, the changelog. */
export class ResourceStore {
  readonly base: number;
  seeded: number;
  nextId: number;
  private readonly changes = new Map<number, Change>();
  readonly events: ChangelogEvent[] = [];
  readonly grown: GrownField[] = [];
  listRequests = 0;

  constructor(
    readonly resource: Resource,
    size: number,
  ) {
    this.base = ID_BASE[resource];
    this.seeded = size;
    this.nextId = this.base + size + 1;
  }

  get maxId(): number {
    return this.nextId - 1;
  }

  exists(id: number): boolean {
    if (id <= this.base || id >= this.nextId) return false;
    const c = this.changes.get(id);
    if (c) return !c.deleted;
    return id <= this.base + this.seeded;
  }

  /** Seeded records were created over the two years before the seed epoch and not touched in the last 30 days of it. */
  private seededTimes(id: number, epochMs: number): Times {
    const r = rng('t', this.resource, id);
    const createdMs = epochMs - 30 * DAY - Math.floor(r() * 700 * DAY);
    return { createdMs, updatedMs: createdMs + Math.floor(r() * 25 * DAY) };
  }

  record(ctx: RecordContext, id: number, sizes: Record<Resource, number>): ApiRecord | undefined {
    if (!this.exists(id)) return undefined;
    const c = this.changes.get(id);
    const seeded = this.seededTimes(id, ctx.seedEpochMs);
    const times = { createdMs: c?.createdMs ?? seeded.createdMs, updatedMs: c?.updatedMs ?? seeded.updatedMs };
    const rec = MAKERS[this.resource](ctx, id, c?.version ?? 0, times, sizes);
    for (const g of this.grown) if (this.listRequests > g.afterRequests) rec[g.name] = grownValue(g.name, id);
    return rec;
  }

  private event(id: number, operation: ChangelogEvent['operation'], nowMs: number, micros: number): void {
    const at = timestamp(nowMs, micros);
    const c = this.changes.get(id);
    const created = c?.createdMs ?? nowMs;
    this.events.push({ seq: this.events.length + 1, id, operation, processed_at: at, created_at: timestamp(created), updated_at: at });
  }

  insert(nowMs: number, micros: number): number {
    const id = this.nextId++;
    this.changes.set(id, { version: 0, deleted: false, createdMs: nowMs, updatedMs: nowMs });
    this.event(id, 'insert', nowMs, micros);
    return id;
  }

  update(id: number, nowMs: number, micros: number): boolean {
    if (!this.exists(id)) return false;
    const c = this.changes.get(id);
    this.changes.set(id, { ...c, version: (c?.version ?? 0) + 1, deleted: false, updatedMs: nowMs });
    this.event(id, 'update', nowMs, micros);
    return true;
  }

  delete(id: number, nowMs: number, micros: number): boolean {
    if (!this.exists(id)) return false;
    const c = this.changes.get(id);
    this.changes.set(id, { version: c?.version ?? 0, deleted: true, createdMs: c?.createdMs, updatedMs: nowMs });
    this.event(id, 'delete', nowMs, micros);
    return true;
  }

  /** Ids in the given order after `after` (exclusive), skipping deleted ones, up to `limit`. */
  ids(order: 'asc' | 'desc', after: number | undefined, limit: number): { ids: number[]; more: boolean } {
    const out: number[] = [];
    if (order === 'desc') {
      for (let id = after === undefined ? this.maxId : after - 1; id > this.base; id--) {
        if (!this.exists(id)) continue;
        if (out.length === limit) return { ids: out, more: true };
        out.push(id);
      }
    } else {
      for (let id = after === undefined ? this.base + 1 : after + 1; id < this.nextId; id++) {
        if (!this.exists(id)) continue;
        if (out.length === limit) return { ids: out, more: true };
        out.push(id);
      }
    }
    return { ids: out, more: false };
  }

  liveIds(): number[] {
    return this.ids('asc', undefined, Number.MAX_SAFE_INTEGER).ids;
  }
}

/** A grown field's value: a decimal string for `*amount*` names (so the loader sees the usual shape), text otherwise. */
export function grownValue(name: string, id: number): string {
  return /amount|price|total/.test(name) ? amount((id % 100_000) * 7 + 1) : `valeur-${id % 97}`;
}

/**
 * The trial balance (`GET /trial_balance`): one line per ledger account of the French chart of accounts
 * (PCG), ascending `number`, with the period's debits and credits as decimal strings. Account numbers
 * are the PCG roots, then sub-accounts `<root>0001`…; `formatted_number` pads to 8 digits. Amounts are
 * computed from (number, period), so a page is the same whenever it is asked.
 */
const PCG: readonly (readonly [string, string])[] = [
  ['101', 'Capital souscrit - appelé, versé'],
  ['106', 'Réserves'],
  ['120', "Résultat de l'exercice (bénéfice)"],
  ['164', 'Emprunts auprès des établissements de crédit'],
  ['205', 'Concessions et droits similaires, brevets, licences'],
  ['215', 'Installations techniques, matériel et outillage'],
  ['218', 'Autres immobilisations corporelles'],
  ['281', 'Amortissements des immobilisations corporelles'],
  ['401', 'Fournisseurs'],
  ['404', "Fournisseurs d'immobilisations"],
  ['408', 'Fournisseurs - Factures non parvenues'],
  ['411', 'Clients'],
  ['416', 'Clients douteux ou litigieux'],
  ['421', 'Personnel - Rémunérations dues'],
  ['431', 'Sécurité sociale'],
  ['437', 'Autres organismes sociaux'],
  ['44566', 'TVA déductible sur autres biens et services'],
  ['44571', 'TVA collectée'],
  ['455', 'Associés - Comptes courants'],
  ['467', 'Autres comptes débiteurs ou créditeurs'],
  ['486', "Charges constatées d'avance"],
  ['512', 'Banques'],
  ['530', 'Caisse'],
  ['601', 'Achats stockés - Matières premières'],
  ['604', "Achats d'études et prestations de services"],
  ['606', 'Achats non stockés de matière et fournitures'],
  ['613', 'Locations'],
  ['615', 'Entretien et réparations'],
  ['616', "Primes d'assurances"],
  ['622', "Rémunérations d'intermédiaires et honoraires"],
  ['623', 'Publicité, publications, relations publiques'],
  ['625', 'Déplacements, missions et réceptions'],
  ['626', 'Frais postaux et de télécommunications'],
  ['627', 'Services bancaires et assimilés'],
  ['635', 'Autres impôts, taxes et versements assimilés'],
  ['641', 'Rémunérations du personnel'],
  ['645', 'Charges de sécurité sociale et de prévoyance'],
  ['661', "Charges d'intérêts"],
  ['681', 'Dotations aux amortissements, dépréciations et provisions'],
  ['701', 'Ventes de produits finis'],
  ['706', 'Prestations de services'],
  ['708', 'Produits des activités annexes'],
  ['709', 'Rabais, remises et ristournes accordés'],
  ['758', 'Produits divers de gestion courante'],
  ['768', 'Autres produits financiers'],
];

export interface TrialBalanceLine {
  number: string;
  formatted_number: string;
  label: string;
  debits: string;
  credits: string;
}

/** The `count` accounts of the trial balance over [periodStart, periodEnd], ascending number. */
export function trialBalance(count: number, periodStart: string, periodEnd: string): TrialBalanceLine[] {
  const lines: TrialBalanceLine[] = [];
  for (let i = 0; i < count; i++) {
    const [root, label] = PCG[i % PCG.length]!;
    const sub = Math.floor(i / PCG.length);
    const number = sub === 0 ? root : `${root}${String(sub).padStart(Math.min(4, 8 - root.length), '0')}`;
    const r = rng('tb', number, periodStart, periodEnd);
    const debit = r() < 0.15 ? 0 : Math.floor(r() * 5_000_000);
    const credit = r() < 0.15 ? 0 : Math.floor(r() * 5_000_000);
    lines.push({ number, formatted_number: number.padEnd(8, '0'), label: typed(r, sub === 0 ? label : `${label} - ${sub}`), debits: amount(debit), credits: amount(credit) });
  }
  return lines.sort((a, b) => (a.number < b.number ? -1 : a.number > b.number ? 1 : 0));
}
