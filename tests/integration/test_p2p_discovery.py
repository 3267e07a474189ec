"""Discovery (issue 7): thirty nodes on loopback, each told of one seed only, find enough of
each other through address gossip to keep the network whole once the seed is gone.

Thirty processes share two cores here, so each mines with one thread (only when asked)
and logs at info level."""

import unittest

from harness import Node, NodeTestCase, wait_until

NODES = 30
MIN_OUTBOUND = 4  # automatic outbound peers besides the seed, on every node


class Discovery(NodeTestCase):
    def test_thirty_nodes_find_each_other_from_one_seed_and_outlive_it(self):
        quiet = ["--miner-threads", "1", "--log-level", "info"]
        seed = self.start_node("seed", extra_args=quiet)
        nodes = self.start_nodes([Node(f"N{i:02}", peers=[seed.ws_url], extra_args=quiet)
                                  for i in range(NODES - 1)])

        def others(node):
            return [p for p in node.handshaken("outbound") if p["address"] != seed.p2p_address]

        def short():
            """Nodes with too few peers besides the seed: name -> how many they have."""
            counts = {n.name: len(others(n)) for n in nodes}
            return {name: k for name, k in counts.items() if k < MIN_OUTBOUND}

        self.wait_for_none(short, timeout=60, interval=1.0,
                           what=f"every node to have {MIN_OUTBOUND} outbound peers besides "
                                "the seed")

        self.assertEqual(seed.stop(), 0)
        block = nodes[0].mine("after the seed left")
        self.wait_for_none(lambda: [n.name for n in nodes if n.tip() != block["hash"]],
                           timeout=60, interval=0.5, what="the block on all the other nodes")

    def wait_for_none(self, pending, timeout, interval, what):
        """Waits until pending() is empty; a timeout names what was still pending."""
        last = {}

        def done():
            last["pending"] = pending()
            return not last["pending"]

        try:
            wait_until(done, timeout=timeout, interval=interval, what=what)
        except AssertionError as e:
            raise AssertionError(f"{e}; still pending: {last.get('pending')}") from None


if __name__ == "__main__":
    unittest.main()
