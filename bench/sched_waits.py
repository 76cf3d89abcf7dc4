"""Reads `perf sched timehist` output: which event-loop wake-ups waited for a CPU, and what held the CPU meanwhile.

Usage: python3 bench/sched_waits.py TIMEHIST_FILE MIN_MS "PID=NAME ..."
Counts the switch-ins of threads named vert.x-eventloop* whose scheduling delay (woken, not yet running) was over
MIN_MS, by process, and adds up, over those delays, the time each other thread ran on that CPU (by thread name and
process). Times in timehist are seconds; wait, delay and run time are milliseconds.
"""
import collections
import re
import sys

LINE = re.compile(r"\s*([\d.]+)\s+\[(\d+)\]\s+(.+?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$")


def main(path, min_ms, names):
    rows = []
    for line in open(path):
        m = LINE.match(line)
        if m:
            rows.append((float(m.group(1)), int(m.group(2)), m.group(3).strip(), float(m.group(5)), float(m.group(6))))
    by_cpu = collections.defaultdict(list)
    for r in rows:
        by_cpu[r[1]].append(r)

    def owner(task):
        m = re.search(r"\[(\d+)/(\d+)\]", task)
        pid = m.group(2) if m else (re.search(r"\[(\d+)\]", task) or [None, "?"])[1]
        return names.get(pid, re.sub(r"\[.*", "", task))

    waits, held, delays = collections.Counter(), collections.Counter(), collections.Counter()
    for end_run, cpu, task, delay, run in rows:
        if not task.startswith("vert.x-eventloo") or delay <= min_ms:
            continue
        waits[owner(task)] += 1
        delays[min(int(delay), 4)] += 1
        start, end = end_run - (run + delay) / 1000, end_run - run / 1000
        for t2, _, task2, _, r2 in by_cpu[cpu]:
            overlap = min(t2, end) - max(t2 - r2 / 1000, start)
            if overlap > 0:
                held["%s (%s)" % (re.sub(r"\[.*", "", task2), owner(task2))] += overlap * 1000
    print("event-loop wake-ups that waited over %.1f ms for a CPU: %d (%s)" % (
        min_ms, sum(waits.values()), ", ".join("%s %d" % kv for kv in waits.most_common())))
    print("  how long: " + ", ".join(("%d-%d ms: %d" % (k, k + 1, v)) if k < 4 else ("4 ms and more: %d" % v)
                                     for k, v in sorted(delays.items())))
    total = sum(held.values()) or 1
    print("  what ran on their CPU meanwhile:")
    for k, v in held.most_common(10):
        print("    %5.1f%%  %s" % (100 * v / total, k))


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), dict(p.split("=", 1) for p in sys.argv[3].split()))
