#!/usr/bin/env bash
# The static gates (configured in pyproject.toml): ruff on the whole tree, mypy on the whole desktop_app package.
source "$(dirname "$0")/venv.sh" lint
cd "$repo"
ruff check --quiet --output-format concise .
mypy
