#!/usr/bin/env python3
"""Tests of check_deps.py on small fake trees: each rule must fail when broken.

Run: python3 scripts/check_deps_test.py   (ctest: check_deps_self_test)
"""

import contextlib
import importlib.util
import io
import shutil
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

sys.dont_write_bytecode = True
_spec = importlib.util.spec_from_file_location(
    "check_deps", Path(__file__).resolve().parent / "check_deps.py")
check_deps = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_deps)

# A tree that passes: five listed modules (one nested), a library beside node that is not
# listed, two test libraries, tests that use them, LevelDB and Asio in their homes.
TREE = {
    "CMakeLists.txt": """
        # Modules in dependency order.
        set(PEERCHAIN_MODULES util core store chain net_wire net_transport node)
        add_subdirectory(src/node/client)
    """,
    "src/util/CMakeLists.txt": """
        peerchain_module(util STRICT SOURCES log.cpp DEPS Threads::Threads)
        peerchain_unit_test(util SOURCES log_test.cpp)
    """,
    "src/util/log.hpp": "#pragma once\n",
    "src/util/log.cpp": '#include "util/log.hpp"\n',
    "src/util/log_test.cpp": '#include "util/log.hpp"\n#include "tests/util/test_util.hpp"\n',
    "src/core/CMakeLists.txt": """
        set(core_sources block.cpp)
        peerchain_module(core STRICT
            SOURCES ${core_sources}
            DEPS util)
        peerchain_unit_test(core SOURCES block_test.cpp DEPS peerchain_testutil_core)
    """,
    "src/core/block.hpp": '#pragma once\n#include "util/log.hpp"\n',
    "src/core/block.cpp": '#include "core/block.hpp"\n#include <vector>\n',
    "src/core/block_test.cpp": '#include "core/block.hpp"\n'
                               '#include "tests/util/block_builder.hpp"\n'
                               '#include <gtest/gtest.h>\n',
    "src/store/CMakeLists.txt": """
        peerchain_module(store SOURCES leveldb_db.cpp DEPS util)
        target_link_libraries(peerchain_store PRIVATE peerchain_leveldb)
    """,
    "src/store/leveldb_db.hpp": '#pragma once\n#include "util/log.hpp"\n',
    "src/store/leveldb_db.cpp": '#include "store/leveldb_db.hpp"\n#include <leveldb/db.h>\n',
    "src/chain/CMakeLists.txt": """
        peerchain_module(chain SOURCES chain.cpp DEPS util core store spdlog::spdlog)
        peerchain_unit_test(chain SOURCES chain_test.cpp DEPS peerchain_testutil_core)
    """,
    "src/chain/chain.hpp": '#pragma once\n#include "core/block.hpp"\n',
    "src/chain/chain.cpp": '#include "chain/chain.hpp"\n#include "store/leveldb_db.hpp"\n',
    "src/chain/chain_test_util.hpp": '#pragma once\n#include "chain/chain.hpp"\n',
    "src/chain/chain_test.cpp": '#include "chain/chain_test_util.hpp"\n',
    "src/net/CMakeLists.txt": """
        foreach(sub wire transport)
            add_subdirectory(${sub})
        endforeach()
    """,
    "src/net/wire/CMakeLists.txt": "peerchain_module(net_wire SOURCES message.cpp DEPS core)\n",
    "src/net/wire/message.hpp": '#pragma once\n#include "core/block.hpp"\n',
    "src/net/wire/message.cpp": '#include "net/wire/message.hpp"\n',
    "src/net/transport/CMakeLists.txt":
        "peerchain_module(net_transport SOURCES ws.cpp DEPS util peerchain_boost)\n",
    "src/net/transport/ws.hpp": '#pragma once\n#include <boost/asio/io_context.hpp>\n',
    "src/net/transport/ws.cpp": '#include "net/transport/ws.hpp"\n'
                                '#include <boost/beast/websocket.hpp>\n',
    "src/node/CMakeLists.txt": """
        peerchain_module(node
            SOURCES node.cpp server/http.cpp
            DEPS util chain net_wire net_transport peerchain_node_client)
    """,
    "src/node/node.hpp": '#pragma once\n#include "chain/chain.hpp"\n',
    "src/node/node.cpp": '#include "node/node.hpp"\n#include "net/wire/message.hpp"\n'
                         '#include "net/transport/ws.hpp"\n#include "node/client/client.hpp"\n',
    "src/node/server/http.cpp": '#include "node/node.hpp"\n',
    "src/node/client/CMakeLists.txt": """
        peerchain_module(node_client SOURCES client.cpp DEPS util)
        peerchain_unit_test(node_client SOURCES client_test.cpp DEPS chain)
    """,
    "src/node/client/client.hpp": '#pragma once\n#include "util/log.hpp"\n',
    "src/node/client/client.cpp": '#include "node/client/client.hpp"\n',
    "src/node/client/client_test.cpp": '#include "node/client/client.hpp"\n'
                                       '#include "chain/chain.hpp"\n',
    "tests/CMakeLists.txt": """
        add_library(peerchain_testutil STATIC util/test_util.cpp)
        target_link_libraries(peerchain_testutil PUBLIC peerchain_util GTest::gtest)
        add_library(peerchain_testutil_core STATIC util/block_builder.cpp)
        target_link_libraries(peerchain_testutil_core PUBLIC peerchain_testutil peerchain_core)
    """,
    "tests/util/test_util.hpp": '#pragma once\n#include "util/log.hpp"\n',
    "tests/util/test_util.cpp": '#include "tests/util/test_util.hpp"\n',
    "tests/util/block_builder.hpp": '#pragma once\n#include "core/block.hpp"\n',
    "tests/util/block_builder.cpp": '#include "tests/util/block_builder.hpp"\n',
}


class CheckDepsTest(unittest.TestCase):
    def setUp(self):
        self.root = Path(tempfile.mkdtemp(prefix="check_deps_test_"))
        self.addCleanup(shutil.rmtree, self.root)
        for name, text in TREE.items():
            self.write(name, textwrap.dedent(text))

    def write(self, name, text):
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def append(self, name, text):
        with open(self.root / name, "a") as f:
            f.write(text)

    def replace(self, name, old, new):
        path = self.root / name
        text = path.read_text()
        self.assertIn(old, text)
        path.write_text(text.replace(old, new))

    def problems(self, exceptions=()):
        return check_deps.check(self.root, exceptions=list(exceptions))

    def assertFails(self, *fragments, exceptions=()):
        problems = self.problems(exceptions)
        for problem in problems:
            if all(f in problem for f in fragments):
                return problems
        self.fail(f"no violation with {fragments} among:\n" + "\n".join(problems))

    def test_the_fake_tree_passes(self):
        self.assertEqual(self.problems(), [])

    def test_an_upward_include_fails_naming_file_line_include_and_modules(self):
        self.append("src/core/block.cpp", '#include "chain/chain.hpp"\n')
        self.assertFails('src/core/block.cpp:3: #include "chain/chain.hpp": core includes '
                         'chain, which comes after it in PEERCHAIN_MODULES')

    def test_an_include_outside_the_transitive_deps_fails(self):
        # net_wire comes after store but does not link it.
        self.append("src/net/wire/message.cpp", '#include "store/leveldb_db.hpp"\n')
        self.assertFails("src/net/wire/message.cpp:2", "net_wire includes store")

    def test_main_exits_1_on_a_violation_and_0_without(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            saved = check_deps.CONFINED_EXCEPTIONS
            check_deps.CONFINED_EXCEPTIONS = []
            try:
                self.assertEqual(check_deps.main(["--root", str(self.root)]), 0)
                self.append("src/util/log.hpp", '#include "node/node.hpp"\n')
                self.assertEqual(check_deps.main(["--root", str(self.root)]), 1)
            finally:
                check_deps.CONFINED_EXCEPTIONS = saved
        self.assertIn('src/util/log.hpp:2: #include "node/node.hpp": util includes node',
                      out.getvalue())

    def test_a_module_include_cycle_fails(self):
        self.append("src/chain/chain.hpp", '#include "node/node.hpp"\n')
        self.assertFails("module include cycle: chain -> node -> chain",
                         'src/chain/chain.hpp:3 includes "node/node.hpp"')

    def test_a_cycle_that_the_deps_allow_still_fails(self):
        # Two modules outside PEERCHAIN_MODULES that link each other: no order applies,
        # so only the cycle checks can catch it.
        self.write("src/node/extra/CMakeLists.txt",
                   "peerchain_module(node_extra SOURCES extra.cpp DEPS peerchain_node_client)\n")
        self.write("src/node/extra/extra.hpp", '#pragma once\n')
        self.write("src/node/extra/extra.cpp",
                   '#include "node/extra/extra.hpp"\n#include "node/client/client.hpp"\n')
        self.replace("src/node/client/CMakeLists.txt", "DEPS util)",
                     "DEPS util peerchain_node_extra)")
        self.append("src/node/client/client.cpp", '#include "node/extra/extra.hpp"\n')
        problems = self.assertFails("module include cycle: node_client -> node_extra -> "
                                    "node_client")
        self.assertTrue(any(p.startswith("link cycle: node_client -> node_extra") for p in
                            problems), problems)

    def test_a_file_include_cycle_fails(self):
        self.write("src/core/a.hpp", '#pragma once\n#include "core/b.hpp"\n')
        self.write("src/core/b.hpp", '#pragma once\n#include "core/c.hpp"\n')
        self.write("src/core/c.hpp", '#pragma once\n#include "core/a.hpp"\n')
        self.assertFails("file include cycle: src/core/a.hpp -> src/core/b.hpp -> "
                         "src/core/c.hpp -> src/core/a.hpp")

    def test_deps_on_a_later_module_fail(self):
        self.replace("src/core/CMakeLists.txt", "DEPS util)", "DEPS util chain)")
        self.assertFails("src/core/CMakeLists.txt:5: module core links chain, which "
                         "PEERCHAIN_MODULES lists after it")

    def test_linking_an_unlisted_module_that_links_later_ones_fails(self):
        self.replace("src/node/client/CMakeLists.txt", "DEPS util)", "DEPS util net_wire)")
        self.replace("src/chain/CMakeLists.txt", "DEPS util core store",
                     "DEPS util core store peerchain_node_client")
        self.assertFails("module chain links node_client, which links net_wire")

    def test_an_unlisted_module_named_without_prefix_fails(self):
        self.replace("src/node/CMakeLists.txt", "peerchain_node_client", "node_client")
        self.assertFails("DEPS names node_client", "write peerchain_node_client")

    def test_a_module_not_named_after_its_folder_fails(self):
        self.write("src/net/wire/CMakeLists.txt",
                   "peerchain_module(wire SOURCES message.cpp DEPS core)\n")
        self.assertFails("peerchain_module(wire) in folder src/net/wire", "(net_wire)")

    def test_a_file_in_a_folder_without_a_module_fails(self):
        self.write("src/net/connman/connman.cpp", '#include "util/log.hpp"\n')
        self.assertFails("src/net/connman/connman.cpp: belongs to no module",
                         "peerchain_module(net_connman")

    def test_an_include_that_resolves_nowhere_fails(self):
        self.append("src/core/block.cpp", '#include "core/missing.hpp"\n')
        self.assertFails('src/core/block.cpp:3: #include "core/missing.hpp": no such file')

    def test_tests_may_include_what_their_binary_links_and_no_more(self):
        self.assertEqual(self.problems(), [])  # core and node_client tests use their DEPS
        self.append("src/util/log_test.cpp", '#include "tests/util/block_builder.hpp"\n')
        self.assertFails("src/util/log_test.cpp:3", "util (test) includes "
                         "peerchain_testutil_core", "link list of util_tests")

    def test_library_code_may_not_include_test_helpers(self):
        self.append("src/core/block.cpp", '#include "tests/util/block_builder.hpp"\n')
        self.assertFails("src/core/block.cpp:3", "core includes peerchain_testutil_core")
        self.append("src/chain/chain.cpp", '#include "chain/chain_test_util.hpp"\n')
        self.assertFails("src/chain/chain.cpp:3", "a test-only file of chain")

    def test_commented_out_includes_do_not_count(self):
        self.append("src/core/block.cpp", '// #include "chain/chain.hpp"\n'
                    '/*\n#include "node/node.hpp"\n*/\nconst char* s = "/*";\n')
        self.assertEqual(self.problems(), [])
        self.append("src/core/block.cpp", '#include "node/node.hpp"\n')
        self.assertFails("src/core/block.cpp:8", "core includes node")

    def test_leveldb_outside_store_leveldb_sources_fails(self):
        self.append("src/store/leveldb_db.hpp", "#include <leveldb/slice.h>\n")
        self.assertFails("src/store/leveldb_db.hpp:3: #include <leveldb/slice.h>: LevelDB")
        self.append("src/chain/chain.cpp", "#include <leveldb/db.h>\n")
        self.assertFails("src/chain/chain.cpp:3: #include <leveldb/db.h>")

    def test_asio_outside_its_homes_fails_unless_listed_with_a_reason(self):
        self.append("src/node/node.cpp", "#include <boost/asio/io_context.hpp>\n")
        self.write("bench/node_bench.cpp", "#include <boost/beast/http.hpp>\n")
        self.assertFails("src/node/node.cpp:5: #include <boost/asio/io_context.hpp>: "
                         "Beast/Asio may appear only in")
        self.assertFails("bench/node_bench.cpp:1: #include <boost/beast/http.hpp>")
        exception = ("src/node/node.cpp", "boost/asio/io_context.hpp", "owns the io_context")
        problems = self.problems([exception])
        self.assertEqual([p for p in problems if "node.cpp" in p], [])

    def test_an_exception_that_matches_nothing_fails(self):
        stale = ("src/node/node.cpp", "boost/asio/**", "no longer needed")
        self.assertFails("CONFINED_EXCEPTIONS entry (src/node/node.cpp, boost/asio/**) "
                         "matches no include", exceptions=[stale])


if __name__ == "__main__":
    unittest.main()
