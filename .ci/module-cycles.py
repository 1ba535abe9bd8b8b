#!/usr/bin/env python3
"""Module cycles in the connector's src/ (docs/architecture.md, "The rule for arrows"): a node per .rs file, an edge per `crate::`/`super::`/
`self::` path (in `use` lines and inline), resolved to the file that defines the module, through
`pub use` re-exports of a mod.rs to the file that defines the item. Unit-test modules
(`#[cfg(test)] mod tests` at a file's end) are left out. Prints every strongly connected
component of more than one file, every cycle between the folders of a role (source/'s discover,
plan, fetch, decode, output, context, read...; destination/'s route, batch, outcome...: a
strongly connected component of the graph folded to those folders) and every edge between
source/ and destination/, and exits 1 when there is any; then, for information, the arrows
between top-level modules.

Usage: python3 .ci/module-cycles.py [src]"""
import os, re, sys
from collections import defaultdict
root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'src')
files = {}
for d, _, fs in os.walk(root):
    for f in fs:
        if f.endswith('.rs'):
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)[:-3]
            parts = rel.split(os.sep)
            if parts[-1] == 'mod':
                parts = parts[:-1]
            if parts in (['lib'], ['main']):
                parts = [] if parts == ['lib'] else ['<main>']
            files[tuple(parts)] = p
def strip_tests(text):
    m = re.search(r'\n#\[cfg\(test\)\]\s*\nmod tests', text)
    return text[:m.start()] if m else text
texts = {k: '\n'.join(l for l in strip_tests(open(p).read()).split('\n') if not l.lstrip().startswith('//')) for k, p in files.items()}
# re-exports: (module, item) -> module path
reexport = {}
for mod, t in texts.items():
    for m in re.finditer(r'pub(?:\(crate\))? use (self::|crate::|super::)?([a-z_:]+)::\{?([^;]*)\}?;', t):
        base = m.group(2).split('::')
        if m.group(1) == 'crate::':
            target = tuple(base)
        elif m.group(1) == 'super::':
            target = mod[:-1] + tuple(base)
        else:
            target = mod + tuple(base)
        for item in re.split(r'[,\s{}]+', m.group(3)):
            item = item.split(' as ')[-1].strip()
            if item:
                reexport[(mod, item)] = target
def resolve(path):
    """Longest prefix of `path` that is a file module, following re-exports of the next name."""
    best = ()
    for i in range(len(path), -1, -1):
        if tuple(path[:i]) in files:
            best = tuple(path[:i]); rest = path[i:]
            break
    seen = 0
    while rest and (best, rest[0]) in reexport and seen < 10:
        nxt = reexport[(best, rest[0])]
        # the item lives in `nxt` (or deeper)
        sub = resolve(list(nxt) + rest[1:]) if tuple(nxt) != best else best
        return sub
    return best
edges = defaultdict(set)
for mod, t in texts.items():
    # expand `use a::{b, c::d}` groups one level
    for m in re.finditer(r'\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)(::\{([^}]*)\})?', t):
        head, tail, group = m.group(1), m.group(2), m.group(4)
        base = [x for x in tail.split('::') if x]
        if head == 'crate':
            prefix = []
        elif head == 'super':
            prefix = list(mod[:-1])
            while base and base[0] == 'super':
                base = base[1:]; prefix = prefix[:-1]
        else:
            prefix = list(mod)
        paths = [prefix + base]
        if group:
            paths = [prefix + base + [x for x in g.strip().split('::') if x and x != 'self'] for g in group.split(',') if g.strip()]
        for p in paths:
            target = resolve(p)
            if target != mod and target != () and mod != () and not (len(target) < len(mod) and mod[:len(target)] == target and len(p) == len(target)):
                edges[mod].add(target)
def components(nodes, edges):
    """Tarjan: the strongly connected components of more than one node."""
    index = {}; low = {}; stack = []; on = set(); sccs = []; counter = [0]
    def strong(v):
        index[v] = low[v] = counter[0]; counter[0] += 1; stack.append(v); on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            sccs.append(comp)
    for v in list(nodes):
        if v not in index:
            strong(v)
    return [c for c in sccs if len(c) > 1]
sys.setrecursionlimit(10000)
cycles = components(files, edges)
print(f'{len(files)} files, {sum(len(e) for e in edges.values())} edges, {len(cycles)} cycles')
for c in cycles:
    names = sorted('/'.join(x) for x in c)
    print('CYCLE:', ' <-> '.join(names))
    for a in c:
        for b in sorted(edges[a]):
            if b in c:
                print('   ', '/'.join(a), '->', '/'.join(b))
for a, bs in edges.items():
    for b in bs:
        if a and b and {a[0], b[0]} == {'source', 'destination'}:
            print('ROLE EDGE:', '/'.join(a), '->', '/'.join(b))
# The same at folder level: the folders inside source/ and destination/ (a file directly in the
# role, such as source/check.rs, counts as its own node). An edge between two files of one folder
# is left out; so is an edge to or from the role itself (its mod.rs).
def fold(m):
    return m[:2] if m and m[0] in ('source', 'destination') and len(m) > 1 else None
fe = defaultdict(set)
witness = {}
for a, bs in edges.items():
    for b in bs:
        fa, fb = fold(a), fold(b)
        if fa and fb and fa != fb:
            fe[fa].add(fb)
            witness.setdefault((fa, fb), (a, b))
folder_cycles = components(set(fe) | {b for bs in fe.values() for b in bs}, fe)
for c in folder_cycles:
    print('FOLDER CYCLE:', ' <-> '.join(sorted('/'.join(x) for x in c)))
    for a in sorted(c):
        for b in sorted(fe[a]):
            if b in c:
                fa, fb = witness[(a, b)]
                print('   ', '/'.join(a), '->', '/'.join(b), f"(e.g. {'/'.join(fa)} -> {'/'.join(fb)})")
# top level only
te = defaultdict(set)
for a, bs in edges.items():
    for b in bs:
        if a and b and a[0] != b[0]:
            te[a[0]].add(b[0])
print('TOP-LEVEL ARROWS:', '; '.join(f'{a} -> {", ".join(sorted(b))}' for a, b in sorted(te.items())))
for a, bs in te.items():
    for b in bs:
        if a in te.get(b, ()) and a < b:
            print('TOP-LEVEL CYCLE:', a, '<->', b)

bad = bool(cycles) or bool(folder_cycles) or any(
    a and b and {a[0], b[0]} == {'source', 'destination'} for a, bs in edges.items() for b in bs
)
sys.exit(1 if bad else 0)
