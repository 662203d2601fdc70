# Sourced by the other scripts: makes sure .venv exists with fashionrec installed (plus any extras given).
# Usage: source build/venv.sh "[extra,...]"   (always pass the argument, even empty: without one, bash
# hands the sourcing script's own arguments to this file)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"
extras="${1:-}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
# One stamp per extra (and one for the app): reinstall only when one is missing or older than the packaging files.
stamps=("$venv/.installed")
IFS=, read -ra extra_names <<< "$extras"
for name in "${extra_names[@]}"; do stamps+=("$venv/.installed-$name"); done
stale=""
for stamp in "${stamps[@]}"; do
  [ -f "$stamp" ] || stale=1
  for file in pyproject.toml setup.py build/constraints.txt; do
    if [ "$repo/$file" -nt "$stamp" ]; then stale=1; fi
  done
done
if [ -n "$stale" ]; then
  echo "fashionrec: installing into .venv${extras:+ with [$extras]} (the first time takes about 2 minutes)..." >&2
  # pip's notes about the machine's local package folders are noise; its exit status still counts.
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -c "$repo/build/constraints.txt" \
    -e "$repo${extras:+[$extras]}" 2>&1 | { grep -v "^WARNING: Location" || true; }
  touch "${stamps[@]}"
fi
export PATH="$venv/bin:$PATH"
