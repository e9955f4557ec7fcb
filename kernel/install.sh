#!/usr/bin/env bash
# Register the "racelab" Jupyter kernel for this racelab package (idempotent). Works for a
# checkout and for racelab installed as a dependency (node_modules/racelab/kernel/install.sh).
#
#   kernel/install.sh                 per-user kernels dir (works for root and normal users)
#   kernel/install.sh --sys-prefix    Python's sys.prefix/share/jupyter/kernels
#   kernel/install.sh --prefix DIR    DIR/share/jupyter/kernels: a private registration; run
#                                     Jupyter (or racelab run) with JUPYTER_PATH=DIR/share/jupyter
#
# Env: RACELAB_PYTHON (default /usr/bin/python3): the Python that has jupyter_client.
set -euo pipefail

here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$(cd "$here/.." && pwd)"
python="${RACELAB_PYTHON:-/usr/bin/python3}"
launcher="$here/racelab-kernel"

usage() { sed -n '5,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
scope=(--user)
case "$#:${1:-}" in
  0:) ;;
  1:--user | 1:--sys-prefix) scope=("$1") ;;
  2:--prefix) scope=(--prefix "$(mkdir -p "$2" && cd "$2" && pwd)") ;;
  1:--prefix=*) p="${1#--prefix=}"; scope=(--prefix "$(mkdir -p "$p" && cd "$p" && pwd)") ;;
  *) usage ;;
esac

if ! "$python" -c 'import jupyter_client' 2>/dev/null; then
  echo "kernel/install.sh: $python has no jupyter_client; install Debian's jupyter-client (see scripts/start.sh)" >&2
  exit 1
fi
if ! node_bin="$(command -v node)"; then
  echo "kernel/install.sh: node not found on PATH" >&2
  exit 1
fi
# tslab: in a checkout under $root/node_modules; in an installed racelab usually hoisted to the
# project's node_modules. Node's resolution from $root finds either (as the launcher does).
if ! "$node_bin" -e 'require("node:module").createRequire(process.argv[1] + "/noop.js").resolve("tslab/package.json")' "$root" 2>/dev/null; then
  echo "kernel/install.sh: tslab not found from $root; run 'npm install' first" >&2
  exit 1
fi

[[ -x "$launcher" ]] || chmod +x "$launcher"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

# Fill the template with JSON-escaped absolute paths.
"$python" - "$here/kernel.json.in" "$tmp/kernel.json" "$launcher" "$node_bin" "$root" <<'PY'
import json, sys
template, out, launcher, node, root = sys.argv[1:]
subst = {"@LAUNCHER@": launcher, "@NODE@": node, "@ROOT@": root}
def fill(v):
    if isinstance(v, str):
        for k, s in subst.items():
            v = v.replace(k, s)
        return v
    if isinstance(v, list):
        return [fill(x) for x in v]
    if isinstance(v, dict):
        return {k: fill(x) for k, x in v.items()}
    return v
with open(template) as f:
    spec = fill(json.load(f))
with open(out, "w") as f:
    json.dump(spec, f, indent=1, sort_keys=True)
    f.write("\n")
PY

# The kernels folder this scope installs into (what `jupyter kernelspec install` uses).
dest="$("$python" - "${scope[@]}" <<'PY'
import os, sys
from jupyter_client.kernelspec import KernelSpecManager
args = sys.argv[1:]
if args[0] == "--user":
    d = KernelSpecManager().user_kernel_dir
elif args[0] == "--sys-prefix":
    d = os.path.join(sys.prefix, "share", "jupyter", "kernels")
else:
    d = os.path.join(args[1], "share", "jupyter", "kernels")
print(os.path.join(d, "racelab"))
PY
)"
# Skip the install when the same spec is already there.
if [[ -f "$dest/kernel.json" ]] && cmp -s "$dest/kernel.json" "$tmp/kernel.json"; then
  echo "racelab kernel already registered: $dest"
  exit 0
fi
# A spec there that starts another racelab (another checkout or project, or something else named
# racelab) is replaced, as the last install wins; say so in one line, naming both (no prompt: CI
# and npm start run this). The same racelab with another node is updated quietly.
if [[ -f "$dest/kernel.json" ]]; then
  old="$("$python" - "$dest/kernel.json" "$root" <<'PY' || true
import json, os, sys
path, root = sys.argv[1:]
try:
    with open(path) as f:
        spec = json.load(f)
    old = (spec.get("metadata") or {}).get("racelab", {}).get("root") or (spec.get("env") or {}).get("RACELAB_ROOT")
    argv = spec.get("argv") or []
    if not old and argv and str(argv[0]).endswith("/kernel/racelab-kernel"):
        old = os.path.dirname(os.path.dirname(str(argv[0])))
    if not old:
        old = " ".join(str(a) for a in argv[:3]) or "an unknown target"
except (OSError, ValueError, AttributeError):
    old = "an unreadable kernel.json"
if os.path.realpath(str(old)) != os.path.realpath(root):
    print(str(old) + ("" if not str(old).startswith("/") or os.path.exists(str(old)) else " (no longer exists)"))
PY
)"
  if [[ -n "$old" ]]; then
    echo "kernel/install.sh: replacing the racelab kernel spec in $dest: it pointed at $old, now at $root" >&2
  fi
fi

"$python" -m jupyter kernelspec install "${scope[@]}" --name racelab "$tmp" >/dev/null 2>"$tmp.log" || {
  cat "$tmp.log" >&2; rm -f "$tmp.log"; exit 1; }
rm -f "$tmp.log"
echo "racelab kernel registered: $dest -> $launcher"
if [[ "${scope[0]}" == --prefix ]]; then
  echo "  use it with JUPYTER_PATH=${scope[1]}/share/jupyter"
fi
