#!/usr/bin/env bash
# Runs every notebook of notebooks/ headless on the GoNB kernel and checks the
# results (`make notebooks`): the notebooks must match their scripts in
# examples/, and each executed notebook must have no error output and at least
# one image (notebooks/check.py). It installs what is missing first: GoNB and
# goimports (built into bin/ at the versions notebooks/tools pins), Jupyter's
# nbconvert and kernel client (Debian packages, where apt-get can install
# them) and the GoNB kernel spec. The executed notebooks and their logs go to
# out/notebooks/; the notebooks in notebooks/ stay clean.
#
# TRIAD_NOTEBOOK_SHORT (default 1) makes the scripts run briefly; 0 runs them
# in full. NOTEBOOK_JOBS (default 2) notebooks run at once.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
GO=${GO:-go}
out=$root/out/notebooks
mkdir -p "$out" "$root/bin"
rm -f "$out"/*.ipynb

"$GO" run ./examples/internal/ipynb -check

# GoNB and goimports, at the pinned versions.
if [ ! -x bin/gonb ] || [ ! -x bin/goimports ] || [ notebooks/tools/go.mod -nt bin/gonb ]; then
  echo "notebooks: building GoNB and goimports into bin/"
  (cd notebooks/tools && "$GO" build -o "$root/bin/" github.com/janpfeifer/gonb golang.org/x/tools/cmd/goimports)
fi
export PATH="$root/bin:$(dirname "$(command -v "$GO")"):$PATH"

# Jupyter: nbconvert executes the notebooks through jupyter-client.
if ! command -v jupyter-nbconvert >/dev/null 2>&1; then
  pkgs=(jupyter-nbconvert jupyter-client python3-ipykernel)
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || command -v sudo >/dev/null 2>&1; }; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    echo "notebooks: installing ${pkgs[*]}"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
  else
    echo "notebooks: Jupyter's nbconvert is missing; install it (Debian: apt-get install ${pkgs[*]}; elsewhere: pip install nbconvert jupyter-client) and run make notebooks again" >&2
    exit 1
  fi
fi

# The GoNB kernel spec (in the user's Jupyter data folder), pointing at bin/gonb.
bin/gonb --install --force_deps >"$out/install.log" 2>&1 || { cat "$out/install.log" >&2; exit 1; }

export TRIAD_NOTEBOOK_SHORT=${TRIAD_NOTEBOOK_SHORT:-1}
jobs=${NOTEBOOK_JOBS:-2}
start=$(date +%s)
ls notebooks/*.ipynb | xargs -P "$jobs" -I{} bash -c '
  nb={}; name=$(basename "$nb" .ipynb); t0=$(date +%s)
  if jupyter-nbconvert --to notebook --execute --ExecutePreprocessor.timeout=900 \
      --output-dir "'"$out"'" --output "$name" "$nb" >"'"$out"'/$name.log" 2>&1; then
    echo "notebooks: $name ran in $(( $(date +%s) - t0 )) s"
  else
    echo "notebooks: $name failed after $(( $(date +%s) - t0 )) s; the end of '"$out"'/$name.log:" >&2
    grep -v "^I[0-9]" "'"$out"'/$name.log" | tail -20 >&2
  fi' || true
echo "notebooks: all ran in $(( $(date +%s) - start )) s (TRIAD_NOTEBOOK_SHORT=$TRIAD_NOTEBOOK_SHORT)"
missing=()
for nb in notebooks/*.ipynb; do
  [ -f "$out/$(basename "$nb")" ] || missing+=("$(basename "$nb")")
done
[ ${#missing[@]} -eq 0 ] || { echo "notebooks: not executed: ${missing[*]}" >&2; exit 1; }
python3 notebooks/check.py "$out"/*.ipynb
