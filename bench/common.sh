# Shared by the bench scripts (sourced): the programs a benchmark needs, the hoist binary it
# times, and the generated dump. The caller defines die, log, PKG (program -> Debian package),
# REPO, HOIST (empty: build it), SHARED, SCALE and SEED.

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

# install_missing PROGRAM...: apt-get install the packages of the missing ones (as root), or die.
install_missing() {
  local missing=() b
  for b in "$@"; do have "$b" || missing+=("${PKG[$b]}"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
      || die "apt-get install -y ${missing[*]} failed"
  else
    die "missing programs; install them with: apt-get install -y ${missing[*]}"
  fi
}

# build_hoist: HOIST as an absolute path, built with cargo build --release when not given.
build_hoist() {
  if [ -z "$HOIST" ]; then
    command -v cargo >/dev/null || die "cargo not found (or pass --hoist PATH)"
    log "building hoist (cargo build --release)"
    (cd "$REPO" && cargo build --release --quiet --bin hoist) || die "cargo build --release failed"
    HOIST="$REPO/target/release/hoist"
  fi
  [ -x "$HOIST" ] || die "hoist binary $HOIST not found"
  HOIST=$(cd "$(dirname "$HOIST")" && pwd)/$(basename "$HOIST")
}

# ensure_dump FORMAT DIR: gen_dump.py's dump (sql or csv) at SCALE and SEED in DIR, made again
# only when DIR's manifest is not of those.
ensure_dump() {
  if python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import gen_dump as g; sys.exit(0 if g.manifest_matches(*sys.argv[2:]) else 1)' \
       "$SHARED" "$2" "$1" "$SCALE" "$SEED"; then
    log "reusing $2"
  else
    log "generating the $1 dump at scale $SCALE into $2"
    python3 "$SHARED/gen_dump.py" --rows-scale "$SCALE" --seed "$SEED" --format "$1" --out "$2" --force
  fi
}
