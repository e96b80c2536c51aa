#!/usr/bin/env bash
# Builds (or installs) every server binary the local stack needs into a cache outside the work
# tree, keyed by version, so only the first run on a machine pays. Idempotent: anything present
# is skipped. Versions come from the wrapper modules' go.mod files, the single source of truth.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${KMS_CACHE_DIR:-$HOME/.cache/kube-mongo-sync}"
moto_version=5.2.5

mod_version() { # <wrapper dir> <module path>
  awk -v m="$2" '$1 == m { print $2; exit }' "$here/go/$1/go.mod"
}

timed() { # <label> <command...>
  local start=$SECONDS
  echo "build: $1 ..."
  "${@:2}"
  echo "build: $1 done in $((SECONDS - start)) s"
}

go_build() { # <wrapper dir> <out> <main package> [extra go build args...]
  local dir="$1" out="$2" pkg="$3"
  mkdir -p "$(dirname "$out")"
  (cd "$here/go/$dir" && go build -trimpath -ldflags="-s -w ${LDFLAGS_EXTRA:-}" -o "$out.tmp" "${@:4}" "$pkg")
  mv "$out.tmp" "$out"
}

# FerretDB's module zip lacks build/version/version.txt (FerretDB#2982), which makes the binary
# panic at start; vendoring lets us put the file back before building.
#
# One line of its SQLite backend is patched too (hence the "-idindex" suffix of the cached binary):
# 1.24.2 filters `_id` with `_ferretdb_sjson->'$._id'` while its unique index is on
# `_ferretdb_sjson->"_id"`, an expression SQLite does not match with the first, so every find,
# update and delete by `_id` scans the whole table (EXPLAIN: "SCAN"). That makes one replace cost
# O(collection size) (60 ms at 2,000 documents, growing), where MongoDB and the fixed expression
# (`->'_id'`, the same JSON value) use the index (2-3 ms, flat). See docs/benchmarks.md.
ferretdb_id_column=internal/backends/sqlite/metadata/metadata.go
ferretdb_build() ( # <out> <version>; a subshell so the EXIT trap cleans up only this temp dir
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  cp "$here/go/ferretdb/go.mod" "$here/go/ferretdb/go.sum" "$tmp/"
  cd "$tmp"
  go mod vendor
  echo "$2" >vendor/github.com/FerretDB/FerretDB/build/version/version.txt
  src="vendor/github.com/FerretDB/FerretDB/$ferretdb_id_column"
  chmod u+w "$src"
  sed -i "s|IDColumn = DefaultColumn + \"->'\$._id'\"|IDColumn = DefaultColumn + \"->'_id'\"|" "$src"
  grep -q "IDColumn = DefaultColumn + \"->'_id'\"" "$src" || {
    echo "build: FerretDB $2: the _id index patch did not apply to $ferretdb_id_column" >&2
    exit 1
  }
  go build -mod=vendor -trimpath -ldflags="-s -w" -o "$1.tmp" github.com/FerretDB/FerretDB/cmd/ferretdb
  mv "$1.tmp" "$1"
)

need() { # <override env value> <path>: true when we must build
  [[ -z "$1" && ! -x "$2" ]]
}

etcd_v="$(mod_version etcd go.etcd.io/etcd/server/v3)"
kube_v="$(mod_version kube-apiserver k8s.io/kubernetes)"
ferret_v="$(mod_version ferretdb github.com/FerretDB/FerretDB)"
toxi_v="$(mod_version toxiproxy github.com/Shopify/toxiproxy/v2)"

# An existing cluster (TEST_KUBECONFIG) or MongoDB (MONGODB_URI) makes their servers unnecessary.
if [[ -z "${TEST_KUBECONFIG:-}" ]]; then
  out="$cache/bin/etcd-$etcd_v/etcd"
  need "${ETCD_BIN:-}" "$out" && timed "etcd $etcd_v" go_build etcd "$out" go.etcd.io/etcd/server/v3

  out="$cache/bin/kube-apiserver-$kube_v/kube-apiserver"
  if need "${KUBE_APISERVER_BIN:-}" "$out"; then
    minor="$(echo "$kube_v" | cut -d. -f2)"
    vpkg=k8s.io/component-base/version
    LDFLAGS_EXTRA="-X $vpkg.gitVersion=$kube_v -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=$minor" \
      timed "kube-apiserver $kube_v (10-20 min cold)" \
      go_build kube-apiserver "$out" k8s.io/kubernetes/cmd/kube-apiserver
  fi
fi

if [[ -z "${MONGODB_URI:-}" ]]; then
  out="$cache/bin/ferretdb-$ferret_v-idindex/ferretdb"
  need "${FERRETDB_BIN:-}" "$out" && timed "ferretdb $ferret_v" ferretdb_build "$out" "$ferret_v"
fi

out="$cache/bin/toxiproxy-$toxi_v/toxiproxy-server"
need "" "$out" && timed "toxiproxy $toxi_v" go_build toxiproxy "$out" github.com/Shopify/toxiproxy/v2/cmd/server

venv="$cache/moto-$moto_version"
if [[ ! -x "$venv/bin/moto_server" ]]; then
  install_moto() {
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$moto_version"
  }
  timed "moto $moto_version venv" install_moto
fi

echo "build: all binaries present in $cache"
