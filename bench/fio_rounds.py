"""Figures of repeated fio runs, for the bench scripts that compare two setups round by round.

A run's JSON is WORK/LABEL-CASE-ROUND.json (rounds from 1). Latencies are completion latencies in microseconds of
the first side that did I/O (read, else write); IOPS are read and write added.
"""
import json
import statistics


def per_round(work, label, case, rounds):
    """(p50s, p99s, p99.9s, iops) of the runs, one value per round."""
    p50, p99, p999, iops = [], [], [], []
    for r in range(1, rounds + 1):
        with open("%s/%s-%s-%d.json" % (work, label, case, r)) as f:
            job = json.load(f)["jobs"][0]
        sides = [job[s] for s in ("read", "write") if job[s]["total_ios"] > 0]
        iops.append(sum(s["iops"] for s in sides))
        p = sides[0]["clat_ns"]["percentile"]
        p50.append(p["50.000000"] / 1000)
        p99.append(p["99.000000"] / 1000)
        p999.append(p["99.900000"] / 1000)
    return p50, p99, p999, iops


def medians(work, label, case, rounds):
    """The median over the rounds of each of per_round's figures."""
    return tuple(statistics.median(v) for v in per_round(work, label, case, rounds))
