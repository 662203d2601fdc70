#!/usr/bin/env bash
# Set up (first time only) and run the whole test suite, offscreen. Arguments go to pytest.
source "$(dirname "$0")/venv.sh" test
export QT_QPA_PLATFORM=offscreen TF_CPP_MIN_LOG_LEVEL=2
cd "$repo"
python -m pytest -q "$@"
