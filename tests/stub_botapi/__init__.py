"""The Bot API stand-in lives in the package now (``sandbox.stub_botapi``); this name stays for the
tests that import it: ``tests.stub_botapi`` and its modules ARE those of ``sandbox.stub_botapi``
(the same module objects, so classes compare equal), and ``python -m tests.stub_botapi`` runs it."""

from __future__ import annotations

import importlib
import sys

import sandbox.stub_botapi as _stub

for _name in ("actors", "control", "faults", "fixtures", "html_check", "records", "server", "validation"):
    sys.modules[f"{__name__}.{_name}"] = importlib.import_module(f"sandbox.stub_botapi.{_name}")
sys.modules[__name__] = _stub
