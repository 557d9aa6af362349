#!/usr/bin/env python3
"""No code comment cites an issue number: a reader of the code cannot see the tracker.

A comment says the reason itself (the constraint, the requirement and why), never the word
"issue" followed by a tracker number. Checked: the comments of the repository's code and configuration (Rust and
JavaScript `//` and `/* */`, `#` in Python, shell, YAML, TOML and Makefiles, Python docstrings),
tracked by git (or, outside a git checkout, every such file but target/ and node_modules/).
Markdown notes of history are not code and are not checked. Prints file:line for each hit, exits 1
if there is any.

    python3 infra/check_comments.py
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CITES = re.compile(r"\bissues?\s?#?\d+", re.I)
SLASH = (".rs", ".mjs", ".js", ".cjs", ".ts")
HASH = (".py", ".sh", ".yaml", ".yml", ".toml")
HASH_NAMES = ("Makefile", "Dockerfile", "run")
SKIP_DIRS = {"target", "node_modules", ".git"}


def files():
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout.decode()
        return [p for p in out.split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        found = []
        for dirpath, dirs, names in os.walk(ROOT):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
            found += [os.path.relpath(os.path.join(dirpath, n), ROOT) for n in names]
        return found


def style(path):
    name = os.path.basename(path)
    if name.endswith(SLASH):
        return "slash"
    if name.endswith(HASH) or name in HASH_NAMES:
        return "hash"
    return None


def comments_slash(text):
    """(line, comment text) of every // and /* */ comment, skipping string literals."""
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            yield line, text[i:end]
            i = end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            for k, part in enumerate(text[i:end].split("\n")):
                yield line + k, part
            line += text.count("\n", i, end)
            i = end
            continue
        elif c == "'" and i + 2 < n and text[i + 2] == "'":
            i += 3  # a character literal such as '"' (not a string's start)
            continue
        elif c == "'" and text.startswith("\\", i + 1):
            end = text.find("'", i + 3)
            i = (end + 1) if 0 < end < i + 12 else i + 1  # an escaped character literal
            continue
        elif c == "r" and re.match(r'r#*"', text[i:i + 8]) and not (text[i - 1:i].isalnum() or text[i - 1:i] == "_"):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = text.find('"' + hashes, i + len(hashes) + 2)
            end = n if end < 0 else end + 1 + len(hashes)
            line += text.count("\n", i, end)
            i = end  # a raw string literal
            continue
        elif c in "\"`":
            # a string literal: skip to its closing quote (escapes honoured)
            j = i + 1
            while j < n and text[j] != c:
                if text[j] == "\\":
                    j += 1
                j += 1
            line += text.count("\n", i, j)
            i = j + 1
            continue
        i += 1


def comments_hash(path, text):
    docstring = False
    for no, raw in enumerate(text.split("\n"), 1):
        if path.endswith(".py"):
            quotes = raw.count('"""') + raw.count("'''")
            if docstring or quotes:
                yield no, raw
            if quotes % 2:
                docstring = not docstring
            if docstring or quotes:
                continue
        pos = raw.find("#")
        if pos >= 0:
            yield no, raw[pos:]


def main():
    hits = []
    for path in files():
        kind = style(path)
        if kind is None or any(part in SKIP_DIRS for part in path.split("/")):
            continue
        try:
            with open(os.path.join(ROOT, path), encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError):
            continue
        found = comments_slash(text) if kind == "slash" else comments_hash(path, text)
        for line, comment in found:
            if CITES.search(comment):
                hits.append(f"{path}:{line}: {comment.strip()}")
    for h in hits:
        print(h)
    if hits:
        print(
            f"{len(hits)} comment(s) cite an issue number: say the reason itself instead "
            "(a reader of the code cannot see the tracker)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
