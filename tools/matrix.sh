#!/usr/bin/env bash
# The "never break user code" matrix: tests/integration/test_matrix.py (every example and test
# pipeline, plain python against tracer on every backend: exit status, stdout, stderr and files
# written must be identical) on Python 3.11, 3.12 and 3.13, each against pandas 2.2.x and 3.x.
#
#   tools/matrix.sh [VERSION...]        # default: 3.11 3.12 3.13
#
# One venv per Python under $TRACER_MATRIX_DIR (default /tmp/tracer-matrix), kept between runs;
# pandas 3.x first, then pandas 2.2.x installed over it in the same venv. Wheels are cached in
# $TRACER_MATRIX_DIR/pip-cache. tracer itself is not installed: it runs from this checkout via
# PYTHONPATH (the tests run their subprocesses that way too). Prints one line per combination
# and a summary; exits 1 if any combination failed.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dir=${TRACER_MATRIX_DIR:-/tmp/tracer-matrix}
export PIP_CACHE_DIR="$dir/pip-cache" PIP_DISABLE_PIP_VERSION_CHECK=1
mkdir -p "$dir"

PANDAS=("pandas>=3,<4" "pandas>=2.2,<2.3")
COMMON=("numpy>=1.26" "scikit-learn>=1.3" "joblib>=1.3" "msgpack>=1.0" "rich>=13" "xxhash>=3.4"
        "pytest>=7")

find_python() {  # find_python 3.12 -> path of an interpreter of that version that runs
    local want=$1 pyroot p
    pyroot=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
    # pyenv's versions first: its shim for python3.12 exists even when 3.12 is not selected.
    for p in "$pyroot"/versions/"$want".*/bin/python"$want" "$(command -v "python$want")"; do
        [ -x "$p" ] && "$p" -c "" 2>/dev/null && { echo "$p"; return; }
    done
    return 1
}

status=0
summary=()
start=$SECONDS
for version in "${@:-3.11 3.12 3.13}"; do
  for v in $version; do
    py=$(find_python "$v") || { echo "matrix: python$v not found"; status=1; summary+=("$v: no python"); continue; }
    venv="$dir/venv-$v"
    [ -x "$venv/bin/python" ] || "$py" -m venv "$venv" || { status=1; continue; }
    for spec in "${PANDAS[@]}"; do
        t0=$SECONDS
        if ! "$venv/bin/python" -m pip install --quiet "${COMMON[@]}" "$spec" \
                2> >(grep -v "^WARNING: Location" >&2); then
            echo "matrix: python$v: could not install $spec"
            status=1; summary+=("python$v $spec: install failed"); continue
        fi
        pandas=$("$venv/bin/python" -c "import pandas; print(pandas.__version__)")
        log="$dir/python$v-pandas$pandas.txt"
        PYTHONPATH="$root" "$venv/bin/python" -m pytest -q -p no:cacheprovider \
            tests/integration/test_matrix.py >"$log" 2>&1
        rc=$?
        result=$(grep -E "^[0-9]+ (passed|failed)|(passed|failed|error)" "$log" | tail -1)
        line="python$v pandas $pandas: ${result:-no result} ($((SECONDS - t0)) s)"
        echo "$line"
        summary+=("$line")
        if [ $rc -ne 0 ]; then
            status=1
            grep -E "^(FAILED|ERROR)" "$log" | head -20
        fi
    done
  done
done
echo "=== matrix: ${#summary[@]} combinations in $((SECONDS - start)) s"
printf '  %s\n' "${summary[@]}"
exit $status
