#!/usr/bin/env bash
# Set up (first time only) and open the fashionrec desktop app. Arguments go to the app.
source "$(dirname "$0")/venv.sh" ""
exec fashionrec "$@"
