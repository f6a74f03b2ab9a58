/**
 * Pennylane's v2 company API (`/api/external/v2`, DESIGN.md §3.3) as data. Lists page by cursor
 * (`{items, has_more, next_cursor}`, `limit` ≤ 100); changes come from `/changelogs/<resource>`
 * (`start_date` or `cursor`, never both; `limit` ≤ 1000; 4-week retention, 422 beyond), and the changed
 * records are re-fetched with `filter=[{"field":"id","operator":"in","value":[…]}]`. Amounts are decimal
 * strings: they load as `numeric`. `{id, url}` references become `<name>_id`; `{url}` links to
 * sub-collections are not stored.
 */
import type { ColumnType, FieldSpec, IncrementalStrategy, SourceDefinition, StreamDefinition } from '../definition';

const cursor = {
  style: 'cursor',
  cursorParam: 'cursor',
  limitParam: 'limit',
  itemsField: 'items',
  hasMoreField: 'has_more',
  nextCursorField: 'next_cursor',
  maxPageSize: 100,
} as const;

function changelog(resource: string): IncrementalStrategy {
  return {
    strategy: 'changelog',
    path: `/changelogs/${resource}`,
    startParam: 'start_date',
    timeField: 'processed_at',
    operationField: 'operation',
    idField: 'id',
    maxPageSize: 1000,
    retentionDays: 28,
    retentionStatus: 422,
    refetch: { filterParam: 'filter', batchSize: 100, encode: (ids) => JSON.stringify([{ field: 'id', operator: 'in', value: ids }]) },
  };
}

const ref: FieldSpec = { type: 'bigint', transform: 'ref' };
const link: FieldSpec = { type: 'text', transform: 'drop' };
const stamps = { created_at: 'timestamptz', updated_at: 'timestamptz', archived_at: 'timestamptz' } as const satisfies Record<string, ColumnType>;

function stream(name: string, fields: Record<string, ColumnType | FieldSpec>): StreamDefinition {
  return { name, path: `/${name}`, primaryKey: 'id', pagination: cursor, incremental: changelog(name), fields: { id: 'bigint', ...fields, ...stamps } };
}

const invoiceAmounts = {
  amount: 'numeric',
  currency_amount: 'numeric',
  currency_amount_before_tax: 'numeric',
  exchange_rate: 'numeric',
  currency_tax: 'numeric',
  tax: 'numeric',
  remaining_amount_with_tax: 'numeric',
  remaining_amount_without_tax: 'numeric',
} as const satisfies Record<string, ColumnType>;

export const pennylane: SourceDefinition = {
  name: 'pennylane',
  auth: { kind: 'bearer' },
  rateLimit: { requests: 25, windowMs: 5_000 },
  whoAmIPath: '/me',
  streams: [
    stream('customer_invoices', {
      label: 'text',
      invoice_number: 'text',
      currency: 'text',
      ...invoiceAmounts,
      date: 'date',
      deadline: 'date',
      language: 'text',
      paid: 'boolean',
      status: 'text',
      discount: 'jsonb',
      ledger_entry: ref,
      public_file_url: 'text',
      filename: 'text',
      draft: 'boolean',
      special_mention: 'text',
      customer: ref,
      invoice_line_sections: link,
      invoice_lines: link,
      custom_header_fields: link,
      categories: link,
      pdf_invoice_free_text: 'text',
      pdf_invoice_subject: 'text',
      pdf_description: 'text',
      billing_subscription: ref,
      credited_invoice: ref,
      customer_invoice_template: ref,
      transaction_reference: 'jsonb',
      payments: link,
      matched_transactions: link,
      appendices: link,
      quote: ref,
      external_reference: 'text',
      e_invoicing: 'jsonb',
      factur_x: 'boolean',
    }),
    stream('supplier_invoices', {
      label: 'text',
      invoice_number: 'text',
      currency: 'text',
      ...invoiceAmounts,
      date: 'date',
      deadline: 'date',
      reconciled: 'boolean',
      accounting_status: 'text',
      filename: 'text',
      public_file_url: 'text',
      ledger_entry: ref,
      supplier: ref,
      invoice_lines: link,
      categories: link,
      transaction_reference: 'jsonb',
      payment_status: 'text',
      paid: 'boolean',
      payments: link,
      matched_transactions: link,
      external_reference: 'text',
      import_source: 'jsonb',
      e_invoicing: 'jsonb',
    }),
    stream('customers', {
      customer_type: 'text',
      name: 'text',
      first_name: 'text',
      last_name: 'text',
      reg_no: 'text',
      vat_number: 'text',
      billing_iban: 'text',
      payment_conditions: 'text',
      recipient: 'text',
      phone: 'text',
      reference: 'text',
      notes: 'text',
      ledger_account: ref,
      emails: 'jsonb',
      billing_address: 'jsonb',
      delivery_address: 'jsonb',
      external_reference: 'text',
      billing_language: 'text',
      mandates: link,
      pro_account_mandates: link,
      contacts: link,
    }),
    stream('suppliers', {
      name: 'text',
      establishment_no: 'text',
      reg_no: 'text',
      vat_number: 'text',
      ledger_account: ref,
      emails: 'jsonb',
      iban: 'text',
      postal_address: 'jsonb',
      supplier_payment_method: 'text',
      supplier_due_date_delay: 'bigint',
      supplier_due_date_rule: 'text',
      external_reference: 'text',
    }),
    stream('products', {
      label: 'text',
      description: 'text',
      external_reference: 'text',
      price_before_tax: 'numeric',
      vat_rate: 'text',
      price: 'numeric',
      unit: 'text',
      currency: 'text',
      reference: 'text',
      ledger_account: ref,
    }),
    stream('transactions', {
      label: 'text',
      attachment_required: 'boolean',
      date: 'date',
      outstanding_balance: 'numeric',
      currency: 'text',
      currency_amount: 'numeric',
      amount: 'numeric',
      currency_fee: 'numeric',
      fee: 'numeric',
      journal: ref,
      bank_account: ref,
      pro_account_expense: 'jsonb',
      customer: ref,
      supplier: ref,
      categories: 'jsonb',
      matched_invoices: link,
      interbank_code: 'text',
    }),
  ],
};
