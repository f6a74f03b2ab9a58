/**
 * Every input → expected pair of QFDMOD's tests (tests/fixtures/consolidation/golden-vectors.from-tests.json,
 * transcribed from its pytest tables) runs here against the ported normalisers. Each group of the file
 * must have a runner: a group added to the file without one fails the suite.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  COLUMN_TRANSFORMS,
  cleanAdresse,
  cleanIdentifiantExterne,
  cleanIdentifiantUnique,
  cleanSiretAndSiren,
  cleanTelephone,
  displayedUuid,
  IdentifiantExterneError,
  IdentifiantUniqueError,
  ImportSourceError,
  ImportSourceWarning,
  mergeSousCategoriesColumns,
  parentIdGenerate,
  stringBasic,
  stringOrderUniqueWords,
  stringRemoveSmallWords,
  type NormalizeContext,
} from '../../activities/consolidation/normalize';

interface Group {
  file: string;
  cases?: unknown[];
  warns?: unknown[];
  raises?: Record<string, unknown[]>;
  [k: string]: unknown;
}
const golden = JSON.parse(readFileSync(new URL('../fixtures/consolidation/golden-vectors.from-tests.json', import.meta.url), 'utf8')) as Record<string, Group>;
const ctx: NormalizeContext = { productMapping: {} };

type Case = [input: unknown, expected: unknown, options?: { also_nan?: boolean }];
type Runner = (group: Group) => void;

/** Runs each case (and its NaN twin), then checks each `warns` input raises a warning. */
function columnRunner(fn: (v: unknown) => unknown): Runner {
  return (group) => {
    for (const [input, expected, options] of group.cases as Case[]) {
      assert.deepEqual(fn(input), expected, `${JSON.stringify(input)}`);
      if (options?.also_nan) {
        const nanTwin = Array.isArray(input) ? input.map((v: unknown) => (v === null ? Number.NaN : v)) : Number.NaN;
        assert.deepEqual(fn(nanTwin), expected, 'NaN');
      }
    }
    for (const input of group.warns ?? []) assert.throws(() => fn(input), ImportSourceWarning, `${JSON.stringify(input)} must warn`);
  };
}

const column = (name: keyof typeof COLUMN_TRANSFORMS) => columnRunner((v) => (COLUMN_TRANSFORMS[name] as (v: unknown, c: NormalizeContext) => unknown)(v, ctx));

const RUNNERS: Record<string, Runner> = {
  'normalize.string_basic': columnRunner(stringBasic),
  'normalize.string_remove_small_words(s,size)': columnRunner((args) => stringRemoveSmallWords(...(args as [unknown, number]))),
  'normalize.string_order_unique_words': columnRunner(stringOrderUniqueWords),
  'transform_column.cast_eo_boolean_or_string_to_boolean': column('cast_eo_boolean_or_string_to_boolean'),
  'transform_column.clean_siren': column('clean_siren'),
  'transform_column.clean_siret': column('clean_siret'),
  'transform_column.clean_number': column('clean_number'),
  'transform_column.strip_string': column('strip_string'),
  'transform_column.strip_lower_string': column('strip_lower_string'),
  'transform_column.clean_acteur_type_code': (group) => {
    column('clean_acteur_type_code')(group);
    for (const input of group.raises!.ActeurTypeCodeError!) assert.throws(() => COLUMN_TRANSFORMS.clean_acteur_type_code(input), ImportSourceError);
  },
  'transform_column.clean_public_accueilli': column('clean_public_accueilli'),
  'transform_column.clean_reprise': column('clean_reprise'),
  'transform_column.clean_url': column('clean_url'),
  'transform_column.clean_email': column('clean_email'),
  'transform_column.clean_code_postal': column('clean_code_postal'),
  'transform_column.clean_horaires_osm': column('clean_horaires_osm'),
  'transform_column.convert_opening_hours': column('convert_opening_hours'),
  'transform_df.clean_telephone(telephone,code_postal)': columnRunner((args) => {
    const [telephone, codePostal] = args as [unknown, unknown];
    try {
      return cleanTelephone([
        ['telephone', telephone],
        ['code_postal', codePostal],
      ])[0];
    } catch (e) {
      // QFDMOD's test reads the blanked destination the normalisation loop leaves after a warning.
      if (e instanceof ImportSourceWarning) return '';
      throw e;
    }
  }),
  'transform_df.clean_siret_and_siren(siret,siren)->(siret,siren)': columnRunner((args) => {
    const [siret, siren] = args as [unknown, unknown];
    return cleanSiretAndSiren([
      ['siret', siret],
      ['siren', siren],
    ]);
  }),
  'transform_df.clean_identifiant_externe(identifiant_externe,acteur_type_code,nom)': (group) => {
    const run = ([id, type, nom]: unknown[]) =>
      cleanIdentifiantExterne([
        ['identifiant_externe', id],
        ['acteur_type_code', type],
        ['nom', nom],
      ])[0];
    columnRunner((args) => run(args as unknown[]))(group);
    const [[label, inputs]] = Object.entries(group.raises!) as [[string, [unknown, unknown][]]];
    assert.match(label, /IdentifiantExterneError/);
    for (const [id, nom] of inputs) {
      assert.throws(() => run([id, 'commerce', nom]), (e: unknown) => e instanceof IdentifiantExterneError && /`identifiant_externe`/.test(e.message) && /`nom`/.test(e.message));
    }
  },
  'transform_df.clean_identifiant_unique(identifiant_externe,source_code)': (group) => {
    const run = ([ext, source]: unknown[]) =>
      cleanIdentifiantUnique([
        ['identifiant_externe', ext],
        ['source_code', source],
      ])[0];
    columnRunner((args) => run(args as unknown[]))(group);
    assert.equal(Object.keys(group.raises!).length, 1);
    assert.throws(() => run([null, 'source']), (e: unknown) => e instanceof IdentifiantUniqueError && /identifiant_externe/.test(e.message));
    assert.throws(() => run(['', 'source']), IdentifiantUniqueError);
  },
  'transform_df.merge_sous_categories_columns(row)->produitsdechets_acceptes': columnRunner((row) => mergeSousCategoriesColumns(Object.entries(row as Record<string, unknown>))[0]),
  'transform_df.clean_adresse(adresse_format_ban) without BAN': (group) => {
    for (const [input, expected] of group.cases as Case[]) {
      const [adresse, code_postal, ville] = cleanAdresse([['adresse_format_ban', input]]);
      assert.deepEqual({ adresse, code_postal, ville }, expected, JSON.stringify(input));
    }
    for (const input of group.warns!) assert.throws(() => cleanAdresse([['adresse_format_ban', input]]), ImportSourceWarning);
  },
  'cluster.parent_id_generate': (group) => {
    const computed = group.computed_here as { input: string[]; output: string };
    assert.equal(parentIdGenerate(computed.input), computed.output);
    for (const order of [
      ['a', 'b', 'c'],
      ['a', 'c', 'b'],
      ['b', 'a', 'c'],
    ])
      assert.equal(parentIdGenerate(order), computed.output);
  },
  'dbt.int_acteur.uuid (displayed acteur uuid)': (group) => {
    const rows = group['verified_here_against_webapp/qfdmo/fixtures/acteurs.json'] as [string, string][];
    assert.equal(rows.length, 4);
    for (const [identifiantUnique, uuid] of rows) assert.equal(displayedUuid(identifiantUnique), uuid, identifiantUnique);
  },
};

/**
 * Groups whose code is the clustering's (activities/consolidation/cluster/, built on the cons-cluster
 * branch): their vectors run in that branch's tests. Listed by name so that nothing is left out silently.
 */
const CLUSTERING_GROUPS = ['cluster.parents_choose_data.value_is_empty', 'cluster.parents_choose_data.field_pick_value(values,keep_empty)', 'cluster.clusters(exact/fuzzy/distance)'];

describe('QFDMOD golden vectors', () => {
  const groups = Object.keys(golden).filter((k) => k !== '_provenance');

  test('every group of the golden file has a runner here or is a named clustering group', () => {
    const unknown = groups.filter((g) => !(g in RUNNERS) && !CLUSTERING_GROUPS.includes(g));
    assert.deepEqual(unknown, [], `groups without a runner: ${unknown.join(', ')}`);
    for (const g of CLUSTERING_GROUPS) assert.ok(groups.includes(g), `${g} is no longer in the golden file`);
  });

  for (const name of groups.filter((g) => g in RUNNERS)) {
    test(name, () => {
      const group = golden[name]!;
      RUNNERS[name]!(group);
    });
  }
});
