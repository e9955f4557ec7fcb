/**
 * The racelab kernel ignores comm messages it does not handle (issue 12): the Notebook's widgets
 * extension sends `comm_open` when the kernel is ready, and tslab used to print
 * `unknown msg_type: comm_open` into the running cell's stderr.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const CLIENT = String.raw`
import json, sys, time
from jupyter_client.manager import KernelManager
km = KernelManager(kernel_name="racelab")
km.start_kernel(cwd=sys.argv[1])
kc = km.client(); kc.start_channels(); kc.wait_for_ready(timeout=90)
mid = kc.execute("await new Promise((r) => setTimeout(r, 1500)); 1 + 1")
time.sleep(0.5)
for t in ("comm_open", "comm_msg", "comm_close"):
    kc.shell_channel.send(kc.session.msg(t, {"comm_id": "c1", "target_name": "jupyter.widget.control", "data": {}}))
outs = []
deadline = time.time() + 90
while time.time() < deadline:
    m = kc.get_iopub_msg(timeout=60)
    if m["parent_header"].get("msg_id") != mid: continue
    if m["msg_type"] in ("stream", "execute_result", "error", "display_data"): outs.append([m["msg_type"], m["content"]])
    if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle": break
print(json.dumps(outs))
kc.stop_channels(); km.shutdown_kernel(now=True)
`;

test("comm_open, comm_msg and comm_close while a cell runs leave its outputs clean", { timeout: 180_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "racelab-comms-"));
  try {
    const install = spawnSync("bash", [path.join(root, "kernel/install.sh"), "--prefix", dir], { encoding: "utf8" });
    assert.equal(install.status, 0, install.stderr);
    const script = path.join(dir, "client.py");
    await writeFile(script, CLIENT);
    const r = spawnSync(process.env["RACELAB_PYTHON"] ?? "/usr/bin/python3", [script, path.join(root, "notebooks")], {
      encoding: "utf8",
      env: { ...process.env, JUPYTER_PATH: path.join(dir, "share/jupyter") },
      timeout: 170_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const outs = JSON.parse(r.stdout.trim().split("\n").pop()!) as [string, { name?: string; text?: string }][];
    assert.deepEqual(outs.filter(([t, c]) => t === "stream" && c.name === "stderr"), [], "no stderr in the cell");
    assert.ok(outs.some(([t, c]) => t === "stream" && c.text === "2\n"), JSON.stringify(outs));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
