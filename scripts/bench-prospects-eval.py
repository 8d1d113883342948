#!/usr/bin/env python3
"""Pairwise precision / recall / F1 of a clustering against the truth, plus wall time and peak
memory from `/usr/bin/time -v` output.

usage: bench-prospects-eval.py TRUTH.csv NAME CLUSTERS.csv TIME.txt [NAME CLUSTERS.csv TIME.txt ...]
A pair is two records in one cluster; true pairs are two records of one person.
"""
import csv
import sys
from collections import Counter


def pairs(n):
    return n * (n - 1) // 2


def read_truth(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        next(r)
        return {row[0]: row[1] for row in r}


def score(truth, path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        head = next(r)
        cid = {row[0]: row[1] for row in r}
    missing = len(set(truth) - set(cid))
    if missing:
        raise SystemExit(f"{path}: {missing} records of the truth have no cluster")
    pred = Counter(cid[i] for i in truth)
    true = Counter(truth.values())
    both = Counter((cid[i], truth[i]) for i in truth)
    tp, p, t = sum(pairs(n) for n in both.values()), sum(pairs(n) for n in pred.values()), sum(pairs(n) for n in true.values())
    prec = tp / p if p else 1.0
    rec = tp / t if t else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return prec, rec, f1, len(pred), len(true)


def timing(path):
    wall, rss = "?", 0
    for line in open(path):
        line = line.strip()
        if line.startswith("Elapsed (wall clock) time"):
            v = line.rsplit(" ", 1)[1]
            parts = [float(x) for x in v.split(":")]
            secs = 0.0
            for x in parts:
                secs = secs * 60 + x
            wall = secs
        if line.startswith("Maximum resident set size"):
            rss = int(line.rsplit(" ", 1)[1])
    return wall, rss / 1024


def main():
    truth = read_truth(sys.argv[1])
    args = sys.argv[2:]
    print(f"records: {len(truth)}, people: {len(set(truth.values()))}")
    print(f"{'resolver':<10} {'wall s':>8} {'peak MiB':>9} {'precision':>10} {'recall':>8} {'F1':>7} {'entities':>9}")
    for i in range(0, len(args), 3):
        name, clusters, tfile = args[i : i + 3]
        prec, rec, f1, n_pred, _ = score(truth, clusters)
        wall, mib = timing(tfile)
        print(f"{name:<10} {wall:>8.1f} {mib:>9.0f} {prec:>10.4f} {rec:>8.4f} {f1:>7.4f} {n_pred:>9}")


if __name__ == "__main__":
    main()
