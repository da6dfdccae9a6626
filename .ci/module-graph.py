#!/usr/bin/env python3
"""Import cycles between the modules of a Rust crate, `super::` paths included.

Usage: python3 .ci/module-graph.py SRC_DIR DEPTH

The shared tool (`../shared/tools/module-cycles.py`, which CI runs too) reads `crate::` paths
only, so two sibling files that import each other through `super::` (as the sled store's files
once did, and `web::service_api::autobuild` with `autobuild_ops`) were invisible to it. This one
resolves `super::` against the file's own module, and keeps a path's segments while they name
a module file or folder under SRC_DIR. Test modules may reach anywhere and are skipped. Prints
each cycle with the edges that close it (file:line), then `N cycles …`; exit 1 on a cycle.
"""
import re
import sys
from collections import defaultdict
from pathlib import Path

root, depth = Path(sys.argv[1]), int(sys.argv[2])


def module_of(path):
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts and parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts


def is_test(parts):
    return any(p == "tests" or p.endswith("_tests") or p.endswith("proptests") for p in parts)


def module_prefix(segments):
    """The leading segments that name a module (a file or folder under root)."""
    kept, here = [], root
    for seg in segments:
        if not ((here / seg).is_dir() or (here / f"{seg}.rs").exists()):
            break
        kept.append(seg)
        here = here / seg
    return kept


edges = defaultdict(dict)
for f in sorted(root.rglob("*.rs")):
    own = module_of(f)
    if is_test(own):
        continue
    src = "::".join(own[:depth]) or "crate"
    in_tests = False
    for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
        s = line.strip()
        if s.startswith("#[cfg(test)]"):
            in_tests = True  # the rest of the file is a test module, by convention
        if in_tests or s.startswith("//"):
            continue
        paths = []
        for m in re.finditer(r"\b((?:super::)+)((?:[a-z_][a-z0-9_]*::?)*)", s):
            ups = m.group(1).count("super::")
            paths.append(own[: max(len(own) - ups, 0)] + [p for p in m.group(2).split("::") if p])
        for m in re.finditer(r"\bcrate::((?:[a-z_][a-z0-9_]*::?)+)", s):
            paths.append([p for p in m.group(1).split("::") if p])
        for segments in paths:
            target = "::".join(module_prefix(segments)[:depth])
            if target and target != src and not src.startswith(target + "::") and not target.startswith(src + "::"):
                edges[src].setdefault(target, f"{f}:{n}")

sys.setrecursionlimit(10_000)
index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]
nodes = set(edges) | {t for ts in edges.values() for t in ts}


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in edges.get(v, {}):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        group = []
        while True:
            w = stack.pop()
            on.discard(w)
            group.append(w)
            if w == v:
                break
        if len(group) > 1:
            cycles.append(sorted(group))


for v in sorted(nodes):
    if v not in index:
        visit(v)
for group in cycles:
    print("cycle:", ", ".join(group))
    for a in group:
        for b, where in edges[a].items():
            if b in group:
                print(f"  {a} -> {b}  ({where})")
print(f"{len(cycles)} cycles among {len(nodes)} modules (depth {depth}, super:: included)")
sys.exit(1 if cycles else 0)
