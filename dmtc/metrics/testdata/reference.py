#!/usr/bin/env python3
"""Independent reference values for the metrics tests (standard library only).

Run: python3 dmtc/metrics/testdata/reference.py

ACC is found by trying every injective map between the smaller and the larger
label set (no Hungarian algorithm). NMI uses MI = H(T) + H(P) - H(T, P), a
different formula from the Go code's sum over cells. ARI is computed with
exact fractions from pair counts. Cases with 10**6 samples are given by
their contingency table, so nothing of that size is materialised.
"""
from fractions import Fraction
from itertools import permutations
from math import comb, log


def table_of(y_true, y_pred):
    classes = sorted(set(y_true))
    clusters = sorted(set(y_pred))
    table = [[0] * len(clusters) for _ in classes]
    for t, p in zip(y_true, y_pred):
        table[classes.index(t)][clusters.index(p)] += 1
    return table


def entropy(counts):
    n = sum(counts)
    return -sum(c / n * log(c / n) for c in counts if c)


def acc(table):
    rows, cols = len(table), len(table[0])
    n = sum(map(sum, table))
    best = 0
    if rows <= cols:
        for perm in permutations(range(cols), rows):
            best = max(best, sum(table[i][perm[i]] for i in range(rows)))
    else:
        for perm in permutations(range(rows), cols):
            best = max(best, sum(table[perm[j]][j] for j in range(cols)))
    return best / n


def nmi(table):
    rows = [sum(r) for r in table]
    cols = [sum(c) for c in zip(*table)]
    h_true, h_pred = entropy(rows), entropy(cols)
    if h_true == 0 and h_pred == 0:
        return 1.0
    if h_true == 0 or h_pred == 0:
        return 0.0
    h_joint = entropy([c for r in table for c in r])
    mi = h_true + h_pred - h_joint
    return mi / ((h_true + h_pred) / 2)


def ari(table):
    n = sum(map(sum, table))
    index = sum(comb(c, 2) for r in table for c in r)
    a = sum(comb(sum(r), 2) for r in table)
    b = sum(comb(sum(c), 2) for c in zip(*table))
    expected = Fraction(a * b, comb(n, 2))
    maximum = Fraction(a + b, 2)
    if maximum == expected:
        return Fraction(1)
    return (index - expected) / (maximum - expected)


CASES = {
    "brief 8 samples": table_of([0, 0, 1, 1, 2, 2, 3, 3], [0, 0, 1, 1, 2, 2, 3, 4]),
    "constant prediction 601/399": [[601], [399]],
    "1e6 two blocks": [[450000, 50000], [50000, 450000]],
    "more clusters than classes": table_of(
        [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2],
        [3, 3, 1, 1, 0, 0, 4, 2, 2, 2, 5, 1]),
    "more classes than clusters": table_of(
        [0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 4],
        [0, 0, 0, 1, 1, 1, 1, 0, 1, 1, 0]),
    "sparse label values": table_of(
        [-5, -5, -5, 1000, 1000, 7, 7, 7, 7],
        [7, 7, 1000, -5, -5, 1000, 1000, 1000, 7]),
}

for name, table in CASES.items():
    value = ari(table)
    print(f"{name}: ACC {acc(table):.10f} NMI {nmi(table):.10f} "
          f"ARI {float(value):.10f} = {value}")
