"""`harness run --help` names every default and every key `--set` takes (kept in step with
the proxies' own settings by this test)."""

from __future__ import annotations

import re

from cli_helpers import harness as cli

from harness.proxies import PROXIES


def test_run_help_lists_every_set_key_and_default(capsys) -> None:
    code, out, _ = cli(capsys, "run", "--help")
    assert code == 0
    text = " ".join(out.split())
    help_of_set = text[text.index("--set TEXT") : text.index("--benchmark-set")]
    for name in PROXIES.names():
        if PROXIES.origin(name) != "built-in":
            continue  # a plugin's settings are its own help's business
        for key in PROXIES.get(name)().settings():
            assert re.search(rf"\b{re.escape(key)}\b", help_of_set), (name, key)
    for option in ("--trials", "--profile", "--proxy", "--budget-seconds", "--table"):
        start = re.search(rf"{option} [A-Z]+ ", text)  # the option's own line, not a mention
        assert start is not None, option
        chunk = text[start.start() :][:260]
        assert "[default:" in chunk, option
    assert "--format [table|md|csv|latex] The closing summary" in text
