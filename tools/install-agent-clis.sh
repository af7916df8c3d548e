#!/usr/bin/env bash
# Install pinned versions of the real coding-agent CLIs used by the real-CLI tests.
#
# They go into <repo>/.cache/agent-clis (ignored by git), never globally. Re-running is cheap:
# when the pinned versions are already installed nothing is downloaded. The binary paths are
# printed at the end (and are what animus_testsupport.clis.claude_bin()/codex_bin()/gemini_bin()/
# opencode_bin() find).
#
# Usage: tools/install-agent-clis.sh [--prefix DIR]
#   env AGENT_CLIS_PREFIX overrides the install directory as well.
set -euo pipefail

# Pinned versions: bump deliberately, then re-run the realcli tests.
CLAUDE_CODE_VERSION="2.1.330"
CODEX_VERSION="0.169.0"
GEMINI_CLI_VERSION="0.61.0"
OPENCODE_VERSION="1.18.33"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="${AGENT_CLIS_PREFIX:-$repo_root/.cache/agent-clis}"
if [[ "${1:-}" == "--prefix" ]]; then
    if [[ -z "${2:-}" ]]; then
        echo "install-agent-clis: --prefix needs a directory" >&2
        exit 2
    fi
    prefix="$2"
elif [[ -n "${1:-}" ]]; then
    echo "install-agent-clis: unknown argument '$1' (usage: $0 [--prefix DIR])" >&2
    exit 2
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "install-agent-clis: npm is not on PATH; install Node.js >= 18 first" >&2
    exit 1
fi

installed_version() {
    # Prints the version recorded in the installed package.json, or nothing.
    local manifest="$prefix/node_modules/$1/package.json"
    if [[ -f "$manifest" ]]; then
        node -e 'process.stdout.write(require(process.argv[1]).version || "")' "$manifest"
    fi
}

wanted=(
    "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION"
    "@openai/codex@$CODEX_VERSION"
    "@google/gemini-cli@$GEMINI_CLI_VERSION"
    "opencode-ai@$OPENCODE_VERSION"
)

if [[ "$(installed_version @anthropic-ai/claude-code)" == "$CLAUDE_CODE_VERSION" &&
      "$(installed_version @openai/codex)" == "$CODEX_VERSION" &&
      "$(installed_version @google/gemini-cli)" == "$GEMINI_CLI_VERSION" &&
      "$(installed_version opencode-ai)" == "$OPENCODE_VERSION" &&
      -x "$prefix/node_modules/.bin/claude" && -x "$prefix/node_modules/.bin/codex" &&
      -x "$prefix/node_modules/.bin/gemini" && -x "$prefix/node_modules/.bin/opencode" ]]; then
    echo "install-agent-clis: pinned versions already present in $prefix"
else
    mkdir -p "$prefix"
    echo "install-agent-clis: installing ${wanted[*]} into $prefix"
    npm install --prefix "$prefix" --no-audit --no-fund --no-save --loglevel=error "${wanted[@]}"
fi

echo "claude: $prefix/node_modules/.bin/claude ($("$prefix/node_modules/.bin/claude" --version 2>/dev/null || echo 'version unknown'))"
echo "codex: $prefix/node_modules/.bin/codex ($("$prefix/node_modules/.bin/codex" --version 2>/dev/null || echo 'version unknown'))"
echo "gemini: $prefix/node_modules/.bin/gemini ($("$prefix/node_modules/.bin/gemini" --version 2>/dev/null || echo 'version unknown'))"
echo "opencode: $prefix/node_modules/.bin/opencode ($("$prefix/node_modules/.bin/opencode" --version 2>/dev/null || echo 'version unknown'))"
