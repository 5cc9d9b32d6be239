import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

// The contracts the app talks to; their ABIs come from ape's build artifacts at build time.
const CONTRACTS = ["CopyrightRegister", "CPYSale", "CPYToken", "LicenseMarket"];
// ape's ethPM manifest, the same file the backend reads its ABIs from.
const MANIFEST = resolve(import.meta.dirname, "../.build/__local__.json");

/** `virtual:abis`: each contract's ABI from the build manifest (nothing copied by hand). */
function abis(): Plugin {
  const id = "virtual:abis";
  return {
    name: "copytrack-abis",
    resolveId: (source) => (source === id ? "\0" + id : undefined),
    load(loaded) {
      if (loaded !== "\0" + id) return undefined;
      this.addWatchFile(MANIFEST);
      const types = JSON.parse(readFileSync(MANIFEST, "utf8")).contractTypes ?? {};
      return CONTRACTS.map((name) => {
        if (!types[name]) throw new Error(`${name} is not in ${MANIFEST}; run \`make setup\` (ape compile) first`);
        return `export const ${name} = ${JSON.stringify(types[name].abi)};`;
      }).join("\n");
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react(), abis()],
  // viem and React together are about 620 kB minified (190 kB compressed); one chunk is fine for this app.
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 800 },
});
