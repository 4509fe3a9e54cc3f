#!/usr/bin/env bash
# docsite's test command:  tests/run.sh   (from anywhere)
#
#  1. makes sure the tools are there: Debian's chromium, node + npm, and the
#     browser tests' npm packages (npm ci when node_modules is missing/stale);
#  2. cargo test --all-targets, then cargo test --doc;
#  3. cargo build, then the real-browser tests: node --test tests/browser/
#     with DOCSITE_BIN / DOCSITE_ROOT / DOCSITE_ARTIFACTS set (among them
#     quality.test.mjs: axe-core, Lighthouse, keyboard, print, size budget).
# Screenshots and reports go to target/test-artifacts/. Runs every step even
# after a failure, prints a summary, exits non-zero if anything failed.
#
# Options:  --cargo-only     skip the browser tests (and their tool installs)
#           --browser-only   skip cargo test (still builds the binary)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

RUN_CARGO=1
RUN_BROWSER=1
for arg in "$@"; do
  case "$arg" in
    --cargo-only) RUN_BROWSER=0 ;;
    --browser-only) RUN_CARGO=0 ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "tests/run.sh: unknown option: $arg" >&2; exit 2 ;;
  esac
done

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
ARTIFACTS="$TARGET_DIR/test-artifacts"
BROWSER_DIR="$ROOT/tests/browser"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
rm -rf "$ARTIFACTS"
mkdir -p "$ARTIFACTS"
LOG_DIR="$ARTIFACTS/logs"
mkdir -p "$LOG_DIR"

if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then
  BOLD=$'\e[1m' RED=$'\e[31m' GREEN=$'\e[32m' YELLOW=$'\e[33m' RESET=$'\e[0m'
else
  BOLD='' RED='' GREEN='' YELLOW='' RESET=''
fi
say() { printf '\n%s==> %s%s\n' "$BOLD" "$*" "$RESET"; }
warn() { printf '%swarning:%s %s\n' "$YELLOW" "$RESET" "$*" >&2; }

# --- step bookkeeping -------------------------------------------------------
STEPS=()      # "name|status|seconds|detail"
TESTS_PASSED=0
TESTS_FAILED=0
record() { STEPS+=("$1|$2|$3|${4:-}"); }

# run_step NAME LOGFILE CMD...: runs CMD (output to the terminal and LOGFILE),
# records ok/FAILED with the duration. Never exits the script.
run_step() {
  local name="$1" log="$2"
  shift 2
  say "$name"
  printf '+ %s\n' "$*"
  local start=$SECONDS rc=0
  set +e
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  local secs=$((SECONDS - start))
  if [[ $rc -eq 0 ]]; then record "$name" ok "$secs"; else record "$name" FAILED "$secs" "exit $rc"; fi
  return 0
}
step_ok() { [[ "${STEPS[-1]}" == *"|ok|"* ]]; }

# Counts from cargo's "test result:" lines / node's "ℹ pass N" lines.
count_cargo() {
  local p f
  p=$({ grep -aE '^test result: ' "$1" || true; } | sed -E 's/.* ([0-9]+) passed.*/\1/' | awk '{s+=$1} END {print s+0}')
  f=$({ grep -aE '^test result: ' "$1" || true; } | sed -E 's/.* ([0-9]+) failed.*/\1/' | awk '{s+=$1} END {print s+0}')
  TESTS_PASSED=$((TESTS_PASSED + p))
  TESTS_FAILED=$((TESTS_FAILED + f))
  # A failed step with no failing test (compile error, crash) counts as one failure.
  if ! step_ok && [[ $f -eq 0 ]]; then TESTS_FAILED=$((TESTS_FAILED + 1)); fi
}
count_node() {
  local p f
  p=$({ grep -aE '^(ℹ|#) pass [0-9]+' "$1" || true; } | tail -1 | awk '{print $3}')
  f=$({ grep -aE '^(ℹ|#) (fail|cancelled) [0-9]+' "$1" || true; } | tail -2 | awk '{s+=$3} END {print s+0}')
  p=${p:-0}
  TESTS_PASSED=$((TESTS_PASSED + p))
  TESTS_FAILED=$((TESTS_FAILED + f))
  if ! step_ok && [[ $f -eq 0 ]]; then TESTS_FAILED=$((TESTS_FAILED + 1)); fi
}

# --- 1. tools ----------------------------------------------------------------
APT_UPDATED=0
apt_install() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "${RED}missing:${RESET} $* -- install them (as root): apt-get update && apt-get install -y $*" >&2
    return 1
  fi
  if ! command -v apt-get >/dev/null; then
    echo "${RED}missing:${RESET} $* and there is no apt-get here; install them by hand" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if [[ $APT_UPDATED -eq 0 ]]; then
    apt-get update -q || return 1
    APT_UPDATED=1
  fi
  apt-get install -y -q "$@"
}

ensure_browser_tools() {
  local need=()
  [[ -x "$CHROMIUM" ]] || need+=(chromium)
  command -v node >/dev/null || need+=(nodejs)
  # Debian's nodejs comes without npm (nodesource's bundles it).
  command -v npm >/dev/null || need+=(npm)
  if [[ ${#need[@]} -gt 0 ]]; then
    echo "installing: ${need[*]}"
    apt_install "${need[@]}" || return 1
  fi
  [[ -x "$CHROMIUM" ]] || { echo "chromium still missing at $CHROMIUM" >&2; return 1; }
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [[ $major -lt 18 ]]; then
    echo "node $(node --version) is too old for the browser tests (need >= 18, 20+ preferred)" >&2
    return 1
  elif [[ $major -lt 20 ]]; then
    warn "node $(node --version): playwright-core asks for node >= 20; trying anyway"
  fi
  echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo '?')"
  echo "node: $(node --version)  npm: $(npm --version)"

  # npm ci when node_modules is missing or older than package-lock.json.
  local stamp="$BROWSER_DIR/node_modules/.docsite-lock-stamp" want
  want="$(sha256sum "$BROWSER_DIR/package-lock.json" | cut -d' ' -f1) node-$(node --version)"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "tests/browser/node_modules is missing or stale: npm ci"
    (cd "$BROWSER_DIR" && npm ci --no-audit --no-fund --loglevel=error) || return 1
    printf '%s\n' "$want" >"$stamp"
  else
    echo "tests/browser/node_modules is up to date"
  fi
}

BROWSER_READY=0
if [[ $RUN_BROWSER -eq 1 ]]; then
  run_step "tools: chromium, node, npm packages" "$LOG_DIR/tools.log" ensure_browser_tools
  if step_ok; then BROWSER_READY=1; else TESTS_FAILED=$((TESTS_FAILED + 1)); fi
fi

# --- 2. cargo tests ----------------------------------------------------------
if [[ $RUN_CARGO -eq 1 ]]; then
  run_step "cargo test --all-targets --no-fail-fast" "$LOG_DIR/cargo-test.log" cargo test --all-targets --no-fail-fast
  count_cargo "$LOG_DIR/cargo-test.log"
  meta=$(cargo metadata --no-deps --format-version 1 2>/dev/null || true)
  if [[ $meta == *'"kind":["lib"]'* ]]; then
    run_step "cargo test --doc" "$LOG_DIR/cargo-test-doc.log" cargo test --doc
    count_cargo "$LOG_DIR/cargo-test-doc.log"
  else
    echo "(no library target: skipping cargo test --doc)"
  fi
fi

# --- 3. browser tests --------------------------------------------------------
if [[ $RUN_BROWSER -eq 1 ]]; then
  run_step "cargo build (docsite binary)" "$LOG_DIR/cargo-build.log" cargo build --bin docsite
  BUILD_OK=0
  if step_ok; then BUILD_OK=1; else TESTS_FAILED=$((TESTS_FAILED + 1)); fi
  DOCSITE_BIN="$TARGET_DIR/debug/docsite"

  if [[ $BROWSER_READY -eq 1 && $BUILD_OK -eq 1 ]]; then
    shopt -s nullglob
    test_files=("$BROWSER_DIR"/*.test.mjs)
    shopt -u nullglob
    if [[ ${#test_files[@]} -eq 0 ]]; then
      record "browser tests" FAILED 0 "no tests/browser/*.test.mjs"
      TESTS_FAILED=$((TESTS_FAILED + 1))
    else
      # spec to the terminal, TAP to the artifacts dir.
      run_step "browser tests (node --test tests/browser/)" "$LOG_DIR/browser-tests.log" \
        env DOCSITE_BIN="$DOCSITE_BIN" DOCSITE_ROOT="$ROOT" DOCSITE_ARTIFACTS="$ARTIFACTS" CHROMIUM="$CHROMIUM" \
        node --test --test-concurrency=1 \
        --test-reporter=spec --test-reporter-destination=stdout \
        --test-reporter=tap --test-reporter-destination="$ARTIFACTS/browser-tests.tap" \
        "${test_files[@]#"$ROOT"/}"
      count_node "$LOG_DIR/browser-tests.log"
    fi
  else
    why=()
    [[ $BROWSER_READY -eq 1 ]] || why+=("tools missing")
    [[ $BUILD_OK -eq 1 ]] || why+=("binary did not build")
    record "browser tests" SKIPPED 0 "$(IFS=,; echo "${why[*]}")"
  fi
fi

# --- summary ------------------------------------------------------------------
failed_steps=0
for s in "${STEPS[@]}"; do [[ "$s" == *"|ok|"* ]] || failed_steps=$((failed_steps + 1)); done
{
  printf '\n%s==> summary%s\n' "$BOLD" "$RESET"
  for s in "${STEPS[@]}"; do
    IFS='|' read -r name status secs detail <<<"$s"
    if [[ $status == ok ]]; then color=$GREEN; else color=$RED; fi
    printf '  %s%-7s%s %-48s %5ss %s\n' "$color" "$status" "$RESET" "$name" "$secs" "$detail"
  done
  echo "  artifacts: ${ARTIFACTS#"$ROOT"/}/ (screenshots/, logs/, quality/ (Lighthouse, axe, PDFs), browser-tests.tap)"
} | tee "$ARTIFACTS/summary.txt"
# The closing line: every test counted (a step that failed without a failing
# test, e.g. a compile error, counts as one failure).
echo "tests: $TESTS_PASSED passed, $TESTS_FAILED failed" | tee -a "$ARTIFACTS/summary.txt"
[[ $failed_steps -eq 0 ]]
