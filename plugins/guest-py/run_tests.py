#!/usr/bin/env python3
"""Runs the SDK's unit tests on plain CPython: generates the WIT bindings (from ../../wit,
or $FERRY_WIT) with componentize-py, then `unittest` over tests/.

    python3 plugins/guest-py/run_tests.py [-v] [unittest args...]
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from ferry_guest import testing  # noqa: E402

testing.bindings(os.environ.get("FERRY_WIT", os.path.join(HERE, "..", "..", "wit")), "parser-plugin")

if __name__ == "__main__":
    argv = [sys.argv[0], "discover", "-s", os.path.join(HERE, "tests"), "-t", HERE] + sys.argv[1:]
    unittest.main(module=None, argv=argv)
