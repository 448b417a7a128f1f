"""Trying dondoc without Telegram: the local Bot API stand-in (``sandbox.stub_botapi``, also what
the end-to-end tests and benchmarks run the bot against) and ``make demo`` (``sandbox.demo``)."""
