#!/usr/bin/env python3
"""No cycle among the modules of any crate: the layers must stay readable.

For each crate of the workspace (each `src/` under crates/ and functions/), every module (a file)
is a node and every path it names into its own crate (`use crate::a::b`, `crate::a::b::X` in code,
`super::…` resolved) is an edge to the deepest module that path reaches. A parent's own
declarations (`mod child;`, `pub use child::X` re-exports) are not edges: a parent that names its
children is their table of contents, not a user. Any strongly connected set of more than one
module is a cycle; the script prints each with one path through it, and exits 1.

    python3 infra/check_cycles.py            # the workspace
    python3 infra/check_cycles.py crates/domain/src

The domain crate's layers are checked on the same graph (LAYERS below): a model module names
nothing of ours outside the model; the ports name only the model; the use cases (every other
module) name anything. A module test-only in `src/` (`fold_cases*`) is left out, as are the
`#[cfg(test)] mod tests` blocks.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATH = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+|::\{)")
USE_GROUP = re.compile(r"\buse\s+(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)*)::\{([^;]*)\};", re.S)


def modules(src):
    """Module path (tuple) -> file, for every .rs file under src."""
    out = {}
    for dirpath, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), src)[:-3].split(os.sep)
            if rel[-1] in ("lib", "main") and len(rel) == 1:
                rel = []
            elif rel[-1] == "mod":
                rel = rel[:-1]
            elif rel[0] == "bin":
                continue  # binaries are crates of their own
            out[tuple(rel)] = os.path.join(dirpath, f)
    return out


def modules_with_aliases(src):
    mods = modules(src)
    found = aliases(mods)
    mods = dict(mods)
    mods["__aliases__"] = found
    return mods


def strip(text):
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


ROOT_USE = re.compile(r"^pub use ([a-z_][a-z0-9_]*)::(?:\{([^}]*)\}|([a-z_][a-z0-9_]*));", re.M)


def aliases(mods):
    """The crate root's re-exports of child modules (`pub use model::{order, …};` in lib.rs):
    `crate::order` then means `crate::model::order`."""
    root = mods.get(())
    if not root:
        return {}
    with open(root, encoding="utf-8") as f:
        text = strip(f.read())
    out = {}
    for m in ROOT_USE.finditer(text):
        parent = m.group(1)
        names = (m.group(2) or m.group(3) or "").replace("\n", " ").split(",")
        for n in (x.strip() for x in names):
            if n and (parent, n) in mods and (n,) not in mods:
                out[n] = (parent, n)
    return out


def resolve(mods, base, segs):
    """The deepest module of `mods` that base+segs reaches (through the root's re-exports)."""
    path = list(base) + list(segs)
    alias = mods.get("__aliases__", {})
    if path and path[0] in alias:
        path = list(alias[path[0]]) + path[1:]
    while path and tuple(path) not in mods:
        path.pop()
    return tuple(path)


def edges_of(mods, mod, text):
    text = strip(text)
    found = set()

    def add(kind, segs):
        if kind == "crate":
            base = ()
        else:
            base = mod[:-1]
            while segs and segs[0] == "super":
                base, segs = base[:-1], segs[1:]
        target = resolve(mods, base, segs)
        if target != mod and not (len(target) > len(mod) and target[: len(mod)] == mod):
            found.add(target)

    for m in USE_GROUP.finditer(text):
        kind, prefix, inner = m.group(1), m.group(2), m.group(3)
        prefix = [s for s in prefix.split("::") if s]
        for item in re.split(r",", re.sub(r"\{[^}]*\}", "", inner)):
            item = item.strip().split(" as ")[0]
            if item:
                add(kind, prefix + [s for s in item.split("::") if s and s != "self"])
        # nested groups: a::{b, c::{d}} -> take their heads
        for nested in re.finditer(r"([A-Za-z_][A-Za-z0-9_:]*)::\{", inner):
            add(kind, prefix + nested.group(1).split("::"))
    for m in PATH.finditer(text):
        segs = [s for s in m.group(2).split("::") if s and s != "{"]
        add(m.group(1), segs)
    return found


def sccs(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def name(mod):
    return "::".join(mod) or "crate"


def check(src):
    mods = modules_with_aliases(src)
    graph = {}
    for mod, path in mods.items():
        if mod == "__aliases__":
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        # A module's own `#[cfg(test)] mod tests {…}` block is cut: tests may use anything.
        text = re.split(r"#\[cfg\(test\)\]\s*mod\s+tests\s*\{", text)[0]
        graph[mod] = edges_of(mods, mod, text)
    cycles = [c for c in sccs(graph) if len(c) > 1]
    for comp in cycles:
        members = set(comp)
        print(f"cycle in {os.path.relpath(src, ROOT)}: {', '.join(sorted(name(m) for m in comp))}")
        for m in sorted(comp):
            uses = sorted(name(t) for t in graph[m] if t in members)
            print(f"    {name(m)} -> {', '.join(uses)}")
    return len(cycles)


# The domain's layers, by top-level folder (crates/domain/src): `model/`, `ports.rs`; anything
# else is a use case (`use_cases/`) or the embedded store (an adapter kept in the domain for
# tests and the local runner). Paths through the root's re-exports are resolved first.
LAYERS = {
    "crates/domain/src": {
        "model": {"model"},
        "ports": {"ports"},
    }
}


def layer_violations(src):
    """Edges that go up a layer: model -> not model; ports -> not model or ports."""
    rel = os.path.relpath(src, ROOT)
    layers = LAYERS.get(rel)
    if not layers:
        return 0
    mods = modules_with_aliases(src)
    model, ports = layers["model"], layers["ports"]
    allowed = {"model": model, "ports": model | ports}
    bad = 0
    for mod, path in sorted((k, v) for k, v in mods.items() if k != "__aliases__"):
        if not mod or any(part.startswith("fold_cases") for part in mod):
            continue
        layer = "model" if mod[0] in model else "ports" if mod[0] in ports else None
        if layer is None:
            continue
        with open(path, encoding="utf-8") as f:
            text = re.split(r"#\[cfg\(test\)\]\s*mod\s+tests\s*\{", f.read())[0]
        for target in sorted(edges_of(mods, mod, text)):
            if target and target[0] not in allowed[layer]:
                print(f"layer in {rel}: {name(mod)} ({layer}) -> {name(target)}")
                bad += 1
    return bad


def main(args):
    if args:
        srcs = [os.path.abspath(a) for a in args]
    else:
        srcs = []
        for top in ("crates", "functions"):
            for d in sorted(os.listdir(os.path.join(ROOT, top))):
                src = os.path.join(ROOT, top, d, "src")
                if os.path.isdir(src):
                    srcs.append(src)
    total = sum(check(src) for src in srcs)
    print(f"module cycles: {total} in {len(srcs)} crates")
    layered = sum(layer_violations(src) for src in srcs)
    print(f"layer violations: {layered} (domain: model <- ports <- use cases)")
    return 1 if total or layered else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
