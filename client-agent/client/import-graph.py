#!/usr/bin/env python3
"""Prints who uses whom inside the client package, read from the sources: the cycles, the levels and the uses
that run back up. A use is a top-level class of the package named in another's code (comments and strings left
out, so a javadoc link is no use); a constant counts, though javac inlines it and jdeps would not see it.

Levels: a class with no use of the package is on level 0, any other one above everything it uses. Classes on a
cycle cannot be ordered so; the uses that run back up are the fewest found (a greedy feedback arc set, Eades,
Lin and Smyth 1993) whose removal leaves no cycle.

    python3 client-agent/client/import-graph.py [source folder]
"""
import os
import re
import sys

DEFAULT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "src/main/java/dev/pagepool/client")
COMMENTS_AND_STRINGS = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'', re.S)


def read_graph(folder):
    names = sorted(f[:-5] for f in os.listdir(folder) if f.endswith(".java") and f != "package-info.java")
    graph = {}
    for name in names:
        with open(os.path.join(folder, name + ".java")) as f:
            code = COMMENTS_AND_STRINGS.sub(" ", f.read())
        words = set(re.findall(r"\b[A-Z]\w*\b", code))
        graph[name] = sorted(n for n in names if n != name and n in words)
    return graph


def cycles(graph):
    """Tarjan's strongly connected components with more than one class."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return found


def back_uses(graph):
    """Eades-Lin-Smyth: an order of the classes; the uses that point against it are the ones that run back up."""
    remaining = {v: set(ws) for v, ws in graph.items()}
    users = {v: set() for v in graph}
    for v, ws in graph.items():
        for w in ws:
            users[w].add(v)
    low_end, high_end = [], []
    while remaining:
        changed = True
        while changed:
            changed = False
            for v in [v for v in remaining if not (remaining[v] & remaining.keys())]:
                low_end.append(v)  # uses nothing left: it goes under everything left
                del remaining[v]
                changed = True
            for v in [v for v in remaining if not (users[v] & remaining.keys())]:
                high_end.append(v)  # used by nothing left: it goes over everything left
                del remaining[v]
                changed = True
        if remaining:
            v = max(remaining, key=lambda v: (len(users[v] & remaining.keys()) - len(remaining[v] & remaining.keys()), v))
            low_end.append(v)
            del remaining[v]
    order = {v: i for i, v in enumerate(low_end + list(reversed(high_end)))}
    return sorted((v, w) for v, ws in graph.items() for w in ws if order[w] > order[v])


def levels(graph, back):
    dropped = set(back)
    level = {}

    def of(v):
        if v not in level:
            level[v] = -1
            level[v] = 1 + max([of(w) for w in graph[v] if (v, w) not in dropped] + [-1])
        return level[v]

    for v in graph:
        of(v)
    return level


def main():
    graph = read_graph(sys.argv[1] if len(sys.argv) > 1 else DEFAULT)
    found = cycles(graph)
    back = back_uses(graph)
    level = levels(graph, back)
    component_of = {v: i for i, c in enumerate(found) for v in c}
    inside = sum(1 for v, ws in graph.items() for w in ws if v in component_of and component_of[v] == component_of.get(w))
    print(f"classes: {len(graph)}, uses: {sum(len(ws) for ws in graph.values())}, "
          f"levels: {max(level.values()) + 1}, classes on a cycle: {sum(len(c) for c in found)}, "
          f"uses inside a cycle: {inside}, uses that run back up: {len(back)}")
    for component in found:
        print(f"cycle ({len(component)}): {' '.join(component)}")
    for v, w in back:
        print(f"back up: {v} (level {level[v]}) -> {w} (level {level[w]})")


if __name__ == "__main__":
    main()
