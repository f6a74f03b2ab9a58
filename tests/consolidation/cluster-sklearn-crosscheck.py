"""Cross-check of the TypeScript TF-IDF cosine against scikit-learn (what QFDMOD runs).

Writes tests/consolidation/cluster-sklearn-expected.json: blocks of realistic actor names and addresses,
each with every non-zero pair's cosine as scikit-learn computes it (TfidfVectorizer with a whitespace
tokenizer, fitted on the block; cosine_similarity; rounded to 5 decimals), and the clusters at a few
thresholds (edges from the strongest down, ties in (i, j) order, merges keep the first end's cluster).
cluster-similarity.test.ts replays the file against activities/consolidation/cluster/similarity.ts.

Regenerate: pip install scikit-learn && python3 tests/consolidation/cluster-sklearn-crosscheck.py
"""

import json
import random
from pathlib import Path

import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

HEADS = ["garage", "boulangerie", "cordonnerie", "pharmacie", "decheterie", "ressourcerie", "emmaus",
         "repar cafe", "atelier velo", "point relais", "magasin", "centre commercial", "la poste", "darty",
         "boulanger", "leroy merlin", "carrefour", "auchan", "intermarche", "super u", "act informatique"]
NAMES = ["martin", "bernard", "dubois", "thomas", "robert", "richard", "petit", "durand", "leroy", "moreau",
         "du centre", "de la gare", "des halles", "saint michel", "du village", "mairie", "novatek", "services"]
STREETS = ["rue", "avenue", "boulevard", "place", "chemin", "allee", "impasse", "route"]
STREET_NAMES = ["de la republique", "victor hugo", "jean jaures", "marechal juin", "de paris", "pasteur",
                "du general de gaulle", "des lilas", "saint martin", "gambetta", "de la gare", "du moulin"]


def names(rng, n):
    out = []
    for _ in range(n):
        words = [rng.choice(HEADS)]
        if rng.random() < 0.8:
            words.append(rng.choice(NAMES))
        if rng.random() < 0.2:
            words.append(rng.choice(NAMES))
        if rng.random() < 0.1:
            words.append(words[0])  # repeated word: tf = 2
        out.append(" ".join(words))
    return out


def addresses(rng, n):
    return [f"{rng.randint(1, 120)} {rng.choice(STREETS)} {rng.choice(STREET_NAMES)}" for _ in range(n)]


def clusters_at(scores, threshold):
    edges = [(i, j, s) for (i, j, s) in scores if s >= threshold]
    edges.sort(key=lambda e: (-e[2], e[0], e[1]))
    clusters = []  # list of sets, in creation order
    for i, j, _ in edges:
        ci = next((c for c in clusters if i in c), None)
        cj = next((c for c in clusters if j in c), None)
        if ci is not None and cj is not None:
            if ci is not cj:
                ci.update(cj)
                clusters.remove(cj)
        elif ci is not None:
            ci.add(j)
        elif cj is not None:
            cj.add(i)
        else:
            clusters.append({i, j})
    return [sorted(c) for c in clusters]


def score(x):
    if x == 0:
        return 0
    if x >= 1:
        return 1
    return round(float(x), 5)


def main():
    rng = random.Random(42)
    blocks = []
    for b in range(40):
        n = rng.choice([2, 3, 5, 8, 13, 30, 60])
        values = names(rng, n) if b % 2 == 0 else addresses(rng, n)
        matrix = cosine_similarity(TfidfVectorizer(tokenizer=str.split, token_pattern=None).fit_transform(values))
        iu = np.triu_indices_from(matrix, k=1)
        scores = [(int(i), int(j), score(matrix[i, j])) for i, j in zip(*iu) if matrix[i, j] != 0]
        blocks.append({
            "values": values,
            "pairs": [[i, j, s] for i, j, s in scores],
            "clusters": {str(t): clusters_at(scores, t) for t in (0.3, 0.5, 0.7)},
        })
    out = Path(__file__).with_name("cluster-sklearn-expected.json")
    out.write_text(json.dumps({"generator": f"scikit-learn {sklearn.__version__}", "blocks": blocks}, indent=0) + "\n")
    print(f"wrote {out} ({len(blocks)} blocks)")


if __name__ == "__main__":
    main()
