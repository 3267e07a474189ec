#!/usr/bin/env python3
"""Checks that the code keeps the module layering of STYLE.md and DESIGN.md section 3.

Usage: scripts/check_deps.py [--root DIR]   (default: the repository holding this script)
Exit 0 when every rule holds; exit 1 with one line per violation otherwise.

Modules. Each folder under src/ whose CMakeLists.txt calls peerchain_module(NAME ...) is
one module; NAME must be the folder's path under src/ with "/" turned into "_"
(src/net/wire -> net_wire). A file belongs to the module that lists it in SOURCES, or else
to the module of its nearest enclosing module folder (src/api/server/ is part of api). A
file under src/ that no module owns is a violation. The order comes from
set(PEERCHAIN_MODULES ...) in the top CMakeLists.txt.

Rules, each reported as file:line with the include or CMake item and the modules (or, for
rule 5, the confinement) it breaks:
 1. Link order. A module's DEPS (and any target_link_libraries on peerchain_<module>) may
    name only modules listed before it in PEERCHAIN_MODULES. A module missing from that
    list (api_client, a library beside api) has no place of its own: a listed module may
    link it only if everything it links, transitively, comes before the listed module.
    A DEPS item that names such a module without the peerchain_ prefix is reported too,
    since peerchain_module passes it to the linker unchanged. No module links a test
    library. The link graph has no cycle.
 2. Includes. A quoted include must resolve to a file (beside the includer, under src/ or
    under the repository root), and a module may include only its own files and those of
    the modules in its transitive link list. Angle-bracket includes are third-party and
    are left to rule 5.
 3. Module cycles. The graph of which module includes which, built from the includes of
    non-test files, has no cycle; a cycle is printed with one include per edge. Rules 1
    and 2 already exclude cycles; this names the loop when both are broken at once.
 4. File cycles. No header includes itself through other headers.
 5. Confined third-party headers. LevelDB only in src/store/leveldb_*.cpp; Beast and Asio
    only in src/net/transport/ and src/api/server/; checked over src/, tests/, bench/ and
    fuzz/, in both include forms. CONFINED_EXCEPTIONS below lists the few legitimate uses
    elsewhere, each with its reason; an entry that matches nothing is reported so that the
    table only shrinks.

Test code. A test file is one listed in a peerchain_unit_test SOURCES, one named *_test.*,
*_test_util.* or test_*.*, or a header paired with a listed test source (foo.hpp beside
foo.cpp). Its includes are checked against what its test binary <NAME>_tests links: the
module, the test's DEPS, and peerchain_testutil, which peerchain_unit_test always adds
(cmake/PeerchainModule.cmake); all transitively. A test binary is a leaf that nothing
links, so its DEPS may name any module without breaking the order, and its includes do not
enter the module graph of rule 3. The other way round, non-test code may not include a
test file (src/chain/chain_test_util.hpp is for tests only). The test libraries of
tests/CMakeLists.txt (add_library(peerchain_testutil ...)) are checked like modules against
their own target_link_libraries. bench/, fuzz/ and tests/integration/ are executables that
only rule 5 covers.

Not understood: #if blocks (an include under #if 0 counts) and includes through macros.
Standard library only, so that it runs before anything is installed.
"""

import argparse
import collections
import re
import sys
from pathlib import Path, PurePosixPath

# Third-party headers that only a few places may include, from STYLE.md:
# (name, include globs, file globs where they belong). Globs are relative to the
# repository root (file) or the include path (header): * stays within a folder, ** crosses.
CONFINED = [
    ("LevelDB", ["leveldb/**"], ["src/store/leveldb_*.cpp"]),
    ("Beast/Asio", ["boost/asio.hpp", "boost/asio/**", "boost/beast.hpp", "boost/beast/**"],
     ["src/net/transport/**", "src/api/server/**"]),
]

# Legitimate uses of a CONFINED header outside its home: (file glob, include glob, reason).
CONFINED_EXCEPTIONS = [
    ("src/api/client/**", "boost/asio/**",
     "api_client is the HTTP client of the command-line tools: a Beast client is what it is"),
    ("src/api/client/**", "boost/beast/**",
     "api_client is the HTTP client of the command-line tools: a Beast client is what it is"),
    ("src/node/node.cpp", "boost/asio/io_context.hpp",
     "node owns the one network io_context (STYLE.md, Concurrency) and hands it to the "
     "transport and the HTTP server"),
    ("src/node/node.cpp", "boost/asio/executor_work_guard.hpp",
     "keeps the network threads in io_context::run() until shutdown"),
    ("src/node/config.cpp", "boost/asio/ip/address.hpp",
     "rejects a bad --http-bind or --p2p-bind at startup with the parser the servers bind "
     "with; legacy: a net/transport helper beside parse_peer_url could take it over"),
    ("bench/http_bench.cpp", "boost/asio.hpp",
     "the bare Beast server the API's speed is measured against, and its load generator"),
    ("bench/http_bench.cpp", "boost/beast/**",
     "the bare Beast server the API's speed is measured against, and its load generator"),
    ("src/app/wallet_cli_test.cpp", "boost/asio/io_context.hpp",
     "runs the node's HttpServer on a local io_context to test the wallet commands end to end"),
    ("src/app/wallet_cli_test.cpp", "boost/asio/executor_work_guard.hpp",
     "keeps that local io_context running for the length of the test"),
]

# peerchain_unit_test links these into every test binary (cmake/PeerchainModule.cmake).
IMPLICIT_TEST_DEPS = ["peerchain_testutil"]

CXX_SUFFIXES = {".cpp", ".cc", ".cxx", ".hpp", ".hh", ".h", ".ipp", ".inl"}
CONFINED_SCAN_DIRS = ["src", "tests", "bench", "fuzz"]
TEST_NAME = re.compile(r"(^test_.*|.*_test|.*_tests|.*_test_util)$")
INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"\n]+)[>"]', re.M)


def glob_regex(pattern):
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def glob_match(pattern, path):
    return glob_regex(pattern).match(path) is not None


# ---------------------------------------------------------------------------------------
# CMake: just enough of the language to read the calls we care about.


def strip_cmake_comments(text):
    """Blanks out # comments (line and bracket forms), keeping newlines and strings."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif c == "#":
            m = re.match(r"#\[(=*)\[", text[i:])
            if m:
                end = text.find("]" + m.group(1) + "]", i)
                end = n if end < 0 else end + len(m.group(1)) + 2
            else:
                end = text.find("\n", i)
                end = n if end < 0 else end
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        else:
            out.append(c)
            i += 1
    return "".join(out)


def cmake_commands(path):
    """Yields (name, [(argument, line)], line) for each command call in a CMake file."""
    text = strip_cmake_comments(path.read_text(encoding="utf-8"))
    call = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)[ \t]*\(")
    i = 0
    while True:
        m = call.search(text, i)
        if not m:
            return
        line = text.count("\n", 0, m.start()) + 1
        j, depth, args = m.end(), 1, []
        while j < len(text) and depth:
            c = text[j]
            if c == "(":
                depth += 1
                j += 1
            elif c == ")":
                depth -= 1
                j += 1
            elif c.isspace():
                j += 1
            elif c == '"':
                k = j + 1
                while k < len(text) and text[k] != '"':
                    k += 2 if text[k] == "\\" else 1
                args.append((text[j + 1:k], text.count("\n", 0, j) + 1))
                j = k + 1
            else:
                k = j
                while k < len(text) and not text[k].isspace() and text[k] not in '()"':
                    k += 1
                args.append((text[j:k], text.count("\n", 0, j) + 1))
                j = k
        yield m.group(1).lower(), args, line
        i = j


def expand(args, variables):
    """Expands ${var} from set()/list(APPEND) of the same file; drops what it cannot."""
    out = []
    for value, line in args:
        for part in value.split(";"):
            whole = re.fullmatch(r"\$\{(\w+)\}", part)
            if whole:
                out.extend((v, line) for v in variables.get(whole.group(1), []))
            elif part and "$" not in part:
                out.append((part, line))
    return out


def keyword_args(args, options, multi):
    """cmake_parse_arguments for the calls below: {keyword: [(value, line)]}."""
    result = {k: [] for k in multi}
    current = None
    for value, line in args:
        if value in options:
            current = None
        elif value in multi:
            current = value
        elif current:
            result[current].append((value, line))
    return result


class Project:
    """The targets that the CMake files declare and what each links."""

    def __init__(self, root):
        self.root = root
        self.order = []  # PEERCHAIN_MODULES
        self.modules = {}  # short name -> {"dir", "cmake", "line", "deps", "sources"}
        self.tests = {}  # module short name -> {"cmake", "line", "deps", "sources"}
        self.testlibs = {}  # target -> {"cmake", "line", "sources"}
        self.extra_links = []  # (target, [(item, line)], cmake file)
        self.problems = []

    def rel(self, path):
        return PurePosixPath(path.relative_to(self.root)).as_posix()

    def load(self):
        top = self.root / "CMakeLists.txt"
        for name, args, _ in cmake_commands(top):
            if name == "set" and args and args[0][0] == "PEERCHAIN_MODULES":
                self.order = [a for a, _ in args[1:]]
        if not self.order:
            raise SystemExit(f"{self.rel(top)}: no set(PEERCHAIN_MODULES ...) to take the "
                             "module order from")
        cmake_files = sorted((self.root / "src").rglob("CMakeLists.txt"))
        if (self.root / "tests").is_dir():
            cmake_files += sorted((self.root / "tests").rglob("CMakeLists.txt"))
        for cmake in cmake_files:
            self._load_file(cmake)

    def _load_file(self, cmake):
        variables = {}
        where = self.rel(cmake)
        base = cmake.parent
        for name, raw, line in cmake_commands(cmake):
            if name == "set" and raw:
                variables[raw[0][0]] = [v for v, _ in expand(raw[1:], variables)]
                continue
            if name == "list" and len(raw) >= 2 and raw[0][0] == "APPEND":
                variables.setdefault(raw[1][0], []).extend(
                    v for v, _ in expand(raw[2:], variables))
                continue
            args = expand(raw, variables)
            if not args:
                continue
            if name == "peerchain_module":
                kw = keyword_args(args[1:], {"STRICT"}, {"SOURCES", "DEPS"})
                module = args[0][0]
                derived = None
                if self.rel(base).startswith("src/"):
                    derived = self.rel(base).removeprefix("src/").replace("/", "_")
                if module != derived:
                    self.problems.append(
                        f"{where}:{line}: peerchain_module({module}) in folder "
                        f"{self.rel(base)}: a module is named after its folder under src/ "
                        f"({derived or 'a folder under src/'})")
                self.modules[module] = {
                    "dir": base, "cmake": where, "line": line, "deps": kw["DEPS"],
                    "sources": [(base / s).resolve() for s, _ in kw["SOURCES"]]}
            elif name == "peerchain_unit_test":
                kw = keyword_args(args[1:], set(), {"SOURCES", "DEPS"})
                self.tests[args[0][0]] = {
                    "cmake": where, "line": line, "deps": kw["DEPS"],
                    "sources": [(base / s).resolve() for s, _ in kw["SOURCES"]]}
            elif name == "add_library" and args[0][0].startswith("peerchain_") \
                    and not self.rel(base).startswith("src"):
                sources = [s for s, _ in args[1:]
                           if s not in {"STATIC", "SHARED", "OBJECT", "INTERFACE"}]
                self.testlibs[args[0][0]] = {
                    "cmake": where, "line": line,
                    "sources": [(base / s).resolve() for s in sources]}
            elif name == "target_link_libraries":
                items = [(v, ln) for v, ln in args[1:]
                         if v not in {"PUBLIC", "PRIVATE", "INTERFACE"}]
                self.extra_links.append((args[0][0], items, where))

    # Targets are keyed by their CMake name: peerchain_<module>, <module>_tests and the
    # test libraries.
    def build_links(self):
        self.links = collections.defaultdict(dict)  # target -> {dep target: (file, line)}
        module_targets = {f"peerchain_{m}" for m in self.modules}
        for module in self.order:
            module_targets.add(f"peerchain_{module}")
        self.known = module_targets | set(self.testlibs)

        def resolve(item, cmake, line, via_peerchain_module):
            if via_peerchain_module and item in self.order:
                return f"peerchain_{item}"
            if via_peerchain_module and item in self.modules:
                self.problems.append(
                    f"{cmake}:{line}: DEPS names {item}, which is not in PEERCHAIN_MODULES "
                    f"so peerchain_module hands it to the linker as is; write peerchain_{item}")
                return f"peerchain_{item}"
            return item if item in self.known else None

        for module, info in self.modules.items():
            target = f"peerchain_{module}"
            self.links.setdefault(target, {})
            for item, line in info["deps"]:
                dep = resolve(item, info["cmake"], line, True)
                if dep:
                    self.links[target].setdefault(dep, (info["cmake"], line))
        for module, info in self.tests.items():
            target = f"{module}_tests"
            self.links[target][f"peerchain_{module}"] = (info["cmake"], info["line"])
            for item in IMPLICIT_TEST_DEPS:
                if item in self.known:
                    self.links[target][item] = (info["cmake"], info["line"])
            for item, line in info["deps"]:
                dep = resolve(item, info["cmake"], line, True)
                if dep:
                    self.links[target].setdefault(dep, (info["cmake"], line))
        for lib in self.testlibs:
            self.links.setdefault(lib, {})
        for target, items, cmake in self.extra_links:
            if target not in self.known and not target.endswith("_tests"):
                continue
            for item, line in items:
                dep = resolve(item, cmake, line, False)
                if dep:
                    self.links[target].setdefault(dep, (cmake, line))

    def closure(self, target):
        seen, stack = set(), [target]
        while stack:
            for dep in self.links.get(stack.pop(), {}):
                if dep not in seen:
                    seen.add(dep)
                    stack.append(dep)
        return seen


def display(target):
    """peerchain_chain -> chain, chain_tests -> chain_tests, test libraries as they are."""
    if target.startswith("peerchain_") and not target.startswith("peerchain_testutil"):
        return target.removeprefix("peerchain_")
    return target


# ---------------------------------------------------------------------------------------
# Graphs.


def strongly_connected(graph):
    """Tarjan's algorithm: the components with a cycle (two nodes or more, or a self-edge)."""
    index, low, on_stack, stack, result = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                result.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for v in sorted(graph):
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return result


def shortest_cycle(graph, component):
    """A shortest cycle through the component's first node: [a, b, ..., a]."""
    start, members = component[0], set(component)
    parent, queue = {start: None}, collections.deque([start])
    while queue:
        v = queue.popleft()
        for w in sorted(graph.get(v, ())):
            if w == start:
                path = [v]
                while parent[path[-1]] is not None:
                    path.append(parent[path[-1]])
                return path[::-1] + [start]
            if w in members and w not in parent:
                parent[w] = v
                queue.append(w)
    return component + [component[0]]


# ---------------------------------------------------------------------------------------
# Sources.


def code_only(text):
    """Blanks out C++ comments, keeping newlines, strings and character literals."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not text[i - 1].isalnum()):
            m = re.match(r'R"([^()\\\s]{0,16})\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = text.find(")" + m.group(1) + '"', i)
            end = n if end < 0 else end + len(m.group(1)) + 2
            out.append(text[i:end])
            i = end
        elif c in "\"'":
            # A quote after a digit is a digit separator (1'000), not a literal.
            if c == "'" and i and text[i - 1].isalnum():
                out.append(c)
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def includes(path):
    """[(line, '<' or '"', header)] for each #include in the file."""
    text = code_only(path.read_text(encoding="utf-8", errors="replace"))
    return [(text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2).strip())
            for m in INCLUDE.finditer(text)]


def cxx_files(directory):
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.rglob("*") if p.suffix in CXX_SUFFIXES and p.is_file())


def is_test_name(path):
    return TEST_NAME.match(path.stem) is not None


class Owner:
    """Who a file belongs to: the target that provides it and whether only tests see it."""

    def __init__(self, provider, test, test_target=None):
        self.provider = provider  # peerchain_<module> or a test library
        self.test = test
        self.test_target = test_target  # <module>_tests for test files of a module


def assign_owners(project, files):
    root = project.root
    listed = {}  # resolved path -> Owner; a library's own sources win over a test's
    for module, info in project.tests.items():
        for source in info["sources"]:
            listed[source] = Owner(f"peerchain_{module}", True, f"{module}_tests")
    for module, info in project.modules.items():
        for source in info["sources"]:
            listed[source] = Owner(f"peerchain_{module}", False)
    for lib, info in project.testlibs.items():
        for source in info["sources"]:
            listed[source] = Owner(lib, False)
    module_dirs = {info["dir"].resolve(): m for m, info in project.modules.items()}
    base_testlib = next((t for t in IMPLICIT_TEST_DEPS if t in project.testlibs), None)
    testlib_dirs = {s.parent for info in project.testlibs.values() for s in info["sources"]}

    owners = {}  # resolved path -> Owner, or None for a file that nothing owns
    for path in files:
        if path in listed:
            owners[path] = listed[path]
            continue
        paired = [o for p, o in listed.items()
                  if p.parent == path.parent and p.stem == path.stem]
        if paired:
            owners[path] = paired[0]
            continue
        if path.parent in testlib_dirs:
            owners[path] = Owner(base_testlib, False) if base_testlib else None
            continue
        folder = path.parent
        while folder != root and folder not in module_dirs:
            folder = folder.parent
        if folder not in module_dirs:
            owners[path] = None
            continue
        module = module_dirs[folder]
        if is_test_name(path):
            test_target = f"{module}_tests" if module in project.tests else None
            owners[path] = Owner(f"peerchain_{module}", True, test_target)
        else:
            owners[path] = Owner(f"peerchain_{module}", False)
    return owners


def resolve_include(root, includer, header):
    for base in (includer.parent, root / "src", root):
        candidate = (base / header).resolve()
        if candidate.is_file():
            try:
                candidate.relative_to(root)
            except ValueError:
                return None
            return candidate
    return None


# ---------------------------------------------------------------------------------------
# The checks.


def check_link_order(project, problems):
    rank = {m: i for i, m in enumerate(project.order)}
    for module in sorted(project.modules):
        target = f"peerchain_{module}"
        for dep, (cmake, line) in sorted(project.links[target].items()):
            if dep in project.testlibs:
                problems.append(f"{cmake}:{line}: module {module} links the test library "
                                f"{dep}")
                continue
            if module not in rank:
                continue
            name = display(dep)
            if name in rank:
                if rank[name] >= rank[module]:
                    problems.append(
                        f"{cmake}:{line}: module {module} links {name}, which "
                        f"PEERCHAIN_MODULES lists after it (a module links only earlier ones)")
                continue
            later = sorted(display(t) for t in project.closure(dep) | {dep}
                           if display(t) in rank and rank[display(t)] >= rank[module])
            if later:
                problems.append(
                    f"{cmake}:{line}: module {module} links {name}, which links "
                    f"{', '.join(later)}: not before {module} in PEERCHAIN_MODULES")
    for component in strongly_connected(project.links):
        cycle = shortest_cycle(project.links, component)
        steps = [f"{project.links[a][b][0]}:{project.links[a][b][1]}"
                 for a, b in zip(cycle, cycle[1:])]
        problems.append(f"link cycle: {' -> '.join(display(t) for t in cycle)} "
                        f"({'; '.join(steps)})")


def check_includes(project, problems):
    root = project.root
    files = cxx_files(root / "src")
    for info in project.testlibs.values():
        for source in info["sources"]:
            files.extend(cxx_files(source.parent))
    files = sorted({f.resolve() for f in files})
    owners = assign_owners(project, files)
    rank = {m: i for i, m in enumerate(project.order)}
    allowed_cache = {}

    def allowed(owner):
        key = (owner.provider, owner.test, owner.test_target)
        if key not in allowed_cache:
            if owner.test and owner.test_target:
                targets = project.closure(owner.test_target)
            elif owner.test:
                targets = project.closure(owner.provider)
                for extra in IMPLICIT_TEST_DEPS:
                    targets |= {extra} | project.closure(extra)
            else:
                targets = project.closure(owner.provider)
            allowed_cache[key] = targets | {owner.provider}
        return allowed_cache[key]

    def who(owner):
        name = display(owner.provider)
        return f"{name} (test)" if owner.test else name

    file_graph = collections.defaultdict(set)
    module_graph = collections.defaultdict(dict)  # provider -> {provider: (file, line, inc)}
    for path in files:
        rel = project.rel(path)
        owner = owners[path]
        if owner is None:
            name = PurePosixPath(rel).parent.as_posix().removeprefix("src/").replace("/", "_")
            problems.append(f"{rel}: belongs to no module; give its folder a CMakeLists.txt "
                            f"with peerchain_module({name} ...) or list it in a module's "
                            f"SOURCES")
            continue
        for line, kind, header in includes(path):
            if kind != '"':
                continue
            where = f'{rel}:{line}: #include "{header}"'
            target = resolve_include(root, path, header)
            if target is None:
                problems.append(f"{where}: no such file beside it, under src/ or under the "
                                f"repository root ({who(owner)})")
                continue
            file_graph[path].add(target)
            if target not in owners:
                problems.append(f"{where}: {who(owner)} includes {project.rel(target)}, "
                                f"which is outside src/ and the test libraries")
                continue
            theirs = owners[target]
            if theirs is None:
                problems.append(f"{where}: {who(owner)} includes {project.rel(target)}, "
                                f"which no module or test library owns")
                continue
            if theirs.test and not owner.test:
                problems.append(f"{where}: {who(owner)} includes a test-only file of "
                                f"{display(theirs.provider)}")
                continue
            if theirs.provider not in allowed(owner):
                link_owner = owner.test_target if owner.test and owner.test_target \
                    else owner.provider
                reach = sorted(display(t) for t in allowed(owner) - {owner.provider})
                mine, other = display(owner.provider), display(theirs.provider)
                later = ""
                if mine in rank and other in rank and rank[other] > rank[mine]:
                    later = " comes after it in PEERCHAIN_MODULES and"
                problems.append(
                    f"{where}: {who(owner)} includes {other}, which{later} is not in the "
                    f"transitive link list of {display(link_owner)} "
                    f"({' '.join(reach) or 'nothing'})")
            if not owner.test and theirs.provider != owner.provider:
                module_graph[owner.provider].setdefault(
                    theirs.provider, (rel, line, header))

    for component in strongly_connected(module_graph):
        cycle = shortest_cycle(module_graph, component)
        steps = []
        for a, b in zip(cycle, cycle[1:]):
            rel, line, header = module_graph[a][b]
            steps.append(f'{rel}:{line} includes "{header}"')
        problems.append(f"module include cycle: {' -> '.join(display(m) for m in cycle)} "
                        f"({'; '.join(steps)})")
    for component in strongly_connected(file_graph):
        cycle = shortest_cycle(file_graph, component)
        problems.append("file include cycle: " + " -> ".join(project.rel(f) for f in cycle))


def check_confined(root, problems, exceptions):
    used = [False] * len(exceptions)
    rules = [(name, [glob_regex(h) for h in headers], [glob_regex(p) for p in homes], homes)
             for name, headers, homes in CONFINED]
    for directory in CONFINED_SCAN_DIRS:
        for path in cxx_files(root / directory):
            rel = PurePosixPath(path.relative_to(root)).as_posix()
            for line, kind, header in includes(path):
                for name, header_res, home_res, homes in rules:
                    if not any(h.match(header) for h in header_res):
                        continue
                    if any(h.match(rel) for h in home_res):
                        break
                    hits = [i for i, (file_glob, inc_glob, _) in enumerate(exceptions)
                            if glob_match(file_glob, rel) and glob_match(inc_glob, header)]
                    for i in hits:
                        used[i] = True
                    if not hits:
                        shown = f"<{header}>" if kind == "<" else f'"{header}"'
                        problems.append(
                            f"{rel}:{line}: #include {shown}: {name} may appear only in "
                            f"{', '.join(homes)} (or with a reason in CONFINED_EXCEPTIONS)")
                    break
    for (file_glob, inc_glob, _), hit in zip(exceptions, used):
        if not hit:
            problems.append(f"scripts/check_deps.py: CONFINED_EXCEPTIONS entry "
                            f"({file_glob}, {inc_glob}) matches no include any more; remove it")


def check(root, exceptions=None):
    """All violations under root, one line each; empty when the layering holds."""
    root = Path(root).resolve()
    project = Project(root)
    project.load()
    project.build_links()
    problems = list(project.problems)
    check_link_order(project, problems)
    check_includes(project, problems)
    check_confined(root, problems, CONFINED_EXCEPTIONS if exceptions is None else exceptions)
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=Path(__file__).resolve().parent.parent,
                        help="repository to check (default: the one holding this script)")
    args = parser.parse_args(argv)
    problems = check(args.root)
    for problem in problems:
        print(problem)
    if problems:
        print(f"check_deps: {len(problems)} violation(s) of the module layering "
              f"(STYLE.md, Layout and dependency direction)", file=sys.stderr)
        return 1
    print("check_deps: the module layering holds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
