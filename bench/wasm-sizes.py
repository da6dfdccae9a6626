#!/usr/bin/env python3
"""What a wasm bundle is made of: code bytes by crate (from the function names in the `name`
section), the largest functions, and the data segments. Run on the wasm cargo builds *before*
wasm-bindgen and wasm-opt strip the names, e.g.

    python3 bench/wasm-sizes.py $CARGO_TARGET_DIR/front/wasm32-unknown-unknown/release/app.wasm

(a dependency-free stand-in for `twiggy top` / `twiggy garbage`, used for the README's bundle
notes). Sizes are of the unoptimised module: wasm-opt shrinks everything by roughly the same
factor, so the shares carry over.

    python3 bench/wasm-sizes.py --refuse-debug FILE...

exits 1 if any FILE is a debug build (a `name` or `.debug*` custom section; a release wasm has
neither): `bench/perf.sh` with `SKIP_BUILD=1` checks the site and widget it would serve.
"""
import re
import sys
from collections import Counter


def leb(buf, i):
    result = shift = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, i


def sections(buf):
    assert buf[:4] == b"\0asm", "not a wasm module"
    i = 8
    while i < len(buf):
        sid = buf[i]
        size, j = leb(buf, i + 1)
        yield sid, buf[j : j + size]
        i = j + size


def custom_sections(buf):
    """The names of the module's custom sections."""
    for sid, body in sections(buf):
        if sid == 0:
            n, i = leb(body, 0)
            yield body[i : i + n].decode("utf-8", "replace")


def refuse_debug(paths):
    debug = [
        p
        for p in paths
        if any(n == "name" or n.startswith(".debug") for n in custom_sections(open(p, "rb").read()))
    ]
    if debug:
        sys.exit(f"{len(debug)} wasm files are debug builds, e.g. {debug[0]}: run without SKIP_BUILD")


def crate_of(name):
    """The crate a (legacy- or v0-mangled, or demangled) Rust symbol belongs to."""
    m = re.match(r"_ZN(\d+)", name)
    if m:
        seg = name[m.end() : m.end() + int(m.group(1))]
        if seg.startswith("_$LT$"):
            # An impl `<X as Trait>`: X's crate when X is a path, else the trait's.
            paths = re.findall(r"([a-z_][a-z0-9_]*)\.\.", seg)
            return paths[0] if paths else "(impls)"
        return seg
    if name.startswith("_R"):
        m = re.search(r"C(?:s[0-9A-Za-z]*_)?(\d+)([a-z_][a-z0-9_]*)", name)
        if m:
            return m.group(2)[: int(m.group(1))]
    m = re.match(r"<?([a-z_][a-z0-9_]*)::", name)
    return m.group(1) if m else "(other: " + name.split("(")[0][:30] + ")"


def main(path):
    buf = open(path, "rb").read()
    imports = 0
    bodies = []
    names = {}
    data = 0
    for sid, body in sections(buf):
        if sid == 2:  # imports: count function imports (they shift the function index space)
            count, i = leb(body, 0)
            for _ in range(count):
                for _ in range(2):
                    n, i = leb(body, i)
                    i += n
                kind = body[i]
                i += 1
                if kind == 0:
                    _, i = leb(body, i)
                    imports += 1
                elif kind == 1:
                    i += 1
                    flags = body[i]
                    i += 1
                    _, i = leb(body, i)
                    if flags & 1:
                        _, i = leb(body, i)
                elif kind == 2:
                    flags = body[i]
                    i += 1
                    _, i = leb(body, i)
                    if flags & 1:
                        _, i = leb(body, i)
                else:
                    i += 2
        elif sid == 10:
            count, i = leb(body, 0)
            for _ in range(count):
                size, j = leb(body, i)
                bodies.append(size)
                i = j + size
        elif sid == 11:
            data += len(body)
        elif sid == 0:
            n, i = leb(body, 0)
            if body[i : i + n] != b"name":
                continue
            i += n
            while i < len(body):
                sub = body[i]
                size, j = leb(body, i + 1)
                if sub == 1:
                    count, k = leb(body, j)
                    for _ in range(count):
                        idx, k = leb(body, k)
                        ln, k = leb(body, k)
                        names[idx] = body[k : k + ln].decode("utf-8", "replace")
                        k += ln
                i = j + size
    if not names:
        sys.exit("no name section: use the wasm from cargo, before wasm-bindgen/wasm-opt")
    by_crate = Counter()
    funcs = []
    for n, size in enumerate(bodies):
        name = names.get(imports + n, f"func{imports + n}")
        by_crate[crate_of(name)] += size
        funcs.append((size, name))
    code = sum(bodies)
    print(f"{path}: {len(buf):,} bytes; code {code:,} in {len(bodies):,} functions; data {data:,}")
    print("\ncode by crate:")
    for crate, size in by_crate.most_common(25):
        print(f"  {size:>10,}  {size / code:6.1%}  {crate}")
    print("\nlargest functions:")
    for size, name in sorted(funcs, reverse=True)[:15]:
        print(f"  {size:>10,}  {name[:110]}")


if __name__ == "__main__":
    if sys.argv[1] == "--refuse-debug":
        refuse_debug(sys.argv[2:])
    else:
        main(sys.argv[1])
