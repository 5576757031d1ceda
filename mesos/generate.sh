#!/bin/sh
# Regenerates the Go code (*.pb.go) for every .proto file under mesos/.
#
#   ./mesos/generate.sh      (or: go generate ./mesos, or: make proto)
#
# Needs protoc (Debian: protobuf-compiler). Installs protoc-gen-go at the
# google.golang.org/protobuf version pinned in go.mod if it is missing or
# a different version; otherwise it installs nothing.
set -eu

cd "$(dirname "$0")/.."    # module root; .proto imports are relative to it

PROTOC=${PROTOC:-protoc}
command -v "$PROTOC" >/dev/null 2>&1 || {
	echo "generate.sh: $PROTOC not found (apt-get install protobuf-compiler)" >&2
	exit 1
}

version=$(go list -m -f '{{.Version}}' google.golang.org/protobuf)
gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin="$(go env GOPATH | cut -d: -f1)/bin"
plugin="$gobin/protoc-gen-go"

if [ ! -x "$plugin" ] || [ "$("$plugin" --version 2>/dev/null)" != "protoc-gen-go $version" ]; then
	echo "generate.sh: installing protoc-gen-go $version into $gobin" >&2
	GOBIN="$gobin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$version"
fi

protos=$(find mesos -name '*.proto' | LC_ALL=C sort)
find mesos -name '*.pb.go' -exec rm -f {} +

# One protoc run per directory (= one Go package).
for dir in $(printf '%s\n' $protos | xargs -n1 dirname | LC_ALL=C sort -u); do
	"$PROTOC" -I . \
		--plugin=protoc-gen-go="$plugin" \
		--go_out=. --go_opt=paths=source_relative \
		"$dir"/*.proto
done
