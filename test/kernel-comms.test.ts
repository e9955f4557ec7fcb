/**
 * The racelab kernel over the Jupyter protocol (issue 12; kernel/tslab-fixes.cjs): comm messages
 * it does not handle are ignored (tslab printed `unknown msg_type: comm_open` into the running
 * cell's stderr); a failing cell sends an `error` message with ename, evalue and traceback, for an
 * exception and for a TypeScript diagnostic; with `stop_on_error: false` (nbclient's
 * --allow-errors) the request after a failure still runs.
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
hid = kc.history(hist_access_type="tail", n=10)
reply = kc.get_shell_msg(timeout=30)
while reply["parent_header"].get("msg_id") != hid: reply = kc.get_shell_msg(timeout=30)
print(json.dumps({"outs": outs, "history": [reply["msg_type"], reply["content"]]}))
kc.stop_channels(); km.shutdown_kernel(now=True)
`;

test("comm_open, comm_msg and comm_close while a cell runs leave its outputs clean; history_request is answered", { timeout: 180_000 }, async () => {
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
    const got = JSON.parse(r.stdout.trim().split("\n").pop()!) as { outs: [string, { name?: string; text?: string }][]; history: [string, { status: string; history: unknown[] }] };
    const outs = got.outs;
    assert.deepEqual(got.history, ["history_reply", { status: "ok", history: [] }], "history_request is answered");
    assert.deepEqual(outs.filter(([t, c]) => t === "stream" && c.name === "stderr"), [], "no stderr in the cell");
    assert.ok(outs.some(([t, c]) => t === "stream" && c.text === "2\n"), JSON.stringify(outs));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const ERRORS = String.raw`
import json, sys, time
from jupyter_client.manager import KernelManager
km = KernelManager(kernel_name="racelab")
km.start_kernel(cwd=sys.argv[1])
try:
    kc = km.client(); kc.start_channels(); kc.wait_for_ready(timeout=90)
    def run(code):
        mid = kc.execute(code)
        outs = []
        while True:
            m = kc.get_iopub_msg(timeout=60)
            if m["parent_header"].get("msg_id") != mid: continue
            if m["msg_type"] in ("stream", "error"): outs.append([m["msg_type"], m["content"]])
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle": break
        reply = kc.get_shell_msg(timeout=60)
        while reply["parent_header"].get("msg_id") != mid: reply = kc.get_shell_msg(timeout=60)
        return [outs, reply["content"]]
    out = {"exception": run('function f() { throw new RangeError("bad count"); }\nf();')}
    time.sleep(0.5)
    out["diagnostic"] = run('const x: number = "a";')
    time.sleep(0.5)
    kc.execute('throw new Error("first")', stop_on_error=False)
    kc.execute('console.log("second ran")', stop_on_error=False)
    out["after"] = False
    deadline = time.time() + 30
    while time.time() < deadline and not out["after"]:
        m = kc.get_iopub_msg(timeout=30)
        if m["msg_type"] == "stream" and "second ran" in m["content"]["text"]: out["after"] = True
    print(json.dumps(out))
finally:
    km.shutdown_kernel(now=True)
`;

test("a failing cell sends an error message (exception or TypeScript diagnostic); stop_on_error false runs on", { timeout: 180_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "racelab-errors-"));
  try {
    const install = spawnSync("bash", [path.join(root, "kernel/install.sh"), "--prefix", dir], { encoding: "utf8" });
    assert.equal(install.status, 0, install.stderr);
    const script = path.join(dir, "client.py");
    await writeFile(script, ERRORS);
    const r = spawnSync(process.env["RACELAB_PYTHON"] ?? "/usr/bin/python3", [script, path.join(root, "notebooks")], {
      encoding: "utf8",
      env: { ...process.env, JUPYTER_PATH: path.join(dir, "share/jupyter") },
      timeout: 170_000,
    });
    assert.equal(r.status, 0, r.stderr);
    type Out = [[string, { ename?: string; evalue?: string; traceback?: string[]; name?: string }][], { status: string; ename?: string; evalue?: string }];
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { exception: Out; diagnostic: Out; after: boolean };
    const [outs, reply] = out.exception;
    const err = outs.find(([t]) => t === "error")?.[1];
    assert.equal(err?.ename, "RangeError");
    assert.equal(err?.evalue, "bad count");
    assert.ok(err?.traceback?.some((l) => /RangeError: bad count/.test(l)));
    assert.ok(!err?.traceback?.some((l) => /tslab[\\/]dist/.test(l)), "the traceback is trimmed to the cell");
    assert.deepEqual(outs.filter(([t, c]) => t === "stream" && c.name === "stderr"), [], "no stderr copy of the error");
    assert.equal(reply.status, "error");
    assert.equal(reply.ename, "RangeError");
    const diag = out.diagnostic[0].find(([t]) => t === "error")?.[1];
    assert.equal(diag?.ename, "TypeScript");
    assert.match(diag?.evalue ?? "", /1:7 - Type 'string' is not assignable to type 'number'/);
    assert.equal(out.after, true, "the request after a failure ran with stop_on_error false");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
