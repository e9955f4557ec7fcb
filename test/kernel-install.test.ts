/**
 * kernel/install.sh replaces a `racelab` kernel spec that points at another racelab (a new user's
 * trial: `node_modules/racelab/kernel/install.sh` silently replaced the user-wide spec of another
 * checkout): it says so in one line on stderr, naming the old and the new target, and stays
 * non-interactive (exit 0). Re-registering the same racelab says nothing of the kind. Run with
 * `--prefix`, so the user-wide registration is left alone.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const install = path.join(root, "kernel/install.sh");
const python = process.env["RACELAB_PYTHON"] ?? "/usr/bin/python3";
const hasJupyter = spawnSync(python, ["-c", "import jupyter_client"]).status === 0;

describe("kernel/install.sh over an existing spec", { skip: hasJupyter ? false : "no jupyter_client", timeout: 60_000 }, () => {
  let prefix: string;
  let spec: string;
  const run = () => spawnSync("bash", [install, "--prefix", prefix], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  before(async () => {
    prefix = await mkdtemp(path.join(tmpdir(), "racelab-kernel-install-"));
    spec = path.join(prefix, "share/jupyter/kernels/racelab/kernel.json");
  });
  after(async () => {
    await rm(prefix, { recursive: true, force: true });
  });

  it("names the other checkout it replaces, then the same racelab again replaces nothing", async () => {
    await mkdir(path.dirname(spec), { recursive: true });
    const other = "/nonexistent/other-checkout";
    await writeFile(
      spec,
      JSON.stringify({
        argv: [`${other}/kernel/racelab-kernel`, "--config-path", "{connection_file}"],
        display_name: "racelab (TypeScript)",
        language: "typescript",
        env: { RACELAB_NODE: "/usr/bin/node", RACELAB_ROOT: other },
        metadata: { racelab: { root: other } },
      }),
    );
    const r = run();
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stderr,
      `kernel/install.sh: replacing the racelab kernel spec in ${path.dirname(spec)}: it pointed at ${other} (no longer exists), now at ${root}\n`,
    );
    assert.match(r.stdout, /racelab kernel registered/);
    const now = JSON.parse(await readFile(spec, "utf8")) as { metadata: { racelab: { root: string } } };
    assert.equal(now.metadata.racelab.root, root);
    const again = run();
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stderr, "");
    assert.match(again.stdout, /racelab kernel already registered/);
  });

  it("names a spec that is not racelab's by its command; says nothing when only node moved", async () => {
    await writeFile(spec, JSON.stringify({ argv: ["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"], display_name: "racelab", language: "python" }));
    const r = run();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^kernel\/install\.sh: replacing the racelab kernel spec in .*: it pointed at python3 -m ipykernel_launcher, now at /);
    assert.equal(r.stderr.split("\n").length, 2, "one line");
    // The same checkout registered with another node: updated without a notice.
    const mine = JSON.parse(await readFile(spec, "utf8")) as { env: Record<string, string> };
    mine.env["RACELAB_NODE"] = "/opt/old-node/bin/node";
    await writeFile(spec, JSON.stringify(mine));
    const moved = run();
    assert.equal(moved.status, 0, moved.stderr);
    assert.equal(moved.stderr, "");
    assert.match(moved.stdout, /racelab kernel registered/);
  });
});
