#!/usr/bin/env bash
# Set up (first time only), run the static gates (build/lint.sh: ruff, mypy), then the whole test suite,
# offscreen. Arguments go to pytest.
source "$(dirname "$0")/venv.sh" test,lint
export QT_QPA_PLATFORM=offscreen TF_CPP_MIN_LOG_LEVEL=2
cd "$repo"
bash build/lint.sh
python -m pytest -q "$@"
