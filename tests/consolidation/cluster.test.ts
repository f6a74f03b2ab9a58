/**
 * Clustering as QFDMOD's tests pin it (CONSOLIDATION.md §5): test_cluster_acteurs_clusters.py (exact,
 * fuzzy and distance modes, singletons removed, parents not discarded, intra-source split),
 * …_parents_choose_new.py, …_parents_choose_data.py, …_clusters_validate.py and
 * …_suggestions_prepare.py (failing clusters skipped), plus the config's refusals and the re-check of
 * intra-source parts. Values are small and checked by hand.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClusterConfigError, parseClusterConfig, type ClusterConfigInput } from '../../activities/consolidation/cluster/config';
import { groupRows, type ClusterRow, type GroupingParams } from '../../activities/consolidation/cluster/clusters';
import { clusterActeurs, selectCandidates, validateClusters, type ClusterCandidate } from '../../activities/consolidation/cluster';
import {
  chooseParent,
  chooseParentData,
  clusterChanges,
  fieldPickValue,
  parentIdGenerate,
  REASONS,
  valueIsEmpty,
} from '../../activities/consolidation/cluster/parents';

type RowSpec = { id: string; sources?: string[]; lat?: number; lon?: number } & Record<string, unknown>;

function rows(specs: RowSpec[]): ClusterRow[] {
  return specs.map(({ id, sources, lat, lon, ...values }) => ({
    id,
    values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)])),
    sourceCodes: sources ?? [`src-${id}`],
    latitude: lat ?? null,
    longitude: lon ?? null,
  }));
}

const params = (p: Partial<GroupingParams>): GroupingParams => ({
  exactFields: [],
  fuzzyFields: [],
  threshold: 0.5,
  distanceInCluster: 0,
  intraSourceAllowed: true,
  ...p,
});

/** cluster id → member ids, like QFDMOD's df_clusters_to_dict. */
function byId(input: ClusterRow[], p: GroupingParams): Record<string, string[]> {
  const { clusters } = groupRows(input, p);
  return Object.fromEntries(clusters.map((c) => [c.clusterId, c.members.map((m) => input[m]!.id)]));
}

let serial = 0;
function acteur(partial: Partial<ClusterCandidate> & { data?: Record<string, unknown> }): ClusterCandidate {
  serial++;
  const sourceCode = partial.sourceCode === undefined ? `s${serial}` : partial.sourceCode;
  return {
    identifiantUnique: partial.identifiantUnique ?? `a${serial}`,
    estParent: partial.estParent ?? false,
    parentId: partial.parentId ?? null,
    sourceCode,
    sourceCodes: partial.sourceCodes ?? (sourceCode === null ? [] : [sourceCode]),
    acteurTypeCode: partial.acteurTypeCode === undefined ? 'commerce' : partial.acteurTypeCode,
    statut: partial.statut ?? 'ACTIF',
    nombreEnfants: partial.nombreEnfants ?? 0,
    latitude: partial.latitude ?? null,
    longitude: partial.longitude ?? null,
    data: partial.data ?? {},
  };
}

const baseConfig: ClusterConfigInput = { selection: { acteurTypes: { value: ['commerce'] } } };

describe('grouping (test_cluster_acteurs_clusters.py)', () => {
  test('exact only on ville', () => {
    const input = rows([
      { id: 'id1', ville: 'paris' },
      { id: 'id2', ville: 'paris' },
      { id: 'id3', ville: 'laval' },
      { id: 'id4', ville: 'laval' },
    ]);
    assert.deepEqual(byId(input, params({ exactFields: ['ville'] })), { laval: ['id3', 'id4'], paris: ['id1', 'id2'] });
  });

  test('fuzzy only on nom at 0.2 (cosine 0.38332 within each brand, 0 across)', () => {
    const input = rows([
      { id: 'id0', nom: 'auchan magasin' },
      { id: 'id1', nom: 'auchan boutique' },
      { id: 'id2', nom: 'carrefour depot' },
      { id: 'id3', nom: 'carrefour entrepot' },
    ]);
    assert.deepEqual(byId(input, params({ fuzzyFields: ['nom'], threshold: 0.2 })), { nom_1: ['id0', 'id1'], nom_2: ['id2', 'id3'] });
    // 0.38332 < 0.4: no edge, no cluster.
    assert.deepEqual(byId(input, params({ fuzzyFields: ['nom'], threshold: 0.4 })), {});
  });

  test('distance only, 100 m: 11 m pairs join, Paris and Marseille do not; chains connect', () => {
    const input = rows([
      { id: 'id0', lat: 48.8566, lon: 2.3522 },
      { id: 'id1', lat: 48.8567, lon: 2.3522 },
      { id: 'id2', lat: 43.2965, lon: 5.3698 },
      { id: 'id3', lat: 43.2966, lon: 5.3698 },
    ]);
    assert.deepEqual(byId(input, params({ distanceInCluster: 100 })), { distance_1: ['id0', 'id1'], distance_2: ['id2', 'id3'] });
    // a–b 11 m, b–c 11 m, a–c 22 m: one component under 15 m.
    const chain = rows([
      { id: 'a', lat: 48.8566, lon: 2.3522 },
      { id: 'b', lat: 48.8567, lon: 2.3522 },
      { id: 'c', lat: 48.8568, lon: 2.3522 },
      { id: 'no-coordinates' },
    ]);
    assert.deepEqual(byId(chain, params({ distanceInCluster: 15 })), { distance_1: ['a', 'b', 'c'] });
    assert.deepEqual(byId(chain, params({ distanceInCluster: 10 })), {});
  });

  test('clusters of one are removed', () => {
    const input = rows([
      { id: 'id1', code_postal: '13000', ville: 'marseille', nom: 'd 1' },
      { id: 'id2', code_postal: '75000', ville: 'paris', nom: 'd 1' },
      { id: 'id3', code_postal: '53000', ville: 'laval', nom: 'd 1' },
      { id: 'id4', code_postal: '13000', ville: 'marseille', nom: 'd 1' },
    ]);
    assert.deepEqual(byId(input, params({ exactFields: ['ville'] })), { marseille: ['id1', 'id4'] });
  });

  test('exact then fuzzy: components named in order of their strongest edge', () => {
    const noms = ['centre commercial auchan', 'artiste peintre auchan', 'centre auchan', 'centre carrefour', 'artiste peintre', 'centre commercial carrefour', 'je suis tout seul :('];
    const input = rows(noms.map((nom, i) => ({ id: `id${i}`, sources: ['s1'], code_postal: '10000', nom })));
    assert.deepEqual(byId(input, params({ exactFields: ['code_postal'], fuzzyFields: ['nom'], threshold: 0.7 })), {
      '10000_nom_1': ['id1', 'id4'],
      '10000_nom_2': ['id3', 'id5'],
      '10000_nom_3': ['id0', 'id2'],
    });
  });

  test('several fuzzy fields refine one another (test_cols_group_fuzzy_multi)', () => {
    const col1 = ['apple orange', 'orphan1', 'orphan2', 'orphan3', 'apple orange blue', 'apple orange blue', 'apple orange blue green', ''];
    const col2 = Array.from({ length: 7 }, () => 'fruit salad').concat(['']);
    const col3 = ['sweet', 'sweet', 'sour', 'sweet', 'sweet', 'bitter', 'bitter', ''];
    const input = rows(col1.map((c, i) => ({ id: String(i), col1: c, col2: col2[i], col3: col3[i] })));
    const { clusters } = groupRows(input, params({ fuzzyFields: ['col1', 'col2', 'col3'] }));
    assert.deepEqual(clusters.map((c) => c.members.map((m) => input[m]!.id)), [['0', '4'], ['5', '6']]);
  });

  test('a threshold of 0 keeps each block whole', () => {
    const input = rows([
      { id: 'a', ville: 'laval', nom: 'garage martin' },
      { id: 'b', ville: 'laval', nom: 'pharmacie du centre' },
      { id: 'c', ville: 'laval', nom: 'ressourcerie' },
    ]);
    assert.deepEqual(byId(input, params({ exactFields: ['ville'], fuzzyFields: ['nom'], threshold: 0 })), { laval_nom_1: ['a', 'b', 'c'] });
  });

  test('parents are not discarded (a parent has no source of its own)', () => {
    const parent = acteur({ identifiantUnique: 'id13', estParent: true, sourceCode: null, sourceCodes: ['s1'], acteurTypeCode: null, data: { code_postal: '00004', ville: 'v4', nom: 'acteur c4 my p1 s1', adresse: '1 rue a' } });
    const c1 = acteur({ identifiantUnique: 'id14', sourceCode: 's1', acteurTypeCode: 'at1', data: { code_postal: '00004', ville: 'v4', nom: 'acteur c4 my s1', adresse: '1 rue a' } });
    const c2 = acteur({ identifiantUnique: 'id15', sourceCode: 's2', acteurTypeCode: 'at1', data: { code_postal: '00004', ville: 'v4', nom: 'acteur c4 my s1', adresse: '1 rue a' } });
    const result = clusterActeurs([parent, c1, c2], [], {
      selection: { acteurTypes: { value: ['at1'] } },
      fuzzyFields: ['nom'],
      intraSourceAllowed: true,
    });
    assert.equal(result.suggestions.length, 1);
    assert.deepEqual(result.suggestions[0]!.changes.map((c) => c.model_params.id).sort(), ['id13', 'id14', 'id15']);
  });

  test('intra-source: two actors of one source make no cluster unless allowed', () => {
    const input = rows([
      { id: 'orphan1', sources: ['s1'], ville: 'laval' },
      { id: 'orphan2', sources: ['s1'], ville: 'laval' },
    ]);
    assert.deepEqual(byId(input, params({ exactFields: ['ville'], intraSourceAllowed: false })), {});
    assert.deepEqual(byId(input, params({ exactFields: ['ville'], intraSourceAllowed: true })), { laval: ['orphan1', 'orphan2'] });
  });

  test('intra-source split: most sources first, greedy, suffixes _1 _2, a lone leftover dropped', () => {
    const sources = [['s1'], ['s2'], ['s1', 's3'], ['s4'], ['s3'], ['s2'], ['s3'], ['s2'], ['s3']];
    const input = rows(sources.map((s, i) => ({ id: `a${i + 1}`, sources: s, nom: 'decheterie du village' })));
    assert.deepEqual(byId(input, params({ exactFields: ['nom'], intraSourceAllowed: true })), {
      'decheterie-du-village': input.map((r) => r.id),
    });
    // a3 (s1+s3) first, then a2 (s2), a4 (s4); next round a1 (s1), a5 (s3), a6 (s2); then a7 (s3), a8 (s2); a9 (s3) alone.
    assert.deepEqual(byId(input, params({ exactFields: ['nom'], intraSourceAllowed: false })), {
      'decheterie-du-village': ['a2', 'a3', 'a4'],
      'decheterie-du-village_1': ['a1', 'a5', 'a6'],
      'decheterie-du-village_2': ['a7', 'a8'],
    });
  });

  test('intra-source parts are checked again against the fuzzy rule (IDF refitted on the part)', () => {
    // In the block of 4 (shared word df = 2): P–Q 0.5, P–R 0.43779, Q–S 0.43779, R–S 0 (scikit-learn agrees) → one component at 0.3.
    // Greedy split: [P (s1), Q (s2)] and [R (s1), S (s2)]. Refitted on 2 rows, P–Q = 1 / (1 + (ln 1.5 + 1)²) = 0.3361 ≥ 0.3
    // stays; R–S share nothing and are dropped instead of being suggested as a cluster.
    const input = rows([
      { id: 'P', sources: ['s1'], ville: 'laval', nom: 'alpha beta' },
      { id: 'Q', sources: ['s2'], ville: 'laval', nom: 'beta delta' },
      { id: 'R', sources: ['s1'], ville: 'laval', nom: 'alpha gamma' },
      { id: 'S', sources: ['s2'], ville: 'laval', nom: 'delta epsilon' },
    ]);
    assert.deepEqual(byId(input, params({ exactFields: ['ville'], fuzzyFields: ['nom'], threshold: 0.3, intraSourceAllowed: true })), {
      laval_nom_1: ['P', 'Q', 'R', 'S'],
    });
    const split = groupRows(input, params({ exactFields: ['ville'], fuzzyFields: ['nom'], threshold: 0.3, intraSourceAllowed: false }));
    assert.deepEqual(split.clusters.map((c) => [c.clusterId, c.members.map((m) => input[m]!.id)]), [['laval_nom_1', ['P', 'Q']]]);
    assert.equal(split.stats.intraSourceSplits, 1);
    // At 0.34 the refitted P–Q (0.3361) fails too: nothing is suggested.
    assert.deepEqual(byId(input, params({ exactFields: ['ville'], fuzzyFields: ['nom'], threshold: 0.34, intraSourceAllowed: false })), {});
  });

  test('intra-source parts are checked again against the distance rule', () => {
    const input = rows([
      { id: 'A', sources: ['s1', 's2'], ville: 'laval', lat: 48.0, lon: -0.77 },
      { id: 'B', sources: ['s3'], ville: 'laval', lat: 48.0001, lon: -0.77 },
      { id: 'C', sources: ['s1'], ville: 'laval', lat: 48.0002, lon: -0.77 },
      { id: 'D', sources: ['s2'], ville: 'laval', lat: 48.0003, lon: -0.77 },
    ]);
    // A chain A–B–C–D under 15 m. Split: [A (s1+s2), B (s3)] then [C (s1), D (s2)]: both parts stay linked.
    assert.deepEqual(byId(input, params({ exactFields: ['ville'], distanceInCluster: 15, intraSourceAllowed: false })), {
      laval_distance_1: ['A', 'B'],
      laval_distance_1_1: ['C', 'D'],
    });
    // Make D far from C: the second part [C, D] no longer holds and is dropped.
    input[3]!.latitude = 48.01;
    assert.deepEqual(byId(input, params({ exactFields: ['ville'], distanceInCluster: 15, intraSourceAllowed: false })), {
      laval_distance_1: ['A', 'B'],
    });
  });
  test('a part that falls apart on re-check names its pieces _r1, _r2 (never clashing with the _1, _2 parts)', () => {
    // Metres along a meridian: A s1 @0, B s2 @5, X s1 @15, C s3 @25, D s4 @30; links under 15 m: A–B, B–X, X–C, C–D.
    const at = (m: number) => 48 + m / 111_195;
    const input = rows([
      { id: 'A', sources: ['s1'], ville: 'laval', lat: at(0), lon: 0 },
      { id: 'B', sources: ['s2'], ville: 'laval', lat: at(5), lon: 0 },
      { id: 'X', sources: ['s1'], ville: 'laval', lat: at(15), lon: 0 },
      { id: 'C', sources: ['s3'], ville: 'laval', lat: at(25), lon: 0 },
      { id: 'D', sources: ['s4'], ville: 'laval', lat: at(30), lon: 0 },
    ]);
    assert.deepEqual(byId(input, params({ exactFields: ['ville'], distanceInCluster: 15, intraSourceAllowed: true })), {
      laval_distance_1: ['A', 'B', 'X', 'C', 'D'],
    });
    // X (s1 again) leaves alone and is dropped; without it [A, B, C, D] breaks into A–B and C–D.
    assert.deepEqual(byId(input, params({ exactFields: ['ville'], distanceInCluster: 15, intraSourceAllowed: false })), {
      laval_distance_1_r1: ['A', 'B'],
      laval_distance_1_r2: ['C', 'D'],
    });
  });
});

describe('parent choice and change orders (test_cluster_acteurs_parents_choose_new.py)', () => {
  test('a new parent id is uuid5(NAMESPACE_DNS, sorted ids), order-insensitive', () => {
    assert.equal(parentIdGenerate(['a', 'b', 'c']), 'adfd1402-3869-5f70-add5-a33964372aff');
    assert.equal(parentIdGenerate(['a', 'c', 'b']), parentIdGenerate(['b', 'a', 'c']));
  });

  test('one parent kept; two: most children among ACTIF; none: created', () => {
    const p1 = acteur({ identifiantUnique: 'p1', estParent: true, sourceCode: null, nombreEnfants: 2 });
    const orphan = acteur({ identifiantUnique: 'o1' });
    assert.deepEqual(
      (({ parentId, modelName, reason }) => ({ parentId, modelName, reason }))(chooseParent([orphan, p1])),
      { parentId: 'p1', modelName: 'acteur_keep_as_parent', reason: REASONS.oneParentKept },
    );
    const p2 = acteur({ identifiantUnique: 'p2', estParent: true, sourceCode: null, nombreEnfants: 5, statut: 'INACTIF' });
    const p3 = acteur({ identifiantUnique: 'p3', estParent: true, sourceCode: null, nombreEnfants: 3 });
    assert.equal(chooseParent([p1, p2, p3, orphan]).parentId, 'p3', 'the INACTIF parent with 5 children loses to the ACTIF one with 3');
    const p4 = acteur({ identifiantUnique: 'p4', estParent: true, sourceCode: null, nombreEnfants: 1, statut: 'INACTIF' });
    assert.equal(chooseParent([p4, p2]).parentId, 'p2', 'no ACTIF parent: most children among all');
    const o2 = acteur({ identifiantUnique: 'o2' });
    const created = chooseParent([o2, orphan]);
    assert.equal(created.modelName, 'acteur_create_as_parent');
    assert.equal(created.parentId, parentIdGenerate(['o1', 'o2']));
  });

  test('orders: 1 parent, 2 children (verify when already attached), 3 losing parents', () => {
    const kept = acteur({ identifiantUnique: 'p-kept', estParent: true, sourceCode: null, nombreEnfants: 2, data: { nom: 'Garage Martin' } });
    const losing = acteur({ identifiantUnique: 'p-lost', estParent: true, sourceCode: null, nombreEnfants: 1, data: { nom: 'Garage Martin' } });
    const orphan = acteur({ identifiantUnique: 'orphan', sourceCode: 'cma', data: { nom: 'GARAGE MARTIN' } });
    const childKept = acteur({ identifiantUnique: 'child-kept', parentId: 'p-kept', sourceCode: 'refashion' });
    const childLost = acteur({ identifiantUnique: 'child-lost', parentId: 'p-lost', sourceCode: 'ecomaison' });
    const changes = clusterChanges([orphan, losing, kept], [childKept, childLost], parseClusterConfig(baseConfig).parentData);
    assert.deepEqual(
      changes.map((c) => [c.order, c.model_name, c.model_params.id, c.model_params.data?.parent_id ?? null]),
      [
        [1, 'acteur_keep_as_parent', 'p-kept', null],
        [2, 'acteur_verify_in_revision', 'child-kept', 'p-kept'],
        [2, 'acteur_update_parent_id', 'child-lost', 'p-kept'],
        [2, 'acteur_update_parent_id', 'orphan', 'p-kept'],
        [3, 'acteur_delete_as_parent', 'p-lost', null],
      ],
    );
    assert.equal(changes[4]!.model_params.data, undefined, 'a deletion carries the id only');
  });
});

describe('parent data (test_cluster_acteurs_parents_choose_data.py)', () => {
  test('value_is_empty and field_pick_value (golden vectors)', () => {
    for (const [value, expected] of [[null, true], ['', true], [' ', true], ['i@me.com', false]] as const) assert.equal(valueIsEmpty(value), expected);
    assert.equal(fieldPickValue(['💩', 'i@me.com', '💩'], false), '💩');
    assert.equal(fieldPickValue([' ', null, 'i@me.com', '💩'], false), 'i@me.com');
    assert.equal(fieldPickValue([' ', null, 'i@me.com', '💩'], true), ' ');
  });

  test('priority sources first, excluded sources never, excluded fields never, values equal to the parent omitted', () => {
    const options = parseClusterConfig({ ...baseConfig, parentData: { prioritySources: ['refashion', 'ecosystem'], excludedSources: ['sinoe'] } }).parentData;
    const fromSinoe = acteur({ identifiantUnique: 'a-sinoe', sourceCode: 'sinoe', data: { nom: 'SINOE NAME', email: 'sinoe@x.fr', siret: '11111111111111' } });
    const fromEcosystem = acteur({ identifiantUnique: 'b-eco', sourceCode: 'ecosystem', data: { nom: 'Eco Name', email: '', telephone: '0102030405', statut: 'INACTIF' } });
    const fromRefashion = acteur({ identifiantUnique: 'c-ref', sourceCode: 'refashion', data: { nom: 'Refashion Name', email: null, url: 'https://r.fr' } });
    const fromOther = acteur({ identifiantUnique: 'd-other', sourceCode: 'cma', data: { nom: 'Other', email: 'other@x.fr' } });
    // A new parent: no keep_empty, every picked value is new.
    assert.deepEqual(chooseParentData(null, [fromSinoe, fromEcosystem, fromRefashion, fromOther], options), {
      nom: 'Refashion Name',
      email: 'other@x.fr',
      telephone: '0102030405',
      url: 'https://r.fr',
    });
    // An existing parent: its own values come first; equal values are omitted.
    const parent = acteur({ identifiantUnique: 'p', estParent: true, sourceCode: null, data: { nom: 'Parent Name', url: '', telephone: '0102030405' } });
    assert.deepEqual(chooseParentData(parent, [fromEcosystem, fromRefashion, fromOther], options), { email: 'other@x.fr', url: 'https://r.fr' });
    // keep_empty on an existing parent: the parent's own empty url is kept → no change; its first value wins per field.
    const keepEmpty = { ...options, keepEmpty: true };
    assert.deepEqual(chooseParentData(parent, [fromEcosystem, fromRefashion, fromOther], keepEmpty), {});
    // Without the parent first, keep_empty takes the first priority source's value even when empty (refashion
    // has no telephone: the parent's is blanked); its null email equals the parent's missing one: omitted.
    assert.deepEqual(chooseParentData(parent, [fromEcosystem, fromRefashion, fromOther], { ...keepEmpty, keepParentDataByDefault: false }), {
      nom: 'Refashion Name',
      url: 'https://r.fr',
      telephone: null,
    });
  });
});

describe('validation (test_cluster_acteurs_clusters_validate.py)', () => {
  test('size 1, an acteur in two clusters and unordered ids are each reported', () => {
    assert.deepEqual(validateClusters([{ clusterId: 'a', acteurIds: ['1', '2'] }, { clusterId: 'b', acteurIds: ['3', '4'] }]), []);
    assert.deepEqual(
      validateClusters([{ clusterId: 'a', acteurIds: ['1'] }, { clusterId: 'b', acteurIds: ['3', '4'] }]).map((e) => [e.kind, e.clusterIds]),
      [['too-small', ['a']]],
    );
    assert.deepEqual(
      validateClusters([{ clusterId: 'a', acteurIds: ['1', '2'] }, { clusterId: 'b', acteurIds: ['2', '4'] }]).map((e) => [e.kind, e.clusterIds]),
      [['acteur-in-several-clusters', ['a', 'b']]],
    );
    assert.deepEqual(
      validateClusters([{ clusterId: 'b', acteurIds: ['1', '2'] }, { clusterId: 'a', acteurIds: ['3', '4'] }]).map((e) => [e.kind, e.clusterIds]),
      [['cluster-ids-not-ordered', ['b', 'a']]],
    );
  });
});

describe('a whole run', () => {
  const paris = { code_postal: '75011', ville: 'Paris' };
  const candidates = (): ClusterCandidate[] => [
    acteur({ identifiantUnique: 'refashion_1', sourceCode: 'refashion', data: { ...paris, nom: 'Emmaüs Connect', adresse: '5 Rue Saint-Maur' } }),
    acteur({ identifiantUnique: 'ecosystem_9', sourceCode: 'ecosystem', data: { ...paris, ville: 'PARIS', nom: 'EMMAUS CONNECT', adresse: '5 rue St Maur', email: 'contact@emmaus.fr' } }),
    acteur({ identifiantUnique: 'cma_3', sourceCode: 'cma', data: { ...paris, nom: 'Cordonnerie du Marché', adresse: '12 Bd Voltaire' } }),
    acteur({ identifiantUnique: 'lvao_2', sourceCode: 'lvao', data: { ...paris, nom: 'Cordonnerie du marche', adresse: '12 boulevard Voltaire' } }),
    acteur({ identifiantUnique: 'lvao_7', sourceCode: 'lvao', statut: 'INACTIF', data: { ...paris, nom: 'Emmaus Connect', adresse: '5 rue Saint Maur' } }),
    acteur({ identifiantUnique: 'ecomaison_4', sourceCode: 'ecomaison', acteurTypeCode: 'ess', data: { ...paris, nom: 'Emmaus Connect', adresse: '5 rue Saint Maur' } }),
    acteur({ identifiantUnique: 'cma_8', sourceCode: 'cma', data: { ...paris, nom: 'Garage Martin', adresse: null } }),
  ];

  test('one suggestion per cluster, contexte = exact values, inactive and other types left out', () => {
    const result = clusterActeurs(candidates(), [], { ...baseConfig, parentData: { prioritySources: ['ecosystem'] } });
    assert.deepEqual(
      result.suggestions.map((s) => [s.clusterId, s.contexte]),
      [
        ['75011_paris_nom_adresse_1', { code_postal: '75011', ville: 'paris' }],
        ['75011_paris_nom_adresse_2', { code_postal: '75011', ville: 'paris' }],
      ],
    );
    const emmaus = result.suggestions.find((s) => s.changes.some((c) => c.model_params.id === 'refashion_1'))!;
    const newParent = parentIdGenerate(['refashion_1', 'ecosystem_9']);
    assert.deepEqual(emmaus.changes, [
      {
        order: 1,
        reason: REASONS.noParentCreateOne,
        model_name: 'acteur_create_as_parent',
        // ecosystem has priority: its raw (non-normalised) values win.
        model_params: { id: newParent, data: { nom: 'EMMAUS CONNECT', adresse: '5 rue St Maur', code_postal: '75011', ville: 'PARIS', email: 'contact@emmaus.fr' } },
      },
      { order: 2, reason: REASONS.pointToNewParent, model_name: 'acteur_update_parent_id', model_params: { id: 'ecosystem_9', data: { parent_id: newParent } } },
      { order: 2, reason: REASONS.pointToNewParent, model_name: 'acteur_update_parent_id', model_params: { id: 'refashion_1', data: { parent_id: newParent } } },
    ]);
    assert.equal(result.stats.selectedOrphans, 5, 'the INACTIF and the ess actors are not candidates');
    assert.equal(result.stats.missingClusterField, 1, 'Garage Martin has no address');
    assert.deepEqual(result.failures, []);
  });

  test('a cluster that fails validation is skipped and reported, the others go on', () => {
    const input = candidates();
    input[2]!.identifiantUnique = '';
    const result = clusterActeurs(input, [], baseConfig);
    assert.equal(result.suggestions.length, 1);
    assert.equal(result.failures.length, 1);
    assert.equal(result.failures[0]!.error.type, 'ClusterValidationError');
    assert.match(result.failures[0]!.error.message, /model_params\.id/);
    assert.deepEqual(result.failures[0]!.acteurIds.sort(), ['', 'lvao_2']);
  });

  test('selection filters, each narrowing parents only when asked', () => {
    const parent = acteur({ identifiantUnique: 'p', estParent: true, sourceCode: null, sourceCodes: ['cma'], acteurTypeCode: 'ess', data: { nom: 'Emmaus' } });
    const child = acteur({ identifiantUnique: 'c', parentId: 'p', sourceCode: 'cma', data: { nom: 'Emmaus' } });
    const all = [...candidates(), parent, child];
    const pick = (selection: ClusterConfigInput['selection']) => {
      const { orphans, parents } = selectCandidates(all, parseClusterConfig({ selection }));
      return [orphans.map((o) => o.identifiantUnique), parents.map((p) => p.identifiantUnique)];
    };
    assert.deepEqual(pick({ acteurTypes: { value: ['commerce'] } }), [['refashion_1', 'ecosystem_9', 'cma_3', 'lvao_2', 'cma_8'], ['p']]);
    assert.deepEqual(pick({ acteurTypes: { value: ['commerce'], applyToParents: true } })[1], []);
    assert.deepEqual(pick({ acteurTypes: { value: ['commerce'] }, sources: { value: ['cma'] } })[0], ['cma_3', 'cma_8']);
    assert.deepEqual(pick({ acteurTypes: { value: ['commerce'] }, sources: { value: ['lvao'], applyToParents: true } }), [['lvao_2'], []]);
    assert.deepEqual(pick({ acteurTypes: { value: ['commerce'] }, nomRegex: { value: '^emma', applyToParents: true } }), [['refashion_1', 'ecosystem_9'], ['p']]);
    assert.deepEqual(pick({ acteurTypes: { value: ['commerce'] }, fieldsAllFilled: { value: ['email'] } })[0], ['ecosystem_9']);
  });

  test('a bad config is refused with the field named', () => {
    const refusal = (input: unknown) => {
      try {
        parseClusterConfig(input);
      } catch (err) {
        assert.ok(err instanceof ClusterConfigError);
        return err.issues.map((i) => i.path);
      }
      assert.fail('accepted');
    };
    assert.deepEqual(refusal({ selection: { acteurTypes: { value: [] } } }), ['selection.acteurTypes.value']);
    assert.deepEqual(refusal({ selection: {} }), ['selection.acteurTypes']);
    assert.deepEqual(refusal({ ...baseConfig, fuzzyThreshold: 150 }), ['fuzzyThreshold']);
    assert.deepEqual(refusal({ selection: { acteurTypes: { value: ['x'] }, nomRegex: { value: '([' } } }), ['selection.nomRegex.value']);
    assert.deepEqual(refusal({ ...baseConfig, exactFields: ['nom'] }), ['fuzzyFields']);
    assert.deepEqual(refusal({ ...baseConfig, normalisation: { latitude: {} } }), ['normalisation.latitude']);
    assert.deepEqual(refusal({ ...baseConfig, distanceInCluster: -1 }), ['distanceInCluster']);
    const defaults = parseClusterConfig(baseConfig);
    assert.deepEqual([defaults.exactFields, defaults.fuzzyFields, defaults.fuzzyThreshold, defaults.distanceInCluster, defaults.intraSourceAllowed], [['code_postal', 'ville'], ['nom', 'adresse'], 50, 0, false]);
  });
});
