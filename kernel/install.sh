#!/usr/bin/env bash
# Register the "racelab" Jupyter kernel for this checkout (idempotent).
#
#   kernel/install.sh             per-user kernels dir (works for root and normal users)
#   kernel/install.sh --sys-prefix | --prefix DIR    other Jupyter kernel dirs
#
# Env: RACELAB_PYTHON (default /usr/bin/python3): the Python that has jupyter_client.
set -euo pipefail

here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$(cd "$here/.." && pwd)"
python="${RACELAB_PYTHON:-/usr/bin/python3}"
launcher="$here/racelab-kernel"

if ! "$python" -c 'import jupyter_client' 2>/dev/null; then
  echo "kernel/install.sh: $python has no jupyter_client; install Debian's jupyter-client (see scripts/start.sh)" >&2
  exit 1
fi
if ! node_bin="$(command -v node)"; then
  echo "kernel/install.sh: node not found on PATH" >&2
  exit 1
fi
if [[ ! -f "$root/node_modules/tslab/bin/tslab" ]]; then
  echo "kernel/install.sh: tslab missing in $root/node_modules; run 'npm install' first" >&2
  exit 1
fi
scope=(--user)
if [[ $# -gt 0 ]]; then scope=("$@"); fi

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

# Skip the install when the same spec is already registered where Jupyter finds it.
existing="$("$python" -c '
import sys
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
try:
    print(KernelSpecManager().get_kernel_spec("racelab").resource_dir)
except NoSuchKernel:
    pass
' 2>/dev/null || true)"
if [[ -n "$existing" && -f "$existing/kernel.json" ]] && cmp -s "$existing/kernel.json" "$tmp/kernel.json"; then
  echo "racelab kernel already registered: $existing"
  exit 0
fi

"$python" -m jupyter kernelspec install "${scope[@]}" --name racelab "$tmp" >/dev/null 2>"$tmp.log" || {
  cat "$tmp.log" >&2; rm -f "$tmp.log"; exit 1; }
rm -f "$tmp.log"
dest="$("$python" -c 'from jupyter_client.kernelspec import KernelSpecManager; print(KernelSpecManager().get_kernel_spec("racelab").resource_dir)')"
echo "racelab kernel registered: $dest -> $launcher"
