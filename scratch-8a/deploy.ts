import { deployToEmulator } from "../cdk/emulator-deployment.ts";
const endpoint = process.argv[2] ?? "http://127.0.0.1:5055";
const t0 = performance.now();
try {
  const d = await deployToEmulator({ target: { endpoint, region: "us-east-1" } });
  console.log(JSON.stringify(d, null, 2));
} catch (e) { console.log(String(e)); }
console.log("total", (performance.now() - t0) / 1000);
