#!/usr/bin/env bash
# Installs the pinned Redocly CLI into .tools/redocly (git-ignored), without
# running any package's install scripts, and links .tools/bin/redocly.
# Idempotent: a present install of the pinned version is left alone.
# make lint runs: .tools/bin/redocly lint --extends=recommended api/openapi.yaml
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
REDOCLY_VERSION=2.77.0
dir="$tools/redocly"
stamp="$tools/.redocly-$REDOCLY_VERSION"

if [ ! -x "$dir/node_modules/.bin/redocly" ] || [ ! -f "$stamp" ]; then
  echo "install-redocly: installing @redocly/cli $REDOCLY_VERSION (npm, --ignore-scripts)" >&2
  rm -rf "$dir"
  mkdir -p "$dir" "$tools/bin"
  (cd "$dir" && echo '{"private":true}' > package.json &&
    npm install --silent --no-audit --no-fund --ignore-scripts "@redocly/cli@$REDOCLY_VERSION" >/dev/null)
  touch "$stamp"
fi
mkdir -p "$tools/bin"
ln -sf "../redocly/node_modules/.bin/redocly" "$tools/bin/redocly"
echo "install-redocly: ok ($("$tools/bin/redocly" --version))" >&2
