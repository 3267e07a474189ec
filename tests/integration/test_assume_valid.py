"""--assume-valid (issue 10), with real processes on loopback: a node told to trust a block
of its peer's chain of signed transactions syncs it to the same tip, checks no signature
of the blocks buried under the trusted one, and checks every signature above it."""

import re
import subprocess
import unittest

from harness import BINARY, MAKE_CHAIN, NodeTestCase, wait_until

BURIAL = 100  # regtest's assume_valid_burial (core/params.cpp)


class AssumeValid(NodeTestCase):
    def test_a_node_syncs_signed_transactions_assuming_a_block_valid(self):
        chain_dir = self.tmpdir()
        subprocess.run([MAKE_CHAIN, "--network", "regtest", "--data-dir", chain_dir,
                        "--txs", "4000", "--txs-per-block", "20"],
                       check=True, timeout=300, capture_output=True)
        a = self.start_node("A", data_dir=chain_dir)
        tip = a.height()
        self.assertGreater(tip, 2 * BURIAL + 50)
        # Blocks up to the assumed one skip their signatures, those above it are checked,
        # and so are the last BURIAL blocks whatever the option says.
        assumed_height = tip - BURIAL - 30
        assumed = a.get(f"/blocks/{assumed_height}")
        self.assertGreater(len(assumed["transactions"]), 1)  # signed spends below it

        b = self.start_node("B", peers=[a.ws_url],
                            extra_args=["--assume-valid", assumed["hash"]])
        wait_until(lambda: b.tip() == a.tip(), timeout=300, what="B to sync")
        log = b.log_text()
        self.assertIn(f"assume-valid on: {assumed['hash']} (not among our headers yet)", log)
        skipped = [int(h) for h in
                   re.findall(r"signatures of \w+ \(height (\d+)\) assumed valid", log)]
        self.assertEqual(skipped, list(range(1, assumed_height + 1)))
        self.assertEqual(b.get(f"/blocks/{assumed_height}")["hash"], assumed["hash"])

        # Restarted with the option off, it checks everything and says nothing of it.
        b.stop()
        b.extra_args = ["--assume-valid", "0"]
        b.start()
        self.assertEqual(b.tip(), a.tip())
        restarted = b.log_text()[len(log):]
        self.assertNotIn("assume-valid", restarted)

    def test_a_value_that_is_not_a_block_hash_is_refused_at_start(self):
        data_dir = self.tmpdir()
        for value in ("xyz", "00" * 31, "0x" + "00" * 31):
            run = subprocess.run([BINARY, "node", "--network", "regtest", "--data-dir",
                                  data_dir, "--http-port", "0", "--p2p-port", "0",
                                  "--assume-valid", value],
                                 capture_output=True, text=True, timeout=30)
            self.assertEqual(run.returncode, 2, run.stdout + run.stderr)  # a bad setting
            self.assertIn("--assume-valid", run.stderr)


if __name__ == "__main__":
    unittest.main()
