#!/usr/bin/env python3
"""Module dependency cycles of a Rust crate: `python3 emulator/scripts/module_cycles.py SRC_DIR [depth] [--no-tests]`.
Reads every `crate::a::b…` path (in `use` lines, groups included, and inline paths),
`super::` paths and re-exports of child modules, maps each file to its module, and prints the strongly connected components
(cycles) of the graph of modules cut at `depth` path segments (default: full module paths).
#[cfg(test)] code is included unless --no-tests (then lines after `mod tests {` are skipped)."""
import os, re, sys

src = sys.argv[1]
args = [a for a in sys.argv[2:] if not a.startswith('--')]
depth = int(args[0]) if args else 99
no_tests = '--no-tests' in sys.argv

modules = {}
for root, _, files in os.walk(src):
    for f in files:
        if not f.endswith('.rs'):
            continue
        path = os.path.join(root, f)
        rel = os.path.relpath(path, src)[:-3].split(os.sep)
        if rel[-1] in ('mod', 'lib', 'main'):
            rel = rel[:-1]
        modules[tuple(rel)] = path
known = set(modules)

def expand_use(text):
    """crate::{a, b::{c, d}} -> [a, b::c, b::d] (as lists of segments)."""
    out = []
    def rec(prefix, s):
        s = s.strip()
        if not s:
            return
        m = re.match(r'^([\w:]*?)::\{(.*)\}$', s, re.S)
        if m:
            base = prefix + [p for p in m.group(1).split('::') if p]
            depth_, parts, cur = 0, [], ''
            for ch in m.group(2):
                if ch == '{': depth_ += 1
                if ch == '}': depth_ -= 1
                if ch == ',' and depth_ == 0:
                    parts.append(cur); cur = ''
                else:
                    cur += ch
            parts.append(cur)
            for p in parts:
                rec(base, p)
        else:
            s = re.sub(r'\s+as\s+\w+$', '', s)
            out.append(prefix + [p for p in s.split('::') if p])
    rec([], text)
    return out

def resolve(segs):
    for n in range(len(segs), 0, -1):
        if tuple(segs[:n]) in known:
            return tuple(segs[:n])
    return ()

edges = {}
for mod, path in modules.items():
    text = open(path).read()
    if no_tests:
        i = text.find('#[cfg(test)]\nmod tests')
        if i >= 0:
            text = text[:i]
    text = re.sub(r'//[^\n]*', '', text)
    targets = set()
    for m in re.finditer(r'\buse\s+(crate|super)::(.*?);', text, re.S):
        base = [] if m.group(1) == 'crate' else list(mod[:-1] if not path.endswith(('mod.rs',)) else mod[:-1])
        for segs in expand_use(m.group(2)):
            targets.add(resolve(base + segs))
    for m in re.finditer(r'\bcrate::((?:\w+::)*\w+)', text):
        targets.add(resolve(m.group(1).split('::')))
    # A re-export of a child module (`pub(crate) use job::QueryJob;` in a mod.rs) is a
    # dependency of the parent on that child.
    for m in re.finditer(r'\buse\s+(?:self::)?(\w+)::', text):
        child = mod + (m.group(1),)
        if child in known:
            targets.add(child)
    for m in re.finditer(r'(?<![:\w])super::((?:\w+::)*\w+)', text):
        targets.add(resolve(list(mod[:-1]) + m.group(1).split('::')))
    cut = lambda t: t[:depth]
    for t in targets:
        if t and cut(t) != cut(mod) and not (cut(t) == cut(mod)[:len(cut(t))]):
            edges.setdefault(cut(mod), set()).add(cut(t))

# Tarjan SCC
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def strong(v):
    index[v] = low[v] = counter[0]; counter[0] += 1
    stack.append(v); on.add(v)
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
        if len(comp) > 1:
            sccs.append(comp)
nodes = set(edges) | {t for ts in edges.values() for t in ts}
for v in sorted(nodes):
    if v not in index:
        strong(v)
name = lambda t: '::'.join(t) or 'crate'
for comp in sccs:
    members = set(comp)
    print('CYCLE:', ', '.join(sorted(name(c) for c in comp)))
    for a in sorted(comp):
        for b in sorted(edges.get(a, ())):
            if b in members:
                print(f'   {name(a)} -> {name(b)}')
print(f'{len(sccs)} cycles among {len(nodes)} modules')
