#!/usr/bin/env bash
# Installs the local stack's pinned tools into .tools/ (git-ignored). Idempotent:
# a tool already present at the pinned version is left alone.
#   temporal CLI dev server  v1.5.1   (go install; @latest fails through the proxy)
#   fake-gcs-server          v1.56.1  (go install)
#   libonnxruntime           1.24.1   (from the onnxruntime-node npm tarball; no install scripts)
#   @redocly/cli             2.77.0   (npm, --ignore-scripts; scripts/install-redocly.sh)
# The Firestore emulator cannot be installed here; scripts/check-firestore.sh reports it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
mkdir -p "$tools/bin" "$tools/lib"

TEMPORAL_CLI_VERSION=v1.5.1
FAKE_GCS_VERSION=v1.56.1
ORT_VERSION=1.24.1

stamp() { echo "$tools/.$1-$2"; }

if [ ! -x "$tools/bin/temporal" ] || [ ! -f "$(stamp temporal $TEMPORAL_CLI_VERSION)" ]; then
  echo "install-tools: building temporal CLI $TEMPORAL_CLI_VERSION (several minutes, once)" >&2
  GOBIN="$tools/bin" GOFLAGS=-buildvcs=false go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
  touch "$(stamp temporal $TEMPORAL_CLI_VERSION)"
fi

if [ ! -x "$tools/bin/fake-gcs-server" ] || [ ! -f "$(stamp fake-gcs $FAKE_GCS_VERSION)" ]; then
  echo "install-tools: building fake-gcs-server $FAKE_GCS_VERSION" >&2
  GOBIN="$tools/bin" GOFLAGS=-buildvcs=false go install "github.com/fsouza/fake-gcs-server@$FAKE_GCS_VERSION"
  touch "$(stamp fake-gcs $FAKE_GCS_VERSION)"
fi

if [ ! -f "$tools/lib/libonnxruntime.so.$ORT_VERSION" ]; then
  echo "install-tools: fetching libonnxruntime $ORT_VERSION from onnxruntime-node" >&2
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "onnxruntime-node@$ORT_VERSION" >/dev/null)
  tar -xzf "$tmp"/onnxruntime-node-*.tgz -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
  cp "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$tools/lib/libonnxruntime.so.$ORT_VERSION"
  rm -rf "$tmp"
fi
ln -sf "libonnxruntime.so.$ORT_VERSION" "$tools/lib/libonnxruntime.so"

# Redocly CLI (make lint checks the OpenAPI contract with it).
"$root/scripts/install-redocly.sh"

# The results page's vendored files too large to commit (RDKit's
# WebAssembly), checked against api/ui/vendor.lock.json; the API embeds them.
"$root/scripts/vendor-ui.sh" --fetched
echo "install-tools: ok ($tools)" >&2
