"""The package list only (everything else is in pyproject.toml): every package under harness/,
found (folders of data such as report/templates/ included, as `packages.find` did), plus
harness.baselines, which pyproject.toml's `package-dir` maps to the top-level baselines/
folder. `[tool.setuptools.packages.find]` cannot name a mapped package beside the found ones,
and a written list would miss the next new subpackage."""

from setuptools import find_namespace_packages, setup

setup(packages=[*find_namespace_packages(include=["harness", "harness.*"]), "harness.baselines"])
