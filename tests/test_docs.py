"""The documentation site (docs/ + mkdocs.yml): built strictly, every example run or checked,
every exported column documented, every page opened in headless Chromium.

How a code block in docs/**/*.md is checked, so that an example cannot rot:

- Fenced ```python blocks are executed: in order, per page, as ONE script (one namespace) run
  by a fresh `python` process whose cwd is a fresh temporary directory; the page's blocks
  joined, so a `__main__` guard works as in a user's script. A Python example that must not
  run (it needs a cluster) is fenced ```py instead and preceded by
  `<!-- docs-test: not run (REASON) -->`.
- Fenced ```bash blocks: every `harness ...` command in them (continuation lines joined,
  comments and shell redirections cut) is parsed by the real click CLI without being
  invoked: the command and its subcommands exist, every option exists, every value parses
  (choices, types); this part is fast. The line before each bash block carries ONE marker
  saying what else runs, in the slow suite (`pytest -m slow`, `nox -s slow`, `.ci/run`):
    `<!-- docs-test: run -->`  the block runs as written (bash, `set -euo pipefail`), cwd a
        fresh temporary directory: for cheap commands only (table lookups, small counts);
    `<!-- docs-test: run-in-repo -->`  the same with cwd = the repository root (commands
        that read the checkout, e.g. `harness reference check`);
    `<!-- docs-test: twin` + lines + `-->`  the block is too long to run; the twin's lines
        (the same commands with small --seeds/--trials/--profile smoke) run instead, in a
        fresh temporary directory;
    `<!-- docs-test: parse-only (REASON) -->`  it needs what a test has not (a GPU, a
        cluster, a download, hours of CPU): parsed only.
  A bash block without a marker fails `test_every_bash_block_has_a_marker`.
- Other info strings (`text`, none) are output or prose and are not checked.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.S | re.M)
MARKER = re.compile(
    r"<!-- docs-test: (run-in-repo|run|twin|parse-only|not run)\b(.*?)-->\s*$", re.S
)
PAGES = sorted(p for p in DOCS.rglob("*.md"))


@dataclass
class Block:
    page: Path
    info: str
    code: str
    marker: str | None = None
    twin: str = ""
    reason: str = ""
    line: int = 0
    commands: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    text = page.read_text()
    out = []
    for m in FENCE.finditer(text):
        before = text[: m.start()].rstrip("\n")
        tail = before[before.rfind("<!-- docs-test:") :] if "<!-- docs-test:" in before else ""
        marker = MARKER.fullmatch(tail.strip()) if tail and before.endswith("-->") else None
        kind, rest = (marker.group(1), marker.group(2)) if marker else (None, "")
        b = Block(page, m.group(1).strip(), m.group(2), kind, line=text[: m.start()].count("\n"))
        if kind == "twin":
            b.twin = rest.strip()
        else:
            b.reason = rest.strip()
        out.append(b)
    return out


ALL = [b for p in PAGES for b in blocks(p)]
BASH = [b for b in ALL if b.info == "bash"]


def harness_commands(script: str) -> list[list[str]]:
    """Each `harness` command of a shell script as argv (after `harness`), continuation lines
    joined, comments, redirections and pipes cut, `&&`-chains split."""
    joined = re.sub(r"\\\n", " ", script)
    out = []
    for line in joined.splitlines():
        for part in re.split(r"&&|;", line):
            try:
                words = shlex.split(part, comments=True)
            except ValueError:
                continue
            cut = next((i for i, w in enumerate(words) if w in {">", ">>", "|", "2>", "<"}), None)
            words = words[:cut]
            if words[:1] == ["harness"]:
                out.append(words[1:])
    return out


def parse(argv: list[str]) -> None:
    """Parse argv with the real CLI, walking groups down to the command; invoke nothing."""
    import click

    from harness.cli import cli

    command: click.Command = cli
    name = "harness"
    parent = None
    args = list(argv)
    while True:
        ctx = command.make_context(name, args, parent=parent, resilient_parsing=False)
        if not isinstance(command, click.Group):
            return
        rest = [*ctx._protected_args, *ctx.args]
        if not rest:
            return
        name, sub, args = command.resolve_command(ctx, rest)
        assert sub is not None, f"no command {rest[0]!r}"
        command, parent = sub, ctx


# -- the rules --------------------------------------------------------------------------------


def test_the_docs_have_code_blocks() -> None:
    assert len(BASH) >= 15 and any(b.info == "python" for b in ALL)


@pytest.mark.parametrize("block", BASH, ids=str)
def test_every_bash_block_has_a_marker(block: Block) -> None:
    assert block.marker in {"run", "run-in-repo", "twin", "parse-only"}, (
        f"{block}: a bash block needs a <!-- docs-test: ... --> marker (see tests/test_docs.py)"
    )
    if block.marker == "parse-only":
        assert block.reason, f"{block}: parse-only says why"
    if block.marker == "twin":
        assert harness_commands(block.twin), f"{block}: the twin has no harness command"


@pytest.mark.parametrize("block", [b for b in ALL if b.info == "py"], ids=str)
def test_python_not_run_says_why(block: Block) -> None:
    assert block.marker == "not run" and block.reason, f"{block}: ```py needs its reason"


@pytest.mark.parametrize("block", BASH, ids=str)
def test_bash_commands_parse(block: Block) -> None:
    commands = harness_commands(block.code) + harness_commands(block.twin)
    for argv in commands:
        try:
            parse(argv)
        except SystemExit as stop:  # --help, --version
            assert stop.code in (0, None), f"{block}: harness {shlex.join(argv)}"
        except Exception as err:
            raise AssertionError(f"{block}: harness {shlex.join(argv)}: {err}") from err


def _shell(script: str, cwd: Path, timeout: int = 300) -> None:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip
    assert done.returncode == 0, f"{script}\n{done.stdout[-1500:]}\n{done.stderr[-3000:]}"


@pytest.mark.slow
@pytest.mark.parametrize("block", [b for b in BASH if b.marker in {"run", "twin"}], ids=str)
def test_bash_blocks_run(block: Block, tmp_path: Path) -> None:
    _shell(block.twin if block.marker == "twin" else block.code, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("block", [b for b in BASH if b.marker == "run-in-repo"], ids=str)
def test_bash_blocks_run_in_the_checkout(block: Block) -> None:
    _shell(block.code, REPO, timeout=1800)


PYTHON_PAGES = [p for p in PAGES if any(b.info == "python" for b in blocks(p))]
#: the marked API example (moved from the README): its page's run must leave these behind
API_EXAMPLE = DOCS / "guides" / "clusters.md"


@pytest.mark.parametrize("page", PYTHON_PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_python_blocks_run(page: Path, tmp_path: Path) -> None:
    code = "\n\n".join(b.code for b in blocks(page) if b.info == "python")
    script = tmp_path / "page.py"
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    if page == API_EXAMPLE:  # a store and figures, as the example says
        assert (tmp_path / "results" / "study.db").is_file()
        assert any((tmp_path / "figures").glob("*.png"))


def test_the_api_example_is_marked_and_runs_as_a_script() -> None:
    """The guide keeps its marked API example, a `python` block run by the test above as a
    script (its `__main__` guard needs that: worker processes import the script)."""
    page = API_EXAMPLE.read_text()
    block = re.search(r"<!-- api-example -->\n```python\n(.*?)```", page, re.S)
    assert block is not None, "the clusters guide lost its marked API example"
    assert 'if __name__ == "__main__":' in block.group(1) and API_EXAMPLE in PYTHON_PAGES


# -- the reference pages cannot drift ----------------------------------------------------------


def _documented(page: str, heading: str) -> set[str]:
    """Backticked names in the first cell of each table row under `heading` (to the next
    heading of the same or a higher level)."""
    text = (DOCS / page).read_text()
    start = text.index(heading)
    level = heading.split(" ")[0]
    end = re.compile(rf"^#{{1,{len(level)}}} ", re.M).search(text, start + len(heading))
    section = text[start : end.start() if end else len(text)]
    return set(re.findall(r"^\| `([^`]+)` \|", section, re.M))


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Column names of each `harness export` kind, from a tiny store: two lookup runs and one
    cell trained at smoke scale."""
    import pandas as pd

    from harness.cli import main

    root = tmp_path_factory.mktemp("export")
    url = f"sqlite:///{root / 'export.db'}"
    main(["run", "--method", "random,tpe", "--seeds", "1", "--trials", "3", "--storage", url,
          "--quiet"])  # fmt: skip
    main(["evaluate", "--arch", "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
          "|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|", "--benchmark", "nb201-cifar10",
          "--storage", url, "--profile", "smoke", "--set", "train_images=64", "--set",
          "test_images=64", "--threads", "1", "--quiet"])  # fmt: skip
    out = {}
    for kind in ("trials", "evaluations", "curves"):
        path = root / f"{kind}.csv"
        main(["export", "--storage", url, f"--{kind}", "--out", str(path)])
        out[kind] = list(pd.read_csv(path).columns)
    return out


@pytest.mark.parametrize("kind", ["trials", "evaluations", "curves"])
def test_every_exported_column_is_documented(exported: dict[str, list[str]], kind: str) -> None:
    documented = _documented("reference/store.md", f"### `harness export --{kind}`")
    assert exported[kind], kind
    missing = [c for c in exported[kind] if c not in documented]
    assert not missing, f"reference/store.md does not document {kind} columns {missing}"
    stale = sorted(documented - set(exported[kind]))
    assert not stale, f"reference/store.md documents {kind} columns that are not exported: {stale}"


def test_an_empty_curves_export_has_a_real_export_header(exported: dict[str, list[str]]) -> None:
    """A store with no trained cell exports the curves' header alone: the same columns, in the
    same order, as the curves of a real training."""
    from harness.report.results import CURVE_COLUMNS

    assert exported["curves"] == list(CURVE_COLUMNS)


def test_every_store_column_is_documented() -> None:
    from harness.store.schema import TABLES

    for table in TABLES:
        documented = _documented("reference/store.md", f"### `{table.name}`")
        assert {c.name for c in table.columns} == documented, table.name


def _hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_settings_tables_cover_every_built_in_proxy_and_strategy() -> None:
    from harness.proxies import PROXIES
    from harness.strategies import STRATEGIES

    hooks = _hooks()
    proxies, strategies = hooks.proxy_settings(), hooks.strategy_settings()
    assert sorted(proxies) == PROXIES.built_in() and "contrastive" in proxies
    assert sorted(strategies) == STRATEGIES.built_in()
    assert proxies["contrastive"]["paper"]["epochs"] == 10  # the authors' setup
    page = hooks.TABLES["proxy-settings"]()
    assert all(f"### `{n}`" in page for n in proxies)
    page = (DOCS / "reference/settings.md").read_text()
    for table in ("methods", "proxy-settings", "strategy-settings", "protocol-settings"):
        assert f"<!-- generated: {table} -->" in page and table in hooks.TABLES
    protocols = hooks.protocol_settings()
    assert (
        protocols["darts"]["paper"]["epochs"] == 600
        and protocols["nb201"]["paper"]["epochs"] == 200
    )


# -- the built site ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed (pip install -e '.[dev]')")
    out = tmp_path_factory.mktemp("site") / "site"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(out)], cwd=REPO, capture_output=True, text=True, timeout=600)  # fmt: skip
    seconds = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-4000:]
    return out, seconds


def test_the_site_builds_strictly(site: tuple[Path, float]) -> None:
    out, seconds = site
    pages = sorted(out.rglob("*.html"))
    print(f"built {len(pages)} pages in {seconds:.1f} s")
    assert (out / "index.html").is_file() and (out / "changelog.html").is_file()
    assert (out / "results/reference/study/figures/contrastive_explained.png").is_file()
    cli_page = (out / "reference/cli.html").read_text()
    assert "harness run" in cli_page and "--seeds" in cli_page


@pytest.mark.slow
def test_every_page_opens_in_chromium_with_links_resolved(site: tuple[Path, float]) -> None:
    from cli_helpers import chromium_or_skip

    sync_playwright, executable = chromium_or_skip()
    out, _ = site
    pages = sorted(p for p in out.rglob("*.html") if p.name != "404.html")
    ids: dict[Path, set[str]] = {}

    def anchors(path: Path) -> set[str]:
        if path not in ids:
            ids[path] = set(re.findall(r'\bid="([^"]+)"', path.read_text(errors="replace")))
        return ids[path]

    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            tab = browser.new_page()
            errors: list[str] = []
            tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            tab.on("pageerror", lambda e: errors.append(str(e)))
            for page in pages:
                errors.clear()
                tab.goto(page.as_uri(), wait_until="load")
                hrefs = tab.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
                images = tab.eval_on_selector_all(
                    "article img", "els => els.map(e => [e.src, e.naturalWidth])"
                )
                name = page.relative_to(out)
                problems += [f"{name}: console error {e}" for e in errors]
                problems += [f"{name}: image not decoded {s}" for s, w in images if not w]
                for href in hrefs:
                    if not href.startswith("file://"):
                        continue
                    target, _, anchor = href[len("file://") :].partition("#")
                    path = Path(target)
                    if path.is_dir():
                        path = path / "index.html"
                    if not path.exists():
                        problems.append(f"{name}: broken link {href}")
                    elif anchor and path.suffix == ".html" and anchor not in anchors(path):
                        problems.append(f"{name}: missing anchor {href}")
        finally:
            browser.close()
    assert len(pages) >= 20
    assert not problems, "\n".join(problems[:40])


def test_nox_has_a_docs_session() -> None:
    text = (REPO / "noxfile.py").read_text()
    assert re.search(r"def docs\(session", text) and '["build", "--strict"]' in text


def test_mkdocs_config_names_only_pages_that_exist() -> None:
    """Every nav entry is a page in docs/ (mkdocs --strict fails on one that is not; this
    says which, fast)."""
    nav = re.findall(r":\s*([\w/.-]+\.md)\s*$|^\s*- ([\w/.-]+\.md)\s*$",
                     (REPO / "mkdocs.yml").read_text(), re.M)  # fmt: skip
    missing = [a or b for a, b in nav if not (DOCS / (a or b)).is_file()]
    assert not missing, f"mkdocs.yml names pages docs/ lacks: {missing}"
